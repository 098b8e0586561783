"""Email and SMS through GOV.UK Notify (RULES §8), with the official client.

Notify sends only from templates held in Notify, so we keep one generic template per
channel there and send our own rendered text as its personalisation:

- email template: subject ``((subject))``, body ``((body))``; we send
  ``{"subject": rendered.subject, "body": rendered.text}`` (Notify makes its own HTML from
  the plain text, so ``rendered.html`` is not used);
- SMS template: body ``((body))``; we send ``{"body": rendered.sms}``.

Their ids are ``NotifySettings.email_template_id`` and ``sms_template_id``. We pass our
delivery id as Notify's ``reference``; Notify returns it in its delivery receipts
(``messages.NotifyCallback``) along with its own notification id, which ``send`` returns.

Errors (Notify's documented status codes): 400 (bad request, e.g. an invalid number or a
team-only key) and 403 (authentication) are permanent; 429 (rate or daily limit), 5xx and
connection failures (which the client reports as 503) are temporary.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from notifications_python_client import NotificationsAPIClient
from notifications_python_client.errors import APIError, HTTPError

from services.notifications.channels.base import (
    DeliveryFailure,
    PermanentFailure,
    TemporaryFailure,
)
from services.notifications.messages import Channel, Gateway
from services.notifications.rendering import Rendered

NOTIFY_API = "https://api.notifications.service.gov.uk"


@dataclass(frozen=True)
class NotifySettings:
    api_key: str
    email_template_id: str
    sms_template_id: str
    base_url: str = NOTIFY_API
    timeout: float = 30.0
    email_reply_to_id: str | None = None
    sms_sender_id: str | None = None


class NotifyChannel:
    """Sends with a small pool of clients: one ``NotificationsAPIClient`` is not safe to
    share between concurrent sends, but each keeps its HTTP connection open for reuse."""

    gateway = Gateway.NOTIFY

    def __init__(self, settings: NotifySettings):
        self.settings = settings
        self._idle: queue.SimpleQueue[NotificationsAPIClient] = queue.SimpleQueue()
        self._idle.put(self._new_client())  # a malformed API key fails here, at start-up

    def send(self, channel: Channel, to: str, message: Rendered, reference: str) -> str:
        s = self.settings
        try:
            with self._client() as client:
                if channel is Channel.EMAIL:
                    reply = client.send_email_notification(
                        to,
                        s.email_template_id,
                        personalisation={"subject": message.subject, "body": message.text},
                        reference=reference,
                        email_reply_to_id=s.email_reply_to_id,
                    )
                elif message.sms is None:
                    raise PermanentFailure(f"no SMS text for {message.subject!r}")
                else:
                    reply = client.send_sms_notification(
                        to,
                        s.sms_template_id,
                        personalisation={"body": message.sms},
                        reference=reference,
                        sms_sender_id=s.sms_sender_id,
                    )
        except APIError as exc:
            raise classify(exc) from exc
        return reply["id"]

    @contextmanager
    def _client(self) -> Iterator[NotificationsAPIClient]:
        try:
            client = self._idle.get_nowait()
        except queue.Empty:
            client = self._new_client()
        try:
            yield client
        finally:
            self._idle.put(client)

    def _new_client(self) -> NotificationsAPIClient:
        s = self.settings
        return NotificationsAPIClient(s.api_key, base_url=s.base_url, timeout=s.timeout)


def classify(exc: APIError) -> DeliveryFailure:
    status = exc.status_code
    detail = f"Notify {status}: {exc.message}"
    if isinstance(exc, HTTPError) and 400 <= status < 500 and status != 429:
        return PermanentFailure(detail)
    # 429, 5xx, connection failures, and a 2xx answer that is not JSON (it may or may not
    # have been sent: sending again risks a duplicate rather than losing the message).
    return TemporaryFailure(detail)
