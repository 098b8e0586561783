"""Retention and legal hold of a direct placement's child data (RULES §13, issue 12): the
date its placement ended (contracts' ``placement_ended`` for the placement's key), from
which the retention timer counts, and the reason of a legal hold blocking erasure.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("direct_placements", sa.Column("placement_ended_on", sa.Date()),
                  schema="referral")
    op.add_column("direct_placements", sa.Column("legal_hold", sa.Text()), schema="referral")


def downgrade() -> None:
    for column in ("legal_hold", "placement_ended_on"):
        op.drop_column("direct_placements", column, schema="referral")
