"""The contracts repository: ``Store(session)``, every query of the service (RULES §7).

Handlers reach persistence only through ``uow.store`` (``Database(metadata, store=Store)``
builds one per unit of work). Its methods are grouped by concept in ``placements``
(placements, variations, uplifts, block contracts), ``reporting`` (reviews, performance
reports, publications), ``copies`` (other services' facts and the anonymisation secret)
and ``notices`` (§11.4 notices, markets and providers' identifiers).
"""

from __future__ import annotations

from services.contracts.store.copies import CopyRows
from services.contracts.store.notices import NoticeRows
from services.contracts.store.reporting import ReportingRows


class Store(ReportingRows, CopyRows, NoticeRows):
    """All queries of the contracts schema, bound to one session."""
