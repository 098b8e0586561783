"""Each invitation keeps the establishment's qualified additional services (RULES §4.4,
§5, issue 13): a bid's variable costs may name them, priced at or below the qualified unit
price × units. Invitations made before keep none (their bids stay free text).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "invitations",
        sa.Column("additional_services", postgresql.JSONB(astext_type=sa.Text()),
                  nullable=False, server_default="[]",
                  comment="the qualified additional services at invitation (§4.4)"),
        schema="referral",
    )


def downgrade() -> None:
    op.drop_column("invitations", "additional_services", schema="referral")
