"""Several DPSs and dynamic markets, each with its regime (RULES §11.1, §11.2, issue 14).

- ``markets``: one row per DPS or dynamic market. The DPS that existed until now becomes
  ``dps-1``, regime ``PCR2015_DPS``, established on its ``valid_from``, the default market,
  its parts the five categories of §2 numbered 1–5.
- ``dps_settings`` becomes ``market_settings``: every version of a market's period and
  entry (§3), keyed by ``(dps_id, version)``; the existing versions are ``dps-1``'s.
- applications and memberships belong to a market (``dps_id``, existing ones ``dps-1``);
  one open application and one current membership per establishment, category and market.
- applications keep the lead's debarment-list and exclusion check (s.62, §11.2).
- providers record their PPON (scheme GB-PPON, §11.2).

Revision ID: 0008
Revises: 0007
"""
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

S = "qualification"
PARTS = [
    {"number": 1, "category": "SEN", "title": "Independent and non-maintained special schools"},
    {"number": 2, "category": "FOSTERCARE", "title": "Independent fostering agencies"},
    {"number": 3, "category": "RESIDENTIAL", "title": "Children's homes"},
    {"number": 4, "category": "ALT_EDUCATION", "title": "Alternative education"},
    {"number": 5, "category": "SUPPORTED_ACCOMMODATION", "title": "Supported accommodation (16+)"},
]


def upgrade() -> None:
    op.create_table(
        "markets",
        sa.Column("dps_id", sa.String(64), primary_key=True),
        sa.Column("regime", sa.String(30), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("parts", JSONB, nullable=False),
        sa.Column("fee_percent", sa.Numeric(6, 3)),
        sa.Column("lead_authority", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("established_on", sa.Date()),
        sa.Column("ended_on", sa.Date()),
        sa.Column("migrated_from", sa.String(64)),
        sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("warnings_sent", JSONB, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("regime IN ('PCR2015_DPS', 'PA2023_DYNAMIC_MARKET')",
                           name="market_regime"),
        sa.CheckConstraint("state IN ('planned', 'established', 'ended')", name="market_state"),
        schema=S,
    )
    op.create_index("uq_markets_default", "markets", ["is_default"], unique=True,
                    postgresql_where=sa.text("is_default"), schema=S)
    op.rename_table("dps_settings", "market_settings", schema=S)
    op.add_column("market_settings", sa.Column("dps_id", sa.String(64), nullable=False,
                                               server_default="dps-1"), schema=S)
    op.execute(f"ALTER TABLE {S}.market_settings DROP CONSTRAINT dps_settings_pkey")
    op.create_primary_key("market_settings_pkey", "market_settings", ["dps_id", "version"],
                          schema=S)
    op.alter_column("market_settings", "dps_id", server_default=None, schema=S)
    conn = op.get_bind()
    if conn.execute(sa.text(f"SELECT count(*) FROM {S}.market_settings")).scalar_one() == 0:
        conn.execute(sa.text(
            f"INSERT INTO {S}.market_settings (dps_id, version, valid_from, valid_to, entry_open,"
            " changed_at) VALUES ('dps-1', 1, DATE '2025-04-01', DATE '2035-03-31', true, now())"))
    conn.execute(sa.text(
        f"INSERT INTO {S}.markets (dps_id, regime, title, parts, lead_authority, state,"
        " established_on, is_default, created_at)"
        " SELECT 'dps-1', 'PCR2015_DPS', 'Children''s placements DPS', CAST(:parts AS jsonb),"
        " 'WSCC', 'established', valid_from, true, now()"
        f" FROM {S}.market_settings WHERE dps_id = 'dps-1' ORDER BY version DESC LIMIT 1"),
        {"parts": json.dumps(PARTS)})

    for table in ("applications", "memberships"):
        op.add_column(table, sa.Column("dps_id", sa.String(64), nullable=False,
                                       server_default="dps-1"), schema=S)
    op.add_column("applications", sa.Column("exclusion_check", JSONB), schema=S)
    op.drop_index("uq_applications_open", table_name="applications", schema=S)
    op.create_index("uq_applications_open", "applications",
                    ["establishment_id", "category", "dps_id"], unique=True,
                    postgresql_where=sa.text("status IN ('draft', 'submitted')"), schema=S)
    op.drop_index("uq_memberships_current", table_name="memberships", schema=S)
    op.create_index("uq_memberships_current", "memberships",
                    ["establishment_id", "category", "dps_id"], unique=True,
                    postgresql_where=sa.text("state IN ('admitted', 'suspended')"), schema=S)
    op.add_column("providers", sa.Column("ppon", sa.String(14)), schema=S)


def downgrade() -> None:
    op.drop_column("providers", "ppon", schema=S)
    op.drop_index("uq_memberships_current", table_name="memberships", schema=S)
    op.drop_index("uq_applications_open", table_name="applications", schema=S)
    op.execute(f"DELETE FROM {S}.memberships WHERE dps_id <> 'dps-1'")
    op.execute(f"DELETE FROM {S}.applications WHERE dps_id <> 'dps-1'")
    op.create_index("uq_applications_open", "applications", ["establishment_id", "category"],
                    unique=True, postgresql_where=sa.text("status IN ('draft', 'submitted')"),
                    schema=S)
    op.create_index("uq_memberships_current", "memberships", ["establishment_id", "category"],
                    unique=True, postgresql_where=sa.text("state IN ('admitted', 'suspended')"),
                    schema=S)
    op.drop_column("applications", "exclusion_check", schema=S)
    for table in ("applications", "memberships"):
        op.drop_column(table, "dps_id", schema=S)
    op.execute(f"DELETE FROM {S}.market_settings WHERE dps_id <> 'dps-1'")
    op.drop_constraint("market_settings_pkey", "market_settings", schema=S)
    op.drop_column("market_settings", "dps_id", schema=S)
    op.create_primary_key("dps_settings_pkey", "market_settings", ["version"], schema=S)
    op.rename_table("market_settings", "dps_settings", schema=S)
    op.drop_table("markets", schema=S)
