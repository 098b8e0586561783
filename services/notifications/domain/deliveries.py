"""The Delivery aggregate (RULES §8): one message to one recipient on one channel, its
state machine (:data:`MACHINE`, one transitions table checked in one place), the retry
backoff of temporary failures and GOV.UK Notify's delivery receipts.

Pure: no network, no database, no clock (``now`` is always an argument).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.errors import Conflict, InvalidInput
from services.common.states import StateMachine
from services.notifications.domain.routing import Route
from services.notifications.domain.specs import SPECS, Audience
from services.notifications.messages import Channel, DeliveryStatus, Gateway, MessageType

# ---------------------------------------------------------------------------------------
# Retries


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for temporary failures (RULES §8), without jitter.

    After the n-th failed attempt the next one is due ``min(cap, base × factor^(n−1))``
    later: by default 30 s, 1, 2, 4, 8, 16, 32 min, then hourly, and after
    ``max_attempts`` attempts (default 10, about 3 h in all) the delivery fails
    permanently. The sender timer spreads load itself (it takes due rows in order under
    the rate limit), so no jitter is needed and schedules stay predictable in tests.
    ``lease`` is how long an attempt may stay ``sending`` before it is presumed
    interrupted (a worker died mid-send) and retried.
    """

    base: timedelta = timedelta(seconds=30)
    factor: int = 2
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 10
    lease: timedelta = timedelta(minutes=5)

    def __post_init__(self):
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("need 0 < base <= cap")
        if self.factor < 1 or self.max_attempts < 1 or self.lease <= timedelta(0):
            raise ValueError("need factor >= 1, max_attempts >= 1 and a positive lease")

    def delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failed attempt."""
        if attempts < 1:
            raise ValueError("attempts counts from 1")
        seconds = self.base.total_seconds() * self.factor ** min(attempts - 1, 64)
        return timedelta(seconds=min(seconds, self.cap.total_seconds()))

    def next_attempt_at(self, attempts: int, now: datetime) -> datetime:
        return now + self.delay(attempts)


def next_attempt_at(attempts: int, now: datetime, policy: RetryPolicy | None = None) -> datetime:
    """When to retry after ``attempts`` failed attempts (see :class:`RetryPolicy`)."""
    return (policy or RetryPolicy()).next_attempt_at(attempts, now)


# ---------------------------------------------------------------------------------------
# Delivery state machine

S = DeliveryStatus
MACHINE: StateMachine[DeliveryStatus] = StateMachine(
    "delivery",
    {
        S.PENDING: {S.SENDING},
        S.SENDING: {S.SENT, S.DELIVERED, S.TEMPORARY_FAILURE, S.PERMANENT_FAILURE},
        S.SENT: {S.DELIVERED, S.TEMPORARY_FAILURE, S.PERMANENT_FAILURE},
        S.TEMPORARY_FAILURE: {S.SENDING},
        S.DELIVERED: set(),
        S.PERMANENT_FAILURE: set(),
    },
)
TRANSITIONS: Mapping[DeliveryStatus, frozenset[DeliveryStatus]] = MACHINE.transitions
FINAL = frozenset(s for s in TRANSITIONS if MACHINE.is_final(s))
WAITING = frozenset({S.PENDING, S.TEMPORARY_FAILURE})  # waiting for next_attempt_at
MAX_ERROR_LENGTH = 1000
INTERRUPTED = "attempt interrupted before its outcome was recorded"


@dataclass
class Delivery:
    """One message to one recipient on one channel (RULES §8).

    ``pending → sending → sent → delivered``, where ``sent`` (accepted, awaiting a
    receipt) is skipped by SMTP; a failing attempt goes to ``temporary_failure`` (retried
    from ``next_attempt_at``) or ``permanent_failure``; the attempt that reaches
    ``RetryPolicy.max_attempts`` fails permanently. ``delivered`` and
    ``permanent_failure`` are final. A permanent failure keeps ``last_error`` for its
    owners to see: ``provider_id`` (the provider it was sent to) and ``authority`` (the
    owning authority, where :attr:`MessageSpec.authority_sees`).
    """

    id: str
    event_id: str
    message_type: MessageType
    channel: Channel
    gateway: Gateway
    recipient: str
    provider_id: str | None
    authority: str | None
    created_at: datetime
    updated_at: datetime
    status: DeliveryStatus = S.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    reference: str | None = None  # the gateway's id of the message (Notify id, Message-ID)

    @classmethod
    def new(
        cls,
        id: str,
        event_id: str,
        message_type: MessageType,
        to: Route,
        now: datetime,
        *,
        provider_id: str | None = None,
        authority: str | None = None,
    ) -> Delivery:
        """A pending delivery, due at once. Owners are kept as :data:`SPECS` allows."""
        spec = SPECS[message_type]
        if spec.audience is Audience.PROVIDER and not provider_id:
            raise InvalidInput.at("provider_id", f"{message_type} is sent to a provider")
        if spec.audience is Audience.COMMISSIONER and not authority:
            raise InvalidInput.at("authority", f"{message_type} is sent to a commissioner")
        return cls(
            id=id,
            event_id=event_id,
            message_type=message_type,
            channel=to.channel,
            gateway=to.gateway,
            recipient=to.recipient,
            provider_id=provider_id if spec.audience is Audience.PROVIDER else None,
            authority=authority if spec.authority_sees else None,
            created_at=now,
            updated_at=now,
            next_attempt_at=now,
        )

    @property
    def key(self) -> tuple[str, str, Channel, MessageType]:
        """Idempotency key: one delivery per (event, recipient, channel, type)."""
        return (self.event_id, self.recipient, self.channel, self.message_type)

    def due(self, now: datetime) -> bool:
        """Waiting and due, or ``sending`` past its lease (see :meth:`expire_lease`)."""
        return (self.status in WAITING or self.status is S.SENDING) and self.next_attempt_at <= now

    def defer(self, until: datetime, now: datetime) -> None:
        """Over the rate limit: stay waiting until ``until`` ("queues rather than drops")."""
        if self.status not in WAITING:
            raise Conflict(f"delivery {self.id} is {self.status}, not waiting to be sent")
        self.next_attempt_at = until
        self.updated_at = now

    def start(self, now: datetime, policy: RetryPolicy) -> None:
        """Begin an attempt; it must be due. Its outcome is due within ``policy.lease``."""
        if self.status in WAITING and self.next_attempt_at > now:
            raise Conflict(f"delivery {self.id} is not due before {self.next_attempt_at}")
        self._move(S.SENDING, now)
        self.attempts += 1
        self.reference = None
        self.next_attempt_at = now + policy.lease

    def accepted(self, reference: str | None, now: datetime) -> None:
        """The gateway took the message: Notify's will be confirmed by a receipt."""
        self._move(S.SENT if self.gateway is Gateway.NOTIFY else S.DELIVERED, now)
        self.reference = reference
        self.next_attempt_at = None

    def failed(self, error: str, now: datetime, policy: RetryPolicy, *, permanent: bool) -> None:
        """Record a failed attempt; a temporary one is retried until ``max_attempts``."""
        if not permanent and self.attempts >= policy.max_attempts:
            error = f"gave up after {self.attempts} attempts: {error}"
            permanent = True
        self._move(S.PERMANENT_FAILURE if permanent else S.TEMPORARY_FAILURE, now)
        self.last_error = error[:MAX_ERROR_LENGTH]
        self.next_attempt_at = None if permanent else policy.next_attempt_at(self.attempts, now)

    def expire_lease(self, now: datetime, policy: RetryPolicy) -> None:
        """An attempt that outlived its lease had no recorded outcome (its process died):
        it is due again at once, or failed permanently after the last attempt. The message
        may have gone out before the crash; the resend carries the same Message-ID and
        Notify reference (the delivery id), so a duplicate is recognisable (issue 10)."""
        if self.status is not S.SENDING or self.next_attempt_at > now:
            raise Conflict(f"delivery {self.id} has no expired attempt")
        self.failed(INTERRUPTED, now, policy, permanent=False)
        if self.status is S.TEMPORARY_FAILURE:
            self.next_attempt_at = now

    @property
    def resent_after_interruption(self) -> bool:
        return bool(self.last_error) and self.last_error.endswith(INTERRUPTED)

    def apply_receipt(
        self, notify_status: str, notification_id: str, now: datetime, policy: RetryPolicy
    ) -> bool:
        """Apply a Notify delivery receipt; ``True`` if it changed the delivery.

        Interim statuses, receipts for an earlier attempt and repeated receipts change
        nothing. A receipt arriving while its attempt is still being recorded raises
        ``Conflict``, so that the callback fails and Notify sends it again.
        """
        outcome = receipt_status(notify_status)
        if outcome is None:
            return False
        if self.status is S.SENDING:  # its gateway id is not recorded yet
            raise Conflict(f"delivery {self.id} has an attempt in progress; retry the receipt")
        if self.status is not S.SENT or self.reference != notification_id:
            return False
        if outcome is S.DELIVERED:
            self._move(S.DELIVERED, now)
            self.next_attempt_at = None
        else:
            self.failed(
                f"Notify receipt: {notify_status}",
                now,
                policy,
                permanent=outcome is S.PERMANENT_FAILURE,
            )
        return True

    def _move(self, to: DeliveryStatus, now: datetime) -> None:
        self.status = MACHINE.check(
            self.status, to, f"delivery {self.id} cannot go from {self.status} to {to}"
        )
        self.updated_at = now


