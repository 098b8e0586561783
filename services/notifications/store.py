"""Tables and queries of the notifications service (schema ``notifications``, RULES §8).

- ``providers`` and ``establishments``: the recipients, a copy of what qualification told
  us by events (DESIGN rule 1). An establishment's contacts are replaced by the newest
  event only (``contacts_as_of``), so out-of-order events never restore old contacts.
- ``referrals`` and ``invitations``: what referral told us, enough to render later
  messages (deadline, profile) and to find the invited establishments that have not bid
  24 hours before the deadline (the reminder timer).
- ``deliveries``: one row per (event, recipient, channel, message type), unique, so a
  redelivered event never sends twice. Each row carries its rendered message.
- ``rate_windows``: the shared send counter per gateway (``domain.take``), one row each,
  locked ``FOR UPDATE`` by whichever instance is claiming deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common.tables import common_tables
from services.notifications.domain import (
    REMINDER_BEFORE_DEADLINE,
    WAITING,
    Delivery,
    RateWindow,
)
from services.notifications.messages import (
    Channel,
    Contact,
    DeliveryStatus,
    Gateway,
    MessageType,
)

metadata = MetaData(schema="notifications")
TABLES = common_tables(metadata)

TS = DateTime(timezone=True)

providers = Table(
    "providers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("as_of", TS, nullable=False),
)

establishments = Table(
    "establishments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("provider_id", String(64), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("contacts", JSONB, nullable=False),  # [messages.Contact], normalised
    Column("contacts_as_of", TS, nullable=False),
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("authority", String(20), nullable=False),
    Column("category", String(40), nullable=False),
    Column("deadline", TS, nullable=False),
    Column("profile", JSONB, nullable=False),  # rendering.ReferralProfile as JSON
    # open | closed | cancelled | awarded | unsuccessful: only "open" gets reminders
    Column("status", String(20), nullable=False, server_default="open"),
    Column("status_as_of", TS, nullable=False),
)

invitations = Table(
    "invitations",
    metadata,
    Column("referral_id", String(64), primary_key=True),
    Column("establishment_id", String(64), primary_key=True),
    Column("provider_id", String(64), nullable=False),
    Column("name", String(300), nullable=False),
    Column("distance_miles", Integer, nullable=False),
    Column("contacts", JSONB, nullable=False),
    Column("invited_at", TS, nullable=False),
    Column("has_bid", Boolean, nullable=False, server_default="false"),
    Column("bid_as_of", TS),
    Column("declined", Boolean, nullable=False, server_default="false"),
    Column("reminded_at", TS),
    Index(
        "ix_invitations_due_reminder",
        "referral_id",
        postgresql_where=text("reminded_at IS NULL AND NOT has_bid AND NOT declined"),
    ),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("event_id", String(200), nullable=False),
    Column("message_type", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("gateway", String(10), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("recipient_name", String(300)),
    # owners who may list it (RULES §8 "seen by the sender's owner", §10)
    Column("provider_id", String(64)),
    Column("authority", String(20)),
    Column("referral_id", String(64)),
    Column("establishment_id", String(64)),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TS),
    Column("last_error", Text),
    Column("reference", String(300)),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    # the rendered message (every message comes from a template, RULES §8)
    Column("subject", Text, nullable=False),
    Column("body_text", Text),
    Column("body_html", Text),
    Column("body_sms", Text),
    UniqueConstraint(
        "event_id",
        "recipient",
        "channel",
        "message_type",
        name="uq_deliveries_event_recipient_channel_type",
    ),
    Index(
        "ix_deliveries_due",
        "gateway",
        "next_attempt_at",
        postgresql_where=text("status IN ('pending', 'temporary_failure', 'sending')"),
    ),
    Index("ix_deliveries_provider", "provider_id", "created_at"),
    Index("ix_deliveries_authority", "authority", "created_at"),
    Index("ix_deliveries_reference", "reference"),
)

rate_windows = Table(
    "rate_windows",
    metadata,
    Column("gateway", String(10), primary_key=True),
    Column("window_start", TS),
    Column("used", Integer, nullable=False, server_default="0"),
)

# ---------------------------------------------------------------------------------------
# Recipients


def upsert_provider(
    session: Session, provider_id: str, name: str, contact_email: str, as_of: datetime
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
    return session.execute(stmt).first() is not None


def _first(session: Session, query) -> dict | None:
    row = session.execute(query).first()
    return dict(row._mapping) if row else None


def get_provider(session: Session, provider_id: str) -> dict | None:
    return _first(session, select(providers).where(providers.c.id == provider_id))


def upsert_establishment(
    session: Session,
    establishment_id: str,
    provider_id: str,
    name: str,
    contacts: list[Contact],
    as_of: datetime,
) -> bool:
    """Replace the establishment's contacts if ``as_of`` is not older than ours."""
    return _put_establishment(session, establishment_id, provider_id, name, contacts, as_of)


