"""Persistence of the contracts service: ``tables`` (declarations), ``codecs`` (row mapping),
``repository.Store`` (the queries). The tables are re-exported for migrations, tests and the
bench (``store.placements``, ``store.metadata``, ``store.TABLES``…)."""

from services.contracts.store.repository import Store
from services.contracts.store.tables import (
    TABLES,
    anonymisation_keys,
    block_contracts,
    declines,
    markets,
    memberships,
    metadata,
    notices,
    performance_reports,
    placements,
    providers,
    publications,
    referral_records,
    reviews,
    uplifts,
    variations,
)

__all__ = [
    "TABLES",
    "Store",
    "anonymisation_keys",
    "block_contracts",
    "declines",
    "markets",
    "memberships",
    "metadata",
    "notices",
    "performance_reports",
    "placements",
    "providers",
    "publications",
    "referral_records",
    "reviews",
    "uplifts",
    "variations",
]
