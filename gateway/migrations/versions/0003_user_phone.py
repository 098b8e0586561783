"""Web portal (RULES §12): a user's verified mobile phone, for sign-in codes by SMS.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "gateway"


def upgrade() -> None:
    op.add_column("users", sa.Column("phone", sa.String(20)), schema=S)
    op.add_column("users", sa.Column("phone_verified_at", sa.DateTime(timezone=True)), schema=S)


def downgrade() -> None:
    op.drop_column("users", "phone_verified_at", schema=S)
    op.drop_column("users", "phone", schema=S)
