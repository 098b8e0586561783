"""Procurement Act 2023 notices and fees (RULES §11.2, §11.4, issue 14): ``notices`` holds
each notice's OCDS release, deadline and publication on Find a Tender; ``markets`` is the
copy of qualification's markets; placements record their market, regime, estimated value,
threshold, voluntary standstill and the day the contract was entered (s.53); providers
their PPON and Companies House number (§11.2). Existing rows stay valid: NULL regime is the
PCR 2015 DPS ``dps-1``.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "contracts"


def upgrade() -> None:
    for column in (
        sa.Column("dps_id", sa.String(100)),
        sa.Column("regime", sa.String(30)),
        sa.Column("estimated_value", sa.Numeric(16, 2)),
        sa.Column("above_threshold", sa.Boolean()),
        sa.Column("standstill_ends_on", sa.Date()),
        sa.Column("entered_on", sa.Date()),
    ):
        op.add_column("placements", column, schema=S)
    # s.53: an award's or direct placement's agreement is entered when its price is agreed:
    # rows written before record that day
    op.execute("UPDATE contracts.placements SET entered_on = (agreed_at AT TIME ZONE 'UTC')::date"
               " WHERE entered_on IS NULL AND source <> 'block_place'")
    op.add_column("providers", sa.Column("ppon", sa.String(50)), schema=S)
    op.add_column("providers", sa.Column("companies_house_number", sa.String(20)), schema=S)
    op.create_table(
        "markets",
        sa.Column("dps_id", sa.String(100), primary_key=True),
        sa.Column("regime", sa.String(30), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("parts", JSONB, nullable=False),
        sa.Column("valid_from", sa.Date()),
        sa.Column("valid_to", sa.Date()),
        sa.Column("fee_percent", sa.Numeric(7, 4)),
        sa.Column("lead_authority", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ended_on", sa.Date()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.String(250), primary_key=True),
        sa.Column("notice_type", sa.String(10), nullable=False),
        sa.Column("ocid", sa.String(250), nullable=False),
        sa.Column("dps_id", sa.String(100)),
        sa.Column("authority", sa.String(64)),
        sa.Column("release", JSONB, nullable=False),
        sa.Column("due_by", sa.Date()),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("fts_notice_id", sa.String(50)),
        sa.Column("published_by", JSONB),
        sa.Column("source_event_id", sa.String(100)),
        schema=S,
    )
    op.create_index("ix_notices_type_raised", "notices", ["notice_type", "raised_at"], schema=S)
    op.create_index("ix_notices_raised", "notices", ["raised_at", "notice_id"], schema=S)
    op.create_index("ix_notices_due", "notices", ["published_at", "due_by"], schema=S)


def downgrade() -> None:
    op.drop_table("notices", schema=S)
    op.drop_table("markets", schema=S)
    op.drop_column("providers", "companies_house_number", schema=S)
    op.drop_column("providers", "ppon", schema=S)
    for name in ("entered_on", "standstill_ends_on", "above_threshold", "estimated_value",
                 "regime", "dps_id"):
        op.drop_column("placements", name, schema=S)
