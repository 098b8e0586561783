"""Issue "Notifications", done-when 1: the service on real RabbitMQ and PostgreSQL, sending
through a real local SMTP server (aiosmtpd) and a local GOV.UK Notify stand-in (RULES §8).

Events are published to the referral and qualification exchanges as their services'
outbox relays do, built with those services' own ``messages.py`` models.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook
from sqlalchemy import delete, func, select

from services.common.errors import Forbidden
from services.notifications import store
from services.qualification import messages as qm
from services.referral import messages as rm
from tests.support import notifications_events as ev
from tests.support.infra import wait_for
from tests.support.notifications_db import deliveries, mine, settled, sms_to


def rpc_as(config, principal: dict | None):
    context = {"principal": json.dumps(principal)} if principal else {}
    return ClusterRpcProxy(config, context_data=context)


def audited(engine, event_id: str) -> list[dict]:
    log = store.TABLES["audit_log"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(log)
            .where(log.c.entity_id == event_id, log.c.action == "deliveries.recorded")
            .order_by(log.c.id)  # as written: unsealed rows have no seq yet (RULES §9)
        )
        return [dict(r._mapping) for r in rows]


# --- referral published: 300 establishments ---------------------------------------------


def test_publication_alerts_300_establishments_once_each_by_email_and_opted_in_sms(
    notifications, smtp_server, notify_server, engine
):
    """RULES §5, §8: every invited establishment's contacts get the anonymised profile by
    email, and by SMS where opted in; a redelivered event sends nothing more."""
    token = ev.new_token()
    event = ev.referral_published(token, 300)
    ev.publish("referral", event)
    ev.publish("referral", event)  # the relay republished it (crash before marking sent)

    wait_for(lambda: len(mine(smtp_server, token)) >= 300, 60, "300 emails")
    opted_in = {ev.phone_of(i) for i in range(300) if i % 3 == 0}
    wait_for(lambda: len(sms_to(notify_server, opted_in)) >= 100, 30, "100 SMS")

    emails = mine(smtp_server, token)
    assert sorted(m.rcpt_tos[0] for m in emails) == sorted(
        ev.email_of(token, i) for i in range(300)
    )
    for message in emails:
        i = int(message.rcpt_tos[0].removeprefix("contact").split(".")[0])
        text, html = message.part("plain"), message.part("html")
        assert message.message["Subject"] == f"Invitation to bid: SEN referral R-{token} from KCC"
        assert text.startswith(f"Dear Contact {i},\n")
        assert f"Establishment {i} {token} is invited to bid" in text
        miles = i % 47
        assert (
            f"Distance from Establishment {i} {token}: "
            f"{'1 mile' if miles == 1 else f'{miles} miles'}" in text
        )
        for detail in (
            "aged 12, female, legal status: Section 20",
            "Autism spectrum condition",
            "Residential 52 weeks (must have)",
            "Return to full-time education",
            f"https://dps.test/referrals/R-{token}",
        ):
            assert detail in text
        assert f"Establishment {i} {token} is invited to bid" in html
        for identity in ev.CHILD_IDENTITY:  # RULES §5: never the child's identity
            assert identity not in text + html + message.message["Subject"]

    # SMS only to contacts who opted in (those with a phone and no opt-in get none)
    sms = sms_to(notify_server, {ev.phone_of(i) for i in range(300)})
    assert sorted(r.payload["phone_number"] for r in sms) == sorted(opted_in)
    assert all(
        f"R-{token}" in r.payload["personalisation"]["body"]
        and "aged 12" in r.payload["personalisation"]["body"]
        for r in sms
    )

    # Recorded once: 300 emails + 100 SMS, now sent (SMS await Notify's receipt)
    settled(engine, f"R-{token}", 300, "delivered", channel="email")
    settled(engine, f"R-{token}", 100, "sent", channel="sms")
    assert len(deliveries(engine, referral_id=f"R-{token}")) == 400

    # Delivered again after the handler's processed-event record was lost: the delivery
    # key (event, recipient, channel, type) still records nothing new.
    processed = store.TABLES["processed_events"]
    with engine.begin() as conn:
        conn.execute(delete(processed).where(processed.c.event_id == event.event_id))
    ev.publish("referral", event)
    wait_for(lambda: len(audited(engine, event.event_id)) == 2, 30, "the redelivery")
    assert audited(engine, event.event_id)[-1]["after"]["deliveries"] == 0
    assert len(deliveries(engine, referral_id=f"R-{token}")) == 400
    assert len(mine(smtp_server, token)) == 300
    assert len(sms_to(notify_server, opted_in)) == 100


def test_two_instances_share_the_sending_without_sending_twice(start_service, smtp_server, engine):
    """DESIGN rule 4: several instances claim different deliveries (SKIP LOCKED)."""
    start_service()
    start_service()
    token = ev.new_token()
    event = ev.referral_published(token, 120, sms=False)
    ev.publish("referral", event)
    wait_for(lambda: len(mine(smtp_server, token)) >= 120, 60, "120 emails")
    settled(engine, f"R-{token}", 120)
    received = [m.rcpt_tos[0] for m in mine(smtp_server, token)]
    assert len(received) == len(set(received)) == 120


# --- failures ---------------------------------------------------------------------------


def test_temporary_refusal_is_retried_and_then_delivered(notifications, smtp_server, engine):
    """RULES §8: a temporary failure is retried with backoff."""
    smtp_server.refuse_next(2, 451)
    token = ev.new_token()
    event = ev.referral_published(token, 1, sms=False)
    ev.publish("referral", event)

    [message] = wait_for(lambda: mine(smtp_server, token), 30, "the retried email")
    assert message.rcpt_tos == [ev.email_of(token, 0)]
    assert [stage for stage, _ in smtp_server.refused] == ["RCPT", "RCPT"]
    [row] = settled(engine, f"R-{token}", 1)
    assert row["attempts"] == 3
    assert "451" in row["last_error"]
    assert row["reference"] == message.message["Message-ID"]


def test_permanent_refusal_is_recorded_and_listed_to_its_owners_only(
    notifications, smtp_server, engine, config
):
    """RULES §8: a permanent failure is recorded and seen by the sender's owner; §10:
    not by another provider or another authority."""
    smtp_server.refuse_next(1, 550, "5.1.1 Mailbox unavailable")
    token = ev.new_token()
    event = ev.referral_published(token, 1, authority="KCC", sms=False)
    provider_id = event.invited[0].provider_id
    ev.publish("referral", event)

    [row] = settled(engine, f"R-{token}", 1, "permanent_failure")
    assert row["attempts"] == 1 and "550 5.1.1 Mailbox unavailable" in row["last_error"]
    assert mine(smtp_server, token) == []

    query = {"referral_id": f"R-{token}"}
    with rpc_as(config, {"role": "provider", "provider_id": provider_id}) as rpc:
        page = rpc.notifications.list_notifications(query)
    [item] = page["items"]
    assert item["status"] == "permanent_failure"
    assert item["recipient"] == ev.email_of(token, 0)
    assert "550" in item["last_error"] and item["attempts"] == 1
    assert item["message_type"] == "referral_invitation"
    with rpc_as(config, {"role": "commissioner", "authority": "KCC"}) as rpc:
        assert [i["id"] for i in rpc.notifications.list_notifications(query)["items"]] == [
            item["id"]
        ]
    with rpc_as(config, {"role": "commissioner", "authority": "ESCC"}) as rpc:
        assert rpc.notifications.list_notifications(query)["items"] == []
    with rpc_as(config, {"role": "provider", "provider_id": "P-someone-else"}) as rpc:
        assert rpc.notifications.list_notifications(query)["items"] == []
    with rpc_as(config, {"role": "auditor"}) as rpc, pytest.raises(Forbidden):
        rpc.notifications.list_notifications(query)


def test_notify_refusals_and_receipts(notifications, notify_server, engine, config):
    """RULES §8 over GOV.UK Notify: a 500 is retried; a receipt completes the delivery,
    a permanent-failure receipt is recorded."""
    notify_server.fail_next(1, 500)
    token = ev.new_token()
    event = ev.referral_published(token, 4)  # contacts 0 and 3 opted in to SMS
    ev.publish("referral", event)
    phones = {ev.phone_of(0), ev.phone_of(3)}
    wait_for(lambda: len(sms_to(notify_server, phones)) == 2, 30, "2 SMS")
    sms_rows = settled(engine, f"R-{token}", 2, "sent", channel="sms")
    assert sorted(r["attempts"] for r in sms_rows) == [1, 2]  # one retried after the 500

    first, second = sms_to(notify_server, phones)
    with rpc_as(config, None) as rpc:
        one = rpc.notifications.record_receipt(notify_server.receipt(first, "delivered"))
        two = rpc.notifications.record_receipt(notify_server.receipt(second, "permanent-failure"))
        again = rpc.notifications.record_receipt(notify_server.receipt(first, "delivered"))
    assert (one["status"], one["changed"]) == ("delivered", True)
    assert (two["status"], two["changed"]) == ("permanent_failure", True)
    assert again["changed"] is False
    by_id = {r["id"]: r for r in deliveries(engine, referral_id=f"R-{token}", channel="sms")}
    assert by_id[first.payload["reference"]]["status"] == "delivered"
    assert "permanent-failure" in by_id[second.payload["reference"]]["last_error"]


def test_rate_limit_queues_rather_than_drops(monkeypatch, start_service, smtp_server, engine):
    """RULES §8: over the limit, deliveries wait for the next window; none is lost."""
    monkeypatch.setenv("DPS_NOTIFICATION_RATE_LIMIT", "183")  # 3 a second
    start_service()
    token = ev.new_token()
    event = ev.referral_published(token, 12, sms=False)
    ev.publish("referral", event)
    wait_for(lambda: len(mine(smtp_server, token)) >= 12, 30, "12 emails")
    rows = settled(engine, f"R-{token}", 12)
    assert len(mine(smtp_server, token)) == 12
    assert {r["attempts"] for r in rows} == {1}  # waiting is not a failed attempt
    with engine.connect() as conn:
        used = conn.execute(
            select(store.rate_windows.c.used).where(store.rate_windows.c.gateway == "smtp")
        ).scalar_one()
    assert 1 <= used <= 3


# --- the other rows of RULES §8 -----------------------------------------------------------


def test_award_sends_the_winner_the_full_referral_and_each_other_bidder_its_feedback(
    notifications, smtp_server, engine, config
):
    """RULES §5, §8: only the winner's message carries the child's identity."""
    token = ev.new_token()
    published = ev.referral_published(token, 4, sms=False)
    ev.publish("referral", published)
    wait_for(lambda: len(mine(smtp_server, token)) >= 4, 30, "the invitations")
    smtp_server.clear()

    winner, second, excluded, silent = published.invited
    ev.publish("referral", ev.referral_awarded(published, winner, bids_count=3, compliant=2))
    ev.publish(
        "referral", ev.bid_feedback(published, second, rank=2, total="81.00", compliant_bids=2)
    )
    ev.publish(
        "referral",
        ev.bid_feedback(
            published,
            excluded,
            rank=None,
            total=None,
            compliant_bids=2,
            reason="missing must-have feature R52",
        ),
    )
    received = wait_for(
        lambda: len(mine(smtp_server, token)) >= 3 and mine(smtp_server, token),
        30,
        "3 award messages",
    )
    by_to = {m.rcpt_tos[0]: m for m in received}
    assert set(by_to) == {ev.email_of(token, i) for i in (0, 1, 2)}  # not the non-bidder

    won = by_to[ev.email_of(token, 0)]
    text = won.part("plain")
    assert won.message["Subject"] == f"Placement awarded to {winner.name}: referral R-{token}"
    for detail in ("£4,000.00 a week", f"PL-R-{token}", "1 April 2031", f"/referrals/R-{token}"):
        assert detail in text
    for identity in (*ev.CHILD_IDENTITY, "9 July 2013"):  # §8, §13: the portal shows them
        assert identity not in text + won.part("html")

    for i, expected in (
        (1, "scored 81.00 points and ranked 2 of 2 compliant bids"),
        (2, "not compliant, so it was not scored: missing must-have feature R52"),
    ):
        message = by_to[ev.email_of(token, i)]
        body = message.part("plain") + message.part("html")
        assert message.message["Subject"] == (
            f"Outcome of referral R-{token}: feedback for Establishment {i} {token}"
        )
        assert expected in body and "winning bid scored 84.08 points" in body
        for identity in ev.CHILD_IDENTITY:
            assert identity not in body
    assert "- Price: 43.75" in by_to[ev.email_of(token, 1)].part("plain")

    # the winner lists its own award message and sees it delivered
    settled(engine, f"R-{token}", 1, message_type="award_winner")
    with rpc_as(config, {"role": "provider", "provider_id": winner.provider_id}) as rpc:
        items = rpc.notifications.list_notifications(
            {"referral_id": f"R-{token}", "message_type": "award_winner"}
        )["items"]
    assert [(i["recipient"], i["status"]) for i in items] == [(ev.email_of(token, 0), "delivered")]


def test_commissioner_rows_clarifications_receipts_and_reminders(
    notifications, smtp_server, engine
):
    """RULES §8: referral closed and parent choice → the owning commissioner's addresses
    (from configuration); clarification → every invited establishment; bid → the
    bidder's receipt; 24 h before the deadline → invited establishments that have not
    bid (nor declined), once."""
    token = ev.new_token()
    deadline = ev.now() + timedelta(hours=23)
    published = ev.referral_published(
        token, 4, deadline=deadline, occurred_at=ev.now() - timedelta(days=2), sms=False
    )
    ev.publish("referral", published)
    wait_for(lambda: len(mine(smtp_server, token)) >= 4, 30, "the invitations")
    smtp_server.clear()
    bidder, decliner, quiet_one, other = published.invited

    ev.publish("referral", ev.bid_received(published, bidder))
    ev.publish(
        "referral",
        rm.InvitationDeclined(
            referral_id=published.referral_id,
            authority="KCC",
            category="SEN",
            establishment_id=decliner.establishment_id,
            provider_id=decliner.provider_id,
            reason_code="no_capacity",
        ),
    )
    ev.publish(
        "referral",
        ev.question_answered(published, "Is a 38-week placement acceptable?", "No: 52 weeks."),
    )
    wait_for(lambda: len(mine(smtp_server, token)) >= 5, 30, "receipt and clarifications")
    wait_for(lambda: _declined(engine, published), 10, "the decline")
    receipt = [
        m for m in mine(smtp_server, token) if m.message["Subject"].startswith("Bid received")
    ]
    assert [m.rcpt_tos for m in receipt] == [[ev.email_of(token, 0)]]
    clarifications = [
        m
        for m in mine(smtp_server, token)
        if m.message["Subject"] == f"Clarification published for referral R-{token}"
    ]
    assert sorted(m.rcpt_tos[0] for m in clarifications) == sorted(
        ev.email_of(token, i) for i in range(4)
    )
    assert "No: 52 weeks." in clarifications[0].part("plain")

    # the reminder timer (fired at once here instead of waiting for its interval)
    smtp_server.clear()
    with entrypoint_hook(notifications, "remind") as remind:
        remind()
        remind()  # a second run (or a second instance) reminds nobody again
    reminders = wait_for(
        lambda: len(mine(smtp_server, token)) >= 2 and mine(smtp_server, token), 20, "2 reminders"
    )
    assert sorted(m.rcpt_tos[0] for m in reminders) == sorted(
        [quiet_one.contacts[0].email, other.contacts[0].email]
    )
    assert all(
        m.message["Subject"].startswith(f"Reminder: bids for referral R-{token} close")
        for m in reminders
    )

    # closed and parent choice: to KCC's configured addresses, not to providers
    smtp_server.clear()
    ev.publish(
        "referral",
        rm.ReferralClosed(
            referral_id=published.referral_id,
            authority="KCC",
            category="SEN",
            bids_count=3,
            early=False,
        ),
    )
    ev.publish(
        "referral",
        rm.ParentChoiceRequired(
            referral_id=published.referral_id,
            authority="KCC",
            category="SEN",
            shortlist=[
                rm.ShortlistEntry(
                    bid_id="B1",
                    establishment_id=bidder.establishment_id,
                    name=bidder.name,
                    total="84.08",
                    weekly_price="4000.00",
                ),
                rm.ShortlistEntry(
                    bid_id="B2",
                    establishment_id=other.establishment_id,
                    name=other.name,
                    total="81.00",
                    weekly_price="3500.00",
                ),
            ],
        ),
    )

    def commissioner_mail():
        return [
            m
            for m in smtp_server.received
            if token in m.message["Subject"] or f"R-{token}" in m.message["Subject"]
        ]

    got = wait_for(
        lambda: len(commissioner_mail()) >= 4 and commissioner_mail(), 30, "commissioner messages"
    )
    assert sorted((m.rcpt_tos[0], m.message["Subject"]) for m in got) == sorted(
        (to, subject)
        for to in ("kcc.placements@kent.example", "duty@kent.example")
        for subject in (
            f"Referral R-{token} closed with 3 bids",
            f"Parents' choice needed for referral R-{token}",
        )
    )
    choice = next(m for m in got if m.message["Subject"].startswith("Parents"))
    assert f"1. {bidder.name}: 84.08 points" in choice.part("plain")


def _declined(engine, published) -> bool:
    i = store.invitations
    with engine.connect() as conn:
        return bool(
            conn.execute(
                select(func.count())
                .select_from(i)
                .where(i.c.referral_id == published.referral_id, i.c.declined.is_(True))
            ).scalar_one()
        )


def test_provider_rows_and_contacts_kept_in_sync(notifications, smtp_server, notify_server, engine):
    """RULES §8: application decided, suspension, reinstatement → the provider (its
    registered address and the establishment's contacts); evidence expiring → email and
    SMS; contacts changed after a referral's snapshot → later alerts go to the new ones."""
    token = ev.new_token()
    provider_id = f"P-{token}"
    ev.publish(
        "qualification",
        qm.ProviderRegistered(
            provider=qm.ProviderView(
                id=provider_id,
                name=f"Provider {token}",
                contact_email=f"office.{token}@example.org",
                created_at=ev.now(),
            )
        ),
    )
    wait_for(lambda: _provider_known(engine, provider_id), 20, "the provider")

    ev.publish(
        "qualification",
        ev.membership_event(
            qm.ApplicationDecided,
            token,
            0,
            provider_id,
            application_id=f"A-{token}",
            status="rejected",
            failures=[qm.CriterionFailure(criterion="INSURANCE", reason="Cover below the minimum")],
            scores={"WORKFORCE": 60, "OUTCOMES_APPROACH": 60, "PERFORMANCE_MONITORING": 60},
            competency=60,
            core_costs={"fees": "4000.00"},
            total_weekly_core_cost="4000.00",
        ),
    )
    ev.publish(
        "qualification",
        ev.membership_event(
            qm.MembershipSuspended,
            token,
            0,
            provider_id,
            membership_id="M1",
            criterion="INSPECTION",
            reason="Ofsted judged it inadequate",
            suspended_by="lead",
            suspended_on=ev.now().date(),
        ),
    )
    ev.publish(
        "qualification",
        ev.membership_event(
            qm.EvidenceExpiring,
            token,
            0,
            provider_id,
            membership_id="M1",
            criterion="INSURANCE",
            expires_on=ev.now().date() + timedelta(days=30),
            days_left=30,
        ),
    )
    got = wait_for(
        lambda: len(mine(smtp_server, token)) >= 6 and mine(smtp_server, token),
        30,
        "6 provider emails",
    )
    by_subject: dict[str, set] = {}
    for m in got:
        by_subject.setdefault(m.message["Subject"].split(":")[0], set()).add(m.rcpt_tos[0])
    both = {f"office.{token}@example.org", ev.email_of(token, 0)}
    assert by_subject == {
        "Application rejected": both,
        "Suspended": both,
        "Evidence expires " + _long(ev.now().date() + timedelta(days=30)): both,
    }
    rejected = next(m for m in got if m.message["Subject"].startswith("Application rejected"))
    assert "INSURANCE: Cover below the minimum" in rejected.part("plain")
    # evidence expiring goes by SMS to every contact with a phone (no opt-in needed)
    wait_for(lambda: sms_to(notify_server, {ev.phone_of(0)}), 20, "the expiry SMS")

    # contacts change after a referral's snapshot: the clarification follows the change
    published = ev.referral_published(token, 1, sms=False)
    ev.publish("referral", published)
    settled(engine, published.referral_id, 1)  # the invitation, to the old contact
    new_email = f"new.{token}@example.org"
    ev.publish(
        "qualification",
        qm.EstablishmentContactsChanged(
            establishment_id=published.invited[0].establishment_id,
            provider_id=published.invited[0].provider_id,
            contacts=[qm.Contact(name="New Person", email=new_email)],
        ),
    )
    wait_for(  # the establishment had contacts already: wait for the new ones
        lambda: [c["email"] for c in _contacts_of(engine, published.invited[0].establishment_id)]
        == [new_email],
        20,
        "the contacts change",
    )
    smtp_server.clear()
    ev.publish("referral", ev.question_answered(published, "Any pets?", "No."))
    [message] = wait_for(lambda: mine(smtp_server, token), 20, "the clarification")
    assert message.rcpt_tos == [new_email]
    assert message.part("plain").startswith("Dear New Person,")


def _long(day) -> str:
    return f"{day.day} {day:%B %Y}"


def _provider_known(engine, provider_id: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                select(func.count())
                .select_from(store.providers)
                .where(store.providers.c.id == provider_id)
            ).scalar_one()
            == 1
        )


