"""Children's personal data encrypted per referral (RULES §13, issue 12): the key vault
``keys.data_keys`` (wrapped data keys, read only through services/common/crypto.py), the
sealed ``child_data`` and blind index ``child_index`` on referrals, legal holds and the
erased marker, referral attachments (sealed); direct placements keep their child reference sealed. Rows written before are
sealed here under a new key each, and their clear copies removed.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from services.common.crypto import KeyVault, blind_index

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PERSONAL = ("child_reference", "address", "home_location")
PERSONAL_CHILD = ("name", "date_of_birth")


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS keys")
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(length=100), primary_key=True),
        sa.Column("authority", sa.String(length=20), nullable=False),
        sa.Column("master_version", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema="keys",
    )
    for name, column in (
        ("child_data", sa.Column("child_data", sa.Text())),
        ("child_index", sa.Column("child_index", sa.String(length=64))),
        ("personal_data", sa.Column("personal_data", sa.String(length=10),
                                    nullable=False, server_default="held")),
        ("legal_hold", sa.Column("legal_hold", sa.Text())),
        ("placement_ended_on", sa.Column("placement_ended_on", sa.Date())),
    ):
        op.add_column("referrals", column, schema="referral")
    op.create_index("ix_referrals_child_index", "referrals", ["child_index"], schema="referral")
    op.add_column("direct_placements", sa.Column("child_data", sa.Text()), schema="referral")
    op.add_column("direct_placements", sa.Column("child_index", sa.String(length=64)),
                  schema="referral")
    op.create_index("ix_referral_direct_placements_child_index", "direct_placements",
                    ["child_index"], schema="referral")
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("referral_id", sa.String(length=36), sa.ForeignKey("referral.referrals.id"),
                  nullable=False, index=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text()),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        schema="referral",
    )
    _seal_existing()
    op.drop_column("direct_placements", "child_reference", schema="referral")


def _seal_existing() -> None:
    import json

    session = sa.orm.Session(bind=op.get_bind())
    vault = KeyVault(session)
    for row in session.execute(sa.text(
        "SELECT id, authority, spec, created_at FROM referral.referrals"
    )).mappings():
        spec = dict(row["spec"])
        personal = {k: spec.pop(k, None) for k in PERSONAL}
        personal["children"] = [{k: c.pop(k, None) for k in PERSONAL_CHILD}
                                for c in spec["children"]]
        vault.create(row["id"], row["authority"], row["created_at"])
        session.execute(sa.text(
            "UPDATE referral.referrals SET spec = CAST(:spec AS jsonb), child_data = :sealed, "
            "child_index = :ix WHERE id = :id"
        ), {"spec": json.dumps(spec), "sealed": vault.seal(row["id"], personal), "id": row["id"],
            "ix": blind_index(vault.master, row["authority"], personal["child_reference"])})
    for row in session.execute(sa.text(
        "SELECT placement_id, authority, child_reference, recorded_at "
        "FROM referral.direct_placements"
    )).mappings():
        vault.create(row["placement_id"], row["authority"], row["recorded_at"])
        session.execute(sa.text(
            "UPDATE referral.direct_placements SET child_data = :sealed, child_index = :ix "
            "WHERE placement_id = :id"
        ), {"id": row["placement_id"],
            "ix": blind_index(vault.master, row["authority"], row["child_reference"]),
            "sealed": vault.seal(row["placement_id"], {"child_reference": row["child_reference"]})})
    session.flush()


def downgrade() -> None:
    raise NotImplementedError("sealed personal data is not put back in clear")
