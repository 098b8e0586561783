"""RULES §8: who gets which message on which channel, through which gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import InvalidInput
from services.notifications.domain import (
    SPECS,
    Audience,
    ChannelConfig,
    Route,
    SmsPolicy,
    reminder_due,
    route,
    scoped_event_id,
)
from services.notifications.messages import Channel, Contact, Gateway, MessageType

ANN = Contact(name="Ann", email="ann@example.org", phone="07700 900001", sms_opt_in=True)
BOB = Contact(name="Bob", email="bob@example.org", phone="07700 900002", sms_opt_in=False)
CAT = Contact(name="Cat", email="cat@example.org", sms_opt_in=True)  # opted in, no phone
DEFAULT = ChannelConfig()


def test_every_row_of_the_rules_table_has_a_spec():
    assert set(SPECS) == set(MessageType)


def test_invitation_goes_by_sms_only_to_opted_in_contacts_with_a_phone():
    """§8: referral published or widened → email, and SMS where opted in."""
    assert route(MessageType.REFERRAL_INVITATION, [ANN, BOB, CAT], DEFAULT) == [
        Route("ann@example.org", Channel.EMAIL, Gateway.SMTP),
        Route("+447700900001", Channel.SMS, Gateway.NOTIFY),
        Route("bob@example.org", Channel.EMAIL, Gateway.SMTP),
        Route("cat@example.org", Channel.EMAIL, Gateway.SMTP),
    ]


def test_evidence_expiry_goes_by_sms_to_every_contact_with_a_phone():
    """§8: evidence expiring in 30 days → provider, email and SMS."""
    sms = [r.recipient for r in route(MessageType.EVIDENCE_EXPIRING, [ANN, BOB, CAT], DEFAULT)
           if r.channel is Channel.SMS]  # fmt: skip
    assert sms == ["+447700900001", "+447700900002"]


@pytest.mark.parametrize(
    "message_type",
    [t for t in MessageType if t not in (MessageType.REFERRAL_INVITATION,
                                         MessageType.EVIDENCE_EXPIRING)],
)  # fmt: skip
def test_other_messages_are_email_only(message_type):
    routes = route(message_type, [ANN, BOB], DEFAULT)
    assert {r.channel for r in routes} == {Channel.EMAIL}
    assert SPECS[message_type].sms is SmsPolicy.NEVER


contacts = st.builds(
    Contact,
    name=st.just("X"),
    email=st.sampled_from([f"p{i}@example.org" for i in range(4)]),
    phone=st.none() | st.sampled_from([f"07700 90000{i}" for i in range(4)]),
    sms_opt_in=st.booleans(),
)


@given(st.lists(contacts, max_size=8))
def test_routing_property(people):
    """Every distinct email once; SMS exactly for opted-in contacts with a phone."""
    routes = route(MessageType.REFERRAL_INVITATION, people, DEFAULT)
    assert len(routes) == len(set(routes))
    assert {r.recipient for r in routes if r.channel is Channel.EMAIL} == {p.email for p in people}
    assert {r.recipient for r in routes if r.channel is Channel.SMS} == {
        p.phone for p in people if p.phone and p.sms_opt_in
    }


def test_channel_config_overrides_per_message_type():
    config = ChannelConfig.parse(
        '{"default": {"email": "notify"}, "award_winner": {"email": "smtp"}}'
    )
    assert config.gateway(MessageType.BID_RECEIPT, Channel.EMAIL) is Gateway.NOTIFY
    assert config.gateway(MessageType.AWARD_WINNER, Channel.EMAIL) is Gateway.SMTP
    assert config.gateway(MessageType.REFERRAL_INVITATION, Channel.SMS) is Gateway.NOTIFY
    assert route(MessageType.AWARD_WINNER, [ANN], config) == [
        Route("ann@example.org", Channel.EMAIL, Gateway.SMTP)
    ]


@pytest.mark.parametrize("raw", [None, "", "  ", {}])
def test_channel_config_defaults(raw):
    config = ChannelConfig.parse(raw)
    assert config.gateway(MessageType.BID_RECEIPT, Channel.EMAIL) is Gateway.SMTP
    assert config.gateway(MessageType.EVIDENCE_EXPIRING, Channel.SMS) is Gateway.NOTIFY


@pytest.mark.parametrize(
    "raw, loc",
    [
        ("{not json", ["channels"]),
        ("[1]", ["channels"]),
        ('{"defaults": {}}', ["defaults"]),
        ('{"default": "smtp"}', ["default"]),
        ('{"default": {"fax": "smtp"}}', ["default", "fax"]),
        ('{"bid_receipt": {"email": "pigeon"}}', ["bid_receipt", "email"]),
        ('{"default": {"sms": "smtp"}}', ["default", "sms"]),
    ],
)
def test_channel_config_mistakes_name_the_field(raw, loc):
    with pytest.raises(InvalidInput) as error:
        ChannelConfig.parse(raw)
    assert error.value.errors[0]["loc"] == loc


def test_audiences_follow_the_rules_table():
    commissioner = {t for t, spec in SPECS.items() if spec.audience is Audience.COMMISSIONER}
    assert commissioner == {MessageType.REFERRAL_CLOSED, MessageType.PARENT_CHOICE_REQUIRED}
    assert [t for t, spec in SPECS.items() if spec.full_referral] == [MessageType.AWARD_WINNER]


DEADLINE = datetime(2025, 3, 14, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "invited_hours_before, now_hours_before, due",
    [
        (72, 25, False),  # too early
        (72, 24, True),  # exactly 24 h before
        (72, 1, True),
        (72, 0, False),  # at the deadline: too late
        (24, 23, False),  # invited at the reminder point: the invitation was the alert
        (10, 5, False),  # invited within the last 24 h
    ],
)
def test_reminder_is_due_24_hours_before_the_deadline(invited_hours_before, now_hours_before, due):
    """§8: 24 h before the deadline → invited establishments that have not bid."""
    invited_at = DEADLINE - timedelta(hours=invited_hours_before)
    now = DEADLINE - timedelta(hours=now_hours_before)
    assert reminder_due(DEADLINE, invited_at, now) is due


def test_scoped_event_id_separates_establishments_of_one_event():
    assert scoped_event_id("ev-1", "E-1") != scoped_event_id("ev-1", "E-2")
