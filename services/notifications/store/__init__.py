"""Persistence of the notifications service (schema ``notifications``, RULES §8):
``tables`` (the Table declarations), ``codecs`` (rows ↔ domain objects, one pair per
type) and ``repository`` (``Store``, the queries, bound to a unit of work's session).

The tables are re-exported for tests, benchmarks and migrations (``store.deliveries``).
"""

from services.notifications.store.repository import Store
from services.notifications.store.tables import (
    TABLES,
    deliveries,
    establishments,
    invitations,
    metadata,
    providers,
    rate_windows,
    referrals,
)

__all__ = [
    "TABLES",
    "Store",
    "deliveries",
    "establishments",
    "invitations",
    "metadata",
    "providers",
    "rate_windows",
    "referrals",
]
