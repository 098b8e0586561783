"""Recipients from qualification's events (DESIGN rule 1, RULES §8 "provider") and the
membership messages (RULES §4.3, §4.5, §8). Consumed events: ``(event, uow[, config])``;
the claim-once and the commit are the ``@consumes`` entrypoint's.
"""

from __future__ import annotations

from collections.abc import Callable

from services.common.logging import get_logger
from services.notifications import domain
from services.notifications.config import NotificationsConfig
from services.notifications.domain import Outgoing
from services.notifications.handlers.recording import record
from services.notifications.messages import Contact
from services.qualification import messages as qm

log = get_logger(__name__)


def provider_registered(event: qm.ProviderRegistered, uow) -> None:
    """A provider's registered contact address (RULES §8 "provider")."""
    p = event.provider
    if uow.store.upsert_provider(
        p.id, p.name, str(p.contact_email), event.occurred_at or uow.now()
    ):
        uow.audit(
            "recipient.provider_updated",
            "provider",
            p.id,
            None,
            {"name": p.name, "contact_email": str(p.contact_email)},
        )


def establishment_contacts_changed(event: qm.EstablishmentContactsChanged, uow) -> None:
    """An establishment changed its contacts (RULES §8 recipients): the
    newest event wins (``messages.EstablishmentContacts``)."""
    contacts = contacts_of(event)
    if uow.store.upsert_contacts(
        event.establishment_id, event.provider_id, contacts, event.occurred_at or uow.now()
    ):
        audit_contacts(uow, event.establishment_id, contacts)


def membership_event(
    event: qm.MembershipEvent,
    uow,
    config: NotificationsConfig,
    plan: Callable[[qm.MembershipEvent, dict | None], Outgoing] | None = None,
) -> None:
    """Sync the establishment from a membership event and, with ``plan``, record the
    provider's message (RULES §8 "provider")."""
    contacts = contacts_of(event)
    if uow.store.upsert_establishment(
        event.establishment_id,
        event.provider_id,
        event.establishment_name,
        contacts,
        event.occurred_at or uow.now(),
    ):
        audit_contacts(uow, event.establishment_id, contacts)
    if plan is not None:
        provider = uow.store.get_provider(event.provider_id)
        record(uow, [plan(event, provider)], config, event)


def membership_admitted(event: qm.MembershipAdmitted, uow, config: NotificationsConfig) -> None:
    membership_event(event, uow, config)


def application_decided(event: qm.ApplicationDecided, uow, config: NotificationsConfig) -> None:
    """RULES §4.3, §8: the provider hears the decision and every failed reason."""
    membership_event(event, uow, config, domain.plan_application_decided)


def membership_suspended(
    event: qm.MembershipSuspended, uow, config: NotificationsConfig
) -> None:
    membership_event(event, uow, config, domain.plan_suspended)


def membership_reinstated(
    event: qm.MembershipReinstated, uow, config: NotificationsConfig
) -> None:
    membership_event(event, uow, config, domain.plan_reinstated)


def evidence_expiring(event: qm.EvidenceExpiring, uow, config: NotificationsConfig) -> None:
    """RULES §4.5, §8: evidence expiring in 30 days, email and SMS."""
    membership_event(event, uow, config, domain.plan_evidence_expiring)


def market_invitation(event: qm.MarketInvitation, uow, config: NotificationsConfig) -> None:
    """RULES §11.1: a migrated establishment is invited to join the dynamic market."""
    membership_event(event, uow, config, domain.plan_market_invitation)


def lead_digest(event: qm.LeadDigest, uow, config: NotificationsConfig) -> None:
    """RULES §8: applications overdue for decision, re-verifications due → the lead."""
    record(uow, [domain.plan_lead_digest(event, config.lead_email)], config, event)


def contacts_of(event) -> list[Contact]:
    """The event's contacts, normalised; unreadable ones are logged and dropped."""
    problems: list[str] = []
    contacts = domain.contacts_of(event.contacts, problems)
    for problem in problems:
        log.warning("contact skipped", establishment_id=event.establishment_id, problem=problem)
    return contacts


def audit_contacts(uow, establishment_id: str, contacts: list[Contact]) -> None:
    uow.audit(
        "recipient.contacts_updated",
        "establishment",
        establishment_id,
        None,
        {"contacts": [c.model_dump() for c in contacts]},
    )
