"""What every gateway (SMTP, GOV.UK Notify) offers the sender, and how it fails (RULES §8).

A gateway's ``send`` returns its id for the message, or raises :class:`TemporaryFailure`
(worth retrying with backoff) or :class:`PermanentFailure` (recorded, never retried). The
service maps them onto ``domain.Delivery.accepted`` and ``domain.Delivery.failed``.
"""

from __future__ import annotations

from typing import Protocol

from services.notifications.messages import Channel, Gateway
from services.notifications.rendering import Rendered


class DeliveryFailure(Exception):
    """A gateway did not take the message. ``str(exc)`` is what ``last_error`` records."""

    permanent: bool


class TemporaryFailure(DeliveryFailure):
    permanent = False


class PermanentFailure(DeliveryFailure):
    permanent = True


class Sender(Protocol):
    gateway: Gateway

    def send(self, channel: Channel, to: str, message: Rendered, reference: str) -> str:
        """Hand ``message`` to the gateway for ``to``; ``reference`` is our delivery id.

        Returns the gateway's id for the message (the delivery's ``reference``).
        """
        ...
