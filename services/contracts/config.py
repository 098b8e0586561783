"""The contracts service's settings (environment, ``DPS_`` prefix; RULES §7).

Read when the container starts (``Config(ContractsConfig)`` in ``service.py``), never at
import. The variables are those of the former ``ContractsSettings``:
``DPS_CONTRACTS_TIMER_SECONDS``, ``DPS_OCDS_OCID_PREFIX``, ``DPS_OCDS_DPS_OCID``,
``DPS_OCDS_PUBLISHER_NAME``, ``DPS_OCDS_BASE_URI``, ``DPS_BENCHMARK_SECRET``,
``DPS_COST_SHARE_RUNNING_COST``, ``DPS_COST_SHARE_SETUP_COST``,
``DPS_TRANSACTION_FEE_PERCENT``, ``DPS_PERFORMANCE_PERIOD_MONTHS`` and
``DPS_PUBLICATION_FREEZE_AFTER_HOURS``; ``DPS_AUTHORITIES`` comes from the common base.
§11.4 notices add ``DPS_OCDS_AUTHORITY_PPONS`` and ``DPS_NOTICES_DUE_WITHIN_DAYS``.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from services.common.config import Settings
from services.contracts.domain import DEFAULT_FEE_PERCENT
from services.contracts.domain.notices import NoticeConfig
from services.contracts.domain.publication import PublicationConfig


class ContractsConfig(Settings):
    """The common settings plus the contracts service's own."""

    # calls to qualification (uplift checks): a service that does not answer is a 503
    contracts_rpc_timeout_seconds: float = Field(5.0, gt=0)

    contracts_timer_seconds: float = Field(5.0, gt=0)
    # §7.5 publication: the publisher's registered OCDS prefix (with its separator)
    ocds_ocid_prefix: str = "ocds-dpsse1-"
    ocds_dps_ocid: str | None = None
    ocds_publisher_name: str = "West Sussex County Council"
    ocds_base_uri: str = "https://dps.example.gov.uk"
    # §7.6 anonymous labels: HMAC secret; default a random one stored in the database
    benchmark_secret: str | None = None
    # §7.7 cost sharing (business case Appendix A)
    cost_share_running_cost: Decimal = Decimal("40000.00")
    cost_share_setup_cost: Decimal = Decimal("0.00")
    transaction_fee_percent: Decimal = DEFAULT_FEE_PERCENT
    # §4.5 / §7.4 reporting period of the performance index, in months (divides 12)
    performance_period_months: int = 6
    # §7.5 a quarter is frozen this long after it ends (late award events still count)
    publication_freeze_after_hours: float = Field(24.0, ge=0)
    # §11.4 notices: the authorities' PPONs (Central Digital Platform) for OCDS parties,
    # e.g. DPS_OCDS_AUTHORITY_PPONS='{"WSCC": "PXXX-1234-ABCD"}'; the due list's horizon
    ocds_authority_ppons: dict[str, str] = {}
    notices_due_within_days: int = Field(7, ge=0, le=120)

    def notices(self) -> NoticeConfig:
        return NoticeConfig(
            ocid_prefix=self.ocds_ocid_prefix,
            authority_names=self.authorities,
            authority_ppons=self.ocds_authority_ppons,
        )

    def publication(self) -> PublicationConfig:
        prefix = self.ocds_ocid_prefix
        return PublicationConfig(
            ocid_prefix=prefix,
            dps_ocid=self.ocds_dps_ocid or f"{prefix}dps",
            publisher_name=self.ocds_publisher_name,
            base_uri=self.ocds_base_uri.rstrip("/"),
            authority_names=self.authorities,
        )
