"""Web portal (RULES §12): users, their single-use tokens, server-side sessions, and the
gateway's own hash-chained audit log of sign-in events (§9).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "gateway"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("authority", sa.String(20)),
        sa.Column("provider_id", sa.String(36)),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invited_by", sa.String(36)),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True)),
        schema=S,
    )
    op.create_table(
        "user_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("gateway.users.id"), nullable=False,
                  index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        schema=S,
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
        schema=S,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger, unique=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", JSONB, nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(100), nullable=False, index=True),
        sa.Column("entity_id", sa.String(100), nullable=False, index=True),
        sa.Column("before", JSONB),
        sa.Column("after", JSONB),
        sa.Column("request_id", sa.String(100)),
        sa.Column("prev_hash", sa.String(64)),
        sa.Column("hash", sa.String(64)),
        sa.UniqueConstraint("hash"),
        schema=S,
    )
    op.create_index(None, "audit_log", ["id"], schema=S, postgresql_where=sa.text("seq IS NULL"))


def downgrade() -> None:
    for table in ("audit_log", "web_sessions", "user_tokens", "users"):
        op.drop_table(table, schema=S)
