"""Configuration of the notifications service (RULES §8): ``NotificationsConfig``, the
common ``Settings`` plus this service's own ``DPS_`` variables, read when the container
starts (``Config(NotificationsConfig)``, ``timer_from``), never at import.

The defaults suit ``make run`` on one machine: email goes to the local SMTP sink
(``infra/smtp_sink.py``, 127.0.0.1:8025, no TLS, no login) and GOV.UK Notify calls go to
the sink's Notify stand-in (``http://127.0.0.1:8026``). A real deployment sets at least
``DPS_SMTP_HOST``/``DPS_SMTP_PORT``/``DPS_SMTP_SECURITY``/``DPS_SMTP_USERNAME``/
``DPS_SMTP_PASSWORD``/``DPS_SMTP_FROM``, ``DPS_NOTIFY_API_KEY``, ``DPS_NOTIFY_BASE_URL``
(``https://api.notifications.service.gov.uk``), the two Notify template ids,
``DPS_COMMISSIONER_EMAILS`` and ``DPS_PUBLIC_BASE_URL``.

Variables (all optional):

=========================================  ==============================================
``DPS_SMTP_HOST`` / ``_PORT``               relay (default ``127.0.0.1`` / ``8025``)
``DPS_SMTP_SECURITY``                       ``none`` | ``starttls`` | ``ssl`` (``none``)
``DPS_SMTP_USERNAME`` / ``_PASSWORD``       AUTH credentials (none)
``DPS_SMTP_FROM``                           From header
``DPS_SMTP_TIMEOUT_SECONDS``                per connection (10)
``DPS_SMTP_CA_FILE``                        extra CA to trust for TLS
``DPS_NOTIFY_API_KEY``                      Notify key ``<name>-<service id>-<secret>``
``DPS_NOTIFY_BASE_URL``                     Notify API (``http://127.0.0.1:8026``)
``DPS_NOTIFY_EMAIL_TEMPLATE_ID``            generic email template ``((subject))``/``((body))``
``DPS_NOTIFY_SMS_TEMPLATE_ID``              generic SMS template ``((body))``
``DPS_NOTIFY_TIMEOUT_SECONDS``              per request (10)
``DPS_NOTIFICATION_CHANNELS``               JSON, ``domain.ChannelConfig`` (email by SMTP,
                                            SMS by Notify)
``DPS_COMMISSIONER_EMAILS``                 JSON ``{"KCC": "a@kent.example", …}``; a value
                                            may be a list of addresses
``DPS_PUBLIC_BASE_URL``                     links in messages (the local gateway,
                                            ``http://127.0.0.1:$DPS_GATEWAY_PORT``)
``DPS_NOTIFICATION_RATE_LIMIT``             sends per minute, per gateway, shared by every
                                            instance (3000, GOV.UK Notify's limit)
``DPS_NOTIFICATION_RETRY_BASE_SECONDS``     first backoff (30), doubling, capped by
``DPS_NOTIFICATION_RETRY_CAP_SECONDS``      (3600), up to
``DPS_NOTIFICATION_MAX_ATTEMPTS``           (10), then a permanent failure
``DPS_NOTIFICATION_LEASE_SECONDS``          an attempt without outcome is retried after (300)
``DPS_NOTIFICATION_SEND_CONCURRENCY``       parallel sends per instance (10)
``DPS_NOTIFICATION_SEND_INTERVAL_SECONDS``  sender timer (0.5)
``DPS_NOTIFICATION_REMINDER_INTERVAL_SECONDS``  reminder timer (30)
``DPS_NOTIFY_CALLBACK_TOKEN``               bearer token of delivery receipts (gateway)
=========================================  ==============================================
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from services.common.config import Settings
from services.common.errors import InvalidInput
from services.notifications.channels import NotifySettings, SmtpSettings
from services.notifications.domain import ChannelConfig, RateLimit, RetryPolicy
from services.notifications.messages import normalise_email

# Demo addresses of the partner authorities' placement teams (RULES §1). Associates that
# join later (business case 11.7) are added through DPS_COMMISSIONER_EMAILS.
DEFAULT_COMMISSIONER_EMAILS: dict[str, list[str]] = {
    "BHCC": ["placements@brighton-hove.example"],
    "ESCC": ["placements@eastsussex.example"],
    "ECC": ["placements@essex.example"],
    "KCC": ["placements@kent.example"],
    "MED": ["placements@medway.example"],
    "SCC": ["placements@surreycc.example"],
    "WSCC": ["placements@westsussex.example"],
}

# A key in Notify's format for the local stand-in of `make run` (infra/smtp_sink.py).
DEV_NOTIFY_API_KEY = (
    "dps_dev-00000000-0000-4000-8000-000000000000-00000000-0000-4000-8000-000000000001"
)


class NotificationsConfig(Settings):
    """A bad setting raises when the config is read: the service refuses to start."""

    # §13: a delivery's rendered bodies are dropped this many days after its final state
    delivery_body_retention_days: int = Field(30, ge=1)
    delivery_body_purge_seconds: float = Field(3600.0, gt=0)

    # SMTP relay (RULES §8 email)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "DPS notifications <no-reply@dps.localhost>"
    smtp_timeout_seconds: float = 10.0
    smtp_ca_file: str | None = None
    # GOV.UK Notify (RULES §8 SMS, and email where configured)
    notify_api_key: str = DEV_NOTIFY_API_KEY
    notify_base_url: str = "http://127.0.0.1:8026"
    notify_email_template_id: str = "00000000-0000-4000-8000-0000000000e1"
    notify_sms_template_id: str = "00000000-0000-4000-8000-0000000000a1"
    notify_timeout_seconds: float = 10.0
    notify_email_reply_to_id: str | None = None
    notify_sms_sender_id: str | None = None
    # routing and recipients
    notification_channels: str | None = None
    commissioner_emails: str | None = None
    lead_email: str | None = "dps.lead@westsussex.example"  # the lead's digest (RULES §8)
    public_base_url: str | None = None  # default: the local gateway on DPS_GATEWAY_PORT
    # delivery
    notification_rate_limit: int = Field(3000, ge=61)
    notification_retry_base_seconds: float = Field(30.0, gt=0)
    notification_retry_cap_seconds: float = Field(3600.0, gt=0)
    notification_max_attempts: int = Field(10, ge=1)
    # a claimed delivery's lease; a live sender renews its leases every renew interval, so
    # a dead one's deliveries are sent again within a lease (issue 10)
    notification_lease_seconds: float = Field(30.0, gt=0)
    notification_lease_renew_seconds: float = Field(10.0, gt=0)
    notification_send_concurrency: int = Field(10, ge=1, le=100)
    notification_send_batch: int = Field(500, ge=1)
    notification_send_interval_seconds: float = Field(0.5, gt=0)
    notification_reminder_interval_seconds: float = Field(30.0, gt=0)

    _channels: ChannelConfig = PrivateAttr()
    _commissioners: dict[str, list[str]] = PrivateAttr()

    @field_validator(
        "smtp_username",
        "smtp_password",
        "smtp_ca_file",
        "notify_email_reply_to_id",
        "notify_sms_sender_id",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _derive(self):
        """Parse the JSON settings now, so that a mistake stops the service at start-up."""
        if self.public_base_url is None:
            self.public_base_url = f"http://127.0.0.1:{self.gateway_port}"
        self._channels = ChannelConfig.parse(self.notification_channels)
        self._commissioners = parse_commissioner_emails(self.commissioner_emails)
        if self.notification_lease_renew_seconds * 2 > self.notification_lease_seconds:
            raise ValueError("DPS_NOTIFICATION_LEASE_RENEW_SECONDS must be at most half of "
                             "DPS_NOTIFICATION_LEASE_SECONDS, or a live sender's leases expire")
        return self

    # -- derived ---------------------------------------------------------------------
    def smtp(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=self.smtp_password,
            timeout=self.smtp_timeout_seconds,
            from_address=self.smtp_from,
            ca_file=self.smtp_ca_file,
        )

    def notify(self) -> NotifySettings:
        return NotifySettings(
            api_key=self.notify_api_key,
            email_template_id=self.notify_email_template_id,
            sms_template_id=self.notify_sms_template_id,
            base_url=self.notify_base_url,
            timeout=self.notify_timeout_seconds,
            email_reply_to_id=self.notify_email_reply_to_id,
            sms_sender_id=self.notify_sms_sender_id,
        )

    def channels(self) -> ChannelConfig:
        return self._channels

    def commissioners(self) -> dict[str, list[str]]:
        return self._commissioners

    def rate(self) -> RateLimit:
        return RateLimit(limit=self.notification_rate_limit)

    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            base=timedelta(seconds=self.notification_retry_base_seconds),
            cap=timedelta(
                seconds=max(
                    self.notification_retry_cap_seconds, self.notification_retry_base_seconds
                )
            ),
            max_attempts=self.notification_max_attempts,
            lease=timedelta(seconds=self.notification_lease_seconds),
        )


def parse_commissioner_emails(raw: str | None) -> dict[str, list[str]]:
    """``DPS_COMMISSIONER_EMAILS``: JSON object, authority code → address or addresses.

    Given, it replaces the demo defaults entirely, so that a deployment never mails a demo
    address. A mistake raises ``InvalidInput`` naming it (the service refuses to start).
    """
    if raw is None or not raw.strip():
        return {k: list(v) for k, v in DEFAULT_COMMISSIONER_EMAILS.items()}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidInput.at("commissioner_emails", f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput.at("commissioner_emails", "must be an object")
    result: dict[str, list[str]] = {}
    for authority, value in data.items():
        addresses = [value] if isinstance(value, str) else value
        if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
            raise InvalidInput.at(
                ["commissioner_emails", authority], "an address or a list of addresses"
            )
        try:
            result[authority] = [normalise_email(a) for a in addresses]
        except ValueError as exc:
            raise InvalidInput.at(["commissioner_emails", authority], str(exc)) from exc
    return result
