"""Membership messages (RULES §4.3, §4.5, §8): application decided, suspension,
reinstatement and evidence expiring, to the provider (its registered address, then the
establishment's contacts). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.notifications.domain.recipients import Outgoing, contacts_of, with_provider
from services.notifications.messages import MessageType
from services.qualification import messages as qm


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


def plan_market_invitation(event: qm.MarketInvitation, provider: Mapping | None) -> Outgoing:
    """A PCR DPS migrated to a dynamic market (§11.1): the establishment is invited to
    check and submit its pre-filled application."""
    return _to_provider(
        event,
        MessageType.MARKET_INVITATION,
        {"application_id": event.application_id, "market_title": event.title},
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


def plan_lead_digest(event: qm.LeadDigest, lead_email: str | None) -> Outgoing:
    """Applications overdue for decision (§4.3), re-verifications due (§4.5) → the lead,
    once a day (RULES §8). Keyed by the event: a redelivery sends nothing again."""

    def line(x, reference: str) -> dict:
        return {"establishment_name": x.establishment_name, "category": x.category,
                "due_on": x.due_on.isoformat(), "reference": reference}

    return Outgoing(
        event_id=event.event_id,
        message_type=MessageType.LEAD_DIGEST,
        context={
            "day": event.day.isoformat(),
            "overdue_applications": [line(a, a.application_id)
                                     for a in event.overdue_applications],
            "reverifications_due": [line(x, x.membership_id) for x in event.reverifications_due],
        },
        contacts=contacts_of([{"name": "DPS lead", "email": lead_email}] if lead_email else []),
    )
