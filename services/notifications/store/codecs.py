"""Row mapping of the notifications service, in one place: one ``*_to_row`` /
``*_from_row`` pair per type stored (RULES §8 deliveries, contacts, the rate counter, the
rendered message a delivery carries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.notifications.domain import Delivery, Envelope, RateWindow
from services.notifications.messages import (
    Channel,
    Contact,
    DeliveryStatus,
    Gateway,
    MessageType,
)
from services.notifications.rendering import Rendered

# the columns of ``deliveries`` that change after a delivery is recorded
MUTABLE = ("status", "attempts", "next_attempt_at", "last_error", "reference", "updated_at")


def delivery_to_row(d: Delivery) -> dict:
    """Every column the domain object owns."""
    return {
        "id": d.id,
        "event_id": d.event_id,
        "message_type": str(d.message_type),
        "channel": str(d.channel),
        "gateway": str(d.gateway),
        "recipient": d.recipient,
        "provider_id": d.provider_id,
        "authority": d.authority,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "status": str(d.status),
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_error": d.last_error,
        "reference": d.reference,
    }


def delivery_from_row(row: Mapping) -> Delivery:
    return Delivery(
        id=row["id"],
        event_id=row["event_id"],
        message_type=MessageType(row["message_type"]),
        channel=Channel(row["channel"]),
        gateway=Gateway(row["gateway"]),
        recipient=row["recipient"],
        provider_id=row["provider_id"],
        authority=row["authority"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        reference=row["reference"],
    )


def envelope_to_row(e: Envelope) -> dict:
    """The columns a new delivery carries besides its state."""
    return {
        "recipient_name": e.recipient_name,
        "referral_id": e.referral_id,
        "establishment_id": e.establishment_id,
        "subject": e.subject,
        "body_text": e.body_text,
        "body_html": e.body_html,
        "body_sms": e.body_sms,
    }


def envelope_from_row(row: Mapping) -> Envelope:
    return Envelope(**{k: row[k] for k in ENVELOPE})


ENVELOPE = ("recipient_name", "referral_id", "establishment_id", "subject", "body_text",
            "body_html", "body_sms")


def message_from_row(row: Mapping) -> Rendered:
    """The rendered message of a claimed delivery, as its gateway sends it."""
    return Rendered(row["subject"], row["body_text"] or "", row["body_html"] or "", row["body_sms"])


def contacts_to_row(contacts: Iterable[Contact]) -> list[dict]:
    return [c.model_dump() for c in contacts]


def contacts_from_row(raw: Iterable[Mapping]) -> list[Contact]:
    return [Contact.model_validate(c) for c in raw]


def rate_window_to_row(window: RateWindow) -> dict:
    return {"window_start": window.start, "used": window.used}


def rate_window_from_row(row: Mapping) -> RateWindow | None:
    return RateWindow(row["window_start"], row["used"]) if row["window_start"] else None
