"""Markets: every DPS and dynamic market with its regime (RULES §11.1); their period and
entry settings are ``configs``' versioned ``market_settings``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from services.qualification import domain as d
from services.qualification.store import configs
from services.qualification.store.tables import markets


def _from_row(session: Session, r) -> d.Market:
    return d.Market(
        dps_id=r.dps_id, regime=r.regime, title=r.title,
        parts=tuple(d.Part(p["number"], p["category"], p["title"]) for p in r.parts),
        settings=configs.dps(session, r.dps_id), lead_authority=r.lead_authority,
        created_at=r.created_at, description=r.description,
        fee_percent=None if r.fee_percent is None else Decimal(r.fee_percent),
        state=r.state, established_on=r.established_on, ended_on=r.ended_on,
        migrated_from=r.migrated_from, is_default=r.is_default,
        warnings_sent=list(r.warnings_sent or []),
    )


def _row(mk: d.Market) -> dict:
    return {
        "regime": mk.regime, "title": mk.title, "description": mk.description,
        "parts": [{"number": p.number, "category": p.category, "title": p.title}
                  for p in mk.parts],
        "fee_percent": mk.fee_percent, "lead_authority": mk.lead_authority,
        "state": mk.state, "established_on": mk.established_on, "ended_on": mk.ended_on,
        "migrated_from": mk.migrated_from, "is_default": mk.is_default,
        "warnings_sent": list(mk.warnings_sent),
    }


def all_markets(session: Session) -> list[d.Market]:
    rows = session.execute(select(markets).order_by(markets.c.created_at, markets.c.dps_id))
    return [_from_row(session, r) for r in rows.all()]


def get(session: Session, dps_id: str, *, lock: bool = False) -> d.Market | None:
    q = select(markets).where(markets.c.dps_id == dps_id)
    row = session.execute(q.with_for_update() if lock else q).first()
    return None if row is None else _from_row(session, row)


def default(session: Session) -> d.Market | None:
    row = session.execute(select(markets).where(markets.c.is_default)).first()
    return None if row is None else _from_row(session, row)


def add(session: Session, mk: d.Market, at: datetime, by: dict | None) -> None:
    session.execute(insert(markets).values(dps_id=mk.dps_id, created_at=mk.created_at,
                                           **_row(mk)))
    configs.save_dps(session, mk.settings, at, by, mk.dps_id)


def save(session: Session, mk: d.Market) -> None:
    if mk.is_default:  # one default market (partial unique index)
        session.execute(update(markets).where(markets.c.dps_id != mk.dps_id,
                                              markets.c.is_default).values(is_default=False))
    session.execute(update(markets).where(markets.c.dps_id == mk.dps_id).values(**_row(mk)))
