"""Qualification: DPS settings, category configuration versions, establishments, contacts,
inspections, applications, memberships with their evidence, history, prices and
competency moves, and applied uplifts (RULES §2–§4, §7.2, §7.4).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = (
    "membership_milestones",
    "membership_evidence",
    "membership_costs",
    "competency_moves",
    "memberships",
    "inspections",
    "establishment_contacts",
    "applications",
    "uplifts",
    "establishments",
    "dps_settings",
    "category_configs",
)


def upgrade() -> None:
    op.create_table(
        "category_configs",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("code", "version"),
        schema="qualification",
    )
    op.create_table(
        "dps_settings",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("entry_open", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("valid_to >= valid_from", name="dps_settings_period"),
        sa.PrimaryKeyConstraint("version"),
        schema="qualification",
    )
    op.create_table(
        "establishments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("urn", sa.String(length=10), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="est_location"
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="qualification",
    )
    op.create_index(
        "ix_establishments_lat_lon",
        "establishments",
        ["lat", "lon"],
        unique=False,
        schema="qualification",
    )
    op.create_index(
        op.f("ix_qualification_establishments_provider_id"),
        "establishments",
        ["provider_id"],
        unique=False,
        schema="qualification",
    )
    op.create_table(
        "uplifts",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("cost_head", sa.String(length=64), nullable=False),
        sa.Column("percent", sa.Numeric(precision=7, scale=3), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("skipped", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="qualification",
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("establishment_id", sa.String(length=36), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("copied_from", sa.String(length=36), nullable=True),
        sa.Column("config_version", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("decision", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'admitted', 'rejected')", name="application_status"
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["qualification.establishments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="qualification",
    )
    op.create_index(
        "ix_applications_due",
        "applications",
        ["due_on"],
        unique=False,
        schema="qualification",
        postgresql_where=sa.text("status = 'submitted'"),
    )
    op.create_index(
        "ix_applications_provider",
        "applications",
        ["provider_id", "created_at"],
        unique=False,
        schema="qualification",
    )
    op.create_index(
        "uq_applications_open",
        "applications",
        ["establishment_id", "category"],
        unique=True,
        schema="qualification",
        postgresql_where=sa.text("status IN ('draft', 'submitted')"),
    )
    op.create_table(
        "establishment_contacts",
        sa.Column("establishment_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("sms_opt_in", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"], ["qualification.establishments.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("establishment_id", "seq"),
        schema="qualification",
    )
    op.create_table(
        "inspections",
        sa.Column("establishment_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.String(length=10), nullable=False),
        sa.Column("grade", sa.String(length=30), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"], ["qualification.establishments.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("establishment_id", "seq"),
        schema="qualification",
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("establishment_id", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=False),
        sa.Column("competency", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reverification_due_on", sa.Date(), nullable=False),
        sa.Column("reverification_flagged", sa.Date(), nullable=True),
        sa.Column("cohort_discounts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("additional_services", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reminded", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("next_check", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('admitted', 'suspended', 'removed')", name="membership_state"
        ),
        sa.CheckConstraint("competency BETWEEN 0 AND 100", name="membership_competency"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["qualification.applications.id"],
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["qualification.establishments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="qualification",
    )
    op.create_index(
        "ix_memberships_eligible",
        "memberships",
        ["category", "lat", "lon"],
        unique=False,
        schema="qualification",
        postgresql_where=sa.text("state = 'admitted'"),
    )
    op.create_index(
        "ix_memberships_next_check",
        "memberships",
        ["next_check"],
        unique=False,
        schema="qualification",
        postgresql_where=sa.text("state IN ('admitted', 'suspended')"),
    )
    op.create_index(
        op.f("ix_qualification_memberships_establishment_id"),
        "memberships",
        ["establishment_id"],
        unique=False,
        schema="qualification",
    )
    op.create_index(
        "uq_memberships_current",
        "memberships",
        ["establishment_id", "category"],
        unique=True,
        schema="qualification",
        postgresql_where=sa.text("state IN ('admitted', 'suspended')"),
    )
    op.create_table(
        "competency_moves",
        sa.Column("membership_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("performance_index", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("reviews_count", sa.Integer(), nullable=False),
        sa.Column("old", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("new", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["qualification.memberships.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("membership_id", "seq"),
        schema="qualification",
    )
    op.create_table(
        "membership_costs",
        sa.Column("membership_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head", sa.String(length=60), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("uplift_id", sa.String(length=100), nullable=True),
        sa.CheckConstraint("amount >= 0", name="membership_cost_amount"),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["qualification.memberships.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("membership_id", "seq"),
        schema="qualification",
    )
    op.create_table(
        "membership_evidence",
        sa.Column("membership_id", sa.String(length=36), nullable=False),
        sa.Column("criterion", sa.String(length=40), nullable=False),
        sa.Column("answer", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["qualification.memberships.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("membership_id", "criterion"),
        schema="qualification",
    )
    op.create_index(
        op.f("ix_qualification_membership_evidence_expires_on"),
        "membership_evidence",
        ["expires_on"],
        unique=False,
        schema="qualification",
    )
    op.create_table(
        "membership_milestones",
        sa.Column("membership_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=20), nullable=False),
        sa.Column("criterion", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("answer", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["qualification.memberships.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("membership_id", "seq"),
        schema="qualification",
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table, schema="qualification")
