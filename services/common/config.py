"""One configuration pattern for every process (pydantic-settings, prefix ``DPS_``).

- ``Settings`` is the common base: database, broker, logging, RPC, retries, clock, the
  partner authorities (RULES §1). Every variable is prefixed ``DPS_`` except the two URLs,
  which follow the usual names.
- Each service's ``config.py`` derives its own class from ``Settings`` (e.g.
  ``ContractsConfig``) and hands it to the service with ``Config(ContractsConfig)``, a
  nameko DependencyProvider that reads the environment when the container starts, never at
  import. Timers whose interval is a setting use ``timer_from`` (runtime.py).
- ``get_settings()`` is the cached common base for code outside a container (gateway, CLI,
  bootstrap, relay).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("qualification", "referral", "scoring", "contracts", "notifications")
# services that hold state and so keep an audit chain (RULES §9); scoring is stateless
AUDITED_SERVICES = ("qualification", "referral", "contracts", "notifications")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DPS_", extra="ignore")

    database_url: str = Field(
        "postgresql+psycopg://postgres@127.0.0.1:5432/dps",
        validation_alias="DATABASE_URL",
    )
    amqp_uri: str = Field("amqp://guest:guest@127.0.0.1:5672/", validation_alias="AMQP_URI")
    log_level: str = "INFO"
    # RPC
    rpc_timeout_seconds: float = 10.0
    health_timeout_seconds: float = 2.0
    rpc_pool_size: int = 8
    max_workers: int = 10
    # event handlers: delayed retry then dead-letter queue
    handler_max_attempts: int = 5
    handler_retry_base_seconds: float = 2.0
    # outbox relay
    relay_batch_size: int = 200
    relay_poll_seconds: float = 1.0
    relay_gather_seconds: float = Field(0.005, ge=0, le=1)
    # RULES §9: how often each service seals its newly written audit records into the chain
    audit_seal_seconds: float = Field(0.5, gt=0)
    # clock (tests shift time; production leaves it 0)
    clock_offset_seconds: float = 0.0
    # gateway
    gateway_port: int = 8000
    registration_rate_limit: str = "10 per minute"
    # GOV.UK Notify delivery receipts: the bearer token Notify sends (unset: refused)
    notify_callback_token: str | None = None
    # the partner authorities (RULES §1); associates join by adding to this JSON map
    authorities: dict[str, str] = {
        "BHCC": "Brighton & Hove City Council",
        "ESCC": "East Sussex County Council",
        "ECC": "Essex County Council",
        "KCC": "Kent County Council",
        "MED": "Medway Council",
        "SCC": "Surrey County Council",
        "WSCC": "West Sussex County Council",
    }
    lead_authority: str = "WSCC"
    # RULES §13 envelope encryption: {version: base64 32-byte key}; the development key is
    # public (services/common/crypto.py) and must be replaced in production
    master_keys: dict[str, str] = {"1": "ZHBzLWRldmVsb3BtZW50LW1hc3Rlci1rZXktMDAwMSE="}
    master_key_version: int = 1
    # §13: relayed outbox rows are deleted this many days after they were sent
    outbox_retention_days: int = Field(30, ge=1)
    outbox_purge_seconds: float = Field(3600.0, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()


def nameko_config(settings: Settings | None = None) -> dict:
    s = settings or get_settings()
    return {
        "AMQP_URI": s.amqp_uri,
        "max_workers": s.max_workers,
        "parent_calls_tracked": 10,
        "serializer": "json",
        "HEARTBEAT": 60,
    }
