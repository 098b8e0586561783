"""Contracts tables (RULES §7): placements, variations and uplifts, block contracts,
reviews and performance reports, frozen publications, and the copies of other services'
facts (providers, memberships, referral records, declines) used for publication, block
contracts and benchmarking. The common tables come from 0001.

Revision ID: 0002
Revises: 0001
"""
import secrets

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('anonymisation_keys',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('name'),
    schema='contracts'
    )
    op.create_table('block_contracts',
    sa.Column('block_id', sa.String(length=100), nullable=False),
    sa.Column('authority', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('provider_name', sa.String(length=300), server_default='', nullable=False),
    sa.Column('establishment_id', sa.String(length=100), nullable=False),
    sa.Column('establishment_name', sa.String(length=300), server_default='', nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('weekly_price_per_place', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('block_id'),
    schema='contracts'
    )
    op.create_index(op.f('ix_contracts_block_contracts_authority'), 'block_contracts', ['authority'], unique=False, schema='contracts')
    op.create_table('declines',
    sa.Column('referral_id', sa.String(length=100), nullable=False),
    sa.Column('establishment_id', sa.String(length=100), nullable=False),
    sa.Column('authority', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('referral_id', 'establishment_id'),
    schema='contracts'
    )
    op.create_table('memberships',
    sa.Column('establishment_id', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('establishment_name', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('establishment_id', 'category'),
    schema='contracts'
    )
    op.create_table('performance_reports',
    sa.Column('establishment_id', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('performance_index', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('reviews_count', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('establishment_id', 'category', 'period_start'),
    schema='contracts'
    )
    op.create_table('providers',
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider_id'),
    schema='contracts'
    )
    op.create_table('publications',
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('awards_count', sa.Integer(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('quarter', 'format'),
    schema='contracts'
    )
    op.create_table('referral_records',
    sa.Column('referral_id', sa.String(length=100), nullable=False),
    sa.Column('authority', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('needs', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('bids_count', sa.Integer(), nullable=True),
    sa.Column('compliant_bids_count', sa.Integer(), nullable=True),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('referral_id'),
    schema='contracts'
    )
    op.create_index('ix_referral_records_category_published', 'referral_records', ['category', 'published_at'], unique=False, schema='contracts')
    op.create_table('uplifts',
    sa.Column('uplift_id', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('cost_head', sa.String(length=64), nullable=False),
    sa.Column('percent', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('placements_uplifted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('uplift_id'),
    sa.UniqueConstraint('category', 'cost_head', 'effective_from', name='uq_uplifts_category_head_date'),
    schema='contracts'
    )
    op.create_table('placements',
    sa.Column('placement_id', sa.String(length=100), nullable=False),
    sa.Column('source_key', sa.String(length=250), nullable=False),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('source_ref', sa.String(length=220), nullable=False),
    sa.Column('authority', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('provider_name', sa.String(length=300), server_default='', nullable=False),
    sa.Column('establishment_id', sa.String(length=100), nullable=False),
    sa.Column('establishment_name', sa.String(length=300), server_default='', nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('child_reference', sa.String(length=200), nullable=False),
    sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('price', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('awarded_weekly_price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('justification', sa.Text(), nullable=True),
    sa.Column('block_id', sa.String(length=100), nullable=True),
    sa.Column('bids_count', sa.Integer(), nullable=True),
    sa.Column('incentive', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('desired_outcomes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('monitored_components', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('review_interval_months', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=30), nullable=True),
    sa.Column('end_note', sa.Text(), nullable=True),
    sa.Column('next_review_due', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['contracts.block_contracts.block_id'], ),
    sa.PrimaryKeyConstraint('placement_id'),
    sa.UniqueConstraint('source_key'),
    schema='contracts'
    )
    op.create_index('ix_placements_agreed', 'placements', ['agreed_at', 'placement_id'], unique=False, schema='contracts')
    op.create_index('ix_placements_authority_agreed', 'placements', ['authority', 'agreed_at', 'placement_id'], unique=False, schema='contracts')
    op.create_index('ix_placements_block', 'placements', ['block_id'], unique=False, schema='contracts')
    op.create_index('ix_placements_category_agreed', 'placements', ['category', 'agreed_at'], unique=False, schema='contracts')
    op.create_index('ix_placements_provider_agreed', 'placements', ['provider_id', 'agreed_at', 'placement_id'], unique=False, schema='contracts')
    op.create_index('ix_placements_review_due', 'placements', ['status', 'next_review_due'], unique=False, schema='contracts')
    op.create_table('reviews',
    sa.Column('review_id', sa.String(length=100), nullable=False),
    sa.Column('placement_id', sa.String(length=100), nullable=False),
    sa.Column('authority', sa.String(length=64), nullable=False),
    sa.Column('establishment_id', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('scores', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('child_view', sa.Text(), nullable=True),
    sa.Column('parent_view', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['placement_id'], ['contracts.placements.placement_id'], ),
    sa.PrimaryKeyConstraint('review_id'),
    schema='contracts'
    )
    op.create_index(op.f('ix_contracts_reviews_placement_id'), 'reviews', ['placement_id'], unique=False, schema='contracts')
    op.create_index('ix_reviews_category_date', 'reviews', ['category', 'date'], unique=False, schema='contracts')
    op.create_index('ix_reviews_establishment_date', 'reviews', ['establishment_id', 'category', 'date'], unique=False, schema='contracts')
    op.create_index('ix_reviews_period', 'reviews', ['period_start'], unique=False, schema='contracts')
    op.create_table('variations',
    sa.Column('variation_id', sa.String(length=100), nullable=False),
    sa.Column('placement_id', sa.String(length=100), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uplift_id', sa.String(length=100), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['placement_id'], ['contracts.placements.placement_id'], ),
    sa.PrimaryKeyConstraint('variation_id'),
    sa.UniqueConstraint('placement_id', 'uplift_id', name='uq_variations_placement_uplift'),
    schema='contracts'
    )
    op.create_index(op.f('ix_contracts_variations_placement_id'), 'variations', ['placement_id'], unique=False, schema='contracts')
    # §10 anonymous benchmark labels: a random HMAC secret per installation
    op.execute(
        sa.text("INSERT INTO contracts.anonymisation_keys (name, secret) VALUES ('benchmarks', :s)")
        .bindparams(s=secrets.token_hex(32))
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_contracts_variations_placement_id'), table_name='variations', schema='contracts')
    op.drop_table('variations', schema='contracts')
    op.drop_index('ix_reviews_period', table_name='reviews', schema='contracts')
    op.drop_index('ix_reviews_establishment_date', table_name='reviews', schema='contracts')
    op.drop_index('ix_reviews_category_date', table_name='reviews', schema='contracts')
    op.drop_index(op.f('ix_contracts_reviews_placement_id'), table_name='reviews', schema='contracts')
    op.drop_table('reviews', schema='contracts')
    op.drop_index('ix_placements_review_due', table_name='placements', schema='contracts')
    op.drop_index('ix_placements_provider_agreed', table_name='placements', schema='contracts')
    op.drop_index('ix_placements_category_agreed', table_name='placements', schema='contracts')
    op.drop_index('ix_placements_block', table_name='placements', schema='contracts')
    op.drop_index('ix_placements_authority_agreed', table_name='placements', schema='contracts')
    op.drop_index('ix_placements_agreed', table_name='placements', schema='contracts')
    op.drop_table('placements', schema='contracts')
    op.drop_table('uplifts', schema='contracts')
    op.drop_index('ix_referral_records_category_published', table_name='referral_records', schema='contracts')
    op.drop_table('referral_records', schema='contracts')
    op.drop_table('publications', schema='contracts')
    op.drop_table('providers', schema='contracts')
    op.drop_table('performance_reports', schema='contracts')
    op.drop_table('memberships', schema='contracts')
    op.drop_table('declines', schema='contracts')
    op.drop_index(op.f('ix_contracts_block_contracts_authority'), table_name='block_contracts', schema='contracts')
    op.drop_table('block_contracts', schema='contracts')
    op.drop_table('anonymisation_keys', schema='contracts')
