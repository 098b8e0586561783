"""Recipients, referrals and invitations, deliveries and the shared rate counter (RULES §8).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "notifications"
TS = sa.DateTime(timezone=True)
JSONB = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("contact_email", sa.String(320), nullable=False),
        sa.Column("as_of", TS, nullable=False),
        schema=S,
    )
    op.create_table(
        "establishments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("contacts", JSONB, nullable=False),
        sa.Column("contacts_as_of", TS, nullable=False),
        schema=S,
    )
    op.create_index("ix_notifications_establishments_provider_id", "establishments",
                    ["provider_id"], schema=S)
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("authority", sa.String(20), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("profile", JSONB, nullable=False),
        sa.Column("status", sa.String(20), server_default="open", nullable=False),
        sa.Column("status_as_of", TS, nullable=False),
        schema=S,
    )
    op.create_table(
        "invitations",
        sa.Column("referral_id", sa.String(64), nullable=False),
        sa.Column("establishment_id", sa.String(64), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("distance_miles", sa.Integer(), nullable=False),
        sa.Column("contacts", JSONB, nullable=False),
        sa.Column("invited_at", TS, nullable=False),
        sa.Column("has_bid", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("bid_as_of", TS),
        sa.Column("declined", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("reminded_at", TS),
        sa.PrimaryKeyConstraint("referral_id", "establishment_id"),
        schema=S,
    )
    op.create_index("ix_invitations_due_reminder", "invitations", ["referral_id"], schema=S,
                    postgresql_where=sa.text(
                        "reminded_at IS NULL AND NOT has_bid AND NOT declined"))
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("message_type", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("gateway", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("recipient_name", sa.String(300)),
        sa.Column("provider_id", sa.String(64)),
        sa.Column("authority", sa.String(20)),
        sa.Column("referral_id", sa.String(64)),
        sa.Column("establishment_id", sa.String(64)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", TS),
        sa.Column("last_error", sa.Text()),
        sa.Column("reference", sa.String(300)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text()),
        sa.Column("body_html", sa.Text()),
        sa.Column("body_sms", sa.Text()),
        # RULES §8: one delivery per (event, recipient, channel, type), ever
        sa.UniqueConstraint("event_id", "recipient", "channel", "message_type",
                            name="uq_deliveries_event_recipient_channel_type"),
        schema=S,
    )
    op.create_index("ix_deliveries_due", "deliveries", ["gateway", "next_attempt_at"],
                    schema=S, postgresql_where=sa.text(
                        "status IN ('pending', 'temporary_failure', 'sending')"))
    op.create_index("ix_deliveries_provider", "deliveries", ["provider_id", "created_at"],
                    schema=S)
    op.create_index("ix_deliveries_authority", "deliveries", ["authority", "created_at"],
                    schema=S)
    op.create_index("ix_deliveries_reference", "deliveries", ["reference"], schema=S)
    op.create_table(
        "rate_windows",
        sa.Column("gateway", sa.String(10), primary_key=True),
        sa.Column("window_start", TS),
        sa.Column("used", sa.Integer(), server_default="0", nullable=False),
        schema=S,
    )


def downgrade() -> None:
    for table in ("rate_windows", "deliveries", "invitations", "referrals", "establishments",
                  "providers"):
        op.drop_table(table, schema=S)
