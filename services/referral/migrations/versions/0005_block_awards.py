"""A referral awarded to a block place (RULES §7.3, issue 13): ``awards.bid_id`` becomes
optional and ``awards.block_id`` names the block contract instead; exactly one is set.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("awards", "bid_id", existing_type=sa.String(length=36), nullable=True,
                    schema="referral")
    op.add_column("awards", sa.Column("block_id", sa.String(length=36),
                                      comment="placed into a free place of this block (§7.3)"),
                  schema="referral")
    op.create_check_constraint("ck_awards_bid_or_block", "awards",
                               "(bid_id IS NULL) <> (block_id IS NULL)", schema="referral")


def downgrade() -> None:
    op.drop_constraint("ck_awards_bid_or_block", "awards", schema="referral")
    op.drop_column("awards", "block_id", schema="referral")
    op.alter_column("awards", "bid_id", existing_type=sa.String(length=36), nullable=False,
                    schema="referral")
