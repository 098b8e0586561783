"""Persistence of the qualification service (schema ``qualification``).

``tables`` (declarations and the rules the database guards), ``codecs`` (rows and JSON
columns to and from domain values), the repositories ``establishments`` and
``applications``, the queries ``configs`` (§2, §3), ``eligibility`` (§5, §6.2) and
``uplifts`` (§7.2), and ``repository.Store``, what handlers see as ``uow.store``.
"""

from services.qualification.store.codecs import config_to_row, content_to_row, decision_to_row
from services.qualification.store.eligibility import eligible_establishments, standings
from services.qualification.store.repository import Store
from services.qualification.store.tables import TABLES, metadata

__all__ = [
    "TABLES",
    "Store",
    "config_to_row",
    "content_to_row",
    "decision_to_row",
    "eligible_establishments",
    "metadata",
    "standings",
]
