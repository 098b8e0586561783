"""The portal's settings (RULES §12), read from the environment like every other setting.

Mail for sign-in codes, invitations and password resets goes through the same SMTP relay
the notifications service uses (``DPS_SMTP_*``: the local sink in ``make run``); sign-in
codes by SMS through the same GOV.UK Notify account and generic SMS template
(``DPS_NOTIFY_API_KEY``, ``DPS_NOTIFY_BASE_URL``, ``DPS_NOTIFY_SMS_TEMPLATE_ID``).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field

from services.common.config import Settings

ROOT = Path(__file__).resolve().parents[2]


class PortalConfig(Settings):
    # §12 session timeouts
    portal_idle_timeout_seconds: int = Field(30 * 60, ge=1)
    portal_absolute_timeout_seconds: int = Field(12 * 3600, ge=1)
    portal_lockout_failures: int = Field(5, ge=1)
    portal_lockout_seconds: int = Field(15 * 60, ge=1)
    portal_code_seconds: int = Field(10 * 60, ge=60)
    # text messages sent to one user (phone checks and sign-in codes), Flask-Limiter syntax
    portal_sms_rate_limit: str = "5 per hour"
    portal_invitation_seconds: int = Field(7 * 24 * 3600, ge=60)
    portal_reset_seconds: int = Field(3600, ge=60)
    # signs CSRF tokens; every gateway instance needs the same one (default: a file in var/)
    portal_secret_key: str | None = None
    # proxies in front of the gateway that set X-Forwarded-Proto/For (behind HTTPS: 1)
    portal_trusted_proxies: int = Field(0, ge=0, le=5)
    public_base_url: str | None = None
    # SMTP (the same variables as the notifications service)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "DPS notifications <no-reply@dps.localhost>"
    smtp_timeout_seconds: float = 10.0
    # GOV.UK Notify for sign-in codes by SMS (the same variables as the notifications
    # service; the default key is the local stand-in's of `make run`, infra/smtp_sink.py)
    notify_api_key: str = (
        "dps_dev-00000000-0000-4000-8000-000000000000-00000000-0000-4000-8000-000000000001")
    notify_base_url: str = "http://127.0.0.1:8026"
    notify_sms_template_id: str = "00000000-0000-4000-8000-0000000000a1"
    notify_sms_sender_id: str | None = None
    notify_timeout_seconds: float = 10.0

    def base_url(self) -> str:
        return (self.public_base_url or f"http://127.0.0.1:{self.gateway_port}").rstrip("/")

    def secret_key(self) -> str:
        if self.portal_secret_key:
            return self.portal_secret_key
        path = ROOT / "var" / "portal-secret-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
