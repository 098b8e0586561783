"""Realistic events of the referral and qualification services, built with their own
``messages.py`` models (the published language), and a publisher that puts them on the
services' events exchanges the way the outbox relay does. Used by the notifications
integration tests, the e2e test and the benchmark."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import kombu

from services.common.events import EventBase, exchange_name
from services.qualification import messages as qm
from services.referral import messages as rm

# The child's identity: only the winner's award message may carry any of it (RULES §5).
CHILD_NAME = "Amelia Hartley-Smith"
CHILD_DOB = date(2013, 7, 9)
CHILD_ADDRESS = "14 Orchard Lane, Maidstone ME14 2AB"
CHILD_REFERENCE = "KCC-CH-778812"
CHILD_IDENTITY = (CHILD_NAME, "Hartley", CHILD_REFERENCE, "Orchard Lane", "ME14 2AB", "9 July 2013")


def now() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    return uuid.uuid4().hex[:10]


def publish(source: str, event: EventBase, amqp_uri: str | None = None) -> EventBase:
    """Publish ``event`` to ``<source>.events`` with its type as routing key (as the relay
    does); stamps ``occurred_at`` if missing."""
    from services.common.config import get_settings

    event = event.stamped(event.occurred_at or now(), event.request_id)
    exchange = kombu.Exchange(exchange_name(source), type="topic", durable=True)
    with kombu.Connection(amqp_uri or get_settings().amqp_uri) as conn:
        producer = conn.Producer()
        producer.publish(
            json.dumps(event.model_dump(mode="json")),
            exchange=exchange,
            routing_key=event.event_type,
            declare=[exchange],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            retry=True,
        )
    return event


# --- referral -------------------------------------------------------------------------


def email_of(token: str, i: int) -> str:
    return f"contact{i}.{token}@example.org"


def phone_of(i: int) -> str:
    return f"+4477009{i:05d}"


def invited(
    token: str, count: int, *, providers: list[str] | None = None, first: int = 0, sms: bool = True
) -> list[rm.InvitationNotice]:
    """``count`` establishments with one contact each. Every third contact has a phone
    and opted in to SMS (unless ``sms=False``); every third (offset 1) has a phone but
    did not opt in."""
    providers = providers or [f"P-{token}-{n}" for n in range(10)]
    result = []
    for i in range(first, first + count):
        phone = phone_of(i) if i % 3 in (0, 1) else None
        result.append(
            rm.InvitationNotice(
                establishment_id=f"E-{token}-{i}",
                provider_id=providers[i % len(providers)],
                name=f"Establishment {i} {token}",
                distance_miles=i % 47,
                contacts=[
                    rm.Contact(
                        name=f"Contact {i}",
                        email=email_of(token, i),
                        phone=phone,
                        sms_opt_in=sms and i % 3 == 0,
                    )
                ],
            )
        )
    return result


def profile(referral_id: str, deadline: datetime, category: str = "SEN") -> rm.AnonymisedProfile:
    return rm.AnonymisedProfile(
        referral_id=referral_id,
        category=category,
        deadline=deadline,
        children_count=1,
        children=[rm.AnonymisedChild(age=12, gender="female", legal_status="Section 20")],
        needs=[
            rm.Need(code="ASC", label="Autism spectrum condition", marks=3),
            rm.Need(code="SALT", label="Speech and language therapy", marks=2),
        ],
        features=[
            rm.Feature(code="R52", label="Residential 52 weeks", must_have=True),
            rm.Feature(code="POOL", label="Hydrotherapy pool", marks=2),
        ],
        desired_outcomes=["Return to full-time education"],
        weights={"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5},
    )


def referral_published(
    token: str,
    count: int,
    *,
    authority: str = "KCC",
    referral_id: str | None = None,
    deadline: datetime | None = None,
    occurred_at: datetime | None = None,
    invitations: list[rm.InvitationNotice] | None = None,
    sms: bool = True,
) -> rm.ReferralPublished:
    referral_id = referral_id or f"R-{token}"
    deadline = deadline or now() + timedelta(days=3)
    return rm.ReferralPublished(
        referral_id=referral_id,
        authority=authority,
        category="SEN",
        profile=profile(referral_id, deadline),
        invited=invitations if invitations is not None else invited(token, count, sms=sms),
        occurred_at=occurred_at,
    )


def full_spec(deadline: datetime) -> rm.ReferralCreate:
    return rm.ReferralCreate(
        category="SEN",
        child_reference=CHILD_REFERENCE,
        children=[
            rm.Child(
                age=12,
                gender="female",
                legal_status="Section 20",
                name=CHILD_NAME,
                date_of_birth=CHILD_DOB,
            )
        ],
        home_location=rm.Location(lat=51.27, lon=0.52),
        address=CHILD_ADDRESS,
        radius_miles=40,
        deadline=deadline,
        needs=[rm.Need(code="ASC", label="Autism spectrum condition", marks=3)],
        features=[rm.Feature(code="R52", label="Residential 52 weeks", must_have=True)],
        desired_outcomes=["Return to full-time education"],
    )


def referral_awarded(
    published: rm.ReferralPublished, winner: rm.InvitationNotice, bids_count: int, compliant: int
) -> rm.ReferralAwarded:
    price = rm.PriceBreakdown(
        core_costs={"fees": Decimal("4000.00")},
        children=1,
        variable_costs=[],
        discount_percent=Decimal(0),
        discount=Decimal(0),
        weekly_price=Decimal("4000.00"),
    )
    return rm.ReferralAwarded(
        referral_id=published.referral_id,
        authority=published.authority,
        category=published.category,
        placement_id=f"PL-{published.referral_id}",
        bid_id=f"B-{winner.establishment_id}",
        provider_id=winner.provider_id,
        establishment_id=winner.establishment_id,
        establishment_name=winner.name,
        contacts=winner.contacts,
        price=price,
        proposed_start=date(2031, 4, 1),
        incentive=None,
        desired_outcomes=["Return to full-time education"],
        published_at=published.occurred_at or now(),
        awarded_at=now(),
        bids_count=bids_count,
        compliant_bids_count=compliant,
        winning_total=Decimal("84.0833"),
        parent_choice=False,
        parent_choice_reason=None,
        referral=published.profile,
    )


def bid_feedback(
    published: rm.ReferralPublished,
    bidder: rm.InvitationNotice,
    *,
    rank: int | None,
    total: str | None,
    compliant_bids: int,
    reason: str | None = None,
    winning_total: str | None = "84.0833",
) -> rm.BidFeedback:
    compliant = reason is None
    subscores = (
        {"P": "43.75", "C": "16.00", "L": "4.00", "O": "7.00", "N": "10.00", "F": "3.33"}
        if compliant
        else None
    )
    return rm.BidFeedback(
        referral_id=published.referral_id,
        authority=published.authority,
        category=published.category,
        provider_id=bidder.provider_id,
        contacts=bidder.contacts,
        feedback=rm.FeedbackView(
            bid_id=f"B-{bidder.establishment_id}",
            establishment_id=bidder.establishment_id,
            awarded=False,
            compliant=compliant,
            reason=reason,
            rank=rank,
            total=Decimal(total) if total else None,
            subscores=subscores,
            weekly_price=Decimal("4200.00"),
            compliant_bids_count=compliant_bids,
            winning_total=Decimal(winning_total) if winning_total else None,
        ),
    )


def bid_received(
    published: rm.ReferralPublished, bidder: rm.InvitationNotice, action: str = "submitted"
) -> rm.BidReceived:
    return rm.BidReceived(
        referral_id=published.referral_id,
        authority=published.authority,
        category=published.category,
        bid_id=f"B-{bidder.establishment_id}",
        establishment_id=bidder.establishment_id,
        provider_id=bidder.provider_id,
        action=action,
        contacts=bidder.contacts,
    )


def question_answered(
    published: rm.ReferralPublished, question: str, answer: str
) -> rm.QuestionAnswered:
    """A clarification answered to every establishment ``published`` invited."""
    return rm.QuestionAnswered(
        referral_id=published.referral_id,
        authority=published.authority,
        category=published.category,
        question_id="Q1",
        question=question,
        answer=answer,
        recipients=published.invited,
    )


# --- qualification -----------------------------------------------------------------------


def membership_event(cls, token: str, i: int, provider_id: str, **fields):
    base = {
        "establishment_id": f"E-{token}-{i}",
        "provider_id": provider_id,
        "establishment_name": f"Establishment {i} {token}",
        "category": "SEN",
        "contacts": [
            qm.Contact(
                name=f"Contact {i}", email=email_of(token, i), phone=phone_of(i), sms_opt_in=False
            )
        ],
    }
    return cls(**{**base, **fields})
