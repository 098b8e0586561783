"""Text messages the portal sends itself: sign-in codes and phone checks (RULES §12).

Like ``mail.py`` these are about the person's own account, so they go straight to GOV.UK
Notify with the official client and the notifications service's generic SMS template
(``((body))``), not through the event flow. They hold no child's data (§13), and neither the
number nor the code is logged.
"""

from __future__ import annotations

import re

from notifications_python_client import NotificationsAPIClient

from gateway.web.config import PortalConfig
from services.common.logging import get_logger

log = get_logger(__name__)
_UK_MOBILE = re.compile(r"(?:\+44|0044|44|0)(7\d{9})")


class SmsFailed(Exception):
    """Notify refused or could not be reached; the caller falls back to email."""


def within_limit(config: PortalConfig, user_id: str) -> bool:
    """Counts one text message to this user and says whether it is within
    ``portal_sms_rate_limit`` (5 an hour by default; RULES §12): the app's Flask-Limiter
    storage, keyed on the user id, so that nobody signed in (or half signed in) can run up
    texts to a number. Phone checks and sign-in codes share the count."""
    from limits import parse

    from gateway.app import limiter

    return limiter.limiter.hit(parse(config.portal_sms_rate_limit), "portal-sms", user_id)


def uk_mobile(text: str) -> str | None:
    """A UK mobile number in E.164 (``07700 900123`` → ``+447700900123``), or ``None``."""
    compact = re.sub(r"[\s().-]", "", text or "")
    match = _UK_MOBILE.fullmatch(compact)
    return f"+44{match[1]}" if match else None


def masked(phone: str | None) -> str:
    """Enough of a number for its owner to recognise it: ``07… …123``."""
    return f"07… …{phone[-3:]}" if phone else ""


def send(config: PortalConfig, to: str, body: str) -> None:
    client = NotificationsAPIClient(config.notify_api_key, base_url=config.notify_base_url,
                                    timeout=config.notify_timeout_seconds)
    try:
        client.send_sms_notification(to, config.notify_sms_template_id,
                                     personalisation={"body": body},
                                     sms_sender_id=config.notify_sms_sender_id)
    except Exception as exc:  # noqa: BLE001 - APIError and connection errors alike
        log.warning("portal sms failed", error=type(exc).__name__)
        raise SmsFailed(type(exc).__name__) from exc
    log.info("portal sms sent")
