"""Audit records written unsealed and sealed into the chain after commit (RULES §9,
issue 10). Scoring writes none, but its schema has the common tables.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

from services.common.tables import seal_audit_in_place

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seal_audit_in_place(op, "scoring")


def downgrade() -> None:
    raise NotImplementedError("the sealed audit chain is not reverted")