# GOV.UK Notify statuses of email and SMS notifications. ``sent`` is "sent
# internationally": the networks of some countries report nothing more, so it is final.
# ``technical-failure`` (Notify could not reach its provider) and ``temporary-failure``
# (the provider gave up, e.g. inbox full or phone off) are both worth sending again.
NOTIFY_STATUSES: Mapping[str, DeliveryStatus | None] = {
    "created": None,
    "sending": None,
    "pending": None,
    "sent": S.DELIVERED,
    "delivered": S.DELIVERED,
    "permanent-failure": S.PERMANENT_FAILURE,
    "temporary-failure": S.TEMPORARY_FAILURE,
    "technical-failure": S.TEMPORARY_FAILURE,
}


def receipt_status(notify_status: str) -> DeliveryStatus | None:
    """Our status for a Notify receipt status, ``None`` for an interim one."""
    try:
        return NOTIFY_STATUSES[notify_status]
    except KeyError:
        raise InvalidInput.at("status", f"unknown Notify status {notify_status!r}") from None


def outcome(d: Delivery) -> dict:
    """What the audit trail records of a delivery's state (RULES §9 before/after)."""
    return {
        "status": str(d.status),
        "attempts": d.attempts,
        "last_error": d.last_error,
        "reference": d.reference,
    }


@dataclass(frozen=True)
class Envelope:
    """What a new delivery carries besides its state: whom it greets, what it is about
    (its owners may filter by referral) and its rendered message, the bodies of its own
    channel only (every message comes from a template, RULES §8)."""

    recipient_name: str | None
    referral_id: str | None
    establishment_id: str | None
    subject: str
    body_text: str | None = None
    body_html: str | None = None
    body_sms: str | None = None
