"""Notification rules (RULES §8): who gets what on which channel, and delivery bookkeeping.

Pure: no network, no database, no clock (``now`` is always an argument).

- :data:`SPECS` says, per message type of the §8 table, who it is for, whether it also
  goes by SMS, and whether the owning authority may see its delivery records.
- :func:`route` turns a message type and the recipient's contacts into deliveries
  ``(recipient, channel, gateway)`` using a :class:`ChannelConfig`.
- :class:`Delivery` is the state machine of one delivery (:data:`TRANSITIONS`), unique per
  :attr:`Delivery.key` = ``(event_id, recipient, channel, message_type)`` so that a
  redelivered event never sends twice.
- :class:`RetryPolicy` is the exponential backoff for temporary failures.
- :func:`receipt_status` maps GOV.UK Notify delivery receipts to our statuses.
- :func:`take` is the shared send-rate limit (GOV.UK Notify: 3,000 messages a minute).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from services.common.errors import Conflict, InvalidInput
from services.notifications.messages import (
    Channel,
    Contact,
    DeliveryStatus,
    Gateway,
    MessageType,
)

# ---------------------------------------------------------------------------------------
# What goes to whom (RULES §8 table)


class Audience(StrEnum):
    PROVIDER = "provider"
    COMMISSIONER = "commissioner"


class SmsPolicy(StrEnum):
    """Whether a message also goes by SMS to a contact who has a phone number."""

    NEVER = "never"
    OPT_IN = "opt_in"  # only contacts with ``sms_opt_in`` ("SMS where opted in")
    ALWAYS = "always"  # "email and SMS"


@dataclass(frozen=True)
class MessageSpec:
    audience: Audience
    sms: SmsPolicy = SmsPolicy.NEVER
    # The owning authority may list this delivery. False where that would reveal, before
    # the deadline, who has or has not bid (sealed bids, RULES §5), or a provider's
    # qualification affairs, which are the lead's business (RULES §4, §10).
    authority_sees: bool = False
    # Carries the full referral (child reference, name, …). Only the award to the winner
    # does (RULES §5 child data minimisation).
    full_referral: bool = False


SPECS: Mapping[MessageType, MessageSpec] = {
    # referral published or widened → contacts of each newly invited establishment
    MessageType.REFERRAL_INVITATION: MessageSpec(
        Audience.PROVIDER, SmsPolicy.OPT_IN, authority_sees=True
    ),
    # 24 h before the deadline → invited establishments that have not bid
    MessageType.DEADLINE_REMINDER: MessageSpec(Audience.PROVIDER),
    # clarification answered → every invited establishment
    MessageType.CLARIFICATION_ANSWERED: MessageSpec(Audience.PROVIDER, authority_sees=True),
    # bid submitted, changed or withdrawn → the bidder
    MessageType.BID_RECEIPT: MessageSpec(Audience.PROVIDER),
    # referral closed → owning commissioner, with the count of bids
    MessageType.REFERRAL_CLOSED: MessageSpec(Audience.COMMISSIONER, authority_sees=True),
    # parent choice needed → owning commissioner
    MessageType.PARENT_CHOICE_REQUIRED: MessageSpec(Audience.COMMISSIONER, authority_sees=True),
    # award → winner: award and full referral
    MessageType.AWARD_WINNER: MessageSpec(
        Audience.PROVIDER, authority_sees=True, full_referral=True
    ),
    # award → each other bidder: its feedback (RULES §5)
    MessageType.AWARD_FEEDBACK: MessageSpec(Audience.PROVIDER, authority_sees=True),
    # application decided, suspension, reinstatement → provider
    MessageType.APPLICATION_DECIDED: MessageSpec(Audience.PROVIDER),
    MessageType.MEMBERSHIP_SUSPENDED: MessageSpec(Audience.PROVIDER),
    MessageType.MEMBERSHIP_REINSTATED: MessageSpec(Audience.PROVIDER),
    # evidence expiring in 30 days → provider, email and SMS
    MessageType.EVIDENCE_EXPIRING: MessageSpec(Audience.PROVIDER, SmsPolicy.ALWAYS),
}

REMINDER_BEFORE_DEADLINE = timedelta(hours=24)


def reminder_due(deadline: datetime, invited_at: datetime, now: datetime) -> bool:
    """Whether an invited establishment that has not bid gets its reminder now (RULES §8).

    Due from 24 h before the deadline until the deadline, and only for establishments
    invited before that point: one invited within the last 24 h has just been alerted.
    """
    remind_at = deadline - REMINDER_BEFORE_DEADLINE
    return invited_at < remind_at <= now < deadline


def scoped_event_id(event_id: str, scope: str) -> str:
    """The delivery ``event_id`` for one part of an event that alerts several parties.

    A publication inviting two establishments that share a contact sends that contact
    two different invitations (distances differ), so each establishment's deliveries are
    keyed ``"<event_id>/<establishment_id>"``.
    """
    return f"{event_id}/{scope}"


# ---------------------------------------------------------------------------------------
# Channel configuration and routing

DEFAULT_GATEWAYS: Mapping[Channel, Gateway] = {
    Channel.EMAIL: Gateway.SMTP,
    Channel.SMS: Gateway.NOTIFY,
}


@dataclass(frozen=True)
class ChannelConfig:
    """Which gateway carries each channel, with per-message-type overrides.

    Configured as JSON (the service reads it from ``DPS_NOTIFICATION_CHANNELS``)::

        {"default": {"email": "smtp", "sms": "notify"},
         "evidence_expiring": {"email": "notify"}}

    ``default`` applies to every message type; a key naming a message type overrides it
    for that type. Channels are ``email`` and ``sms``; gateways ``smtp`` and ``notify``.
    SMS is only carried by ``notify``. Anything left out falls back to
    :data:`DEFAULT_GATEWAYS` (email by SMTP, SMS by Notify).
    """

    default: Mapping[Channel, Gateway] = field(default_factory=lambda: dict(DEFAULT_GATEWAYS))
    by_type: Mapping[MessageType, Mapping[Channel, Gateway]] = field(default_factory=dict)

    def gateway(self, message_type: MessageType, channel: Channel) -> Gateway:
        return self.by_type.get(message_type, {}).get(channel) or self.default[channel]

    @classmethod
    def parse(cls, raw: str | Mapping | None) -> ChannelConfig:
        """Read the JSON text or mapping above; a mistake raises ``InvalidInput`` naming it."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return cls()
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise InvalidInput.at("channels", f"not JSON: {exc}") from exc
        if not isinstance(raw, Mapping):
            raise InvalidInput.at("channels", "must be an object")
        default = dict(DEFAULT_GATEWAYS)
        by_type: dict[MessageType, dict[Channel, Gateway]] = {}
        for key, value in raw.items():
            if key == "default":
                default.update(_parse_gateways(key, value))
            elif key in MessageType.__members__.values():
                by_type[MessageType(key)] = _parse_gateways(key, value)
            else:
                raise InvalidInput.at(key, "neither 'default' nor a message type")
        return cls(default, by_type)


