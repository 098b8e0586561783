"""Scheduled closure of entry to the DPS (RULES §3, business case 7.19, issue 13): each
version of the DPS settings may carry ``closed_from`` and ``closed_until``; entry is closed
on the days in between and reopens by itself on ``closed_until``.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dps_settings", sa.Column("closed_from", sa.Date(),
                                            comment="scheduled closure of entry from (§3)"),
                  schema="qualification")
    op.add_column("dps_settings", sa.Column("closed_until", sa.Date(),
                                            comment="entry reopens by itself on (§3)"),
                  schema="qualification")
    op.create_check_constraint(
        "dps_settings_closure", "dps_settings",
        "(closed_from IS NULL) = (closed_until IS NULL) AND "
        "(closed_until IS NULL OR closed_until > closed_from)",
        schema="qualification",
    )


def downgrade() -> None:
    op.drop_constraint("dps_settings_closure", "dps_settings", schema="qualification")
    op.drop_column("dps_settings", "closed_until", schema="qualification")
    op.drop_column("dps_settings", "closed_from", schema="qualification")
