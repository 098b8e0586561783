"""RULES §8: the delivery state machine, idempotency key, retries and Notify receipts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import Conflict, InvalidInput
from services.notifications.domain import (
    FINAL,
    NOTIFY_STATUSES,
    TRANSITIONS,
    Delivery,
    RetryPolicy,
    Route,
    receipt_status,
)
from services.notifications.messages import Channel, DeliveryStatus, Gateway, MessageType

S = DeliveryStatus
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3)
EMAIL = Route("ann@example.org", Channel.EMAIL, Gateway.SMTP)
SMS = Route("+447700900001", Channel.SMS, Gateway.NOTIFY)


def new(to: Route = EMAIL, message_type=MessageType.REFERRAL_INVITATION, **owners) -> Delivery:
    owners = owners or {"provider_id": "P1", "authority": "KCC"}
    return Delivery.new("d-1", "ev-1", message_type, to, NOW, **owners)


def in_status(status: DeliveryStatus, to: Route = SMS) -> Delivery:
    """A delivery driven to ``status`` through legal moves only."""
    d = new(to)
    if status is S.PENDING:
        return d
    d.start(NOW, POLICY)
    if status is S.SENDING:
        return d
    if status is S.TEMPORARY_FAILURE:
        d.failed("451", NOW, POLICY, permanent=False)
    elif status is S.PERMANENT_FAILURE:
        d.failed("550", NOW, POLICY, permanent=True)
    else:
        d.accepted("n-1", NOW)
        if status is S.DELIVERED:
            d.apply_receipt("delivered", "n-1", NOW, POLICY)
    assert d.status is status
    return d


def test_smtp_happy_path_skips_sent():
    d = new(EMAIL)
    assert (d.status, d.attempts, d.next_attempt_at) == (S.PENDING, 0, NOW)
    d.start(NOW, POLICY)
    assert (d.status, d.attempts, d.next_attempt_at) == (S.SENDING, 1, NOW + POLICY.lease)
    d.accepted("<id@host>", NOW + timedelta(seconds=1))
    assert (d.status, d.reference, d.next_attempt_at) == (S.DELIVERED, "<id@host>", None)
    assert d.updated_at == NOW + timedelta(seconds=1)


def test_notify_is_sent_until_its_receipt():
    d = new(SMS)
    d.start(NOW, POLICY)
    d.accepted("n-1", NOW)
    assert d.status is S.SENT
    assert d.apply_receipt("delivered", "n-1", NOW, POLICY) is True
    assert d.status is S.DELIVERED


def test_idempotency_key_is_event_recipient_channel_type():
    """§8: a redelivered event never sends twice: one delivery per key."""
    assert new(SMS).key == ("ev-1", "+447700900001", Channel.SMS, MessageType.REFERRAL_INVITATION)
    assert new(EMAIL).key != new(SMS).key


def test_temporary_failures_back_off_then_fail_permanently_at_max_attempts():
    """§8: a temporary failure is retried with backoff; the last attempt fails for good."""
    d = new()
    at = NOW
    for attempt, wait in [(1, 30), (2, 60)]:
        d.start(at, POLICY)
        d.failed("451 try later", at, POLICY, permanent=False)
        assert (d.status, d.attempts) == (S.TEMPORARY_FAILURE, attempt)
        assert d.next_attempt_at == at + timedelta(seconds=wait)
        assert not d.due(d.next_attempt_at - timedelta(microseconds=1))
        at = d.next_attempt_at
        assert d.due(at)
    d.start(at, POLICY)
    d.failed("451 try later", at, POLICY, permanent=False)
    assert d.status is S.PERMANENT_FAILURE
    assert d.last_error == "gave up after 3 attempts: 451 try later"
    assert d.next_attempt_at is None and not d.due(at + timedelta(days=1))


def test_permanent_failure_keeps_the_error_for_the_owner():
    d = new()
    d.start(NOW, POLICY)
    d.failed("550 " + "x" * 5000, NOW, POLICY, permanent=True)
    assert d.status is S.PERMANENT_FAILURE
    assert d.last_error.startswith("550 x") and len(d.last_error) == 1000


def test_not_due_cannot_start():
    d = new()
    d.start(NOW, POLICY)
    d.failed("451", NOW, POLICY, permanent=False)
    with pytest.raises(Conflict, match="not due"):
        d.start(NOW + timedelta(seconds=29), POLICY)
    assert (d.status, d.attempts) == (S.TEMPORARY_FAILURE, 1)


def test_rate_limited_delivery_is_deferred_not_dropped():
    """§8 rate limit: over the limit the delivery stays pending until the next window."""
    d = new()
    later = NOW + timedelta(seconds=1)
    d.defer(later, NOW)
    assert (d.status, d.next_attempt_at, d.attempts) == (S.PENDING, later, 0)
    assert not d.due(NOW) and d.due(later)


def test_expired_lease_is_retried_as_a_temporary_failure():
    d = new()
    d.start(NOW, POLICY)
    with pytest.raises(Conflict):
        d.expire_lease(NOW + POLICY.lease - timedelta(seconds=1), POLICY)
    assert d.due(NOW + POLICY.lease)
    d.expire_lease(NOW + POLICY.lease, POLICY)
    assert d.status is S.TEMPORARY_FAILURE
    assert "interrupted" in d.last_error


# Every operation, with the status it tries to reach; run when any wait is over.
LATER = NOW + timedelta(days=1)
OPERATIONS = {
    "start": (lambda d: d.start(LATER, POLICY), S.SENDING),
    "accepted": (lambda d: d.accepted("n-2", LATER), S.SENT),
    "failed temporarily": (
        lambda d: d.failed("451", LATER, POLICY, permanent=False),
        S.TEMPORARY_FAILURE,
    ),
    "failed permanently": (
        lambda d: d.failed("550", LATER, POLICY, permanent=True),
        S.PERMANENT_FAILURE,
    ),
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_illegal_transition_is_refused(status, operation):
    """Each operation succeeds exactly when ``TRANSITIONS`` allows its target; a refused
    one raises ``Conflict`` and leaves the delivery unchanged."""
    d = in_status(status)
    before = replace(d)
    act, target = OPERATIONS[operation]
    if target in TRANSITIONS[status]:
        act(d)
        assert d.status is target
    else:
        with pytest.raises(Conflict):
            act(d)
        assert d == before


@pytest.mark.parametrize("status", list(S))
def test_defer_only_while_waiting(status):
    d = in_status(status)
    if status in (S.PENDING, S.TEMPORARY_FAILURE):
        d.defer(NOW + timedelta(minutes=1), NOW)
        assert d.status is status
    else:
        with pytest.raises(Conflict):
            d.defer(NOW + timedelta(minutes=1), NOW)


def test_final_states_have_no_way_out():
    assert {S.DELIVERED, S.PERMANENT_FAILURE} == FINAL
    assert all(TRANSITIONS[s] for s in set(S) - FINAL)


def test_owners_follow_the_spec():
    """§8: a permanent failure can be seen by its owners; sealed bids (§5) hide receipts
    and reminders from the authority until the deadline."""
    invitation = new(message_type=MessageType.REFERRAL_INVITATION)
    assert (invitation.provider_id, invitation.authority) == ("P1", "KCC")
    receipt = new(message_type=MessageType.BID_RECEIPT)
    assert (receipt.provider_id, receipt.authority) == ("P1", None)
    closed = new(message_type=MessageType.REFERRAL_CLOSED)
    assert (closed.provider_id, closed.authority) == (None, "KCC")
    with pytest.raises(InvalidInput):
        new(message_type=MessageType.BID_RECEIPT, authority="KCC")
    with pytest.raises(InvalidInput):
        new(message_type=MessageType.REFERRAL_CLOSED, provider_id="P1")


# --- GOV.UK Notify receipts ------------------------------------------------------------


@pytest.mark.parametrize(
    "notify_status, ours",
    [
        ("delivered", S.DELIVERED),
        ("sent", S.DELIVERED),  # sent internationally: no further information comes
        ("permanent-failure", S.PERMANENT_FAILURE),
        ("temporary-failure", S.TEMPORARY_FAILURE),
        ("technical-failure", S.TEMPORARY_FAILURE),
        ("created", None),
        ("sending", None),
        ("pending", None),
    ],
)
def test_notify_status_mapping(notify_status, ours):
    assert receipt_status(notify_status) is ours
    assert set(NOTIFY_STATUSES) >= {notify_status}


def test_unknown_notify_status_is_invalid():
    with pytest.raises(InvalidInput):
        receipt_status("exploded")


@pytest.mark.parametrize(
    "notify_status, after",
    [
        ("permanent-failure", S.PERMANENT_FAILURE),
        ("temporary-failure", S.TEMPORARY_FAILURE),
        ("technical-failure", S.TEMPORARY_FAILURE),
    ],
)
def test_failure_receipts(notify_status, after):
    d = in_status(S.SENT)
    assert d.apply_receipt(notify_status, "n-1", NOW, POLICY) is True
    assert d.status is after
    assert d.last_error == f"Notify receipt: {notify_status}"


def test_interim_stale_and_repeated_receipts_change_nothing():
    d = in_status(S.SENT)
    assert d.apply_receipt("sending", "n-1", NOW, POLICY) is False  # interim
    assert d.apply_receipt("delivered", "n-0", NOW, POLICY) is False  # another attempt's
    assert d.status is S.SENT
    assert d.apply_receipt("delivered", "n-1", NOW, POLICY) is True
    assert d.apply_receipt("delivered", "n-1", NOW, POLICY) is False  # repeated
    assert d.apply_receipt("permanent-failure", "n-1", NOW, POLICY) is False
    assert d.status is S.DELIVERED


def test_receipt_during_the_attempt_asks_notify_to_retry_it():
    """Notify retries a callback that fails, by which time the attempt is recorded."""
    d = in_status(S.SENDING)
    with pytest.raises(Conflict):
        d.apply_receipt("delivered", "n-1", NOW, POLICY)
    d.accepted("n-1", NOW)
    assert d.apply_receipt("delivered", "n-1", NOW, POLICY) is True


def test_receipt_of_the_previous_attempt_is_ignored_after_a_retry_is_recorded():
    d = in_status(S.SENT)
    d.apply_receipt("temporary-failure", "n-1", NOW, POLICY)
    retry = d.next_attempt_at
    d.start(retry, POLICY)
    assert d.reference is None
    d.accepted("n-2", retry)
    assert d.apply_receipt("temporary-failure", "n-1", retry, POLICY) is False
    assert d.apply_receipt("delivered", "n-2", retry, POLICY) is True
    assert (d.status, d.attempts) == (S.DELIVERED, 2)
