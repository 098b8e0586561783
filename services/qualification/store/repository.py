"""The qualification store: one object per unit of work, bound to its session.

``Database(metadata, store=Store)`` builds one on every unit of work as ``uow.store``;
handlers reach persistence only through it (a fake with the same surface unit-tests them,
``tests/support/qualification_fakes.py``). The aggregates have their repositories
(``establishments``, ``applications``); the rest are the queries below.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.store import configs, digest, eligibility, markets, uplifts
from services.qualification.store.applications import Applications
from services.qualification.store.establishments import Establishments
from services.qualification.store.tables import evidence_documents, providers


class Store:
    def __init__(self, session: Session):
        self.session = session
        self.establishments = Establishments(session)
        self.applications = Applications(session)

    # -- evidence documents (§4, issue 12) -------------------------------------------------
    def add_evidence(self, row: dict) -> None:
        self.session.execute(insert(evidence_documents).values(**row))

    def evidence_of(self, application_id: str) -> list[dict]:
        t = evidence_documents
        return [dict(r) for r in self.session.execute(
            select(*[c for c in t.c if c.name != "content"])
            .where(t.c.application_id == application_id).order_by(t.c.uploaded_at, t.c.id)
        ).mappings()]

    def evidence(self, application_id: str, document_id: str) -> dict | None:
        t = evidence_documents
        row = self.session.execute(select(t).where(
            t.c.application_id == application_id, t.c.id == document_id)).mappings().first()
        return None if row is None else dict(row)

    # -- providers (§3: open registration) ----------------------------------------------
    def add_provider(self, row: dict) -> None:
        self.session.execute(insert(providers).values(**row))

    def update_provider(self, provider_id: str, values: dict) -> None:
        if values:
            self.session.execute(update(providers).where(providers.c.id == provider_id)
                                 .values(**values))

    def get_provider(self, provider_id: str) -> dict | None:
        row = self.session.execute(select(providers).where(providers.c.id == provider_id)).first()
        return None if row is None else dict(row._mapping)

    def provider_names(self, ids: Iterable[str]) -> dict[str, str]:
        return dict(
            self.session.execute(
                select(providers.c.id, providers.c.name).where(providers.c.id.in_(set(ids)))
            ).all()
        )

    # -- the DPS (§3), markets (§11.1) and categories (§2) ------------------------------
    def dps(self, dps_id: str = d.FIRST_DPS_ID) -> d.DpsSettings:
        return configs.dps(self.session, dps_id)

    def lock_dps(self) -> None:
        configs.lock_dps(self.session)

    def save_dps(self, settings: d.DpsSettings, at: datetime, by: dict | None,
                 dps_id: str = d.FIRST_DPS_ID) -> int:
        return configs.save_dps(self.session, settings, at, by, dps_id)

    def markets(self) -> list[d.Market]:
        return markets.all_markets(self.session)

    def market(self, dps_id: str, *, lock: bool = False) -> d.Market | None:
        return markets.get(self.session, dps_id, lock=lock)

    def default_market(self) -> d.Market | None:
        return markets.default(self.session)

    def add_market(self, market: d.Market, at: datetime, by: dict | None) -> None:
        markets.add(self.session, market, at, by)

    def save_market(self, market: d.Market) -> None:
        markets.save(self.session, market)

    def current_configs(self, at: datetime) -> dict[str, d.CategoryConfig]:
        return configs.current_configs(self.session, at)

    def config_version(self, code: str, version: int) -> d.CategoryConfig | None:
        return configs.config_version(self.session, code, version)

    def add_config(self, config: d.CategoryConfig, at: datetime, by: dict | None) -> None:
        configs.add_config(self.session, config, at, by)

    def lock_category(self, code: str) -> None:
        configs.lock_category(self.session, code)

    # -- the lead's daily digest (§4.3, §4.5, §8) ----------------------------------------
    def claim_digest_day(self, day: date, at: datetime) -> bool:
        return digest.claim_day(self.session, day, at)

    def overdue_applications(self, today: date) -> list[m.DigestApplication]:
        return digest.overdue_applications(self.session, today)

    def reverifications_due(self, today: date) -> list[m.DigestMembership]:
        return digest.reverifications_due(self.session, today)

    # -- eligibility (§5) and standings (§6.2) ------------------------------------------
    def eligible_establishments(
        self, config: d.CategoryConfig, point: d.GeoPoint, radius_miles: float,
        authority: str, today: date, dps_id: str | None = None,
    ) -> list[m.EligibleEstablishment]:
        return eligibility.eligible_establishments(
            self.session, config, point, radius_miles, authority, today, dps_id
        )

    def standings(self, category: str, ids: Iterable[str],
                  dps_id: str | None = None) -> dict[str, m.Standing]:
        return eligibility.standings(self.session, category, ids, dps_id)

    # -- uplifts (§7.2) -----------------------------------------------------------------
    def lock_uplift(self, uplift_id: str) -> None:
        uplifts.lock_uplift(self.session, uplift_id)

    def uplift_applied(self, uplift_id: str) -> dict | None:
        return uplifts.uplift_applied(self.session, uplift_id)

    def record_uplift(self, req: m.UpliftRequest, at: datetime, applied: list[str],
                      skipped: list[dict]) -> None:
        uplifts.record_uplift(self.session, req, at, applied, skipped)
