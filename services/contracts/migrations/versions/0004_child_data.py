"""The child reference of a placement sealed under a data key (RULES §13, issue 12):
``child_reference`` holds AES-GCM ciphertext, ``child_key_id`` names its key in the key
vault (``keys.data_keys``, created by the referral service's migration 0007). Rows written
before are sealed here under a new key each (the placement's id).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from services.common.crypto import KeyVault

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("placements", "child_reference", type_=sa.Text(), nullable=True,
                    schema="contracts")
    op.add_column("placements", sa.Column("child_key_id", sa.String(length=100)),
                  schema="contracts")
    session = sa.orm.Session(bind=op.get_bind())
    vault = KeyVault(session)
    for row in session.execute(sa.text(
        "SELECT placement_id, authority, child_reference, created_at FROM contracts.placements"
    )).mappings():
        key_id = row["placement_id"]
        vault.create(key_id, row["authority"], row["created_at"])
        session.execute(sa.text(
            "UPDATE contracts.placements SET child_reference = :sealed, child_key_id = :k "
            "WHERE placement_id = :k"
        ), {"k": key_id, "sealed": vault.seal(key_id, {"child_reference": row["child_reference"]})})
    session.flush()


def downgrade() -> None:
    raise NotImplementedError("sealed personal data is not put back in clear")
