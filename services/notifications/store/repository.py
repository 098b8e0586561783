"""The queries of the notifications service (RULES §8): ``Store``, bound to one unit of
work's session (``uow.store``). Handlers reach persistence only through it, so a fake with
the same methods (``tests/support/notifications_fakes.py``) unit-tests them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.notifications.domain import (
    REMINDER_BEFORE_DEADLINE,
    WAITING,
    Delivery,
    Envelope,
    RateWindow,
)
from services.notifications.messages import Contact, DeliveryStatus, Gateway
from services.notifications.rendering import Rendered
from services.notifications.store import codecs
from services.notifications.store.tables import (
    deliveries,
    establishments,
    invitations,
    providers,
    rate_windows,
    referrals,
)


def _invitation(referral_id: str, establishment_id: str) -> tuple:
    """The where-clause of one invitation."""
    return (
        invitations.c.referral_id == referral_id,
        invitations.c.establishment_id == establishment_id,
    )


class Store:
    def __init__(self, session: Session):
        self.session = session

    def _first(self, query) -> dict | None:
        row = self.session.execute(query).first()
        return dict(row._mapping) if row else None

    def savepoint(self):
        """``with store.savepoint():`` one step that may fail without undoing the rest."""
        return self.session.begin_nested()

    # -- recipients ----------------------------------------------------------------------
    def upsert_provider(
        self, provider_id: str, name: str, contact_email: str, as_of: datetime
    ) -> bool:
        """Keep the newest registration details; True if anything was written."""
        stmt = pg_insert(providers).values(
            id=provider_id, name=name, contact_email=contact_email, as_of=as_of
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[providers.c.id],
            set_={
                "name": stmt.excluded.name,
                "contact_email": stmt.excluded.contact_email,
                "as_of": stmt.excluded.as_of,
            },
            where=providers.c.as_of <= stmt.excluded.as_of,
        ).returning(providers.c.id)
        return self.session.execute(stmt).first() is not None

    def get_provider(self, provider_id: str) -> dict | None:
        return self._first(select(providers).where(providers.c.id == provider_id))

    def providers(self, ids: Iterable[str]) -> dict[str, dict]:
        """The registered providers among ``ids``, by id."""
        found = (self.get_provider(i) for i in sorted(set(ids)))
        return {p["id"]: p for p in found if p}

    def upsert_establishment(
        self,
        establishment_id: str,
        provider_id: str,
        name: str,
        contacts: list[Contact],
        as_of: datetime,
    ) -> bool:
        """Replace the establishment's contacts if ``as_of`` is not older than ours."""
        return self._put_establishment(establishment_id, provider_id, name, contacts, as_of)

    def upsert_contacts(
        self, establishment_id: str, provider_id: str, contacts: list[Contact], as_of: datetime
    ) -> bool:
        """Replace only the contacts (the event names no establishment: keep our name, or
        the id until a membership event tells us the name)."""
        return self._put_establishment(
            establishment_id, provider_id, establishment_id, contacts, as_of, keep_name=True
        )

    def _put_establishment(
        self,
        establishment_id: str,
        provider_id: str,
        name: str,
        contacts: list[Contact],
        as_of: datetime,
        keep_name: bool = False,
    ) -> bool:
        """Insert, or update where ``as_of`` is not older than ours (the name too unless
        ``keep_name``); True if anything was written."""
        stmt = pg_insert(establishments).values(
            id=establishment_id,
            provider_id=provider_id,
            name=name,
            contacts=codecs.contacts_to_row(contacts),
            contacts_as_of=as_of,
        )
        columns = (
            ("provider_id", "contacts", "contacts_as_of")
            if keep_name
            else ("provider_id", "name", "contacts", "contacts_as_of")
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[establishments.c.id],
            set_={c: stmt.excluded[c] for c in columns},
            where=establishments.c.contacts_as_of <= stmt.excluded.contacts_as_of,
        ).returning(establishments.c.id)
        return self.session.execute(stmt).first() is not None

    def get_establishment(self, establishment_id: str) -> dict | None:
        return self._first(select(establishments).where(establishments.c.id == establishment_id))

    def fresher_contacts(
        self,
        establishment_ids: Iterable[str],
        referral_id: str | None = None,
        snapshot_at: datetime | None = None,
    ) -> dict[str, list[Contact]]:
        """Our contacts of these establishments where they are newer than the referral's
        snapshot of them: ``snapshot_at`` if given, else the invitation time of
        ``referral_id`` (unknown invitation: ours always win)."""
        ids = sorted(set(establishment_ids))
        if not ids:
            return {}
        joined = establishments.outerjoin(
            invitations,
            and_(
                invitations.c.establishment_id == establishments.c.id,
                invitations.c.referral_id == (referral_id or ""),
            ),
        )
        rows = self.session.execute(
            select(
                establishments.c.id,
                establishments.c.contacts,
                establishments.c.contacts_as_of,
                invitations.c.invited_at,
            )
            .select_from(joined)
            .where(establishments.c.id.in_(ids))
        ).all()
        fresher = {}
        for row in rows:
            snapshot = snapshot_at or row.invited_at
            if row.contacts and (snapshot is None or row.contacts_as_of > snapshot):
                fresher[row.id] = codecs.contacts_from_row(row.contacts)
        return fresher

    # -- referrals and invitations --------------------------------------------------------
    def upsert_referral(
        self,
        referral_id: str,
        authority: str,
        category: str,
        deadline: datetime,
        profile: dict,
        as_of: datetime,
    ) -> None:
        stmt = pg_insert(referrals).values(
            id=referral_id,
            authority=authority,
            category=category,
            deadline=deadline,
            profile=profile,
            status="open",
            status_as_of=as_of,
        )
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[referrals.c.id],
                set_={"deadline": stmt.excluded.deadline, "profile": stmt.excluded.profile},
            )
        )

    def get_referral(self, referral_id: str) -> dict | None:
        return self._first(select(referrals).where(referrals.c.id == referral_id))

    def set_referral_status(self, referral_id: str, status: str, as_of: datetime) -> None:
        """Record the referral's state as told by an event; a later closing state wins."""
        self.session.execute(
            update(referrals)
            .where(referrals.c.id == referral_id, referrals.c.status_as_of <= as_of)
            .values(status=status, status_as_of=as_of)
        )

    def add_invitations(
        self, referral_id: str, rows: Iterable[dict], invited_at: datetime
    ) -> None:
        values = [{"referral_id": referral_id, "invited_at": invited_at, **r} for r in rows]
        if values:
            self.session.execute(pg_insert(invitations).values(values).on_conflict_do_nothing())

    def get_invitation(self, referral_id: str, establishment_id: str) -> dict | None:
        return self._first(
            select(invitations).where(*_invitation(referral_id, establishment_id))
        )

    def set_has_bid(
        self, referral_id: str, establishment_id: str, has_bid: bool, as_of: datetime
    ) -> None:
        self.session.execute(
            update(invitations)
            .where(
                *_invitation(referral_id, establishment_id),
                or_(invitations.c.bid_as_of.is_(None), invitations.c.bid_as_of <= as_of),
            )
            .values(has_bid=has_bid, bid_as_of=as_of)
        )

    def set_declined(self, referral_id: str, establishment_id: str) -> None:
        self.session.execute(
            update(invitations)
            .where(*_invitation(referral_id, establishment_id))
            .values(declined=True)
        )

    def claim_due_reminders(self, now: datetime, limit: int) -> list[dict]:
        """Invitations due a 24-hour reminder (RULES §8, ``domain.reminder_due``), locked.

        Open referrals whose deadline is within 24 hours, establishments invited before
        that point that have neither bid nor declined and were not reminded yet.
        """
        remind_at = referrals.c.deadline - REMINDER_BEFORE_DEADLINE
        q = (
            select(
                invitations,
                referrals.c.authority,
                referrals.c.category,
                referrals.c.deadline,
                referrals.c.profile,
            )
            .join(referrals, referrals.c.id == invitations.c.referral_id)
            .where(
                referrals.c.status == "open",
                invitations.c.reminded_at.is_(None),
                invitations.c.has_bid.is_(False),
                invitations.c.declined.is_(False),
                remind_at <= now,
                referrals.c.deadline > now,
                invitations.c.invited_at < remind_at,
            )
            .order_by(referrals.c.deadline)
            .limit(limit)
            .with_for_update(of=invitations, skip_locked=True)
        )
        return [dict(r._mapping) for r in self.session.execute(q)]

    def mark_reminded(self, referral_id: str, establishment_id: str, now: datetime) -> None:
        self.session.execute(
            update(invitations)
            .where(*_invitation(referral_id, establishment_id))
            .values(reminded_at=now)
        )

    # -- deliveries ------------------------------------------------------------------------
    def insert_deliveries(self, new: list[tuple[Delivery, Envelope]]) -> int:
        """Insert new deliveries; ones whose (event, recipient, channel, type) exists are
        skipped (RULES §8 idempotency). Returns how many were inserted."""
        rows = [{**codecs.delivery_to_row(d), **codecs.envelope_to_row(e)} for d, e in new]
        inserted = 0
        for start in range(0, len(rows), 500):
            stmt = (
                pg_insert(deliveries)
                .values(rows[start : start + 500])
                .on_conflict_do_nothing(constraint="uq_deliveries_event_recipient_channel_type")
                .returning(deliveries.c.id)
            )
            inserted += len(self.session.execute(stmt).all())
        return inserted

    def save_delivery(self, d: Delivery) -> None:
        row = codecs.delivery_to_row(d)
        self.session.execute(
            update(deliveries)
            .where(deliveries.c.id == d.id)
            .values({k: row[k] for k in codecs.MUTABLE})
        )

    def lock_delivery(self, delivery_id: str) -> Delivery | None:
        row = self._first(
            select(deliveries).where(deliveries.c.id == delivery_id).with_for_update()
        )
        return codecs.delivery_from_row(row) if row else None

    def extend_leases(self, attempts: dict[str, int], until: datetime) -> int:
        """Renew the leases of these attempts (delivery id → attempt number) that are
        still ``sending`` in that attempt; returns how many were renewed."""
        if not attempts:
            return 0
        return self.session.execute(
            update(deliveries)
            .where(
                tuple_(deliveries.c.id, deliveries.c.attempts).in_(list(attempts.items())),
                deliveries.c.status == str(DeliveryStatus.SENDING),
            )
            .values(next_attempt_at=until)
        ).rowcount

    def lock_deliveries(self, ids: list[str]) -> dict[str, Delivery]:
        """Lock these deliveries (in id order, so that lockers never deadlock)."""
        if not ids:
            return {}
        rows = self.session.execute(
            select(deliveries)
            .where(deliveries.c.id.in_(ids))
            .order_by(deliveries.c.id)
            .with_for_update()
        )
        return {r.id: codecs.delivery_from_row(r._mapping) for r in rows}

    def claim_due(
        self, gateway: Gateway, now: datetime, limit: int
    ) -> list[tuple[Delivery, Rendered]]:
        """Due deliveries of one gateway with their messages, oldest first, locked and
        skipped by other instances (``FOR UPDATE SKIP LOCKED``).

        Due: waiting (pending or after a temporary failure) with ``next_attempt_at``
        reached, or ``sending`` past its lease (an instance died mid-send).
        """
        if limit <= 0:
            return []
        statuses = [str(s) for s in (*WAITING, DeliveryStatus.SENDING)]
        q = (
            select(deliveries)
            .where(
                deliveries.c.gateway == str(gateway),
                deliveries.c.status.in_(statuses),
                deliveries.c.next_attempt_at <= now,
            )
            .order_by(deliveries.c.next_attempt_at, deliveries.c.created_at, deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            (codecs.delivery_from_row(r._mapping), codecs.message_from_row(r._mapping))
            for r in self.session.execute(q)
        ]

    def lock_rate_window(self, gateway: Gateway) -> RateWindow | None:
        """The shared counter of ``gateway``, locked until the end of the transaction."""
        self.session.execute(
            pg_insert(rate_windows)
            .values(gateway=str(gateway), window_start=None, used=0)
            .on_conflict_do_nothing()
        )
        row = self.session.execute(
            select(rate_windows).where(rate_windows.c.gateway == str(gateway)).with_for_update()
        ).one()
        return codecs.rate_window_from_row(row._mapping)

    def save_rate_window(self, gateway: Gateway, window: RateWindow) -> None:
        self.session.execute(
            update(rate_windows)
            .where(rate_windows.c.gateway == str(gateway))
            .values(codecs.rate_window_to_row(window))
        )

    def list_deliveries(
        self,
        *,
        provider_id: str | None = None,
        authority: str | None = None,
        status: str | None = None,
        message_type: str | None = None,
        referral_id: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[dict]:
        """Newest first, ``limit`` rows after the cursor key ``(created_at, id)``."""
        q = select(deliveries)
        if provider_id is not None:
            q = q.where(deliveries.c.provider_id == provider_id)
        if authority is not None:
            q = q.where(deliveries.c.authority == authority)
        if status:
            q = q.where(deliveries.c.status == status)
        if message_type:
            q = q.where(deliveries.c.message_type == message_type)
        if referral_id:
            q = q.where(deliveries.c.referral_id == referral_id)
        if after is not None:
            q = q.where(tuple_(deliveries.c.created_at, deliveries.c.id) < tuple_(*after))
        q = q.order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc()).limit(limit)
        return [dict(r._mapping) for r in self.session.execute(q)]

    def count_deliveries(self, **where) -> int:
        q = select(func.count()).select_from(deliveries)
        conditions = [deliveries.c[k] == v for k, v in where.items()]
        if conditions:
            q = q.where(and_(*conditions))
        return self.session.execute(q).scalar_one()
