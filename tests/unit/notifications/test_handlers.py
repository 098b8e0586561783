"""The notifications handlers (RULES §8, §10) with a fake unit of work and an in-memory
store: recording deliveries from events, sending, receipts, reminders and listing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.common.clock import FixedClock
from services.common.errors import Conflict, Forbidden, NotFound
from services.notifications.config import NotificationsConfig
from services.notifications.domain import NotReady
from services.notifications.handlers import queries, recipients, referrals, reminders, sending
from services.notifications.messages import (
    DeliveryStatus,
    Gateway,
    MessageType,
    NotificationsQuery,
    NotifyCallback,
)
from services.qualification import messages as qm
from services.referral import messages as rm
from tests.support import notifications_events as ev
from tests.support.fake_uow import FakeUnitOfWork
from tests.support.notifications_fakes import FakeSender, FakeStore, Uows, serial_imap

NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
S = DeliveryStatus


@pytest.fixture
def config():
    return NotificationsConfig(
        commissioner_emails=json.dumps({"KCC": ["kcc@kent.example", "duty@kent.example"]}),
        public_base_url="https://dps.test",
        notification_retry_base_seconds=30,
        notification_max_attempts=3,
    )


@pytest.fixture
def store():
    return FakeStore()


@pytest.fixture
def clock():
    return FixedClock(NOW)


def uow_of(store, clock) -> FakeUnitOfWork:
    return FakeUnitOfWork(store=store, clock=clock)


def published(token="t1", count=3, **kw) -> rm.ReferralPublished:
    kw.setdefault("deadline", NOW + timedelta(days=3))
    return ev.referral_published(token, count, **kw)


def record_published(store, clock, config, event) -> FakeUnitOfWork:
    uow = uow_of(store, clock)
    referrals.invitations(event, uow, config)
    uow.commit()
    return uow


# --- recipients ---------------------------------------------------------------------------


def test_provider_registration_is_kept_and_an_older_one_changes_nothing(store, clock):
    def registered(name, at):
        return qm.ProviderRegistered(
            provider=qm.ProviderView(id="P1", name=name, contact_email="office@p1.example",
                                    created_at=at),
            occurred_at=at,
        )  # fmt: skip

    uow = uow_of(store, clock)
    recipients.provider_registered(registered("New name", NOW), uow)
    recipients.provider_registered(registered("Old name", NOW - timedelta(days=1)), uow)
    uow.commit()
    assert store.get_provider("P1")["name"] == "New name"
    assert [a["action"] for a in uow.audits] == ["recipient.provider_updated"]


def test_suspension_syncs_the_establishment_and_tells_its_provider(store, clock, config):
    event = ev.membership_event(
        qm.MembershipSuspended, "t2", 0, "P1", membership_id="M1", criterion="INSPECTION",
        reason="Ofsted inadequate", suspended_by="lead", suspended_on=NOW.date(),
        occurred_at=NOW,
    )  # fmt: skip
    uow = uow_of(store, clock)
    recipients.membership_suspended(event, uow, config)
    uow.commit()
    assert store.get_establishment("E-t2-0")["name"] == "Establishment 0 t2"
    [d] = store.all()
    assert (d.message_type, d.recipient, d.status) == (
        MessageType.MEMBERSHIP_SUSPENDED, ev.email_of("t2", 0), S.PENDING)  # fmt: skip
    assert d.provider_id == "P1" and d.authority is None  # the lead's business (RULES §4)
    assert [a["action"] for a in uow.audits] == ["recipient.contacts_updated",
                                                 "deliveries.recorded"]  # fmt: skip


# --- referral messages --------------------------------------------------------------------


def test_publication_records_email_and_opted_in_sms_once(store, clock, config):
    event = published(count=3)
    uow = record_published(store, clock, config, event)
    # contact 0 opted in to SMS; 1 has a phone but did not opt in; 2 has none
    assert sorted((str(d.channel), d.recipient) for d in store.all()) == sorted(
        [("email", ev.email_of("t1", i)) for i in range(3)] + [("sms", ev.phone_of(0))]
    )
    assert {d.authority for d in store.all()} == {"KCC"}
    assert uow.audits[-1]["after"]["deliveries"] == 4
    assert store.get_referral(event.referral_id)["status"] == "open"
    again = record_published(store, clock, config, event)  # redelivered: nothing new
    assert again.audits[-1]["after"]["deliveries"] == 0
    assert len(store.all()) == 4


def test_a_clarification_for_an_unknown_referral_waits_for_its_publication(
    store, clock, config
):
    event = ev.question_answered(published(), "Pets?", "No.")
    with pytest.raises(NotReady):
        referrals.question_answered(event, uow_of(store, clock), config)
    assert store.all() == []


def test_closed_referral_goes_to_the_commissioners_configured_addresses(store, clock, config):
    event = published()
    record_published(store, clock, config, event)
    closed = rm.ReferralClosed(referral_id=event.referral_id, authority="KCC", category="SEN",
                               bids_count=2, early=False, occurred_at=NOW)  # fmt: skip
    uow = uow_of(store, clock)
    referrals.referral_closed(closed, uow, config)
    uow.commit()
    assert store.get_referral(event.referral_id)["status"] == "closed"
    mine = store.all(message_type=MessageType.REFERRAL_CLOSED)
    assert sorted(d.recipient for d in mine) == ["duty@kent.example", "kcc@kent.example"]
    assert {d.provider_id for d in mine} == {None}


def test_an_authority_without_addresses_gets_a_visible_permanent_failure(store, clock, config):
    closed = rm.ReferralClosed(referral_id="R-x", authority="MED", category="SEN",
                               bids_count=0, early=False, occurred_at=NOW)  # fmt: skip
    uow = uow_of(store, clock)
    referrals.referral_closed(closed, uow, config)
    [d] = store.all()
    assert d.status is S.PERMANENT_FAILURE and d.authority == "MED"
    assert "DPS_COMMISSIONER_EMAILS" in d.last_error


def test_a_declined_invitation_gets_no_reminder(store, clock, config):
    event = published(count=2, deadline=NOW + timedelta(hours=30))
    record_published(store, clock, config, event)
    referrals.invitation_declined(
        rm.InvitationDeclined(referral_id=event.referral_id, authority="KCC", category="SEN",
                              establishment_id=event.invited[1].establishment_id,
                              provider_id=event.invited[1].provider_id, reason_code="capacity"),
        uow_of(store, clock),
    )  # fmt: skip
    clock.advance(hours=7)  # within 24 h of the deadline
    uows = Uows(store, clock)
    assert reminders.remind(uows, config) == 1
    assert reminders.remind(uows, config) == 0  # each invitation once
    [d] = store.all(message_type=MessageType.DEADLINE_REMINDER)
    assert d.recipient == ev.email_of("t1", 0)
    assert [a["action"] for a in uows.audits()] == ["reminders.recorded"]


# --- sending ----------------------------------------------------------------------------


def senders(refuse=(), permanent=False):
    return {
        Gateway.SMTP: FakeSender(Gateway.SMTP, refuse, permanent),
        Gateway.NOTIFY: FakeSender(Gateway.NOTIFY, refuse, permanent),
    }


def test_send_due_delivers_email_and_leaves_sms_awaiting_its_receipt(store, clock, config):
    record_published(store, clock, config, published(count=3))
    gateways = senders()
    uows = Uows(store, clock)
    assert sending.send_due(uows, config, gateways, serial_imap) == 4
    assert {str(d.channel): str(d.status) for d in store.all()} == {"email": "delivered",
                                                                   "sms": "sent"}  # fmt: skip
    assert len(gateways[Gateway.SMTP].sent) == 3 and len(gateways[Gateway.NOTIFY].sent) == 1
    assert sending.send_due(uows, config, gateways, serial_imap) == 0  # nothing twice
    actions = [a["action"] for a in uows.audits()]
    assert actions.count("deliveries.claimed") == 2 and actions.count("delivery.delivered") == 3


def test_a_temporary_refusal_is_retried_later_and_a_permanent_one_is_final(
    store, clock, config
):
    record_published(store, clock, config, published(count=2, sms=False))
    uows = Uows(store, clock)
    sending.send_due(uows, config, senders(refuse={ev.email_of("t1", 0)}), serial_imap)
    failed = store.all(recipient=ev.email_of("t1", 0))[0]
    assert failed.status is S.TEMPORARY_FAILURE and failed.attempts == 1
    assert failed.next_attempt_at == NOW + timedelta(seconds=30)
    clock.advance(seconds=30)
    gateways = senders(refuse={ev.email_of("t1", 0)}, permanent=True)
    sending.send_due(uows, config, gateways, serial_imap)
    failed = store.all(recipient=ev.email_of("t1", 0))[0]
    assert failed.status is S.PERMANENT_FAILURE and failed.attempts == 2
    assert "refused" in failed.last_error


def test_claims_stay_within_the_shared_rate_budget(store, clock, config):
    config = config.model_copy(update={"notification_rate_limit": 183})  # 3 a second
    record_published(store, clock, config, published(count=5, sms=False))
    uow = uow_of(store, clock)
    claimed = sending.claim(uow, Gateway.SMTP, config)
    assert len(claimed) == 3 and store.rate_windows[Gateway.SMTP].used == 3
    assert sending.claim(uow_of(store, clock), Gateway.SMTP, config) == []  # over: waits
    assert len(store.all(status=S.PENDING)) == 2  # queued, not dropped


def test_an_outcome_after_its_lease_was_taken_over_is_dropped(store, clock, config):
    record_published(store, clock, config, published(count=1, sms=False))
    [item] = sending.claim(uow_of(store, clock), Gateway.SMTP, config)
    d = store.lock_delivery(item[0].id)
    d.attempts += 1  # another attempt took over
    store.save_delivery(d)
    uow = uow_of(store, clock)
    sending.record_outcomes(uow, [sending.attempt(item, senders())], config)
    assert store.lock_delivery(item[0].id).status is S.SENDING and uow.audits == []


def test_a_delivery_left_sending_past_its_lease_is_sent_again_at_once(store, clock, config):
    """Issue 10: a process killed while sending leaves its batch ``sending``; once the
    lease expires the batch is claimed again, sent, and the resend is audited."""
    record_published(store, clock, config, published(count=1, sms=False))
    assert sending.claim(uow_of(store, clock), Gateway.SMTP, config)  # the process dies here
    clock.advance(seconds=config.notification_lease_seconds + 1)
    uow = uow_of(store, clock)
    [(again, _)] = sending.claim(uow, Gateway.SMTP, config)
    assert (again.status, again.attempts) == (S.SENDING, 2)
    assert "delivery.resent" in [a["action"] for a in uow.audits]


def test_a_live_sender_renews_its_leases_so_they_do_not_expire(store, clock, config):
    record_published(store, clock, config, published(count=2, sms=False))
    in_flight = sending.InFlight()
    in_flight.hold(sending.claim(uow_of(store, clock), Gateway.SMTP, config))
    for _ in range(3):  # three leases' time, renewed all along
        clock.advance(seconds=config.notification_lease_seconds * 0.9)
        assert sending.renew_leases(uow_of(store, clock), in_flight, config) == 2
    assert sending.claim(uow_of(store, clock), Gateway.SMTP, config) == []  # still held
    in_flight.attempts.clear()  # the process died
    clock.advance(seconds=config.notification_lease_seconds + 1)
    assert len(sending.claim(uow_of(store, clock), Gateway.SMTP, config)) == 2


def test_a_row_that_cannot_be_claimed_does_not_stop_the_others(store, clock, config,
                                                              monkeypatch):
    record_published(store, clock, config, published(count=3, sms=False))
    first = store.all()[0]
    original = type(first).start

    def refuse_one(self, now, policy):
        if self.id == first.id:
            raise Conflict("refused for the test")
        original(self, now, policy)

    monkeypatch.setattr(type(first), "start", refuse_one)
    claimed = sending.claim(uow_of(store, clock), Gateway.SMTP, config)
    assert len(claimed) == 2 and first.id not in {d.id for d, _ in claimed}


# --- receipts and listing ---------------------------------------------------------------


def sent_sms(store, clock, config):
    record_published(store, clock, config, published(count=1))
    sending.send_due(Uows(store, clock), config, senders(), serial_imap)
    [sms] = store.all(status=S.SENT)
    return sms


def callback(notify_id: str, reference: str, status: str) -> NotifyCallback:
    return NotifyCallback(id=notify_id, reference=reference, to="+447700900000", status=status,
                          created_at=NOW, notification_type="sms")  # fmt: skip


def test_a_notify_receipt_completes_the_delivery_once(store, clock, config):
    sms = sent_sms(store, clock, config)
    receipt = callback(sms.reference, sms.id, "delivered")
    uow = uow_of(store, clock)
    assert queries.record_receipt(receipt, uow, config) == {
        "id": sms.id, "status": "delivered", "changed": True}  # fmt: skip
    assert uow.audits[-1]["after"]["receipt"] == "delivered"
    assert queries.record_receipt(receipt, uow_of(store, clock), config)["changed"] is False


def test_a_receipt_for_no_notify_delivery_is_not_found(store, clock, config):
    record_published(store, clock, config, published(count=1, sms=False))
    [email] = store.all()
    for reference in (email.id, "nope"):
        with pytest.raises(NotFound):
            queries.record_receipt(
                callback("n1", reference, "delivered"),
                uow_of(store, clock), config,
            )  # fmt: skip


def test_listing_shows_the_callers_own_deliveries_only(store, clock, config):
    record_published(store, clock, config, published(count=2, sms=False))
    q = NotificationsQuery()
    provider = {"role": "provider", "provider_id": "P-t1-1"}
    page = queries.list_notifications(q, uow_of(store, clock), provider)
    assert [i["recipient"] for i in page["items"]] == [ev.email_of("t1", 1)]
    kcc = queries.list_notifications(q, uow_of(store, clock), {"role": "commissioner",
                                                                "authority": "KCC"})  # fmt: skip
    assert len(kcc["items"]) == 2
    other = queries.list_notifications(q, uow_of(store, clock), {"role": "commissioner",
                                                                  "authority": "ESCC"})  # fmt: skip
    assert other["items"] == []
    with pytest.raises(Forbidden):
        queries.list_notifications(q, uow_of(store, clock), {"role": "auditor"})
