"""The lead's daily digest (RULES §4.3, §4.5, §8, issue 13): what is overdue or due, and
the one row per London day that makes the digest go once, whatever the instances."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.qualification import messages as m
from services.qualification.store.tables import (
    applications,
    establishments,
    lead_digests,
    memberships,
)

LIMIT = 500
"""At most this many lines of each kind in one digest (the rest are counted)."""


def claim_day(session: Session, day: date, at: datetime) -> bool:
    """True for the one caller that claims ``day`` (INSERT … ON CONFLICT DO NOTHING)."""
    row = session.execute(
        insert(lead_digests).values(day=day, sent_at=at)
        .on_conflict_do_nothing(index_elements=["day"]).returning(lead_digests.c.day)
    ).first()
    return row is not None


def overdue_applications(session: Session, today: date) -> list[m.DigestApplication]:
    """§4.3: submitted, undecided, past the due date; most overdue first."""
    a, e = applications, establishments
    rows = session.execute(
        select(a.c.id, a.c.establishment_id, e.c.name, a.c.category, a.c.due_on)
        .join(e, e.c.id == a.c.establishment_id)
        .where(and_(a.c.status == "submitted", a.c.due_on < today))
        .order_by(a.c.due_on, a.c.id).limit(LIMIT)
    ).all()
    return [m.DigestApplication(application_id=r.id, establishment_id=r.establishment_id,
                                establishment_name=r.name, category=r.category, due_on=r.due_on)
            for r in rows]


def reverifications_due(session: Session, today: date) -> list[m.DigestMembership]:
    """§4.5: admitted memberships whose yearly re-verification is due by today."""
    ms, e = memberships, establishments
    rows = session.execute(
        select(ms.c.id, ms.c.establishment_id, e.c.name, ms.c.category,
               ms.c.reverification_due_on)
        .join(e, e.c.id == ms.c.establishment_id)
        .where(and_(ms.c.state == "admitted", ms.c.reverification_due_on <= today))
        .order_by(ms.c.reverification_due_on, ms.c.id).limit(LIMIT)
    ).all()
    return [m.DigestMembership(membership_id=r.id, establishment_id=r.establishment_id,
                               establishment_name=r.name, category=r.category,
                               due_on=r.reverification_due_on)
            for r in rows]
