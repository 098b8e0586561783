"""Common tables: outbox, processed events, audit log.

Revision ID: 0001
Revises:
"""
from alembic import op

from services.common.tables import create_common_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables(op, "scoring")


def downgrade() -> None:
    for table in ("audit_log", "processed_events", "outbox"):
        op.drop_table(table, schema="scoring")
