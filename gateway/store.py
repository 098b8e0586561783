"""The gateway's own tables (schema `gateway`): API keys, idempotency records, and the web
portal's users, tokens, sessions and sign-in audit chain (RULES §12, §9)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.common.tables import common_tables

metadata = MetaData(schema="gateway")

api_keys = Table(
    "api_keys", metadata,
    Column("id", String(36), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("role", String(30), nullable=False),
    Column("authority", String(20)),
    Column("provider_id", String(36)),
    Column("label", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(36)),
    Column("revoked_at", DateTime(timezone=True)),
)

idempotency = Table(
    "idempotency", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("principal_id", String(36), nullable=False),
    Column("key", String(200), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", Text, nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("status", Integer),
    Column("response", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("principal_id", "key"),
)

# --- the web portal (RULES §12): people, their tokens and server-side sessions ----------------

users = Table(
    "users", metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),  # stored lower-case
    Column("name", String(200), nullable=False),
    Column("role", String(30), nullable=False),
    Column("authority", String(20)),
    Column("provider_id", String(36)),
    Column("is_admin", Boolean, nullable=False, server_default="false"),
    Column("status", String(20), nullable=False),  # invited, active, disabled
    Column("password_hash", Text),
    Column("totp_secret", String(64)),
    Column("phone", String(20)),  # verified mobile, E.164 (§12 sign-in codes by SMS)
    Column("phone_verified_at", DateTime(timezone=True)),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("invited_by", String(36)),
    Column("last_sign_in_at", DateTime(timezone=True)),
)

user_tokens = Table(
    "user_tokens", metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("gateway.users.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # invitation, reset, sign_in_code, phone_check
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie's value
    Column("data", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, index=True),
)

# RULES §9: sign-in events in the gateway's own chain, the services' audit_log table shape
audit_tables = {"audit_log": common_tables(MetaData(schema="gateway"))["audit_log"]}
gateway_audit = audit_tables["audit_log"]
