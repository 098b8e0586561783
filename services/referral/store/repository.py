"""The referral service's repository: ``Store``, bound to a unit of work's session.

Just over 400 lines: it is the one class through which handlers reach persistence, and its
queries are its methods.

``get`` assembles a ``Referral`` aggregate (locking its row ``FOR UPDATE`` when asked);
``save`` writes back only the rows that changed since they were loaded (so publishing to
1,000 establishments inserts 1,000 invitations once, and a bid touches one row). The other
methods are the service's queries. Handlers reach persistence only through it
(``uow.store``); ``tests/support/referral_fakes.py`` is its in-memory twin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common.crypto import (
    ERASED,
    KeyVault,
    Unreadable,
    blind_index,
    context,
    data_keys,
    open_sealed,
    seal,
)
from services.referral.domain import DirectPlacement, Referral, Status
from services.referral.messages import ReferralQuery, ReferralSummary
from services.referral.store.codecs import (
    Rows,
    direct_placement_to_row,
    referral_from_rows,
    rows_of,
    split_personal,
    summary_from_row,
)
from services.referral.store.tables import (
    ORDER,
    PARTS,
    attachments,
    bids,
    declines,
    direct_placements,
    invitations,
    pk,
    referrals,
)

Cursor = tuple[datetime, str] | None
"""The last item's ``(created_at, id)``; a page filters on ``ReferralQuery``'s ``status``
and ``category``."""


class Store:
    """Repository of one unit of work: loads aggregates, writes back what changed, and
    runs the service's queries."""

    def __init__(self, session: Session):
        self.session = session
        self.vault = KeyVault(session)
        self._baseline: dict[str, Rows] = {}

    # ----------------------------------------------------------------- personal data (§13)

    def _personal(self, row) -> dict | str | None:
        """The opened ``child_data`` of a ``referrals`` row, or ``ERASED``."""
        return self.vault.open(row.id, row.child_data) if row.child_data else ERASED

    def _sealed(self, row: dict) -> dict:
        """A ``referrals`` row as stored: the personal data out of ``spec``, sealed under
        the referral's own data key (created with the referral), and its blind index."""
        public, personal = split_personal(row["spec"])
        out = {**row, "spec": public}
        if row["personal_data"] == ERASED or self.vault.get(row["id"]) is None:
            return {**out, "child_data": None, "personal_data": ERASED}
        return {
            **out,
            "child_data": self.vault.seal(row["id"], personal),
            "child_index": blind_index(
                self.vault.master, row["authority"], personal["child_reference"]
            ),
        }

    def sealed_child_data(self, referral: Referral) -> dict | None:
        """The referral's personal data as ``SealedChildData`` for an event, which other
        services copy as it is (None once erased)."""
        key_id = referral.referral_id
        if referral.personal_data == ERASED or self.vault.get(key_id) is None:
            return None
        personal = split_personal(referral.spec.model_dump(mode="json"))[1]
        return {"key_id": key_id, "sealed": self.vault.seal(key_id, personal)}

    # ----------------------------------------------------------------- the aggregate

    def get(self, referral_id: str, lock: bool = False) -> Referral | None:
        """The referral, or None. ``lock`` takes its row ``FOR UPDATE`` (writers of one
        referral serialise on it); readers take no lock."""
        q = select(referrals).where(referrals.c.id == referral_id)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).first()
        if row is None:
            return None
        parts = {
            t.name: self.session.execute(
                select(t).where(t.c.referral_id == referral_id).order_by(*ORDER[t.name])
            ).all()
            for t in PARTS
        }
        referral = referral_from_rows(row, parts, self._personal(row))
        baseline = rows_of(referral)
        # as stored, so that a row whose key is gone is marked erased when next saved
        baseline["referrals"][(row.id,)]["personal_data"] = row.personal_data
        self._baseline[referral.referral_id] = baseline
        return referral

    def add(self, referral: Referral) -> None:
        """A new referral, with its own data key (§13)."""
        self.vault.create(referral.referral_id, referral.authority, referral.created_at)
        self._baseline[referral.referral_id] = {}

    def save(self, referral: Referral) -> None:
        """Upsert every row that differs from what was loaded (nothing is ever deleted:
        withdrawn bids, answered questions and declines are kept, RULES §9)."""
        before = self._baseline.get(referral.referral_id, {})
        now = rows_of(referral)
        for table in (referrals, *PARTS):
            old = before.get(table.name, {})
            changed = [row for key, row in now[table.name].items() if old.get(key) != row]
            if changed and table is referrals:
                changed = [self._sealed(row) for row in changed]
            if changed:
                self._upsert(table, changed)
        self._baseline[referral.referral_id] = now

    def _upsert(self, table: Table, rows: list[dict]) -> None:
        """One ``INSERT … ON CONFLICT DO UPDATE`` executed for many rows: SQLAlchemy batches
        it into multi-row ``VALUES`` with one compiled statement (insertmanyvalues)."""
        key = pk(table)
        stmt = pg_insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key),
            # only the columns written: the others (e.g. placement_ended_on, §13) are kept
            set_={c: stmt.excluded[c] for c in rows[0] if c not in key},
        )
        self.session.execute(stmt, rows)

    # ----------------------------------------------------------------- queries

    def due_referral_ids(self, now: datetime, limit: int) -> list[str]:
        """Published referrals whose deadline has passed (§5), locked ``FOR UPDATE SKIP
        LOCKED`` so that several instances' timers never close the same one twice."""
        return list(
            self.session.execute(
                select(referrals.c.id)
                .where(referrals.c.status == Status.PUBLISHED, referrals.c.deadline <= now)
                .order_by(referrals.c.deadline, referrals.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )

    # ----------------------------------------------------------------- attachments (§13)

    def add_attachment(self, row: dict, content: bytes) -> None:
        """Stored sealed under the referral's data key (raw bytes, base64 inside the seal)."""
        key = self.vault.get(row["referral_id"])
        if key is None:
            raise Unreadable("the referral's personal data was erased")
        sealed = seal(key, content, context(row["referral_id"]))
        self.session.execute(pg_insert(attachments).values(**row, content=sealed))

    def attachments_of(self, referral_id: str) -> list[dict]:
        cols = [c for c in attachments.c if c.name != "content"]
        return [dict(r) for r in self.session.execute(
            select(*cols).where(attachments.c.referral_id == referral_id)
            .order_by(attachments.c.uploaded_at, attachments.c.id)
        ).mappings()]

    def attachment(self, referral_id: str, attachment_id: str) -> tuple[dict, bytes | None] | None:
        """Its metadata and content, the content None once the referral's key is erased."""
        row = self.session.execute(
            select(attachments).where(attachments.c.referral_id == referral_id,
                                      attachments.c.id == attachment_id)
        ).mappings().first()
        if row is None:
            return None
        key = self.vault.get(referral_id)
        meta = {k: v for k, v in row.items() if k != "content"}
        if key is None or row["content"] is None:
            return meta, None
        return meta, open_sealed(key, row["content"], context(referral_id))

    # ----------------------------------------------------------------- subject rights (§13)

    def child_index(self, authority: str, child_reference: str) -> str:
        return blind_index(self.vault.master, authority, child_reference)

    def referral_ids_of_child(self, authority: str, index: str) -> list[str]:
        return list(self.session.execute(
            select(referrals.c.id)
            .where(referrals.c.authority == authority, referrals.c.child_index == index)
            .order_by(referrals.c.created_at, referrals.c.id)
        ).scalars())

    def direct_placements_of_child(self, authority: str, index: str) -> list[dict]:
        """The direct placements of one child, their reference opened (or ``erased``),
        locked for the erasure that may follow."""
        rows = self.session.execute(
            select(direct_placements)
            .where(direct_placements.c.authority == authority,
                   direct_placements.c.child_index == index)
            .order_by(direct_placements.c.recorded_at)
            .with_for_update()
        ).mappings().all()
        return [
            {k: v for k, v in self._direct_child(r).items()
             if k not in ("authority", "personal_data", "placement_ended_on")}
            for r in rows
        ]

    def _direct_child(self, r) -> dict:
        opened = self.vault.open(r["placement_id"], r["child_data"])
        held = isinstance(opened, dict)
        return {
            "direct_placement_id": r["id"], "placement_id": r["placement_id"],
            "authority": r["authority"], "category": r["category"],
            "recorded_at": r["recorded_at"],
            "personal_data": "held" if held else ERASED,
            "child_reference": opened["child_reference"] if held else ERASED,
            "legal_hold": r["legal_hold"], "placement_ended_on": r["placement_ended_on"],
        }

    def direct_placement_child(self, direct_placement_id: str, lock: bool = False) -> dict | None:
        """§13: one direct placement's child data as its owner reads it (``erased`` once
        the placement's key is destroyed), its legal hold and placement end."""
        q = select(direct_placements).where(direct_placements.c.id == direct_placement_id)
        row = self.session.execute(q.with_for_update() if lock else q).mappings().first()
        return None if row is None else self._direct_child(row)

    def set_direct_placement_hold(self, direct_placement_id: str, reason: str | None) -> None:
        """§13: record (or, with ``None``, lift) a legal hold on a direct placement."""
        self.session.execute(
            direct_placements.update().where(direct_placements.c.id == direct_placement_id)
            .values(legal_hold=reason)
        )

    def direct_placement_ended(self, placement_id: str, ended_on) -> str | None:
        """§13: the direct placement whose key is ``placement_id`` ended on ``ended_on`` (its
        retention clock); returns its id, or None when no direct placement has that key."""
        return self.session.execute(
            direct_placements.update().where(direct_placements.c.placement_id == placement_id)
            .values(placement_ended_on=ended_on).returning(direct_placements.c.id)
        ).scalar()

    def ended_direct_placement_ids(self, authority: str, cutoff: datetime,
                                   limit: int) -> list[str]:
        """§13 retention: the authority's direct placements whose placement ended at or
        before ``cutoff``, data key still held and no legal hold; locked ``FOR UPDATE SKIP
        LOCKED`` like the referrals."""
        key_held = select(data_keys.c.key_id).where(
            data_keys.c.key_id == direct_placements.c.placement_id).exists()
        return list(
            self.session.execute(
                select(direct_placements.c.id)
                .where(
                    direct_placements.c.authority == authority,
                    direct_placements.c.placement_ended_on <= cutoff.date(),
                    direct_placements.c.legal_hold.is_(None),
                    key_held,
                )
                .order_by(direct_placements.c.id)
                .limit(limit)
                .with_for_update(of=direct_placements, skip_locked=True)
            ).scalars()
        )

    def placement_ended(self, referral_id: str, ended_on) -> bool:
        """§13: the referral's placement ended on ``ended_on`` (its retention clock)."""
        return bool(self.session.execute(
            referrals.update().where(referrals.c.id == referral_id)
            .values(placement_ended_on=ended_on)
        ).rowcount)

    def ended_referral_ids(self, authority: str, cutoff: datetime, limit: int) -> list[str]:
        """§13 retention: the authority's referrals that ended without award (cancelled, or
        unsuccessful) or whose placement ended at or before ``cutoff``, personal data still
        held and no legal hold; locked ``FOR UPDATE SKIP LOCKED`` (several instances' timers
        never collide)."""
        ended = func.coalesce(referrals.c.cancelled_at, referrals.c.evaluated_at,
                              referrals.c.closed_at)
        without_award = and_(referrals.c.status.in_([Status.CANCELLED, Status.UNSUCCESSFUL]),
                             ended <= cutoff)
        placement_over = and_(referrals.c.status == Status.AWARDED,
                              referrals.c.placement_ended_on <= cutoff.date())
        return list(
            self.session.execute(
                select(referrals.c.id)
                .where(
                    referrals.c.authority == authority,
                    or_(without_award, placement_over),
                    referrals.c.personal_data == "held",
                    referrals.c.legal_hold.is_(None),
                )
                .order_by(referrals.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )

    def open_referral_ids_inviting(self, establishment_id: str, category: str) -> list[str]:
        """Published referrals of ``category`` that invited the establishment (§4.5)."""
        return list(
            self.session.execute(
                select(referrals.c.id)
                .join(invitations, invitations.c.referral_id == referrals.c.id)
                .where(
                    invitations.c.establishment_id == establishment_id,
                    referrals.c.category == category,
                    referrals.c.status == Status.PUBLISHED,
                )
                .order_by(referrals.c.id)
            ).scalars()
        )

    def authority_page(
        self, authority: str, f: ReferralQuery, cursor: Cursor, limit: int
    ) -> list[ReferralSummary]:
        """The owner's list (§10): its authority's referrals with counts (bids only as a
        count, §5 sealed). Fetches ``limit + 1`` for paging."""

        def count(table: Table, *where) -> Any:
            return (
                select(func.count())
                .select_from(table)
                .where(table.c.referral_id == referrals.c.id, *where)
                .scalar_subquery()
            )

        q = select(
            referrals,
            count(invitations).label("invited_count"),
            count(bids, bids.c.status == "submitted").label("bids_count"),
            count(declines).label("declines_count"),
        ).where(referrals.c.authority == authority)
        q = _after(_filtered(q, f), cursor).limit(limit + 1)
        out = []
        for r in self.session.execute(q):
            personal = self._personal(r)
            ref = personal["child_reference"] if isinstance(personal, dict) else ERASED
            out.append(summary_from_row(r._mapping, ref))
        return out

    def provider_page(
        self, provider_id: str, f: ReferralQuery, cursor: Cursor, limit: int
    ) -> list[Referral]:
        """An invited provider's list (§10): partial aggregates holding the referral and
        only that provider's invitations, enough for ``Referral.view_for``. Fetches
        ``limit + 1`` for paging."""
        mine = select(invitations.c.referral_id).where(invitations.c.provider_id == provider_id)
        q = select(referrals).where(referrals.c.id.in_(mine))
        rows = self.session.execute(_after(_filtered(q, f), cursor).limit(limit + 1)).all()
        if not rows:
            return []
        own = self.session.execute(
            select(invitations)
            .where(
                invitations.c.provider_id == provider_id,
                invitations.c.referral_id.in_([r.id for r in rows]),
            )
            .order_by(*ORDER["invitations"])
        ).all()
        empty = {t.name: [] for t in PARTS}
        return [
            referral_from_rows(
                row, {**empty, "invitations": [i for i in own if i.referral_id == row.id]}, ERASED
            )
            for row in rows
        ]

    def add_direct_placement(self, placement: DirectPlacement) -> dict:
        """Stored with the child reference sealed under a data key of its own (keyed by the
        placement id, §13); returns the ``SealedChildData`` for the event."""
        key_id = placement.placement_id
        self.vault.create(key_id, placement.authority, placement.recorded_at)
        child = {"child_reference": placement.request.child_reference}
        sealed = self.vault.seal(key_id, child)
        self.session.execute(
            pg_insert(direct_placements).values(
                **direct_placement_to_row(placement), child_data=sealed,
                child_index=blind_index(self.vault.master, placement.authority,
                                        placement.request.child_reference),
            )
        )
        return {"key_id": key_id, "sealed": sealed}


def _filtered(q, f: ReferralQuery):
    if f.status:
        q = q.where(referrals.c.status == f.status)
    if f.category:
        q = q.where(referrals.c.category == f.category)
    return q


def _after(q, cursor: Cursor):
    """Newest first; the cursor is the last item's ``(created_at, id)``."""
    if cursor:
        at, last_id = cursor
        q = q.where(
            or_(
                referrals.c.created_at < at,
                and_(referrals.c.created_at == at, referrals.c.id < last_id),
            )
        )
    return q.order_by(referrals.c.created_at.desc(), referrals.c.id.desc())


Referrals = Store  # the name the store's integration tests and older callers use
