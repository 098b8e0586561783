"""The recipients of a message (RULES §8 "who") and the message before routing and
rendering (:class:`Outgoing`).

Contacts come from other services' events (qualification's establishment contacts,
referral's snapshot at invitation time) and are normalised here; a provider's registered
address is added to messages for a provider; a commissioner's message goes to the
addresses configured for its authority (``DPS_COMMISSIONER_EMAILS``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from services.notifications.domain.specs import SPECS, Audience
from services.notifications.messages import Contact, MessageType


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


def to_establishment(
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



def names_of(contacts: Iterable[Contact]) -> dict[str, str]:
    """The greeting name of each address (email or phone) of ``contacts``, first wins."""
    names: dict[str, str] = {}
    for contact in contacts:
        names.setdefault(contact.email, contact.name)
        if contact.phone:
            names.setdefault(contact.phone, contact.name)
    return names


def unaddressed(plan: Outgoing) -> tuple[str, str]:
    """``(who, error)`` of a message with nobody to send to: it is recorded as a
    permanent failure, visible to its owners (RULES §8)."""
    if SPECS[plan.message_type].audience is Audience.LEAD:
        return ("the DPS lead", "no lead address configured: set DPS_LEAD_EMAIL")
    if SPECS[plan.message_type].audience is Audience.COMMISSIONER:
        return (
            f"{plan.authority} placements team",
            f"no commissioner address configured for {plan.authority}: "
            "set DPS_COMMISSIONER_EMAILS",
        )
    return (
        f"establishment {plan.establishment_id or '?'}",
        "no contact to send to: the establishment lists none",
    )
