"""Referrals, invitations with snapshots, bids, outcome scores, questions, declines,
evaluations, parents' choices, awards and direct placements (RULES §5, §6).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('direct_placements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('placement_id', sa.String(length=36), nullable=False),
    sa.Column('authority', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('establishment_id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('weekly_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('child_reference', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('placement_id'),
    schema='referral'
    )
    op.create_index('ix_direct_placements_authority', 'direct_placements', ['authority', 'recorded_at'], unique=False, schema='referral')
    op.create_table('referrals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('authority', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('spec', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='full record incl. child data (§5)'),
    sa.Column('weights', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('min_invited', sa.Integer(), nullable=False),
    sa.Column('radius_miles', sa.Float(), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    schema='referral'
    )
    op.create_index('ix_referrals_authority_created', 'referrals', ['authority', 'created_at', 'id'], unique=False, schema='referral')
    op.create_index('ix_referrals_due', 'referrals', ['deadline'], unique=False, schema='referral', postgresql_where=sa.text("status = 'published'"))
    op.create_table('evaluations',
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('ranking', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('shortlist', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.referrals.id'], ),
    sa.PrimaryKeyConstraint('referral_id'),
    schema='referral'
    )
    op.create_table('invitations',
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('establishment_id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('distance_miles', sa.Numeric(), nullable=False),
    sa.Column('competency', sa.Numeric(), nullable=False),
    sa.Column('core_costs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('cohort_discounts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('contacts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('suspended_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.referrals.id'], ),
    sa.PrimaryKeyConstraint('referral_id', 'establishment_id'),
    schema='referral'
    )
    op.create_index('ix_invitations_establishment', 'invitations', ['establishment_id'], unique=False, schema='referral')
    op.create_index('ix_invitations_provider', 'invitations', ['provider_id', 'referral_id'], unique=False, schema='referral')
    op.create_table('bids',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('establishment_id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('terms', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('price', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('weekly_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.Column('standing_admitted', sa.Boolean(), nullable=True),
    sa.Column('standing_competency', sa.Numeric(), nullable=True),
    sa.ForeignKeyConstraint(['referral_id', 'establishment_id'], ['referral.invitations.referral_id', 'referral.invitations.establishment_id'], ),
    sa.PrimaryKeyConstraint('id'),
    schema='referral'
    )
    op.create_index('ix_bids_referral', 'bids', ['referral_id'], unique=False, schema='referral')
    op.create_index('uq_bids_one_live', 'bids', ['referral_id', 'establishment_id'], unique=True, schema='referral', postgresql_where=sa.text("status = 'submitted'"))
    op.create_table('declines',
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('establishment_id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id', 'establishment_id'], ['referral.invitations.referral_id', 'referral.invitations.establishment_id'], ),
    sa.PrimaryKeyConstraint('referral_id', 'establishment_id'),
    schema='referral'
    )
    op.create_table('questions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('establishment_id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('published_text', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['referral_id', 'establishment_id'], ['referral.invitations.referral_id', 'referral.invitations.establishment_id'], ),
    sa.PrimaryKeyConstraint('id'),
    schema='referral'
    )
    op.create_index(op.f('ix_referral_questions_referral_id'), 'questions', ['referral_id'], unique=False, schema='referral')
    op.create_table('awards',
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('bid_id', sa.String(length=36), nullable=False),
    sa.Column('placement_id', sa.String(length=36), nullable=False),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['referral.bids.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.referrals.id'], ),
    sa.PrimaryKeyConstraint('referral_id'),
    sa.UniqueConstraint('bid_id'),
    sa.UniqueConstraint('placement_id'),
    schema='referral'
    )
    op.create_table('outcome_scores',
    sa.Column('bid_id', sa.String(length=36), nullable=False),
    sa.Column('evaluator', sa.String(length=200), nullable=False),
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['referral.bids.id'], ),
    sa.PrimaryKeyConstraint('bid_id', 'evaluator'),
    schema='referral'
    )
    op.create_index(op.f('ix_referral_outcome_scores_referral_id'), 'outcome_scores', ['referral_id'], unique=False, schema='referral')
    op.create_table('parent_choices',
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('bid_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['bid_id'], ['referral.bids.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.referrals.id'], ),
    sa.PrimaryKeyConstraint('referral_id'),
    schema='referral'
    )




def downgrade() -> None:
    op.drop_table("parent_choices", schema="referral")
    op.drop_table("awards", schema="referral")
    op.drop_table("evaluations", schema="referral")
    op.drop_table("declines", schema="referral")
    op.drop_table("questions", schema="referral")
    op.drop_table("outcome_scores", schema="referral")
    op.drop_table("bids", schema="referral")
    op.drop_table("invitations", schema="referral")
    op.drop_table("referrals", schema="referral")
    op.drop_table("direct_placements", schema="referral")
