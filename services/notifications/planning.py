"""From other services' events to the messages of RULES §8 (pure: no I/O, no clock).

Each ``plan_*`` function takes an event (validated with its publisher's ``messages.py``)
and what this service keeps of referrals and recipients, and returns :class:`Outgoing`
messages: one message type, one rendering context, the contacts of one party, and the
owners who may list its deliveries. The service then routes (``domain.route``), renders
(``rendering.render``, once per contact for the greeting) and records one delivery per
(event, recipient, channel, type).

Child data minimisation (RULES §5) is kept here as well as in the templates: only
:func:`plan_award_winner` puts the full referral in a context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from services.notifications.domain import scoped_event_id
from services.notifications.messages import Contact, MessageType
from services.qualification import messages as qm
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


class NotReady(Exception):  # noqa: N818 - a reason to retry, not an error
    """The event needs something not known yet (e.g. a referral whose publication has not
    been processed): the handler fails and the event is retried later."""


@dataclass
class Outgoing:
    """One message to one party (RULES §8 "who"), before routing and rendering."""

    event_id: str  # the delivery key's event part (scoped per establishment where needed)
    message_type: MessageType
    context: dict
    contacts: list[Contact]
    provider_id: str | None = None
    authority: str | None = None
    referral_id: str | None = None
    establishment_id: str | None = None
    problems: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Recipients


def contacts_of(raw: Iterable, problems: list[str] | None = None) -> list[Contact]:
    """Our normalised contacts from another service's contact models or dicts.

    A phone number we cannot read drops the phone (email still goes); an email we cannot
    read drops the contact. Each is noted in ``problems``.
    """
    result = []
    for item in raw:
        data = item.model_dump() if hasattr(item, "model_dump") else dict(item)
        data = {k: data.get(k) for k in ("name", "email", "phone", "sms_opt_in")}
        data["sms_opt_in"] = bool(data.get("sms_opt_in"))
        data["name"] = (data.get("name") or data.get("email") or "").strip() or "Contact"
        try:
            result.append(Contact.model_validate(data))
        except ValidationError as exc:
            fields = {e["loc"][0] for e in exc.errors() if e["loc"]}
            if fields == {"phone"}:
                result.append(Contact.model_validate({**data, "phone": None}))
                if problems is not None:
                    problems.append(f"unreadable phone number of {data['email']}: dropped")
            elif problems is not None:
                problems.append(f"unreadable contact {data.get('email')!r}: dropped")
    return result


def with_provider(contacts: list[Contact], provider: Mapping | None) -> list[Contact]:
    """Messages to a provider (RULES §8 "provider") go to its registered contact address
    first, then to the establishment's contacts (duplicates are sent once, ``route``)."""
    if not provider:
        return contacts
    return [
        *contacts_of([{"name": provider["name"], "email": provider["contact_email"]}]),
        *contacts,
    ]


def or_provider(contacts: list[Contact], provider: Mapping | None) -> list[Contact]:
    """An establishment's contacts, or its provider's address when it lists none."""
    return contacts or with_provider([], provider)


Fresher = Mapping[str, list[Contact]]
"""Contacts we were told by qualification after the referral took its snapshot, by
establishment id: they replace the event's copy (a provider changed its contacts)."""


def establishment_contacts(
    establishment_id: str, raw: Iterable, fresher: Fresher | None, problems: list[str]
) -> list[Contact]:
    if fresher and fresher.get(establishment_id):
        return list(fresher[establishment_id])
    return contacts_of(raw, problems)


def _to_establishment(
    event_id: str,
    message_type: MessageType,
    context: dict,
    establishment_id: str,
    raw_contacts: Iterable,
    provider: Mapping | None,
    fresher: Fresher | None,
    *,
    provider_id: str | None,
    referral_id: str | None,
    authority: str | None = None,
) -> Outgoing:
    """One message to an establishment: its contacts (ours where fresher), or its
    provider's address when it lists none."""
    problems: list[str] = []
    contacts = establishment_contacts(establishment_id, raw_contacts, fresher, problems)
    return Outgoing(
        event_id=event_id,
        message_type=message_type,
        context=context,
        contacts=or_provider(contacts, provider),
        provider_id=provider_id,
        authority=authority,
        referral_id=referral_id,
        establishment_id=establishment_id,
        problems=problems,
    )


