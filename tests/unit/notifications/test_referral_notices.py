"""RULES §5, §8 (issue 13): a cancellation and a deadline extension reach every invited
establishment, by email only, with no child data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications import domain
from services.notifications.messages import MessageType
from services.notifications.rendering import render
from services.referral import messages as rm
from tests.support.notifications_events import invited

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEAD = {"referral_id": "R-1", "authority": "KCC", "category": "SEN", "occurred_at": AT}


def rendered(plan):
    return render(plan.message_type, {**plan.context, "recipient_name": "Ann"},
                  base_url="https://dps.example")


def test_a_cancellation_goes_to_every_invited_establishment_with_the_reason():
    event = rm.ReferralCancelled(**HEAD, reason="placed with family", status_before="published",
                                 invited=invited("t", 3))
    plans = domain.plan_cancellation(event, {})
    assert [p.establishment_id for p in plans] == ["E-t-0", "E-t-1", "E-t-2"]
    assert {p.message_type for p in plans} == {MessageType.REFERRAL_CANCELLED}
    assert len({p.event_id for p in plans}) == 3  # one delivery key per establishment
    text = rendered(plans[0]).text
    assert "placed with family" in text and "R-1" in text


def test_an_extension_names_both_deadlines_and_whether_a_widening_moved_it():
    later = AT + timedelta(days=5)
    event = rm.ReferralDeadlineExtended(**HEAD, deadline=later, previous_deadline=AT
                                        + timedelta(days=1), cause="widened",
                                        invited=invited("u", 2))
    plans = domain.plan_deadline_extended(event, {})
    assert len(plans) == 2
    message = rendered(plans[0])
    assert "7 March 2026" in message.subject
    assert "widened" in message.text and "3 March 2026" in message.text
