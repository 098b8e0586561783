"""Queries on reviews, performance reports (RULES §7.4) and frozen publications (§7.5)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from services.contracts import domain
from services.contracts.store import codecs
from services.contracts.store.base import utc_midnight, where_equal
from services.contracts.store.placements import PlacementRows
from services.contracts.store.tables import performance_reports, placements, publications, reviews


class ReportingRows(PlacementRows):
    """Reports read placements too (publication reads the quarter's awards)."""

    def insert_review(self, r: domain.Review, period_start: date) -> None:
        self.session.execute(reviews.insert().values(**codecs.review_to_row(r, period_start)))

    def reviews_of(self, placement_id: str) -> list[domain.Review]:
        rows = self.session.execute(
            select(reviews)
            .where(reviews.c.placement_id == placement_id)
            .order_by(reviews.c.date, reviews.c.recorded_at)
        ).all()
        return [codecs.review_from_row(r) for r in rows]

    def reviews_between(
        self,
        start: date,
        end: date,
        *,
        category: str | None = None,
        establishment_id: str | None = None,
    ) -> list[domain.Review]:
        query = where_equal(
            select(reviews).where(reviews.c.date >= start, reviews.c.date <= end),
            reviews,
            category=category,
            establishment_id=establishment_id,
        )
        return [codecs.review_from_row(r) for r in self.session.execute(query)]

    def due_performance_reports(
        self, before: date, limit: int = 100
    ) -> list[tuple[str, str, date]]:
        """(establishment, category, period_start) with reviews in a period that started before
        ``before`` (the current period's start) and no report yet (§7.4)."""
        reported = select(performance_reports.c.establishment_id).where(
            performance_reports.c.establishment_id == reviews.c.establishment_id,
            performance_reports.c.category == reviews.c.category,
            performance_reports.c.period_start == reviews.c.period_start,
        )
        rows = self.session.execute(
            select(reviews.c.establishment_id, reviews.c.category, reviews.c.period_start)
            .where(reviews.c.period_start < before, ~reported.exists())
            .group_by(reviews.c.establishment_id, reviews.c.category, reviews.c.period_start)
            .order_by(reviews.c.period_start, reviews.c.establishment_id, reviews.c.category)
            .limit(limit)
        ).all()
        return [(r.establishment_id, r.category, r.period_start) for r in rows]

    def claim_performance_report(
        self,
        perf: domain.EstablishmentPerformance,
        event_id: str,
        now: datetime,
    ) -> bool:
        """Claim the one report of (establishment, category, period); ``False`` if another
        timer instance has it (the primary key serialises them)."""
        return self._insert_new(
            performance_reports, **codecs.performance_report_to_row(perf, event_id, now)
        )

    def performance_reports_of(
        self, establishment_id: str, category: str | None = None
    ) -> list[dict[str, Any]]:
        query = where_equal(
            select(performance_reports)
            .where(performance_reports.c.establishment_id == establishment_id)
            .order_by(performance_reports.c.period_start),
            performance_reports,
            category=category,
        )
        return [codecs.performance_report_from_row(r) for r in self.session.execute(query)]

    # --- publications (§7.5) ---

    def frozen_publication(self, quarter: str, fmt: str) -> Any:
        return self.session.execute(
            select(publications).where(
                publications.c.quarter == quarter, publications.c.format == fmt
            )
        ).first()

    def freeze_publication(
        self, quarter: str, fmt: str, content: bytes, sha: str, count: int, now: datetime
    ) -> bool:
        """Store a quarter's package once; ``False`` when it was frozen already."""
        return self._insert_new(
            publications,
            quarter=quarter,
            format=fmt,
            content=content,
            sha256=sha,
            awards_count=count,
            frozen_at=now,
        )

    def award_placements(self, start: date, end: date) -> list[domain.Placement]:
        """Placements that are awards (§7.5: referral awards and direct placements, not block
        places) agreed between ``start`` and ``end`` (UTC days, both included)."""
        return [
            p
            for p in self.placement_summaries(start=start, end=end)
            if p.source is not domain.PlacementSource.BLOCK_PLACE
        ]

    def award_quarters_before(self, before: date) -> list[date]:
        """The first day of every calendar quarter before ``before`` holding an award."""
        quarter = func.date_trunc("quarter", func.timezone("UTC", placements.c.agreed_at))
        rows = self.session.execute(
            select(quarter.label("q"))
            .where(
                placements.c.source != domain.PlacementSource.BLOCK_PLACE.value,
                placements.c.agreed_at < utc_midnight(before),
            )
            .group_by(quarter)
            .order_by(quarter)
        ).all()
        return [r.q.date() for r in rows]

    def frozen_quarters(self, fmt: str) -> set[str]:
        return set(
            self.session.execute(
                select(publications.c.quarter).where(publications.c.format == fmt)
            ).scalars()
        )
