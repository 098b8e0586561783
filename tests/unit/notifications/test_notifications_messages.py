"""RULES §8 published language: contacts, Notify receipts and the notifications list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.notifications.domain import Delivery, RetryPolicy, Route
from services.notifications.messages import (
    Channel,
    Contact,
    EstablishmentContacts,
    Gateway,
    MessageType,
    NotificationView,
    NotifyCallback,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw, phone",
    [
        ("07700 900123", "+447700900123"),
        ("07700-900-123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("447700900123", "+447700900123"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("   ", None),
        (None, None),
    ],
)
def test_phone_numbers_are_normalised(raw, phone):
    """One number is one recipient, whatever its spelling (RULES §8 idempotency)."""
    assert Contact(name="A", email="a@example.org", phone=raw).phone == phone


@pytest.mark.parametrize("raw", ["12", "07700 9001234567890", "phone", "+0 7700 900123"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        Contact(name="A", email="a@example.org", phone=raw)


def test_emails_are_normalised_and_checked():
    assert Contact(name="A", email="  Ann@Example.ORG ").email == "ann@example.org"
    for bad in ["ann", "ann@", "ann@example", "a b@example.org", "a@b@example.org"]:
        with pytest.raises(ValidationError):
            Contact(name="A", email=bad)


def test_establishment_contacts_event():
    event = EstablishmentContacts.model_validate(
        {
            "event_id": "ev-1",
            "occurred_at": "2025-03-01T09:00:00Z",
            "establishment_id": "E-1",
            "provider_id": "P-1",
            "contacts": [{"name": "Ann", "email": "ann@example.org", "sms_opt_in": True}],
        }
    )
    assert event.request_id is None and event.contacts[0].phone is None
    with pytest.raises(ValidationError):  # naive datetimes are refused
        EstablishmentContacts.model_validate(
            {**event.model_dump(), "occurred_at": "2025-03-01T09:00:00"}
        )


def test_notify_callback_body_as_documented():
    body = {
        "id": "740e5834-3a29-46b4-9a6f-16142fde533a",
        "reference": "d-1",
        "to": "07700 900123",
        "status": "delivered",
        "created_at": "2025-03-01T09:00:00.000000Z",
        "completed_at": "2025-03-01T09:00:05.000000Z",
        "sent_at": "2025-03-01T09:00:01.000000Z",
        "notification_type": "sms",
        "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",
        "template_version": 1,
        "something_new": "ignored",
    }
    callback = NotifyCallback.model_validate(body)
    assert callback.notification_type is Channel.SMS
    assert callback.completed_at == datetime(2025, 3, 1, 9, 0, 5, tzinfo=UTC)
    minimal = {k: body[k] for k in ("id", "to", "status", "created_at", "notification_type")}
    assert NotifyCallback.model_validate({**minimal, "completed_at": None}).reference is None


def test_notification_view_reads_a_delivery():
    delivery = Delivery.new(
        "d-1",
        "ev-1",
        MessageType.BID_RECEIPT,
        Route("ann@example.org", Channel.EMAIL, Gateway.SMTP),
        NOW,
        provider_id="P-1",
    )
    delivery.start(NOW, RetryPolicy())
    delivery.failed("550 no such user", NOW, RetryPolicy(), permanent=True)
    view = NotificationView.model_validate(delivery)
    assert view.model_dump(mode="json") == {
        "id": "d-1",
        "message_type": "bid_receipt",
        "channel": "email",
        "recipient": "ann@example.org",
        "status": "permanent_failure",
        "attempts": 1,
        "last_error": "550 no such user",
        "created_at": "2025-03-01T09:00:00Z",
        "updated_at": "2025-03-01T09:00:00Z",
        "event_id": "ev-1",
        "reference": None,
    }
