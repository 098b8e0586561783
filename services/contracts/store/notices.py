"""Queries of the Procurement Act notices (RULES §11.4), the copy of markets (§11.2) and
providers' identifiers (PPON, Companies House)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.contracts.domain import notices as nb
from services.contracts.store.base import Rows, utc_midnight, where_equal
from services.contracts.store.tables import markets, notices, placements, providers


class NoticeRows(Rows):
    # --- markets (§11.2) ---

    def upsert_market(self, values: dict[str, Any], now: datetime) -> None:
        self._upsert(markets, {**values, "updated_at": now})

    def end_market(self, dps_id: str, ended_on: date, now: datetime, **fallback: Any) -> None:
        """Mark a market ended; an unknown market is recorded from ``fallback``."""
        statement = pg_insert(markets).values(
            dps_id=dps_id, status="ended", ended_on=ended_on, updated_at=now, parts=[],
            **fallback)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[markets.c.dps_id],
            set_={"status": "ended", "ended_on": ended_on, "updated_at": now}))

    def market(self, dps_id: str | None) -> nb.Market | None:
        if not dps_id:
            return None
        r = self.session.execute(select(markets).where(markets.c.dps_id == dps_id)).first()
        if r is None:
            return None
        return nb.Market(
            dps_id=r.dps_id, regime=r.regime, title=r.title, lead_authority=r.lead_authority,
            valid_from=r.valid_from, valid_to=r.valid_to, description=r.description,
            parts=tuple(nb.Part(p["number"], p["category"], p["title"]) for p in r.parts or ()),
            fee_percent=r.fee_percent,
        )

    def market_fee_percents(self) -> dict[str, Decimal]:
        """s.38: each market's fixed fee percentage (markets without one are left out)."""
        rows = self.session.execute(
            select(markets.c.dps_id, markets.c.fee_percent).where(
                markets.c.fee_percent.is_not(None))
        ).all()
        return {r.dps_id: r.fee_percent for r in rows}

    # --- providers' identifiers (§11.2) ---

    def set_provider_identifiers(self, provider_id: str, now: datetime, *, name: str | None,
                                 ppon: str | None, companies_house_number: str | None) -> None:
        """Record what an event tells of a provider; a missing value never blanks a known one."""
        values = {"ppon": ppon, "companies_house_number": companies_house_number}
        given = {k: v for k, v in values.items() if v}
        if not given and not name:
            return
        statement = pg_insert(providers).values(
            provider_id=provider_id, name=name or "", updated_at=now, **given)
        update = {k: statement.excluded[k] for k in given}
        if name:
            update["name"] = statement.excluded["name"]
        update["updated_at"] = now
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[providers.c.provider_id], set_=update))

    def supplier(self, provider_id: str, name: str | None = None) -> nb.Supplier:
        r = self.session.execute(
            select(providers).where(providers.c.provider_id == provider_id)).first()
        known = r.name if r is not None and r.name else None
        return nb.Supplier(
            provider_id=provider_id,
            name=name or known or provider_id,
            ppon=r.ppon if r is not None else None,
            companies_house_number=r.companies_house_number if r is not None else None,
        )

    # --- notices (§11.4) ---

    def insert_notice(self, *, notice_id: str, notice_type: str, release: dict[str, Any],
                      due_by: date | None, raised_at: datetime, dps_id: str | None,
                      authority: str | None, source_event_id: str | None) -> bool:
        """Store a notice once under its key; ``False`` when it exists (a redelivery)."""
        return self._insert_new(
            notices, notice_id=notice_id, notice_type=notice_type, ocid=release["ocid"],
            release=release, due_by=due_by, raised_at=raised_at, dps_id=dps_id,
            authority=authority, source_event_id=source_event_id)

    def notice(self, notice_id: str, for_update: bool = False) -> Any:
        query = select(notices).where(notices.c.notice_id == notice_id)
        return self.session.execute(query.with_for_update() if for_update else query).first()

    def notice_count(self, prefix: str) -> int:
        return self.session.execute(
            select(func.count()).select_from(notices).where(
                notices.c.notice_id.startswith(prefix, autoescape=True))).scalar_one()

    def list_notices(self, *, notice_type: str | None, start: date | None, end: date | None,
                     after: tuple[datetime, str] | None, limit: int) -> list[Any]:
        query = where_equal(select(notices), notices, notice_type=notice_type)
        if start is not None:
            query = query.where(notices.c.raised_at >= utc_midnight(start))
        if end is not None:
            query = query.where(notices.c.raised_at < utc_midnight(end, 1))
        if after is not None:
            query = query.where((notices.c.raised_at, notices.c.notice_id) > after)
        query = query.order_by(notices.c.raised_at, notices.c.notice_id).limit(limit)
        return list(self.session.execute(query).all())

    def unpublished_notices(self, notice_type: str | None = None) -> list[Any]:
        query = where_equal(
            select(notices).where(notices.c.published_at.is_(None),
                                  notices.c.due_by.is_not(None)),
            notices, notice_type=notice_type)
        return list(self.session.execute(query.order_by(notices.c.due_by)).all())

    def mark_notice_published(self, notice_id: str, fts_notice_id: str, at: datetime,
                              by: dict | None) -> None:
        self.session.execute(notices.update().where(notices.c.notice_id == notice_id).values(
            published_at=at, fts_notice_id=fts_notice_id, published_by=by))

    def set_entered_on(self, placement_id: str, day: date) -> None:
        self.session.execute(placements.update().where(
            placements.c.placement_id == placement_id, placements.c.entered_on.is_(None)
        ).values(entered_on=day))

    def market_awards(self, start: date, end: date, dps_ids: Iterable[str] | None = None
                      ) -> list[Any]:
        """Placements awarded under a dynamic market between the UTC days (s.38 fees)."""
        query = select(placements.c.provider_id, placements.c.provider_name,
                       placements.c.agreed_at, placements.c.estimated_value,
                       placements.c.dps_id, placements.c.end_reason).where(
            placements.c.regime == "PA2023_DYNAMIC_MARKET",
            placements.c.source != "block_place",
            placements.c.agreed_at >= utc_midnight(start),
            placements.c.agreed_at < utc_midnight(end, 1))
        if dps_ids is not None:
            query = query.where(placements.c.dps_id.in_(list(dps_ids)))
        return list(self.session.execute(query).all())
