"""Performance reviews from contracts (RULES §4.5, §7.4): bounded competency moves."""

from __future__ import annotations

from services.common.logging import get_logger
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers.common import flush, summaries

log = get_logger(__name__)


def on_performance_reviewed(event: m.PerformanceReviewed, uow) -> None:
    """§4.5, §7.4: move the competency by the performance index, at most once per
    configured period per membership (the domain skips a review too early); every move
    kept with its reason. An unknown establishment is logged and the event acknowledged."""
    now, today = uow.now(), d.london_date(uow.now())
    est = uow.store.establishments.get(event.establishment_id, lock=True)
    if est is None:
        log.warning("performance review of an unknown establishment",
                    establishment_id=event.establishment_id)
        return
    configs = uow.store.current_configs(now)
    moves = {ms.id: len(ms.competency_moves) for ms in est.memberships}
    before = summaries(est, today)
    est.apply_performance_review(event, configs, now)
    flush(uow, est, now)
    for ms in est.memberships:
        if len(ms.competency_moves) > moves.get(ms.id, 0):
            move = ms.competency_moves[-1]
            uow.audit("membership.competency_moved", "membership", ms.id,
                      {"competency": before[ms.id]["competency"]}, {
                          "competency": str(move.new),
                          "performance_index": str(move.performance_index),
                          "period_start": move.period_start.isoformat(),
                          "period_end": move.period_end.isoformat(),
                          "reviews_count": move.reviews_count,
                          "event_id": event.event_id,
                      })
