"""Queries on placements, their variations, uplifts and block contracts (RULES §7.1–§7.3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, tuple_

from services.contracts import domain
from services.contracts.store import codecs
from services.contracts.store.base import Rows, utc_midnight, where_equal
from services.contracts.store.tables import block_contracts, placements, uplifts, variations


class PlacementRows(Rows):
    def insert_placement(self, p: domain.Placement, now: datetime) -> bool:
        """Insert a new placement; ``False`` (and nothing written) when its source key or id is
        already there (§7.1 idempotent creation)."""
        return self._insert_new(
            placements,
            **codecs.placement_to_row(p),
            child_reference=self.sealed_child_reference(p),
            created_at=now,
            updated_at=now,
            next_review_due=domain.next_review_due(p, ()),
        )

    def update_placement(
        self, p: domain.Placement, now: datetime, next_review: date | None
    ) -> None:
        """Save a placement's state (status, dates, end reason) and its review schedule."""
        self.session.execute(
            placements.update()
            .where(placements.c.placement_id == p.placement_id)
            .values(
                start_date=p.start_date,
                status=p.status.value,
                ended_on=p.ended_on,
                end_reason=p.end_reason.value if p.end_reason else None,
                end_note=p.end_note,
                next_review_due=next_review,
                provider_name=p.provider_name,
                updated_at=now,
            )
        )

    def _variations_of(self, ids: Sequence[str]) -> dict[str, list[domain.Variation]]:
        out: dict[str, list[domain.Variation]] = defaultdict(list)
        if not ids:
            return out
        rows = self.session.execute(
            select(variations.c.placement_id, variations.c.data).where(
                variations.c.placement_id.in_(list(ids))
            )
        )
        for placement_id, data in rows:
            out[placement_id].append(codecs.variation_from_row(data))
        return out

    def placement_ids_under_keys(self, authority: str, key_ids: list[str]) -> list[str]:
        """§13 subject access: the authority's placements sealed under these data keys."""
        return list(self.session.execute(
            select(placements.c.placement_id)
            .where(placements.c.authority == authority, placements.c.child_key_id.in_(key_ids))
            .order_by(placements.c.agreed_at, placements.c.placement_id)
        ).scalars())

    def get_placement(
        self, placement_id: str, *, for_update: bool = False
    ) -> domain.Placement | None:
        query = select(placements).where(placements.c.placement_id == placement_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        if row is None:
            return None
        return codecs.placement_from_row(
            row, self._variations_of([placement_id])[placement_id], self.child_reference(row)
        )

    def placement_by_source_key(self, key: str) -> str | None:
        return self.session.execute(
            select(placements.c.placement_id).where(placements.c.source_key == key)
        ).scalar()

    def list_placements(
        self,
        *,
        authority: str | None = None,
        provider_id: str | None = None,
        status: str | None = None,
        category: str | None = None,
        establishment_id: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[tuple[domain.Placement, date | None]]:
        """Placements in agreement order (agreed_at, placement_id), after a cursor key, each
        with its next review date (the schedule kept on the row)."""
        query = where_equal(
            select(placements).order_by(placements.c.agreed_at, placements.c.placement_id),
            placements,
            authority=authority,
            provider_id=provider_id,
            status=status,
            category=category,
            establishment_id=establishment_id,
        )
        if after is not None:
            query = query.where(
                tuple_(placements.c.agreed_at, placements.c.placement_id) > tuple_(*after)
            )
        rows = self.session.execute(query.limit(limit)).all()
        by_id = self._variations_of([r.placement_id for r in rows])
        return [
            (
                codecs.placement_from_row(r, by_id[r.placement_id], self.child_reference(r)),
                r.next_review_due,
            )
            for r in rows
        ]

    def placements_for_uplift(
        self, category: str, cost_head: str, effective_from: date
    ) -> list[domain.Placement]:
        """Placements an uplift may apply to (§7.2), locked: same category, agreed before the
        effective date, not ended by then; ``domain.Uplift.applies_to`` decides the rest."""
        rows = self.session.execute(
            select(placements)
            .where(
                placements.c.category == category,
                placements.c.agreed_at < utc_midnight(effective_from),
                or_(placements.c.ended_on.is_(None), placements.c.ended_on > effective_from),
            )
            .order_by(placements.c.placement_id)
            .with_for_update()
        ).all()
        by_id = self._variations_of([r.placement_id for r in rows])
        return [
            codecs.placement_from_row(r, by_id[r.placement_id], self.child_reference(r))
            for r in rows
        ]

    def insert_variation(self, placement_id: str, v: domain.Variation) -> None:
        self.session.execute(variations.insert().values(**codecs.variation_to_row(placement_id, v)))

    def placement_summaries(
        self,
        *,
        category: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[domain.Placement]:
        """Light placements for benchmarks and cost shares (§7.6, §7.7): agreed between ``start``
        and ``end`` (UTC days, both included); the price breakdown, child details and variations
        are not loaded (``awarded_weekly_price`` is what these figures use)."""
        query = where_equal(select(*codecs.SUMMARY_COLUMNS), placements, category=category)
        if start is not None:
            query = query.where(placements.c.agreed_at >= utc_midnight(start))
        if end is not None:
            query = query.where(placements.c.agreed_at < utc_midnight(end, plus_days=1))
        return [codecs.placement_summary_from_row(r) for r in self.session.execute(query)]

    def authorities_with_placements(self) -> list[str]:
        return list(self.session.execute(select(placements.c.authority).distinct()).scalars())

    def overdue(
        self,
        as_of: date,
        *,
        authority: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Active placements whose next review was due before ``as_of`` (§7.1, §7.4), most
        overdue first (keyset: next_review_due, placement_id)."""
        query = (
            select(
                placements.c.placement_id,
                placements.c.authority,
                placements.c.establishment_id,
                placements.c.establishment_name,
                placements.c.category,
                placements.c.next_review_due,
            )
            .where(
                placements.c.status == domain.PlacementStatus.ACTIVE.value,
                placements.c.next_review_due < as_of,
            )
            .order_by(placements.c.next_review_due, placements.c.placement_id)
            .limit(limit)
        )
        query = where_equal(query, placements, authority=authority)
        if after is not None:
            query = query.where(
                tuple_(placements.c.next_review_due, placements.c.placement_id)
                > tuple_(date.fromisoformat(after[0]), after[1])
            )
        return [codecs.overdue_from_row(r, as_of) for r in self.session.execute(query)]

    def uplift_exists(self, category: str, cost_head: str, effective_from: date) -> bool:
        return (
            self.session.execute(
                select(uplifts.c.uplift_id).where(
                    uplifts.c.category == category,
                    uplifts.c.cost_head == cost_head,
                    uplifts.c.effective_from == effective_from,
                )
            ).first()
            is not None
        )

    def insert_uplift(self, u: domain.Uplift, count: int, now: datetime, by: dict | None) -> None:
        self.session.execute(uplifts.insert().values(**codecs.uplift_to_row(u, count, now, by)))

    def uplifts_for(self, category: str) -> list[domain.Uplift]:
        rows = self.session.execute(
            select(uplifts).where(uplifts.c.category == category).order_by(uplifts.c.effective_from)
        ).all()
        return [codecs.uplift_from_row(r) for r in rows]

    def uplift_records(
        self, category: str | None = None
    ) -> list[tuple[domain.Uplift, int, datetime]]:
        """Uplifts set (§7.2), newest effective date first, with the number of placements
        each applied to and when it was set."""
        query = where_equal(
            select(uplifts).order_by(uplifts.c.effective_from.desc(), uplifts.c.cost_head),
            uplifts,
            category=category,
        )
        return [
            (codecs.uplift_from_row(r), r.placements_uplifted, r.created_at)
            for r in self.session.execute(query)
        ]

    def insert_block(self, b: domain.BlockContract, now: datetime) -> None:
        self.session.execute(block_contracts.insert().values(**codecs.block_to_row(b, now)))

    def get_block(self, block_id: str, *, for_update: bool = False) -> domain.BlockContract | None:
        query = select(block_contracts).where(block_contracts.c.block_id == block_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return None if row is None else codecs.block_from_row(row)

    def block_placements(self, block_id: str) -> list[domain.Placement]:
        rows = self.session.execute(
            select(placements)
            .where(placements.c.block_id == block_id)
            .order_by(placements.c.start_date, placements.c.placement_id)
        ).all()
        return [codecs.placement_from_row(r, (), self.child_reference(r)) for r in rows]
