"""The inputs of every evaluation as data (RULES §6.3, issue 15): the formula version,
weights and lowest compliant price on ``evaluations``, and one ``evaluation_inputs`` row per
bid. Evaluations recorded before keep null here (their inputs were not kept).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evaluations", sa.Column("formula_version", sa.String(length=20)),
                  schema="referral")
    op.add_column("evaluations", sa.Column("weights", postgresql.JSONB(astext_type=sa.Text())),
                  schema="referral")
    op.add_column("evaluations",
                  sa.Column("lowest_price", sa.Numeric(precision=12, scale=2)),
                  schema="referral")
    op.create_table(
        "evaluation_inputs",
        sa.Column("bid_id", sa.String(length=36), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("compliant", sa.Boolean(), nullable=False),
        sa.Column("weekly_price", sa.Numeric(precision=12, scale=2), nullable=False,
                  comment="after the cohort discount"),
        sa.Column("competency", sa.Numeric(), nullable=False, comment="at the deadline"),
        sa.Column("distance_miles", sa.Numeric(), nullable=False, comment="full precision"),
        sa.Column("outcome_scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment="each evaluator's, as strings"),
        sa.Column("needs_marks_met", sa.Integer(), nullable=False),
        sa.Column("needs_marks_total", sa.Integer(), nullable=False),
        sa.Column("desirable_marks_met", sa.Integer(), nullable=False),
        sa.Column("desirable_marks_total", sa.Integer(), nullable=False),
        sa.Column("final_submission_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bid_id"], ["referral.bids.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.evaluations.referral_id"]),
        sa.PrimaryKeyConstraint("bid_id"),
        schema="referral",
        comment="each bid's §6.3 inputs as applied at evaluation, never recomputed (issue 15)",
    )
    op.create_index("ix_referral_evaluation_inputs_referral_id", "evaluation_inputs",
                    ["referral_id"], unique=False, schema="referral")


def downgrade() -> None:
    op.drop_index("ix_referral_evaluation_inputs_referral_id", table_name="evaluation_inputs",
                  schema="referral")
    op.drop_table("evaluation_inputs", schema="referral")
    for column in ("lowest_price", "weights", "formula_version"):
        op.drop_column("evaluations", column, schema="referral")