def _parse_gateways(key: str, value: object) -> dict[Channel, Gateway]:
    if not isinstance(value, Mapping):
        raise InvalidInput.at(key, "must map channels to gateways")
    gateways = {}
    for channel, gateway in value.items():
        if channel not in Channel.__members__.values():
            raise InvalidInput.at([key, channel], "unknown channel: use email or sms")
        if gateway not in Gateway.__members__.values():
            raise InvalidInput.at([key, channel], "unknown gateway: use smtp or notify")
        if channel == Channel.SMS and gateway != Gateway.NOTIFY:
            raise InvalidInput.at([key, channel], "SMS can only be sent through notify")
        gateways[Channel(channel)] = Gateway(gateway)
    return gateways


@dataclass(frozen=True)
class Route:
    recipient: str
    channel: Channel
    gateway: Gateway


def route(
    message_type: MessageType, contacts: Iterable[Contact], config: ChannelConfig
) -> list[Route]:
    """Deliveries of one message to one party's contacts (RULES §8).

    Every contact gets email. SMS goes to contacts with a phone number: for
    :attr:`SmsPolicy.OPT_IN` types only those who opted in, for :attr:`SmsPolicy.ALWAYS`
    types all of them. Duplicate addresses are sent once, in first-seen order.
    """
    sms = SPECS[message_type].sms
    email_by = config.gateway(message_type, Channel.EMAIL)
    sms_by = config.gateway(message_type, Channel.SMS)
    routes: list[Route] = []
    for contact in contacts:
        routes.append(Route(contact.email, Channel.EMAIL, email_by))
        if contact.phone and (
            sms is SmsPolicy.ALWAYS or (sms is SmsPolicy.OPT_IN and contact.sms_opt_in)
        ):
            routes.append(Route(contact.phone, Channel.SMS, sms_by))
    return list(dict.fromkeys(routes))


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
TRANSITIONS: Mapping[DeliveryStatus, frozenset[DeliveryStatus]] = {
    S.PENDING: frozenset({S.SENDING}),
    S.SENDING: frozenset({S.SENT, S.DELIVERED, S.TEMPORARY_FAILURE, S.PERMANENT_FAILURE}),
    S.SENT: frozenset({S.DELIVERED, S.TEMPORARY_FAILURE, S.PERMANENT_FAILURE}),
    S.TEMPORARY_FAILURE: frozenset({S.SENDING}),
    S.DELIVERED: frozenset(),
    S.PERMANENT_FAILURE: frozenset(),
}
FINAL = frozenset(s for s, after in TRANSITIONS.items() if not after)
WAITING = frozenset({S.PENDING, S.TEMPORARY_FAILURE})  # waiting for next_attempt_at
MAX_ERROR_LENGTH = 1000


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
        """An attempt that outlived its lease had no recorded outcome: retry it."""
        if self.status is not S.SENDING or self.next_attempt_at > now:
            raise Conflict(f"delivery {self.id} has no expired attempt")
        self.failed(
            "attempt interrupted before its outcome was recorded", now, policy, permanent=False
        )

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
        if to not in TRANSITIONS[self.status]:
            raise Conflict(f"delivery {self.id} cannot go from {self.status} to {to}")
        self.status = to
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