def _contacts_of(engine, establishment_id: str) -> list:
    e = store.establishments
    with engine.connect() as conn:
        row = conn.execute(select(e.c.contacts).where(e.c.id == establishment_id)).first()
    return row.contacts if row else []


def test_which_gateway_carries_a_message_type_is_configuration(
    monkeypatch, start_service, smtp_server, notify_server, engine
):
    """Issue "Notifications": channels per message type are configuration
    (``DPS_NOTIFICATION_CHANNELS``): here evidence-expiry email goes through Notify."""
    monkeypatch.setenv(
        "DPS_NOTIFICATION_CHANNELS", json.dumps({"evidence_expiring": {"email": "notify"}})
    )
    start_service()
    token = ev.new_token()
    event = ev.membership_event(
        qm.EvidenceExpiring,
        token,
        7,
        f"P-{token}",
        membership_id="M7",
        criterion="SAFEGUARDING",
        expires_on=ev.now().date() + timedelta(days=30),
        days_left=30,
    )
    ev.publish("qualification", event)

    def notify_email():
        return [
            r
            for r in notify_server.sent
            if r.path.endswith("/email") and r.payload["email_address"] == ev.email_of(token, 7)
        ]

    [email_request] = wait_for(notify_email, 20, "the email through Notify")
    wait_for(lambda: sms_to(notify_server, {ev.phone_of(7)}), 20, "the SMS")
    assert email_request.payload["personalisation"]["subject"].startswith("Evidence expires")
    assert "SAFEGUARDING evidence" in email_request.payload["personalisation"]["body"]
    [row] = settled(engine, None, 1, "sent", channel="email", establishment_id=f"E-{token}-7")
    assert row["gateway"] == "notify"
    assert mine(smtp_server, token) == []
