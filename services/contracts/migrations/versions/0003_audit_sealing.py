"""Audit records written unsealed and sealed into the chain after commit (RULES §9,
issue 10).

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from services.common.tables import seal_audit_in_place

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seal_audit_in_place(op, "contracts")


def downgrade() -> None:
    raise NotImplementedError("the sealed audit chain is not reverted")