# ---------------------------------------------------------------------------------------
# Send rate limit

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` sends in any interval of length ``period`` (RULES §8).

    Time is cut into fixed windows of length ``window``, aligned on the Unix epoch so that
    every instance agrees on them, and each window allows :attr:`budget` sends. Any
    interval of length ``period`` meets at most ``period / window + 1`` windows, so a
    budget of ``limit // (period / window + 1)`` keeps every rolling period within the
    limit, unlike a plain per-minute fixed window, which allows twice the limit across a
    window boundary. The default (3,000 a minute in 1 s windows) allows 49 a second,
    2,940 a minute. The sender timer should run once per ``window``. Keep one shared
    counter (:class:`RateWindow`) per gateway: Notify's limit is per service, not per
    instance.
    """

    limit: int = 3000
    period: timedelta = timedelta(minutes=1)
    window: timedelta = timedelta(seconds=1)

    def __post_init__(self):
        if self.window <= timedelta(0) or self.period % self.window:
            raise ValueError("period must be a whole number of windows")
        if self.budget < 1:
            raise ValueError("limit too small for this window")

    @property
    def budget(self) -> int:
        return self.limit // (self.period // self.window + 1)

    def window_start(self, now: datetime) -> datetime:
        return EPOCH + (now - EPOCH) // self.window * self.window


@dataclass(frozen=True)
class RateWindow:
    """The shared counter: sends granted in the window starting at ``start``."""

    start: datetime
    used: int


@dataclass(frozen=True)
class Permit:
    granted: int
    window: RateWindow  # store this back in the shared counter
    retry_at: datetime | None  # when the ones not granted may try again


def take(wanted: int, window: RateWindow | None, now: datetime, rate: RateLimit) -> Permit:
    """Grant up to ``wanted`` sends now, counting against the shared ``window``.

    The caller reads the counter row for update, calls this, writes ``permit.window``
    back in the same transaction and sends ``granted`` deliveries. The others stay
    waiting with ``next_attempt_at = retry_at``: over the limit, messages queue rather
    than drop. A counter already in a later window (another instance's clock is ahead)
    is honoured, so skew cannot reset it.
    """
    if wanted < 0:
        raise ValueError("wanted must not be negative")
    start = rate.window_start(now)
    used = 0
    if window is not None and window.start >= start:
        start, used = window.start, window.used
    granted = max(0, min(wanted, rate.budget - used))
    retry_at = start + rate.window if granted < wanted else None
    return Permit(granted, RateWindow(start, used + granted), retry_at)
