"""Outcome reviews, the review schedule and the performance index (RULES §7.4, §4.5)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from services.common.errors import Conflict, InvalidInput
from services.contracts.domain.calendar import add_months
from services.contracts.domain.placements import Placement, PlacementStatus, next_review_due
from services.contracts.domain.values import _optional_text, _q2


@dataclass(frozen=True)
class Review:
    """An outcome review of a placement: 1–5 per monitored component, and the child's and
    parents' views (§7.4). Establishment and category are copied from the placement."""

    review_id: str
    placement_id: str
    authority: str
    establishment_id: str
    category: str
    date: date
    scores: Mapping[str, int]
    recorded_at: datetime
    child_view: str | None = None
    parent_view: str | None = None

    @property
    def score(self) -> Fraction:
        """The review's score: the mean of its component scores."""
        return Fraction(sum(self.scores.values()), len(self.scores))


def record_review(
    placement: Placement,
    *,
    review_id: str,
    on: date,
    scores: Mapping[str, int],
    recorded_at: datetime,
    child_view: str | None = None,
    parent_view: str | None = None,
) -> Review:
    """Score every monitored component 1–5 (§7.4); only a started placement is reviewed."""
    if placement.status is PlacementStatus.PENDING_START or placement.start_date is None:
        raise Conflict(f"placement {placement.placement_id} has not started; it has no review")
    if on < placement.start_date:
        raise InvalidInput.at(["date"], f"must not be before the start {placement.start_date}")
    for component in placement.monitored_components:
        if component not in scores:
            raise InvalidInput.at(["scores", component], "a monitored component needs a score")
    for component, score in scores.items():
        if component not in placement.monitored_components:
            raise InvalidInput.at(["scores", component], "not monitored by this placement")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput.at(["scores", component], "must be a whole number from 1 to 5")
    return Review(
        review_id=review_id,
        placement_id=placement.placement_id,
        authority=placement.authority,
        establishment_id=placement.establishment_id,
        category=placement.category,
        date=on,
        scores={c: scores[c] for c in placement.monitored_components},
        recorded_at=recorded_at,
        child_view=_optional_text(child_view),
        parent_view=_optional_text(parent_view),
    )


@dataclass(frozen=True)
class OverdueReview:
    placement_id: str
    authority: str
    establishment_id: str
    due: date
    days_overdue: int


def overdue_reviews(
    placements: Iterable[Placement], reviews: Iterable[Review], as_of: date
) -> list[OverdueReview]:
    """Active placements whose next review was due before ``as_of``, most overdue first."""
    by_placement: dict[str, list[Review]] = defaultdict(list)
    for review in reviews:
        by_placement[review.placement_id].append(review)
    overdue = []
    for p in placements:
        due = next_review_due(p, by_placement[p.placement_id])
        if due is not None and due < as_of:
            overdue.append(
                OverdueReview(
                    p.placement_id, p.authority, p.establishment_id, due, (as_of - due).days
                )
            )
    return sorted(overdue, key=lambda o: (o.due, o.placement_id))


def mean_review_score(reviews: Iterable[Review]) -> Fraction | None:
    """The mean of the reviews' scores (each review counts once), exact."""
    scores = [r.score for r in reviews]
    return sum(scores, Fraction(0)) / len(scores) if scores else None


def performance_index(reviews: Iterable[Review]) -> Decimal | None:
    """``(mean − 1) / 4 × 100`` (§7.4), 0–100, rounded half up to 2 decimals."""
    mean = mean_review_score(reviews)
    return None if mean is None else _q2((mean - 1) / 4 * 100)


def performance_period(as_of: date, months: int = 6) -> tuple[date, date]:
    """The last period before ``as_of`` (default 6 months, §4.5): both days included."""
    return add_months(as_of, -months), as_of - timedelta(days=1)


def reporting_period(day: date, months: int = 6) -> tuple[date, date]:
    """The reporting period holding ``day`` (§4.5, §7.4): periods of ``months`` months
    (a divisor of 12; default 6) counted from 1 January, so that periods are the same for
    every establishment and consecutive periods start exactly ``months`` apart (the
    qualification service moves a competency at most once per period). Both days included:
    ``2026-08-14`` → ``(2026-07-01, 2026-12-31)``."""
    if isinstance(months, bool) or not isinstance(months, int) or months < 1 or 12 % months:
        raise InvalidInput.at(["months"], "must divide 12 (1, 2, 3, 4, 6 or 12)")
    start = date(day.year, (day.month - 1) // months * months + 1, 1)
    return start, add_months(start, months) - timedelta(days=1)


@dataclass(frozen=True)
class EstablishmentPerformance:
    """An establishment's performance in one category over a period (§7.4)."""

    establishment_id: str
    category: str
    period_start: date
    period_end: date
    performance_index: Decimal
    reviews_count: int

    def payload(self) -> dict[str, Any]:
        """The body of a ``messages.PerformanceReviewed`` event (without the envelope)."""
        return {
            "establishment_id": self.establishment_id,
            "category": self.category,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "performance_index": self.performance_index,
            "reviews_count": self.reviews_count,
        }


def establishment_performance(
    reviews: Iterable[Review], period_start: date, period_end: date
) -> list[EstablishmentPerformance]:
    """Per (establishment, category), the index over the reviews dated in the period (both
    days included). Establishments without a review in the period are left out."""
    if period_end <= period_start:
        raise InvalidInput.at(["period_end"], "must be after period_start")
    groups: dict[tuple[str, str], list[Review]] = defaultdict(list)
    for r in reviews:
        if period_start <= r.date <= period_end:
            groups[(r.establishment_id, r.category)].append(r)
    return [
        EstablishmentPerformance(
            establishment_id=establishment,
            category=category,
            period_start=period_start,
            period_end=period_end,
            performance_index=performance_index(group),  # type: ignore[arg-type]
            reviews_count=len(group),
        )
        for (establishment, category), group in sorted(groups.items())
    ]
