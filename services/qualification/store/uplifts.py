"""Uplifts applied, by the contracts service's uplift id (RULES §7.2): applied once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    insert,
    select,
)
from sqlalchemy.orm import Session

from services.qualification import messages as m
from services.qualification.store.configs import _advisory_lock
from services.qualification.store.tables import uplifts

# --- uplifts (§7.2) -----------------------------------------------------------------------------


def uplift_applied(session: Session, uplift_id: str) -> dict | None:
    row = session.execute(select(uplifts).where(uplifts.c.id == uplift_id)).first()
    return None if row is None else dict(row._mapping)


def record_uplift(
    session: Session, req: m.UpliftRequest, at: datetime, applied: list[str], skipped: list[dict]
) -> None:
    session.execute(
        insert(uplifts).values(
            id=req.uplift_id,
            category=req.category,
            cost_head=req.cost_head,
            percent=req.percent,
            effective_from=req.effective_from,
            applied_at=at,
            applied=applied,
            skipped=skipped,
        )
    )


def lock_uplift(session: Session, uplift_id: str) -> None:
    _advisory_lock(session, f"qualification:uplift:{uplift_id}")
