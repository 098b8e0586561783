"""Tables of the notifications service (schema ``notifications``, RULES §8).

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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.common.tables import common_tables

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
