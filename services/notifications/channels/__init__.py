"""Gateways that carry notifications: an SMTP relay and GOV.UK Notify (RULES §8)."""

from services.notifications.channels.base import (
    DeliveryFailure,
    PermanentFailure,
    Sender,
    TemporaryFailure,
)
from services.notifications.channels.notify import NotifyChannel, NotifySettings
from services.notifications.channels.smtp import SmtpChannel, SmtpSettings

__all__ = [
    "DeliveryFailure",
    "NotifyChannel",
    "NotifySettings",
    "PermanentFailure",
    "Sender",
    "SmtpChannel",
    "SmtpSettings",
    "TemporaryFailure",
]
