"""From other services' events to RULES §8 messages (``planning``), and the service's
configuration (``config``): pure, no broker, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.routes.notifications import callback_token_ok
from services.common.errors import InvalidInput
from services.notifications import domain as planning
from services.notifications.config import (
    DEFAULT_COMMISSIONER_EMAILS,
    NotificationsConfig,
    parse_commissioner_emails,
)
from services.notifications.messages import Contact, MessageType
from services.notifications.rendering import render
from tests.support import notifications_events as ev

BASE = "https://dps.test"
NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


def rendered_text(plan: planning.Outgoing) -> str:
    r = render(plan.message_type, {**plan.context, "recipient_name": "X"}, base_url=BASE)
    return r.subject + r.text + r.html + (r.sms or "")


def test_contacts_are_normalised_and_a_bad_phone_only_loses_the_sms():
    problems: list[str] = []
    contacts = planning.contacts_of(
        [
            {"name": "Ann", "email": " Ann@Example.ORG ", "phone": "07700 900123",
             "sms_opt_in": True},
            {"name": "Bob", "email": "bob@example.org", "phone": "12", "sms_opt_in": True},
            {"name": "Cat", "email": "not-an-address"},
        ],
        problems,
    )  # fmt: skip
    assert contacts == [
        Contact(name="Ann", email="ann@example.org", phone="+447700900123", sms_opt_in=True),
        Contact(name="Bob", email="bob@example.org", phone=None, sms_opt_in=True),
    ]
    assert len(problems) == 2


def test_invitations_are_one_per_establishment_scoped_and_anonymised():
    """RULES §5: the profile carries no child identity; §8: keyed per establishment."""
    event = ev.referral_published("tok", 3, occurred_at=NOW)
    providers = {event.invited[0].provider_id: {"name": "P", "contact_email": "p@example.org"}}
    plans = planning.plan_invitations(event, providers)
    assert [p.event_id for p in plans] == [f"{event.event_id}/E-tok-{i}" for i in range(3)]
    assert {p.message_type for p in plans} == {MessageType.REFERRAL_INVITATION}
    assert [p.contacts[0].email for p in plans] == [ev.email_of("tok", i) for i in range(3)]
    text = rendered_text(plans[1])
    assert "Establishment 1 tok is invited" in text and "Residential 52 weeks (must have)" in text
    assert not any(secret in text for secret in ev.CHILD_IDENTITY)


def test_fresher_contacts_replace_the_events_copy_and_none_fall_back_to_the_provider():
    event = ev.referral_published("tok", 2, occurred_at=NOW)
    event.invited[1].contacts.clear()
    newer = [Contact(name="New", email="new@example.org")]
    provider = {"name": "Prov", "contact_email": "office@prov.example"}
    plans = planning.plan_invitations(
        event, {event.invited[1].provider_id: provider}, {"E-tok-0": newer}
    )
    assert plans[0].contacts == newer
    assert [c.email for c in plans[1].contacts] == ["office@prov.example"]


def test_no_award_message_carries_the_childs_personal_data():
    """RULES §8, §13: the winner's message links to the full referral; neither it nor the
    other bidders' feedback holds the child's name, reference, address or birth date."""
    published = ev.referral_published("tok", 3, occurred_at=NOW)
    winner, loser, excluded = published.invited
    award = planning.plan_award_winner(
        ev.referral_awarded(published, winner, bids_count=3, compliant=2), None
    )
    text = rendered_text(award)
    for detail in (ev.CHILD_NAME, ev.CHILD_REFERENCE, ev.CHILD_ADDRESS, "9 July 2013"):
        assert detail not in text
    assert f"/referrals/{published.referral_id}" in text
    referral = {"deadline": published.profile.deadline}
    for bidder, kwargs in (
        (loser, {"rank": 2, "total": "81.00"}),
        (excluded, {"rank": None, "total": None, "reason": "missing R52"}),
    ):
        feedback = planning.plan_feedback(
            ev.bid_feedback(published, bidder, compliant_bids=2, **kwargs),
            referral, bidder.name, None,
        )  # fmt: skip
        text = rendered_text(feedback)
        assert not any(secret in text for secret in ev.CHILD_IDENTITY)
        assert "winning bid scored 84.08 points" in text


def test_feedback_after_a_referral_with_no_compliant_bid_and_after_a_parents_choice():
    """RULES §5 ``→ unsuccessful`` has no winner; §6.4 a loser may rank first."""
    published = ev.referral_published("tok", 2, occurred_at=NOW)
    referral = {"deadline": published.profile.deadline}
    none_compliant = planning.plan_feedback(
        ev.bid_feedback(
            published, published.invited[0], rank=None, total=None, compliant_bids=0,
            reason="missing R52", winning_total=None,
        ),
        referral, "Oak", None,
    )  # fmt: skip
    text = rendered_text(none_compliant)
    assert "without an award, because no bid was compliant" in text
    assert "winning" not in text and "missing R52" in text
    first_but_not_chosen = planning.plan_feedback(
        ev.bid_feedback(published, published.invited[1], rank=1, total="84.08",
                        compliant_bids=2),
        referral, "Elm", None,
    )  # fmt: skip
    assert "ranked 1 of 2 compliant bids" in rendered_text(first_but_not_chosen)


def test_commissioner_messages_go_to_the_configured_addresses_of_the_owning_authority():
    published = ev.referral_published("tok", 1, occurred_at=NOW)
    from services.referral import messages as rm

    closed = rm.ReferralClosed(
        referral_id=published.referral_id, authority="KCC", category="SEN", bids_count=1,
        early=True, occurred_at=NOW,
    )  # fmt: skip
    plan = planning.plan_referral_closed(closed, None, {"KCC": ["a@kent.example"]})
    assert [c.email for c in plan.contacts] == ["a@kent.example"]
    assert plan.authority == "KCC" and plan.provider_id is None
    assert "with 1 bid." in rendered_text(plan)
    nobody = planning.plan_referral_closed(closed, None, {"ESCC": ["b@es.example"]})
    assert nobody.contacts == []  # recorded as a permanent failure by the service


def test_a_clarification_or_receipt_for_an_unknown_referral_waits():
    published = ev.referral_published("tok", 1, occurred_at=NOW)
    with pytest.raises(planning.NotReady):
        planning.plan_bid_receipt(ev.bid_received(published, published.invited[0]), None,
                                  None, None)  # fmt: skip


def test_commissioner_addresses_configuration():
    assert parse_commissioner_emails(None) == DEFAULT_COMMISSIONER_EMAILS
    assert set(DEFAULT_COMMISSIONER_EMAILS) == {"BHCC", "ESCC", "ECC", "KCC", "MED", "SCC",
                                                "WSCC"}  # fmt: skip
    assert parse_commissioner_emails('{"KCC": "A@Kent.example", "NEW": ["x@y.example"]}') == {
        "KCC": ["a@kent.example"], "NEW": ["x@y.example"]}  # fmt: skip
    for bad, loc in (("[1]", ["commissioner_emails"]), ('{"KCC": 3}', ["commissioner_emails",
                     "KCC"]), ('{"KCC": "nope"}', ["commissioner_emails", "KCC"])):  # fmt: skip
        with pytest.raises(InvalidInput) as error:
            parse_commissioner_emails(bad)
        assert error.value.errors[0]["loc"] == loc


def test_settings_defaults_point_at_the_local_sink(monkeypatch):
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "NOTIFICATION_RATE_LIMIT",
                 "NOTIFICATION_RETRY_BASE_SECONDS"):  # fmt: skip
        monkeypatch.delenv(f"DPS_{name}", raising=False)
    s = NotificationsConfig()
    assert (s.smtp_host, s.smtp_port, s.smtp_security) == ("127.0.0.1", 8025, "none")
    assert s.rate().budget == 49 and s.retry().base == timedelta(seconds=30)


@pytest.mark.parametrize(
    "header, expected, ok",
    [("Bearer s3cret", "s3cret", True), ("Bearer s3cret ", "s3cret", True),
     ("Bearer s3creT", "s3cret", False), ("s3cret", "s3cret", False),
     (None, "s3cret", False), ("Bearer ", "", False), ("Bearer x", None, False)],
)  # fmt: skip
def test_callback_token_check(header, expected, ok):
    assert callback_token_ok(header, expected) is ok
