"""Call-offs under a market's regime (RULES §11.1, §11.3, §11.4, issue 14): each referral
and direct placement records the market (``dps_id``) and regime it started under, which it
keeps, with its estimated value, whether it is above the light touch threshold, the
below-threshold rules followed, the voluntary standstill and (direct placements) the user
choice of Schedule 5 paras 15–17. Existing referrals were started under ``dps-1``.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("referrals", "direct_placements"):
        op.add_column(table, sa.Column("procurement", JSONB), schema="referral")
    op.execute("UPDATE referral.referrals SET procurement = "
               "'{\"dps_id\": \"dps-1\", \"regime\": \"PCR2015_DPS\"}'::jsonb")
    op.execute("UPDATE referral.direct_placements SET procurement = "
               "'{\"dps_id\": \"dps-1\", \"regime\": \"PCR2015_DPS\"}'::jsonb")


def downgrade() -> None:
    for table in ("referrals", "direct_placements"):
        op.drop_column(table, "procurement", schema="referral")
