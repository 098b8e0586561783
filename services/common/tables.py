"""Tables every service schema has: transactional outbox, processed events, audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB


def common_tables(metadata: MetaData) -> dict[str, Table]:
    return {
        "outbox": Table(
            "outbox", metadata,
            Column("id", BigInteger, primary_key=True, autoincrement=True),
            Column("event_id", String(36), nullable=False, unique=True),
            Column("event_type", String(100), nullable=False),
            Column("payload", JSONB, nullable=False),
            Column("request_id", String(100)),
            Column("occurred_at", DateTime(timezone=True), nullable=False),
            Column("sent_at", DateTime(timezone=True), index=True),
            Column("attempts", Integer, nullable=False, server_default="0"),
        ),
        "processed_events": Table(
            "processed_events", metadata,
            Column("event_id", String(36), primary_key=True),
            Column("handler", String(200), primary_key=True),
            Column("processed_at", DateTime(timezone=True), nullable=False),
        ),
        "audit_log": Table(
            "audit_log", metadata,
            Column("seq", BigInteger, primary_key=True, autoincrement=False),
            Column("occurred_at", DateTime(timezone=True), nullable=False),
            Column("actor", JSONB, nullable=False),
            Column("action", String(100), nullable=False),
            Column("entity_type", String(100), nullable=False, index=True),
            Column("entity_id", String(100), nullable=False, index=True),
            Column("before", JSONB),
            Column("after", JSONB),
            Column("request_id", String(100)),
            Column("prev_hash", String(64), nullable=False),
            Column("hash", String(64), nullable=False),
            UniqueConstraint("hash"),
        ),
    }


def create_common_tables(op, schema: str) -> None:
    """Used by each service's first Alembic migration."""
    metadata = MetaData(schema=schema)
    for table in common_tables(metadata).values():
        table.create(op.get_bind(), checkfirst=True)
