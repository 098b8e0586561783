"""The queries of the notifications service (RULES §8): ``Store``, bound to one unit of
work's session (``uow.store``). Handlers reach persistence only through it, so a fake with
the same methods (``tests/support/notifications_fakes.py``) unit-tests them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.notifications.domain import (
    REMINDER_BEFORE_DEADLINE,
)
from services.notifications.messages import Contact
from services.notifications.store import codecs
from services.notifications.store.deliveries import DeliveryQueries
from services.notifications.store.tables import (
    deliveries,
    establishments,
    invitations,
    providers,
    referrals,
)


def _invitation(referral_id: str, establishment_id: str) -> tuple:
    """The where-clause of one invitation."""
    return (
        invitations.c.referral_id == referral_id,
        invitations.c.establishment_id == establishment_id,
    )


class Store(DeliveryQueries):
    def drop_bodies(self, delivered_before: datetime) -> int:
        """§13: the rendered bodies of deliveries final before ``delivered_before``."""
        t = deliveries
        return self.session.execute(
            update(t)
            .where(
                t.c.status.in_(["delivered", "permanent_failure"]),
                t.c.updated_at <= delivered_before,
                or_(t.c.body_text.is_not(None), t.c.body_html.is_not(None),
                    t.c.body_sms.is_not(None)),
            )
            .values(body_text=None, body_html=None, body_sms=None)
        ).rowcount

    def deliveries_of_referrals(self, authority: str, referral_ids: list[str]) -> list[dict]:
        """§13 subject access: the deliveries about these referrals of ``authority``."""
        t = deliveries
        cols = [t.c.id, t.c.message_type, t.c.channel, t.c.recipient, t.c.referral_id,
                t.c.status, t.c.created_at, t.c.updated_at, t.c.subject,
                t.c.body_text.is_not(None).label("body_held")]
        rows = self.session.execute(
            select(*cols).where(t.c.authority == authority, t.c.referral_id.in_(referral_ids))
            .order_by(t.c.created_at, t.c.id)
        ).mappings().all()
        return [{**r, "created_at": r["created_at"].isoformat(),
                 "updated_at": r["updated_at"].isoformat()} for r in rows]

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

    def set_deadline(self, referral_id: str, deadline: datetime) -> None:
        """A later deadline (RULES §5 extension): reminders follow it."""
        self.session.execute(
            update(referrals)
            .where(referrals.c.id == referral_id, referrals.c.deadline < deadline)
            .values(deadline=deadline)
        )

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
