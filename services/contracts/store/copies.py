"""Copies of other services' facts, fed by their events (DESIGN rule 1): provider names
(publication, §7.5), memberships (block contracts, §7.3), referral records and declines
(benchmarking, §7.6), and the anonymisation secret of benchmark labels (§10)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.contracts import domain
from services.contracts.store import codecs
from services.contracts.store.base import Rows, utc_midnight
from services.contracts.store.tables import (
    anonymisation_keys,
    block_contracts,
    declines,
    memberships,
    placements,
    providers,
    referral_records,
)


class CopyRows(Rows):
    def upsert_provider(self, provider_id: str, name: str, now: datetime) -> None:
        self._upsert(providers, {"provider_id": provider_id, "name": name, "updated_at": now})
        # placements that had no name for their provider get it (publication names it, §7.5)
        self.session.execute(
            placements.update()
            .where(placements.c.provider_id == provider_id, placements.c.provider_name == "")
            .values(provider_name=name)
        )
        self.session.execute(
            block_contracts.update()
            .where(
                block_contracts.c.provider_id == provider_id, block_contracts.c.provider_name == ""
            )
            .values(provider_name=name)
        )

    def provider_names(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        query = select(providers.c.provider_id, providers.c.name)
        if ids is not None:
            query = query.where(providers.c.provider_id.in_(list(set(ids))))
        return dict(self.session.execute(query).all())

    def provider_name(self, provider_id: str) -> str:
        """A provider's name from the copy of provider organisations; ``""`` when unknown."""
        return self.provider_names([provider_id]).get(provider_id, "")

    def upsert_membership(
        self,
        *,
        establishment_id: str,
        category: str,
        provider_id: str,
        name: str,
        status: str,
        now: datetime,
    ) -> None:
        self._upsert(
            memberships,
            {
                "establishment_id": establishment_id,
                "category": category,
                "provider_id": provider_id,
                "establishment_name": name,
                "status": status,
                "updated_at": now,
            },
        )

    def memberships_of(self, establishment_id: str) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(memberships)
            .where(memberships.c.establishment_id == establishment_id)
            .order_by(memberships.c.category)
        ).all()
        return [dict(r._mapping) for r in rows]

    def upsert_referral_record(self, referral_id: str, now: datetime, **fields) -> None:
        """Merge what one referral event tells about a referral (events arrive in any order:
        each fills in its own fields and never blanks another's)."""
        values = {"referral_id": referral_id, "updated_at": now, **fields}
        table = referral_records
        statement = pg_insert(table).values(**values)
        update = {
            name: func.coalesce(statement.excluded[name], table.c[name])
            for name in fields
            if name not in ("authority", "category")
        }
        update["updated_at"] = now
        self.session.execute(
            statement.on_conflict_do_update(index_elements=[table.c.referral_id], set_=update)
        )

    def insert_decline(
        self,
        *,
        referral_id: str,
        establishment_id: str,
        authority: str,
        category: str,
        reason_code: str,
        at: datetime,
    ) -> None:
        self._upsert(
            declines,
            {
                "referral_id": referral_id,
                "establishment_id": establishment_id,
                "authority": authority,
                "category": category,
                "reason_code": reason_code,
                "declined_at": at,
            },
            update=("reason_code", "declined_at"),
        )

    def referral_records_between(
        self, category: str, start: date, end: date
    ) -> list[domain.ReferralRecord]:
        """Referrals of a category published between ``start`` and ``end`` (UTC days), with
        the reason of every decline (§5 declines, §7.6)."""
        rows = self.session.execute(
            select(referral_records).where(
                referral_records.c.category == category,
                referral_records.c.published_at >= utc_midnight(start),
                referral_records.c.published_at < utc_midnight(end, plus_days=1),
            )
        ).all()
        reasons: dict[str, list[str]] = defaultdict(list)
        if rows:
            ids = [r.referral_id for r in rows]
            for referral_id, code in self.session.execute(
                select(declines.c.referral_id, declines.c.reason_code)
                .where(declines.c.referral_id.in_(ids))
                .order_by(declines.c.referral_id, declines.c.establishment_id)
            ):
                reasons[referral_id].append(code)
        return [codecs.referral_record_from_row(r, reasons[r.referral_id]) for r in rows]

    def anonymisation_secret(self, name: str = "benchmarks") -> str | None:
        return self.session.execute(
            select(anonymisation_keys.c.secret).where(anonymisation_keys.c.name == name)
        ).scalar()

    def ensure_anonymisation_secret(self, secret: str, name: str = "benchmarks") -> str:
        """The stored secret, creating it with ``secret`` the first time (race-safe)."""
        self.session.execute(
            pg_insert(anonymisation_keys).values(name=name, secret=secret).on_conflict_do_nothing()
        )
        return self.anonymisation_secret(name) or secret
