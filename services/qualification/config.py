"""Settings of the qualification service (prefix ``DPS_``), read when its container starts."""

from __future__ import annotations

from pydantic import Field

from services.common.config import Settings


class QualificationConfig(Settings):
    # the evidence timer (RULES §4.5, DESIGN rule 4): how often it runs, and at most how
    # many establishments one pass handles (one transaction each)
    qualification_timer_seconds: float = 10.0
    qualification_timer_batch: int = 500
    # the lead's daily digest (RULES §8): sent once a day from this hour (UTC)
    lead_digest_hour_utc: int = Field(7, ge=0, le=23)
