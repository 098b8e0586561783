"""The Application repository (RULES §4, §4.3).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import (
    and_,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from services.qualification import domain as d
from services.qualification.store.codecs import application_from_row, application_to_row
from services.qualification.store.tables import applications

# --- applications: the repository -------------------------------------------------------------


class Applications:
    def __init__(self, session: Session):
        self.session = session

    def get(self, application_id: str, *, lock: bool = False) -> d.Application | None:
        q = select(applications).where(applications.c.id == application_id)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).first()
        return None if row is None else application_from_row(row)

    def for_establishments(self, ids: Iterable[str]) -> dict[str, list[d.Application]]:
        ids = list(ids)
        out: dict[str, list[d.Application]] = {i: [] for i in ids}
        if ids:
            for row in self.session.execute(
                select(applications).where(applications.c.establishment_id.in_(ids))
            ):
                out[row.establishment_id].append(application_from_row(row))
        return out

    def add(self, app: d.Application, at: datetime) -> None:
        self.session.execute(
            insert(applications).values(
                id=app.id,
                establishment_id=app.establishment_id,
                provider_id=app.provider_id,
                category=app.category,
                dps_id=app.dps_id,
                created_at=app.created_at,
                **application_to_row(app, at),
            )
        )

    def save(self, app: d.Application, at: datetime) -> None:
        self.session.execute(
            update(applications)
            .where(applications.c.id == app.id)
            .values(**application_to_row(app, at))
        )

    def list(
        self,
        *,
        provider_id: str | None = None,
        status: str | None = None,
        overdue: bool | None = None,
        today: date | None = None,
        category: str | None = None,
        establishment_id: str | None = None,
        after: list | None = None,
        limit: int = 50,
        dps_id: str | None = None,
    ) -> list[d.Application]:
        a = applications
        q = select(a).order_by(a.c.created_at, a.c.id).limit(limit)
        if provider_id is not None:
            q = q.where(a.c.provider_id == provider_id)
        if status is not None:
            q = q.where(a.c.status == status)
        if overdue is not None:  # §4.3: undecided after the due date
            late = and_(a.c.status == "submitted", a.c.due_on < today)
            q = q.where(late if overdue else ~late)
        if category is not None:
            q = q.where(a.c.category == category)
        if establishment_id is not None:
            q = q.where(a.c.establishment_id == establishment_id)
        if dps_id is not None:  # §11.1: one market's
            q = q.where(a.c.dps_id == dps_id)
        if after:
            at, last_id = datetime.fromisoformat(after[0]), after[1]
            q = q.where(or_(a.c.created_at > at, and_(a.c.created_at == at, a.c.id > last_id)))
        return [application_from_row(r) for r in self.session.execute(q)]


