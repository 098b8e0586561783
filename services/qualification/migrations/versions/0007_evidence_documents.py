"""Evidence documents for pass/fail criteria (issue 12, RULES §4): a provider uploads
files (insurance certificates, inspection reports, policies) for an application; checked
by type and size, kept with their SHA-256.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_documents",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("application_id", sa.String(length=36), nullable=False, index=True),
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("criterion", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        schema="qualification",
    )


def downgrade() -> None:
    op.drop_table("evidence_documents", schema="qualification")
