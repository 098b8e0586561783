"""Referral messages (RULES §5, §8): from referral's events and what this service keeps
of referrals and recipients to :class:`Outgoing` messages (pure: no I/O, no clock).

Child data minimisation (RULES §5, §13) is kept here as well as in the templates: only
:func:`plan_award_winner` puts the full referral in a context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from services.notifications.domain.recipients import (
    Fresher,
    NotReady,
    Outgoing,
    commissioner_contacts,
    contacts_of,
    establishment_contacts,
    to_establishment,
)
from services.notifications.domain.specs import scoped_event_id
from services.notifications.messages import MessageType
from services.referral import messages as rm

NOT_STATED = "not stated"
SUBSCORE_LABELS = {
    "P": "Price",
    "C": "Core competency",
    "L": "Location",
    "O": "Outcomes",
    "N": "Needs",
    "F": "Features",
}


# ---------------------------------------------------------------------------------------
# Referral profiles (RULES §5)


def _child(child) -> dict:
    return {
        "age": child.age,
        "gender": child.gender,
        "legal_status": child.legal_status or NOT_STATED,
    }


def _requirements(features) -> list[str]:
    return [f"{f.label} (must have)" if f.must_have else f.label for f in features]


def profile_of(event: rm.ReferralPublished | rm.ReferralWidened) -> dict:
    """The anonymised profile (``rendering.ReferralProfile``) of a published referral."""
    p = event.profile
    return {
        "id": event.referral_id,
        "authority": event.authority,
        "category": event.category,
        "deadline": p.deadline.isoformat(),
        "children": [_child(c) for c in p.children],
        "needs": [n.label for n in p.needs],
        "requirements": _requirements(p.features),
        "outcomes": list(p.desired_outcomes),
    }


def _ref(referral_id: str, authority: str, category: str, deadline: datetime | str) -> dict:
    return {
        "id": referral_id,
        "authority": authority,
        "category": category,
        "deadline": deadline.isoformat() if isinstance(deadline, datetime) else deadline,
    }


def ref_of(referral: Mapping) -> dict:
    """``rendering.ReferralRef`` of a referral we keep (no child data)."""
    return _ref(referral["id"], referral["authority"], referral["category"], referral["deadline"])


def ref_from_event(event, deadline: datetime | str) -> dict:
    return _ref(event.referral_id, event.authority, event.category, deadline)


def awarded_referral_of(event: rm.ReferralAwarded) -> dict:
    """The award message's referral: the anonymised profile only (RULES §8, §13: no
    message carries a child's personal data; the winner reads it in the portal)."""
    return {
        **_ref(event.referral_id, event.authority, event.category, event.referral.deadline),
        "children": [_child(c) for c in event.referral.children],
        "needs": [n.label for n in event.referral.needs],
        "requirements": _requirements(event.referral.features),
        "outcomes": list(event.desired_outcomes or event.referral.desired_outcomes),
    }


# ---------------------------------------------------------------------------------------
# Referral events (RULES §5, §8)


def invitation_rows(event: rm.ReferralPublished | rm.ReferralWidened) -> list[dict]:
    """What the reminder timer needs of each invitation."""
    return [
        {
            "establishment_id": i.establishment_id,
            "provider_id": i.provider_id,
            "name": i.name,
            "distance_miles": i.distance_miles,
            "contacts": [c.model_dump() for c in contacts_of(i.contacts)],
        }
        for i in event.invited
    ]


def plan_invitations(
    event: rm.ReferralPublished | rm.ReferralWidened,
    providers: Mapping[str, Mapping],
    fresher: Fresher | None = None,
) -> list[Outgoing]:
    """Referral published or widened → contacts of each newly invited establishment,
    email and SMS where opted in (RULES §8). ``providers``: registered providers by id,
    for establishments that list no contact."""
    profile = profile_of(event)
    widened = isinstance(event, rm.ReferralWidened)
    return _to_each_invited(
        event,
        event.invited,
        MessageType.REFERRAL_INVITATION,
        lambda invited: {
            "referral": profile,
            "establishment_name": invited.name,
            "distance_miles": invited.distance_miles,
            "widened": widened,
        },
        providers,
        fresher,
    )


def _to_each_invited(
    event, invited: Iterable, message_type: MessageType, context_of, providers, fresher
) -> list[Outgoing]:
    """One message per invited establishment, keyed by the event and the establishment."""
    return [
        to_establishment(
            scoped_event_id(event.event_id, i.establishment_id),
            message_type,
            context_of(i),
            i.establishment_id,
            i.contacts,
            providers.get(i.provider_id),
            fresher,
            provider_id=i.provider_id,
            referral_id=event.referral_id,
            authority=event.authority,
        )
        for i in invited
    ]


def plan_reminder(
    invitation: Mapping, referral: Mapping, fresher: Fresher | None = None
) -> Outgoing:
    """24 h before the deadline → an invited establishment that has not bid (RULES §8).

    Keyed ``reminder:<referral>/<establishment>``: one reminder per invitation, ever.
    """
    return Outgoing(
        event_id=scoped_event_id(
            f"reminder:{invitation['referral_id']}", invitation["establishment_id"]
        ),
        message_type=MessageType.DEADLINE_REMINDER,
        context={
            "referral": referral["profile"],
            "establishment_name": invitation["name"],
            "distance_miles": invitation["distance_miles"],
        },
        contacts=establishment_contacts(
            invitation["establishment_id"], invitation["contacts"], fresher, []
        ),
        provider_id=invitation["provider_id"],
        authority=referral["authority"],
        referral_id=invitation["referral_id"],
        establishment_id=invitation["establishment_id"],
    )