def commissioner_contacts(authority: str, addresses: Mapping[str, list[str]]) -> list[Contact]:
    return contacts_of(
        {"name": f"{authority} placements team", "email": a} for a in addresses.get(authority, [])
    )


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


def full_referral_of(event: rm.ReferralAwarded) -> dict:
    """The full referral for the winner only (RULES §5 "Full details go only to the
    awarded provider")."""
    spec = event.referral
    return {
        "id": event.referral_id,
        "authority": event.authority,
        "category": event.category,
        "deadline": spec.deadline.isoformat(),
        "child_reference": event.child_reference or spec.child_reference,
        "children": [
            {**_child(c), "name": c.name, "date_of_birth": c.date_of_birth, "address": spec.address}
            for c in spec.children
        ],
        "needs": [n.label for n in spec.needs],
        "requirements": _requirements(spec.features),
        "outcomes": list(event.desired_outcomes or spec.desired_outcomes),
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
        _to_establishment(
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
    return _to_establishment(
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
    return _to_establishment(
        event.event_id,
        MessageType.AWARD_WINNER,
        {
            "referral": full_referral_of(event),
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
    }
    if f.compliant and f.total is not None and f.rank is not None:
        context.update(total=str(f.total), rank=f.rank)
    else:
        context.update(non_compliant_reason=f.reason or "the bid was not compliant", sub_scores={})
    return _to_establishment(
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


# ---------------------------------------------------------------------------------------
# Qualification events (RULES §4.3, §4.5, §8)


def _establishment(event: qm.MembershipEvent) -> dict:
    return {
        "establishment_id": event.establishment_id,
        "establishment_name": event.establishment_name,
        "category": event.category,
    }


def _to_provider(
    event: qm.MembershipEvent, message_type: MessageType, context: dict, provider: Mapping | None
) -> Outgoing:
    problems: list[str] = []
    return Outgoing(
        event_id=event.event_id,
        message_type=message_type,
        context={**_establishment(event), **context},
        contacts=with_provider(contacts_of(event.contacts, problems), provider),
        provider_id=event.provider_id,
        establishment_id=event.establishment_id,
        problems=problems,
    )


def plan_application_decided(event: qm.ApplicationDecided, provider: Mapping | None) -> Outgoing:
    """Application decided → provider, with every failed criterion's reason (§4.3, §8)."""
    return _to_provider(
        event,
        MessageType.APPLICATION_DECIDED,
        {
            "application_id": event.application_id,
            "decision": event.status,
            "reasons": [{"criterion": f.criterion, "reason": f.reason} for f in event.failures],
        },
        provider,
    )


def plan_suspended(event: qm.MembershipSuspended, provider: Mapping | None) -> Outgoing:
    return _to_provider(
        event,
        MessageType.MEMBERSHIP_SUSPENDED,
        {
            "reason": event.reason,
            "suspended_on": event.suspended_on.isoformat(),
        },
        provider,
    )


def plan_reinstated(event: qm.MembershipReinstated, provider: Mapping | None) -> Outgoing:
    return _to_provider(
        event,
        MessageType.MEMBERSHIP_REINSTATED,
        {
            "reinstated_on": event.reinstated_on.isoformat(),
        },
        provider,
    )


def plan_evidence_expiring(event: qm.EvidenceExpiring, provider: Mapping | None) -> Outgoing:
    """Evidence expiring in 30 days → provider, email and SMS (RULES §4.5, §8)."""
    return _to_provider(
        event,
        MessageType.EVIDENCE_EXPIRING,
        {
            "criterion": event.criterion,
            "expires_on": event.expires_on.isoformat(),
        },
        provider,
    )
