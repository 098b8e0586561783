"""The sender (RULES §8): claim due deliveries, send them, record each outcome.

Everything about claiming and leases is in this module:

- ``claim`` takes due deliveries of one gateway (``FOR UPDATE SKIP LOCKED``: several
  instances share the work) as far as the gateway's shared rate counter allows
  (``domain.take``: over the limit they wait, never dropped) and marks each ``sending``:
  an attempt with a lease (``RetryPolicy.lease``). A delivery found still ``sending``
  past its lease had no recorded outcome: ``Delivery.expire_lease`` retries it (or fails
  it permanently after the last attempt).
- ``attempt`` sends one delivery through its gateway; it never raises.
- ``record_outcomes``: delivered (SMTP), sent (Notify, awaiting its receipt), or failed:
  temporary (retried with backoff) or permanent. An outcome whose attempt is no longer
  the current one (its lease expired and another took over) is dropped.
- ``send_due`` (the timer) runs claim → attempt → record rounds until nothing is due.

A live sender renews the leases of what it holds (``InFlight``, ``renew_leases``), so a
lease can be short. A delivery left ``sending`` by a killed process is reclaimed once its
lease has expired
and sent again at once (``Delivery.expire_lease``), with the same Message-ID / Notify
reference; the resend is audited as ``delivery.resent``. A row that cannot be claimed
(a rule refuses it) is logged and skipped: it never stops the rest of the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from services.common.errors import DomainError
from services.common.logging import get_logger
from services.notifications.channels import DeliveryFailure, Sender
from services.notifications.config import NotificationsConfig
from services.notifications.domain import Delivery, outcome, take
from services.notifications.messages import DeliveryStatus, Gateway
from services.notifications.rendering import Rendered

log = get_logger(__name__)

GATEWAYS = (Gateway.SMTP, Gateway.NOTIFY)
MAX_TICK_ROUNDS = 50  # claim-and-send rounds per sender tick before yielding to the next

Claimed = tuple[Delivery, Rendered]
Outcome = tuple[Delivery, str | None, DeliveryFailure | None]
Imap = Callable[[Callable, Iterable], Iterator]


class InFlight:
    """The attempts this process holds, delivery id → attempt number: their leases are
    renewed while the process lives."""

    def __init__(self):
        self.attempts: dict[str, int] = {}

    def hold(self, claimed: Iterable[Claimed]) -> None:
        self.attempts.update({d.id: d.attempts for d, _ in claimed})

    def release(self, claimed: Iterable[Claimed]) -> None:
        for d, _ in claimed:
            self.attempts.pop(d.id, None)


def renew_leases(uow, in_flight: InFlight, config: NotificationsConfig) -> int:
    """Extend the lease of every attempt this process still holds; commits."""
    renewed = uow.store.extend_leases(dict(in_flight.attempts), uow.now() + config.retry().lease)
    uow.commit()
    return renewed


def send_due(
    uows: Callable, config: NotificationsConfig, senders: Mapping[Gateway, Sender], imap: Imap,
    in_flight: InFlight | None = None,
) -> int:
    """Send what is due, within the shared rate limit (RULES §8). ``uows()`` opens a unit
    of work (one per claim and per chunk of outcomes); ``imap`` runs the sends in
    parallel (a green pool of ``notification_send_concurrency``)."""
    in_flight = in_flight or InFlight()
    sent = 0
    chunk = config.notification_send_concurrency * 2
    for _ in range(MAX_TICK_ROUNDS):
        claimed: list[Claimed] = []
        for gateway in GATEWAYS:
            with uows() as uow:
                claimed += claim(uow, gateway, config)
        if not claimed:
            break
        in_flight.hold(claimed)
        # Outcomes are recorded a chunk at a time: one transaction per chunk, and at most
        # a chunk sent again if this instance dies before recording it.
        try:
            for i in range(0, len(claimed), chunk):
                part = claimed[i : i + chunk]
                outcomes = list(imap(lambda item: attempt(item, senders), part))
                with uows() as uow:
                    record_outcomes(uow, outcomes, config)
                in_flight.release(part)
        finally:
            in_flight.release(claimed)
        sent += len(claimed)
    return sent


def claim(uow, gateway: Gateway, config: NotificationsConfig) -> list[Claimed]:
    """Take due deliveries of ``gateway`` as far as its shared budget allows and mark them
    ``sending`` (an attempt with a lease); commits."""
    store, now = uow.store, uow.now()
    rate, retry = config.rate(), config.retry()
    window = store.lock_rate_window(gateway)
    available = take(rate.budget, window, now, rate).granted
    due = store.claim_due(gateway, now, min(available, config.notification_send_batch))
    if not due:
        uow.rollback()
        return []
    permit = take(len(due), window, now, rate)
    store.save_rate_window(gateway, permit.window)
    claimed: list[Claimed] = []
    for d, message in due:
        try:
            if _start(uow, d, now, retry):
                claimed.append((d, message))
        except DomainError as exc:  # this row only; the batch goes on
            log.error("delivery could not be claimed", delivery_id=d.id, error=str(exc))
    uow.audit(
        "deliveries.claimed", "gateway", str(gateway), None,
        {"deliveries": [d.id for d, _ in claimed]},
    )  # fmt: skip
    uow.commit()
    return claimed


def _start(uow, d: Delivery, now, retry) -> bool:
    """Mark one due delivery ``sending``; False when it is not to be sent any more."""
    if d.status is DeliveryStatus.SENDING:  # its attempt outlived the lease: a dead sender
        before = outcome(d)
        d.expire_lease(now, retry)
        if d.status is DeliveryStatus.PERMANENT_FAILURE:
            uow.store.save_delivery(d)
            uow.audit("delivery.permanent_failure", "delivery", d.id, before, outcome(d))
            return False
        uow.audit("delivery.resent", "delivery", d.id, before, outcome(d))
    d.start(now, retry)
    uow.store.save_delivery(d)
    return True


def attempt(item: Claimed, senders: Mapping[Gateway, Sender]) -> Outcome:
    """One send; returns ``(attempt, reference, failure)``."""
    delivery, message = item
    sender = senders[delivery.gateway]
    try:
        reference = sender.send(delivery.channel, delivery.recipient, message, delivery.id)
        return delivery, reference, None
    except DeliveryFailure as exc:
        return delivery, None, exc
    except Exception as exc:  # a bug or an unexpected library error: retry later
        log.exception("unexpected error while sending", delivery_id=delivery.id)
        failure = DeliveryFailure(f"unexpected error: {type(exc).__name__}: {exc}")
        failure.permanent = False
        return delivery, None, failure


def record_outcomes(uow, outcomes: list[Outcome], config: NotificationsConfig) -> None:
    """Record each attempt's outcome (RULES §8) whose attempt is still the current one;
    commits."""
    retry, now = config.retry(), uow.now()
    current = uow.store.lock_deliveries([a.id for a, _, _ in outcomes])
    for attempted, reference, failure in outcomes:
        d = current.get(attempted.id)
        if d is None or d.status is not DeliveryStatus.SENDING or d.attempts != attempted.attempts:
            log.warning("attempt outcome arrived after its lease", delivery_id=attempted.id)
            continue
        before = outcome(d)
        if failure is None:
            d.accepted(reference, now)
        else:
            d.failed(str(failure), now, retry, permanent=failure.permanent)
            log.warning(
                "delivery failed", delivery_id=d.id, status=str(d.status),
                attempts=d.attempts, error=d.last_error,
            )  # fmt: skip
        uow.store.save_delivery(d)
        uow.audit(f"delivery.{d.status}", "delivery", d.id, before, outcome(d))
    uow.commit()
