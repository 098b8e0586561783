"""Settings of the referral service (prefix ``DPS_``), read when its container starts
(``Config(ReferralConfig)`` in ``service.py``), never at import."""

from __future__ import annotations

from pydantic import Field

from services.common.config import Settings


class ReferralConfig(Settings):
    # §5 deadline timer: how often published referrals past their deadline are closed
    referral_close_interval_seconds: float = 2.0
    # below the gateway's 10 s, so the caller gets this service's precise 503
    referral_rpc_timeout_seconds: float = 5.0
    # referrals closed per timer tick (one per transaction)
    referral_close_batch: int = 20
    # §13 retention: the child's personal data of a referral that ended without award is
    # erased this many months after it ended (per-authority overrides: {"KCC": 12})
    child_data_retention_months: int = Field(6, ge=1, le=240)
    child_data_retention_by_authority: dict[str, int] = {}
    retention_interval_seconds: float = 3600.0
    retention_batch: int = 50