def plan_clarification(
    event: rm.QuestionAnswered,
    referral: Mapping | None,
    providers: Mapping[str, Mapping],
    fresher: Fresher | None = None,
) -> list[Outgoing]:
    """Clarification answered → every invited establishment (RULES §5, §8)."""
    if referral is None:
        raise NotReady(f"referral {event.referral_id} is not known yet")
    return _to_each_invited(
        event,
        event.recipients,
        MessageType.CLARIFICATION_ANSWERED,
        lambda invited: {
            "referral": ref_of(referral),
            "establishment_name": invited.name,
            "question": event.question,
            "answer": event.answer,
        },
        providers,
        fresher,
    )


def plan_bid_receipt(
    event: rm.BidReceived,
    referral: Mapping | None,
    establishment_name: str | None,
    provider: Mapping | None,
    fresher: Fresher | None = None,
) -> Outgoing:
    """Bid submitted, changed or withdrawn → the bidder's receipt (RULES §8). No bid
    content: bids are sealed (RULES §5), and the event carries none."""
    if referral is None:
        raise NotReady(f"referral {event.referral_id} is not known yet")
    return to_establishment(
        event.event_id,
        MessageType.BID_RECEIPT,
        {
            "referral": ref_of(referral),
            "establishment_name": establishment_name or event.establishment_id,
            "action": event.action,
            "bid_id": event.bid_id,
            "at": event.occurred_at.isoformat(),
        },
        event.establishment_id,
        event.contacts,
        provider,
        fresher,
        provider_id=event.provider_id,
        referral_id=event.referral_id,
    )


def plan_referral_closed(
    event: rm.ReferralClosed, referral: Mapping | None, commissioners: Mapping[str, list[str]]
) -> Outgoing:
    """Referral closed → owning commissioner, with the count of bids (RULES §8)."""
    deadline = referral["deadline"] if referral else event.occurred_at
    return Outgoing(
        event_id=event.event_id,
        message_type=MessageType.REFERRAL_CLOSED,
        context={
            "referral": ref_from_event(event, deadline),
            "bid_count": event.bids_count,
            "closed_at": event.occurred_at.isoformat(),
        },
        contacts=commissioner_contacts(event.authority, commissioners),
        authority=event.authority,
        referral_id=event.referral_id,
    )


def plan_parent_choice(
    event: rm.ParentChoiceRequired, referral: Mapping | None, commissioners: Mapping[str, list[str]]
) -> Outgoing:
    """Parent choice needed → owning commissioner, with the shortlist (RULES §6.4, §8)."""
    deadline = referral["deadline"] if referral else event.occurred_at
    shortlist = [
        {"rank": rank, "establishment_name": entry.name, "total": str(entry.total or 0)}
        for rank, entry in enumerate(event.shortlist, start=1)
    ]
    return Outgoing(
        event_id=event.event_id,
        message_type=MessageType.PARENT_CHOICE_REQUIRED,
        context={"referral": ref_from_event(event, deadline), "shortlist": shortlist},
        contacts=commissioner_contacts(event.authority, commissioners),
        authority=event.authority,
        referral_id=event.referral_id,
    )


def plan_award_winner(
    event: rm.ReferralAwarded, provider: Mapping | None, fresher: Fresher | None = None
) -> Outgoing:
    """Award → the winner: the award and the full referral (RULES §5, §8)."""
    return to_establishment(
        event.event_id,
        MessageType.AWARD_WINNER,
        {
            "referral": awarded_referral_of(event),
            "establishment_name": event.establishment_name,
            "weekly_price": str(event.price.weekly_price),
            "start_date": event.proposed_start,
            "placement_id": event.placement_id,
        },
        event.establishment_id,
        event.contacts,
        provider,
        fresher,
        provider_id=event.provider_id,
        referral_id=event.referral_id,
        authority=event.authority,
    )


def plan_feedback(
    event: rm.BidFeedback,
    referral: Mapping | None,
    establishment_name: str | None,
    provider: Mapping | None,
    fresher: Fresher | None = None,
) -> Outgoing:
    """Award → each other bidder: its own feedback (RULES §5, §8); also after a referral
    closed without award (no compliant bid)."""
    f = event.feedback
    deadline = referral["deadline"] if referral else event.occurred_at
    awarded = f.winning_total is not None and f.compliant_bids_count > 0
    subscores = f.subscores.model_dump() if f.subscores is not None else {}
    context = {
        "referral": ref_from_event(event, deadline),
        "establishment_name": establishment_name or f.establishment_id,
        "awarded": awarded,
        "compliant_bids": f.compliant_bids_count,
        "winning_total": str(f.winning_total) if f.winning_total is not None else None,
        "sub_scores": {SUBSCORE_LABELS.get(k, k): str(v) for k, v in subscores.items()},
        "explanations": {SUBSCORE_LABELS.get(k, k): v for k, v in f.explanation.items()},
        "winning_sub_scores": {
            SUBSCORE_LABELS.get(k, k): str(v) for k, v in f.winning_subscores.model_dump().items()
        }
        if awarded and f.winning_subscores is not None
        else {},
    }
    if f.compliant and f.total is not None and f.rank is not None:
        context.update(total=str(f.total), rank=f.rank)
    else:
        context.update(
            non_compliant_reason=f.reason or "the bid was not compliant",
            sub_scores={},
            explanations={},
        )
    return to_establishment(
        event.event_id,
        MessageType.AWARD_FEEDBACK,
        context,
        f.establishment_id,
        event.contacts,
        provider,
        fresher,
        provider_id=event.provider_id,
        referral_id=event.referral_id,
        authority=event.authority,
    )



