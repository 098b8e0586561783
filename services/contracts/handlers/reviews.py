"""Outcome reviews, their schedule and the performance reports (RULES §7.4, §4.5).

The performance timer sends one ``performance_reviewed`` per establishment and category with
reviews in an ended reporting period (``domain.reporting_period``: ``months`` from 1 January,
``DPS_PERFORMANCE_PERIOD_MONTHS``). Chosen over "on each review" because qualification moves
a competency at most once per period (§4.5): an event per review would move it on the first
review of the period alone. The claim is a row in ``performance_reports`` (primary key), safe
with several instances.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from services.common import paging
from services.common.errors import InvalidInput
from services.contracts import access, domain
from services.contracts.handlers.common import bad_cursor, today
from services.contracts.messages import (
    OverdueQuery,
    PerformanceQuery,
    PerformanceReviewed,
    ReviewCreate,
)


def record_review(placement_id: str, data: ReviewCreate, uow, principal: dict, config) -> dict:
    """§7.4: the owning commissioner scores each monitored component 1–5."""
    found = uow.store.get_placement(placement_id, for_update=True)
    p = access.can_manage_placement(principal, found, placement_id)
    review = domain.record_review(
        p,
        review_id=str(uuid.uuid4()),
        on=data.date,
        scores=data.scores,
        recorded_at=uow.now(),
        child_view=data.child_view,
        parent_view=data.parent_view,
    )
    period_start, _ = domain.reporting_period(review.date, config.performance_period_months)
    uow.store.insert_review(review, period_start)
    next_due = domain.next_review_due(p, uow.store.reviews_of(p.placement_id))
    uow.store.update_placement(p, uow.now(), next_due)
    view = domain.review_view(review, views=True)
    uow.audit("placement.reviewed", "placement", p.placement_id, None, view)
    uow.commit()
    return {**view, "next_review_due": next_due.isoformat() if next_due else None}


def overdue_reviews(query: OverdueQuery, uow, principal: dict) -> dict:
    """§7.4 schedule tracking: active placements whose review is overdue."""
    authority = access.review_scope(principal)
    after = paging.decode(query.cursor)
    if after is not None and (not isinstance(after, list) or len(after) != 2):
        raise bad_cursor()
    as_of = query.as_of or today(uow)
    try:
        rows = uow.store.overdue(
            as_of,
            authority=authority,
            after=tuple(after) if after else None,
            limit=query.limit + 1,
        )
    except ValueError:
        raise bad_cursor() from None
    page = paging.page(rows, query.limit, key=lambda r: [r["due"], r["placement_id"]])
    return {**page, "as_of": as_of.isoformat()}


def performance(query: PerformanceQuery, uow, principal: dict) -> dict:
    """An establishment's performance index over a period and its reports so far (§7.4)."""
    access.can_read_performance(principal)
    to = query.to or today(uow)
    start = query.from_ or domain.add_months(to, -6)
    if to <= start:
        raise InvalidInput.at(["query", "to"], "must be after from")
    reviews = uow.store.reviews_between(
        start, to, category=query.category, establishment_id=query.establishment_id
    )
    reports = uow.store.performance_reports_of(query.establishment_id, query.category)
    rows = domain.establishment_performance(reviews, start, to)
    return {
        "establishment_id": query.establishment_id,
        "from": start.isoformat(),
        "to": to.isoformat(),
        "categories": [
            {
                "category": r.category,
                "performance_index": f"{r.performance_index:.2f}",
                "reviews_count": r.reviews_count,
            }
            for r in rows
        ],
        "reports": reports,
    }


def report_performance(new_uow: Callable, config) -> int:
    """Timer: one ``performance_reviewed`` per establishment, category and ended period
    (§7.4), each period's reports in a unit of work of its own (``new_uow()``)."""
    months = config.performance_period_months
    with new_uow() as uow:
        current, _ = domain.reporting_period(today(uow), months)
        due = uow.store.due_performance_reports(current)
    sent = 0
    for establishment_id, category, period_start in due:
        _, period_end = domain.reporting_period(period_start, months)
        with new_uow() as uow:
            reviews = uow.store.reviews_between(
                period_start, period_end, category=category, establishment_id=establishment_id
            )
            for perf in domain.establishment_performance(reviews, period_start, period_end):
                event = PerformanceReviewed(**perf.payload())
                if uow.store.claim_performance_report(perf, event.event_id, uow.now()):
                    payload = event.model_dump(mode="json")
                    uow.audit(
                        "performance.reported", "establishment", establishment_id, None, payload
                    )
                    uow.emit(event)
                    sent += 1
            uow.commit()
    return sent