def upsert_contacts(
    session: Session,
    establishment_id: str,
    provider_id: str,
    contacts: list[Contact],
    as_of: datetime,
) -> bool:
    """Replace only the contacts (the event names no establishment: keep our name, or
    the id until a membership event tells us the name)."""
    return _put_establishment(
        session, establishment_id, provider_id, establishment_id, contacts, as_of, keep_name=True
    )


def _put_establishment(
    session: Session,
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
        contacts=[c.model_dump() for c in contacts],
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
    return session.execute(stmt).first() is not None


def get_establishment(session: Session, establishment_id: str) -> dict | None:
    return _first(session, select(establishments).where(establishments.c.id == establishment_id))


def fresher_contacts(
    session: Session,
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
    rows = session.execute(
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
            fresher[row.id] = [Contact.model_validate(c) for c in row.contacts]
    return fresher


# ---------------------------------------------------------------------------------------
# Referrals and invitations


def upsert_referral(
    session: Session,
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
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[referrals.c.id],
            set_={"deadline": stmt.excluded.deadline, "profile": stmt.excluded.profile},
        )
    )


def get_referral(session: Session, referral_id: str) -> dict | None:
    return _first(session, select(referrals).where(referrals.c.id == referral_id))


def set_referral_status(session: Session, referral_id: str, status: str, as_of: datetime) -> None:
    """Record the referral's state as told by an event; a later closing state wins."""
    session.execute(
        update(referrals)
        .where(
            referrals.c.id == referral_id,
            referrals.c.status_as_of <= as_of,
        )
        .values(status=status, status_as_of=as_of)
    )


def add_invitations(
    session: Session, referral_id: str, rows: Iterable[dict], invited_at: datetime
) -> None:
    values = [{"referral_id": referral_id, "invited_at": invited_at, **r} for r in rows]
    if values:
        session.execute(pg_insert(invitations).values(values).on_conflict_do_nothing())


def _invitation(referral_id: str, establishment_id: str) -> tuple:
    """The where-clause of one invitation."""
    return (
        invitations.c.referral_id == referral_id,
        invitations.c.establishment_id == establishment_id,
    )


def get_invitation(session: Session, referral_id: str, establishment_id: str) -> dict | None:
    return _first(session, select(invitations).where(*_invitation(referral_id, establishment_id)))


def set_has_bid(
    session: Session, referral_id: str, establishment_id: str, has_bid: bool, as_of: datetime
) -> None:
    session.execute(
        update(invitations)
        .where(
            *_invitation(referral_id, establishment_id),
            or_(invitations.c.bid_as_of.is_(None), invitations.c.bid_as_of <= as_of),
        )
        .values(has_bid=has_bid, bid_as_of=as_of)
    )


def set_declined(session: Session, referral_id: str, establishment_id: str) -> None:
    session.execute(
        update(invitations).where(*_invitation(referral_id, establishment_id)).values(declined=True)
    )


def claim_due_reminders(session: Session, now: datetime, limit: int) -> list[dict]:
    """Invitations due a 24-hour reminder (RULES §8, ``domain.reminder_due``), locked.

    Open referrals whose deadline is within 24 hours, establishments invited before that
    point that have neither bid nor declined and were not reminded yet.
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
    return [dict(r._mapping) for r in session.execute(q)]


def mark_reminded(session: Session, referral_id: str, establishment_id: str, now: datetime) -> None:
    session.execute(
        update(invitations)
        .where(*_invitation(referral_id, establishment_id))
        .values(reminded_at=now)
    )


# ---------------------------------------------------------------------------------------
# Deliveries

MUTABLE = ("status", "attempts", "next_attempt_at", "last_error", "reference", "updated_at")


def insert_deliveries(session: Session, rows: list[dict]) -> int:
    """Insert new deliveries; ones whose (event, recipient, channel, type) exists are
    skipped (RULES §8 idempotency). Returns how many were inserted."""
    if not rows:
        return 0
    inserted = 0
    for start in range(0, len(rows), 500):
        stmt = (
            pg_insert(deliveries)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(constraint="uq_deliveries_event_recipient_channel_type")
            .returning(deliveries.c.id)
        )
        inserted += len(session.execute(stmt).all())
    return inserted


def to_delivery(row: dict) -> Delivery:
    return Delivery(
        id=row["id"],
        event_id=row["event_id"],
        message_type=MessageType(row["message_type"]),
        channel=Channel(row["channel"]),
        gateway=Gateway(row["gateway"]),
        recipient=row["recipient"],
        provider_id=row["provider_id"],
        authority=row["authority"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        reference=row["reference"],
    )


def delivery_row(d: Delivery) -> dict:
    """Every column the domain object owns (for inserts)."""
    return {
        "id": d.id,
        "event_id": d.event_id,
        "message_type": str(d.message_type),
        "channel": str(d.channel),
        "gateway": str(d.gateway),
        "recipient": d.recipient,
        "provider_id": d.provider_id,
        "authority": d.authority,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "status": str(d.status),
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_error": d.last_error,
        "reference": d.reference,
    }


def save_delivery(session: Session, d: Delivery) -> None:
    row = delivery_row(d)
    session.execute(
        update(deliveries).where(deliveries.c.id == d.id).values({k: row[k] for k in MUTABLE})
    )


def lock_delivery(session: Session, delivery_id: str) -> dict | None:
    return _first(
        session, select(deliveries).where(deliveries.c.id == delivery_id).with_for_update()
    )


def lock_deliveries(session: Session, ids: list[str]) -> dict[str, dict]:
    """Lock these deliveries (in id order, so that lockers never deadlock)."""
    if not ids:
        return {}
    rows = session.execute(
        select(deliveries)
        .where(deliveries.c.id.in_(ids))
        .order_by(deliveries.c.id)
        .with_for_update()
    )
    return {r.id: dict(r._mapping) for r in rows}


def claim_due(session: Session, gateway: Gateway, now: datetime, limit: int) -> list[dict]:
    """Due deliveries of one gateway, oldest first, locked and skipped by other instances.

    Due: waiting (pending or after a temporary failure) with ``next_attempt_at`` reached,
    or ``sending`` past its lease (an instance died mid-send).
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
    return [dict(r._mapping) for r in session.execute(q)]


def lock_rate_window(session: Session, gateway: Gateway) -> RateWindow | None:
    """The shared counter of ``gateway``, locked until the end of the transaction."""
    session.execute(
        pg_insert(rate_windows)
        .values(gateway=str(gateway), window_start=None, used=0)
        .on_conflict_do_nothing()
    )
    row = session.execute(
        select(rate_windows).where(rate_windows.c.gateway == str(gateway)).with_for_update()
    ).one()
    return RateWindow(row.window_start, row.used) if row.window_start else None


def save_rate_window(session: Session, gateway: Gateway, window: RateWindow) -> None:
    session.execute(
        update(rate_windows)
        .where(rate_windows.c.gateway == str(gateway))
        .values(window_start=window.start, used=window.used)
    )


def list_deliveries(
    session: Session,
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
    return [dict(r._mapping) for r in session.execute(q)]


def count_deliveries(session: Session, **where) -> int:
    q = select(func.count()).select_from(deliveries)
    conditions = [deliveries.c[k] == v for k, v in where.items()]
    if conditions:
        q = q.where(and_(*conditions))
    return session.execute(q).scalar_one()
