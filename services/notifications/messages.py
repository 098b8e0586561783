"""Published language of the notifications service (RULES §8).

Other services and the gateway import only this module. It holds:

- the vocabularies (:class:`MessageType`, :class:`Channel`, :class:`Gateway`,
  :class:`DeliveryStatus`) used in replies;
- :class:`NotificationView`, one row of ``GET /api/v1/notifications``;
- :class:`NotifyCallback`, the body GOV.UK Notify posts to ``POST /api/v1/notify/callbacks``;
- :class:`EstablishmentContacts`, the recipient data the service keeps a copy of, as told
  by qualification events (DESIGN rule 1: no reading of another service's tables).
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.common.types import Int32, IsoDateTime, StrictBool


class MessageType(StrEnum):
    """One value per row of the RULES §8 table (the award row has two)."""

    REFERRAL_INVITATION = "referral_invitation"
    DEADLINE_REMINDER = "deadline_reminder"
    CLARIFICATION_ANSWERED = "clarification_answered"
    BID_RECEIPT = "bid_receipt"
    REFERRAL_CLOSED = "referral_closed"
    PARENT_CHOICE_REQUIRED = "parent_choice_required"
    AWARD_WINNER = "award_winner"
    AWARD_FEEDBACK = "award_feedback"
    APPLICATION_DECIDED = "application_decided"
    MEMBERSHIP_SUSPENDED = "membership_suspended"
    MEMBERSHIP_REINSTATED = "membership_reinstated"
    EVIDENCE_EXPIRING = "evidence_expiring"
    REFERRAL_CANCELLED = "referral_cancelled"
    DEADLINE_EXTENDED = "deadline_extended"
    LEAD_DIGEST = "lead_digest"
    # RULES §11.1 migration: an admitted establishment is invited to join a dynamic market
    MARKET_INVITATION = "market_invitation"


class Channel(StrEnum):
    """The medium the recipient gets (the "channel" column of RULES §8)."""

    EMAIL = "email"
    SMS = "sms"


class Gateway(StrEnum):
    """Who carries a channel: an SMTP relay or GOV.UK Notify."""

    SMTP = "smtp"
    NOTIFY = "notify"


class DeliveryStatus(StrEnum):
    """State of one delivery (RULES §8); transitions are in ``domain.TRANSITIONS``.

    ``sent`` means the gateway accepted the message and we await its delivery receipt
    (Notify only; an SMTP relay's acceptance is final, so SMTP goes straight to
    ``delivered``).
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary_failure"
    PERMANENT_FAILURE = "permanent_failure"


class EventBase(BaseModel):
    """Fields every event carries (DESIGN rule 3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(min_length=1)
    occurred_at: IsoDateTime
    request_id: str | None = None


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_email(value: str) -> str:
    """Trimmed and lower-cased, so that one mailbox is one recipient (RULES §8 idempotency)."""
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise ValueError("not an email address")
    return email


def normalise_phone(value: str) -> str:
    """E.164 form: ``07700 900123``, ``+44 (0)7700 900123`` and ``0044 7700 900123`` all
    become ``+447700900123``."""
    phone = _PHONE_SEPARATORS.sub("", value.replace("(0)", ""))
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    elif phone.startswith("0"):
        phone = "+44" + phone[1:]
    elif not phone.startswith("+"):
        phone = "+" + phone
    if not _PHONE.match(phone):
        raise ValueError("not a phone number")
    return phone


class Contact(BaseModel):
    """A person to alert about an establishment (API.md ``POST /api/v1/establishments``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    email: str
    phone: str | None = None
    sms_opt_in: StrictBool = False

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else normalise_phone(value)


class EstablishmentContacts(EventBase):
    """Who to alert for an establishment; sent by qualification whenever contacts change.

    The latest event (by ``occurred_at``) replaces the notifications service's copy.
    """

    establishment_id: str
    provider_id: str
    contacts: list[Contact]


class NotificationView(BaseModel):
    """One delivery as listed by ``GET /api/v1/notifications`` (RULES §8)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    message_type: MessageType
    channel: Channel
    recipient: str
    status: DeliveryStatus
    attempts: Int32
    last_error: str | None
    created_at: IsoDateTime
    updated_at: IsoDateTime
    event_id: str
    reference: str | None = Field(
        description="The gateway's id of the message: Notify's notification id or the "
        "SMTP Message-ID. Null until a gateway accepts it."
    )


class NotifyCallback(BaseModel):
    """A GOV.UK Notify delivery receipt (its documented callback body).

    ``reference`` is what we passed when sending: our delivery id. ``status`` is mapped
    by ``domain.receipt_status``.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    reference: str | None = None
    to: str
    status: str
    created_at: IsoDateTime
    completed_at: IsoDateTime | None = None
    sent_at: IsoDateTime | None = None
    notification_type: Channel
    template_id: str | None = None
    template_version: Int32 | None = None


class NotificationListItem(NotificationView):
    """One row of ``GET /api/v1/notifications``: the delivery and what it was about."""

    gateway: Gateway
    subject: str = Field(description="The message's subject (for an SMS, its email subject).")
    referral_id: str | None = None
    establishment_id: str | None = None
    next_attempt_at: IsoDateTime | None = Field(
        None, description="When a waiting delivery is tried (again)."
    )


class NotificationsPage(BaseModel):
    items: list[NotificationListItem]
    next_cursor: str | None


class NotificationsQuery(BaseModel):
    """Query of ``GET /api/v1/notifications`` (API.md lists: ``?limit=&cursor=``)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = Field(None, max_length=500)
    status: DeliveryStatus | None = None
    message_type: MessageType | None = None
    referral_id: str | None = Field(None, max_length=64)
