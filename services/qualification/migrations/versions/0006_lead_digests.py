"""The lead's daily digest (RULES §8, issue 13): one row per London day it went, so that
several instances send it once.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_digests",
        sa.Column("day", sa.Date(), nullable=False, comment="London date of the digest"),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
        schema="qualification",
    )


def downgrade() -> None:
    op.drop_table("lead_digests", schema="qualification")
