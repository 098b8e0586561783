"""Tables every service schema has: transactional outbox, processed events, audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
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
        # RULES §9: ``id`` is the order written; ``seq``, ``prev_hash`` and ``hash`` are
        # set by the sealer (uow.seal_audit), NULL until then
        "audit_log": Table(
            "audit_log", metadata,
            Column("id", BigInteger, primary_key=True, autoincrement=True),
            Column("seq", BigInteger, unique=True),
            Column("occurred_at", DateTime(timezone=True), nullable=False),
            Column("actor", JSONB, nullable=False),
            Column("action", String(100), nullable=False),
            Column("entity_type", String(100), nullable=False, index=True),
            Column("entity_id", String(100), nullable=False, index=True),
            Column("before", JSONB),
            Column("after", JSONB),
            Column("request_id", String(100)),
            Column("prev_hash", String(64)),
            Column("hash", String(64)),
            UniqueConstraint("hash"),
            Index(None, "id", postgresql_where=text("seq IS NULL")),
        ),
    }


def seal_audit_in_place(op, schema: str) -> None:
    """Migration to the sealed audit chain (issue 10) for a schema created before it:
    ``id`` (the order written, = ``seq`` for rows already chained) becomes the key and
    ``seq``/``prev_hash``/``hash`` are filled by the sealer. A schema created by the new
    ``create_common_tables`` has the shape already and is left alone."""
    bind = op.get_bind()
    has_id = bind.execute(text(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = :s "
        "AND table_name = 'audit_log' AND column_name = 'id'"), {"s": schema}).first()
    if has_id:
        return
    t = f'"{schema}".audit_log'
    op.execute(f"ALTER TABLE {t} ADD COLUMN id BIGINT")
    op.execute(f"UPDATE {t} SET id = seq")
    op.execute(f"CREATE SEQUENCE \"{schema}\".audit_log_id_seq OWNED BY {t}.id")
    op.execute(f"SELECT setval('\"{schema}\".audit_log_id_seq', "
               f"COALESCE((SELECT max(id) FROM {t}), 0) + 1, false)")
    op.execute(f"ALTER TABLE {t} ALTER COLUMN id SET DEFAULT "
               f"nextval('\"{schema}\".audit_log_id_seq'), ALTER COLUMN id SET NOT NULL")
    op.execute(f"ALTER TABLE {t} DROP CONSTRAINT audit_log_pkey, ADD PRIMARY KEY (id)")
    op.execute(f"ALTER TABLE {t} ALTER COLUMN seq DROP NOT NULL, "
               "ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL, "
               "ADD CONSTRAINT audit_log_seq_key UNIQUE (seq)")
    op.execute(f"CREATE INDEX audit_log_unsealed ON {t} (id) WHERE seq IS NULL")


def create_common_tables(op, schema: str) -> None:
    """Used by each service's first Alembic migration."""
    metadata = MetaData(schema=schema)
    for table in common_tables(metadata).values():
        table.create(op.get_bind(), checkfirst=True)
