"""Persistence of the referral service (schema ``referral``): ``tables`` (declarations),
``codecs`` (row mapping, one pair per type), ``repository`` (``Store``, the queries)."""

from services.referral.store.codecs import referral_from_rows, rows_of
from services.referral.store.repository import Referrals, Store
from services.referral.store.tables import (
    ORDER,
    PARTS,
    TABLES,
    awards,
    bids,
    declines,
    direct_placements,
    evaluations,
    invitations,
    metadata,
    outcome_scores,
    parent_choices,
    questions,
    referrals,
)

__all__ = [
    "referral_from_rows",
    "rows_of",
    "Referrals",
    "Store",
    "ORDER",
    "PARTS",
    "TABLES",
    "awards",
    "bids",
    "declines",
    "direct_placements",
    "evaluations",
    "invitations",
    "metadata",
    "outcome_scores",
    "parent_choices",
    "questions",
    "referrals",
]
