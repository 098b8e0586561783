"""The evidence timer (RULES §4.5, DESIGN rule 4): expiry reminders 30 days ahead (once
per item and expiry date), suspension on expiry and the yearly re-verification flag."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from services.qualification import domain as d
from services.qualification.handlers.common import audit_memberships, flush, summaries


def check_evidence(new_uow: Callable, batch: int) -> dict[str, int]:
    """One pass: at most ``batch`` establishments, one per unit of work (``new_uow()``),
    each taken ``FOR UPDATE SKIP LOCKED`` so several instances share the work."""
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    for _ in range(batch):
        with new_uow() as uow:
            now, today = uow.now(), d.london_date(uow.now())
            est = uow.store.establishments.lock_next_due(today, exclude=seen)
            if est is None:
                break
            seen.add(est.id)
            before = summaries(est, today)
            reminders = est.remind_expiring_evidence(now)
            not_conditions = {mk.dps_id: mk.conditions_exclude() for mk in uow.store.markets()}
            suspensions = est.suspend_expired_evidence(now, not_conditions)  # §11.2
            flagged = est.flag_due_reverifications(now)
            flush(uow, est, now)
            for e in reminders:
                uow.audit("membership.expiry_reminded", "membership", e.membership_id, None,
                          {"criterion": e.criterion, "expires_on": e.expires_on.isoformat()})
            for e in flagged:
                uow.audit("membership.reverification_due", "membership", e.membership_id,
                          None, {"due_on": e.due_on.isoformat()})
            audit_memberships(uow, "membership.suspended", est, before, today)
            uow.commit()
        counts["reminded"] += len(reminders)
        counts["suspended"] += len(suspensions)
        counts["reverification_due"] += len(flagged)
        counts["establishments"] += 1
    return dict(counts)
