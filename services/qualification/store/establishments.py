"""The Establishment repository (RULES §4, §4.5): whole aggregates with their memberships,
history appended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from services.qualification import domain as d
from services.qualification.store.codecs import (
    answer_from_row,
    answer_to_row,
    contact_to_row,
    contacts_from_json,
    cost_from_row,
    cost_to_row,
    establishment_from_row,
    establishment_to_row,
    inspection_to_row,
    inspections_from_json,
    membership_from_row,
    membership_insert_row,
    membership_to_row,
    milestone_from_row,
    milestone_to_row,
    move_from_row,
    move_to_row,
)
from services.qualification.store.tables import (
    CURRENT_STATES,
    competency_moves,
    establishment_contacts,
    establishments,
    inspections,
    membership_costs,
    membership_evidence,
    membership_milestones,
    memberships,
)

# --- establishments: the repository ----------------------------------------------------------


class _Loaded:
    """What was read, so that ``save`` writes only what changed (history is appended)."""

    def __init__(self, est: d.Establishment):
        self.contacts = est.contacts
        self.inspections = len(est.inspections)
        self.memberships = {
            ms.id: (len(ms.milestones), len(ms.costs), len(ms.competency_moves))
            for ms in est.memberships
        }


class Establishments:
    """Repository of ``Establishment`` aggregates (cosmicpython ``repository.py``)."""

    def __init__(self, session: Session):
        self.session = session
        self._loaded: dict[str, _Loaded] = {}

    # -- reading ------------------------------------------------------------------------
    def get(self, establishment_id: str, *, lock: bool = False) -> d.Establishment | None:
        return self.get_many([establishment_id], lock=lock).get(establishment_id)

    def get_many(
        self, ids: Iterable[str], *, lock: bool = False, light: bool = False
    ) -> dict[str, d.Establishment]:
        """Whole aggregates by id. ``lock`` takes their rows ``FOR UPDATE`` (in id order);
        ``light`` skips history (milestones, moves, evidence, inspections): read-only."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        q = _with_details(select(establishments), light=light)
        q = q.where(establishments.c.id.in_(ids)).order_by(establishments.c.id)
        if lock:
            q = q.with_for_update(of=establishments)
        rows = self.session.execute(q).all()
        return self._build(rows, light=light)

    def _build(self, rows: Sequence[Any], *, light: bool) -> dict[str, d.Establishment]:
        """Aggregates from rows selected ``_with_details`` (same ``light``)."""
        s = self.session
        ids = [r.id for r in rows]
        if not ids:
            return {}
        contacts = {r.id: contacts_from_json(r.contacts_json) for r in rows}
        judgements = {r.id: [] if light else inspections_from_json(r.inspections_json)
                      for r in rows}
        ms_rows = s.execute(
            select(memberships)
            .where(memberships.c.establishment_id.in_(ids))
            .order_by(memberships.c.establishment_id, memberships.c.created_at, memberships.c.id)
        ).all()
        ms_ids = [r.id for r in ms_rows]
        children = _membership_children(s, ms_ids, light=light)
        by_est: dict[str, list[d.Membership]] = {i: [] for i in ids}
        for r in ms_rows:
            by_est[r.establishment_id].append(membership_from_row(r, children))
        result = {}
        for r in rows:
            est = establishment_from_row(r, contacts[r.id], judgements[r.id], by_est[r.id])
            if not light:
                self._loaded[r.id] = _Loaded(est)
            result[r.id] = est
        return result

    # -- writing ------------------------------------------------------------------------
    def add(self, est: d.Establishment, at: datetime) -> None:
        """Insert a new establishment whole: its row, contacts and any history (one INSERT
        each; no UPDATE of the row just written)."""
        self.session.execute(insert(establishments), [establishment_to_row(est, at)])
        self._write_contacts(est)
        nothing = _Loaded(est)
        nothing.inspections, nothing.memberships = 0, {}
        self._save_history(est, nothing, at)

    def save(self, est: d.Establishment, at: datetime) -> None:
        """Write what changed since ``get``/``add``: the row, new history, memberships."""
        loaded = self._loaded.get(est.id)
        if loaded is None:
            raise RuntimeError("save() needs an establishment read whole by this repository")
        s = self.session
        s.execute(
            update(establishments)
            .where(establishments.c.id == est.id)
            .values(name=est.name, address=est.address, capacity=est.capacity, updated_at=at)
        )
        if est.contacts != loaded.contacts:
            s.execute(
                delete(establishment_contacts).where(
                    establishment_contacts.c.establishment_id == est.id
                )
            )
            self._write_contacts(est)
        self._save_history(est, loaded, at)

    def _save_history(self, est: d.Establishment, loaded: _Loaded, at: datetime) -> None:
        """Inspections and memberships new or changed since ``loaded``."""
        s = self.session
        _append(
            s,
            inspections,
            {"establishment_id": est.id},
            loaded.inspections,
            est.inspections,
            lambda j: inspection_to_row(j, at),
        )
        for ms in est.memberships:
            self._save_membership(est, ms, loaded.memberships.get(ms.id), at)
        self._loaded[est.id] = _Loaded(est)

    def _write_contacts(self, est: d.Establishment) -> None:
        _append(
            self.session,
            establishment_contacts,
            {"establishment_id": est.id},
            0,
            est.contacts,
            contact_to_row,
        )

    def _save_membership(
        self,
        est: d.Establishment,
        ms: d.Membership,
        counts: tuple[int, int, int] | None,
        at: datetime,
    ) -> None:
        s = self.session
        if counts is None:
            s.execute(insert(memberships).values(**membership_insert_row(est, ms, at)))
            counts = (0, 0, 0)
        else:
            s.execute(
                update(memberships)
                .where(memberships.c.id == ms.id)
                .values(**membership_to_row(ms, at))
            )
        # evidence in force: small, rewritten whole
        s.execute(delete(membership_evidence).where(membership_evidence.c.membership_id == ms.id))
        if ms.evidence:
            s.execute(
                insert(membership_evidence),
                [
                    {
                        "membership_id": ms.id,
                        "criterion": c,
                        "answer": answer_to_row(a),
                        "expires_on": a.expires_on,
                    }
                    for c, a in ms.evidence.items()
                ],
            )
        n_steps, n_costs, n_moves = counts
        owner = {"membership_id": ms.id}
        _append(
            s,
            membership_milestones,
            owner,
            n_steps,
            ms.milestones,
            milestone_to_row,
        )
        _append(s, membership_costs, owner, n_costs, ms.costs, cost_to_row)
        _append(s, competency_moves, owner, n_moves, ms.competency_moves, move_to_row)

    # -- queries ------------------------------------------------------------------------
    def list_ids(
        self,
        *,
        provider_id: str | None = None,
        category: str | None = None,
        status: str | None = None,
        admitted_only: bool = False,
        near: tuple[float, float] | None = None,
        radius_miles: float | None = None,
        reverification_due: date | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[str]:
        """Establishment ids matching the filters of ``GET /establishments``, by id."""
        e, ms = establishments, memberships
        q = select(e.c.id).order_by(e.c.id).limit(limit)
        if after:
            q = q.where(e.c.id > after)
        if provider_id is not None:
            q = q.where(e.c.provider_id == provider_id)
        if category is not None:
            q = q.where(e.c.categories.contains([category]))
        conditions = []
        if status is not None:
            conditions.append(ms.c.state == status)
        if admitted_only:
            conditions.append(ms.c.state == "admitted")
        if reverification_due is not None:
            conditions += [
                ms.c.state.in_(CURRENT_STATES),
                ms.c.reverification_due_on <= reverification_due,
            ]
        if conditions:
            if category is not None:
                conditions.append(ms.c.category == category)
            q = q.where(exists().where(ms.c.establishment_id == e.c.id, *conditions))
        if near is not None:
            point = d.GeoPoint(*near)
            min_lat, max_lat, min_lon, max_lon = d.bounding_box(point, radius_miles)
            q = q.where(
                e.c.lat.between(min_lat, max_lat),
                e.c.lon.between(min_lon, max_lon),
                _haversine_sql(e.c.lat, e.c.lon, point) <= radius_miles,
            )
        return list(self.session.execute(q).scalars())

    def admitted_ids(self, category: str | None = None) -> list[str]:
        """Establishments with an admitted membership (in ``category``), for export."""
        q = select(memberships.c.establishment_id).where(memberships.c.state == "admitted")
        if category is not None:
            q = q.where(memberships.c.category == category)
        return sorted(set(self.session.execute(q).scalars()))

    def current_ids(self, category: str) -> list[str]:
        """Establishments with a current (admitted or suspended) membership in ``category``."""
        return list(
            self.session.execute(
                select(memberships.c.establishment_id)
                .where(memberships.c.category == category, memberships.c.state.in_(CURRENT_STATES))
                .order_by(memberships.c.establishment_id)
            ).scalars()
        )

    def lock_next_due(self, today: date, exclude: Iterable[str] = ()) -> d.Establishment | None:
        """One establishment with a membership due for the evidence timer, locked; others
        running the timer skip it (``FOR UPDATE SKIP LOCKED``, DESIGN rule 4). ``exclude``:
        those this pass has already handled."""
        e, ms = establishments, memberships
        due = select(ms.c.establishment_id).where(
            ms.c.state.in_(CURRENT_STATES), ms.c.next_check <= today
        )
        q = _with_details(select(e), light=False).where(e.c.id.in_(due)).order_by(e.c.id).limit(1)
        exclude = list(exclude)
        if exclude:
            q = q.where(e.c.id.not_in(exclude))
        row = self.session.execute(q.with_for_update(of=e, skip_locked=True)).first()
        if row is None:
            return None
        return self._build([row], light=False)[row.id]


def _with_details(q: Select, *, light: bool) -> Select:
    """``q`` on ``establishments`` with each row's contacts and (unless ``light``)
    inspections as JSON arrays in seq order, in the same statement: one round trip for
    what took three (issue 10)."""
    q = q.add_columns(_children_json(
        establishment_contacts, "name", "email", "phone", "sms_opt_in").label("contacts_json"))
    if not light:
        q = q.add_columns(_children_json(inspections, "body", "grade", "date")
                          .label("inspections_json"))
    return q


def _children_json(table: Table, *columns: str):
    """A correlated subquery: the establishment's rows of ``table`` as a JSON array of
    ``[column, ...]`` arrays, in seq order (``[]`` when there are none)."""
    items = func.jsonb_build_array(*(table.c[c] for c in columns))
    return (
        select(func.coalesce(func.jsonb_agg(aggregate_order_by(items, table.c.seq)),
                             literal_column("'[]'::jsonb")))
        .where(table.c.establishment_id == establishments.c.id)
        .scalar_subquery()
    )


def _append(
    s: Session,
    table: Table,
    owner: dict,
    start: int,
    items: Sequence,
    row: Callable[[Any], dict],
) -> None:
    """Insert ``items[start:]``, numbered on from ``start`` (``seq``): append-only history."""
    if items[start:]:
        s.execute(
            insert(table),
            [{**owner, "seq": start + i, **row(x)} for i, x in enumerate(items[start:])],
        )


def _in_order(s: Session, table: Table, key: str, ids: list[str]):
    """The rows of ``table`` belonging to ``ids`` (its ``key``), in ``seq`` order."""
    return s.execute(select(table).where(table.c[key].in_(ids)).order_by(table.c[key], table.c.seq))


def _membership_children(s: Session, ids: list[str], *, light: bool) -> dict[str, dict]:
    out: dict[str, dict] = {
        i: {"evidence": {}, "milestones": [], "costs": [], "moves": []} for i in ids
    }
    if not ids:
        return out
    for c in _in_order(s, membership_costs, "membership_id", ids):
        out[c.membership_id]["costs"].append(cost_from_row(c))
    if light:
        return out
    for ev in s.execute(
        select(membership_evidence).where(membership_evidence.c.membership_id.in_(ids))
    ):
        out[ev.membership_id]["evidence"][ev.criterion] = answer_from_row(ev.answer)
    for st in _in_order(s, membership_milestones, "membership_id", ids):
        out[st.membership_id]["milestones"].append(milestone_from_row(st))
    for mv in _in_order(s, competency_moves, "membership_id", ids):
        out[mv.membership_id]["moves"].append(move_from_row(mv))
    return out


def _haversine_sql(lat_col, lon_col, point: d.GeoPoint):
    """The domain's great-circle distance in miles, as SQL (for filtering lists)."""
    lat1, lon1 = func.radians(lat_col), func.radians(lon_col)
    lat2, lon2 = func.radians(point.lat), func.radians(point.lon)
    h = func.power(func.sin((lat2 - lat1) / 2), 2) + func.cos(lat1) * func.cos(lat2) * func.power(
        func.sin((lon2 - lon1) / 2), 2
    )
    return 2 * d.EARTH_RADIUS_MILES * func.asin(func.least(literal_column("1.0"), func.sqrt(h)))


