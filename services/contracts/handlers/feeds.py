"""Consumed events (DESIGN rule 1, 3): the ``@consumes`` entrypoint has parsed the event and
claimed its id in ``uow``; these handlers apply it and the entrypoint commits.

- referral: ``referral_awarded`` → placement (§7.1); ``direct_placement_recorded`` →
  placement flagged direct (§5); ``referral_published`` / ``_closed`` / ``_unsuccessful`` /
  ``_cancelled`` and ``invitation_declined`` → benchmarking records (§7.6). The placement's
  UNIQUE ``source_key`` stops a copy of an award under another event id.
- qualification: ``provider_registered`` → provider names (publication, §7.5) and
  identifiers (§11.2); membership events → who runs an establishment (block contracts,
  §7.3); ``market_created`` / ``_established`` / ``_ended`` → the copy of markets.
- Under a Procurement Act dynamic market each of these may raise a §11.4 notice
  (``handlers/notices.py``), in the same unit of work.
"""

from __future__ import annotations

from services.common.crypto import ERASED
from services.contracts import domain
from services.contracts.handlers import notices
from services.contracts.handlers.common import create_placement
from services.contracts.messages import (
    DirectPlacementRecorded,
    InvitationDeclinedFeed,
    MembershipFeed,
    ProviderRegisteredFeed,
    ReferralAwarded,
    ReferralCancelledFeed,
    ReferralClosedFeed,
    ReferralPublishedFeed,
    ReferralUnsuccessfulFeed,
)


def _child_reference(uow, event) -> str:
    """The child reference opened from the event's sealed copy (§13), or ``erased``."""
    sealed = event.child_data
    opened = uow.store.vault.open(sealed.key_id, sealed.sealed) if sealed else ERASED
    return opened["child_reference"] if isinstance(opened, dict) else ERASED


def _referral_record(uow, event, **values) -> None:
    """Merge what one referral event tells into its benchmarking record (§7.6)."""
    uow.store.upsert_referral_record(
        event.referral_id,
        uow.now(),
        authority=event.authority,
        category=event.category,
        **values,
    )


def record_award(event: ReferralAwarded, uow, config=None) -> None:
    """§5 award → §7.1 placement agreement, once per referral; and its benchmarking record."""
    record = domain.referral_record_from_award(event)
    _referral_record(
        uow,
        event,
        published_at=record.published_at,
        needs=list(record.needs) or None,
        bids_count=record.bids_count,
        compliant_bids_count=record.compliant_bids_count,
        awarded_at=record.awarded_at,
        status="awarded",
    )
    key = domain.source_key(domain.PlacementSource.REFERRAL_AWARD, event.referral_id)
    if uow.store.placement_by_source_key(key) is None:
        p = domain.placement_from_award(event, child_reference=_child_reference(uow, event))
        create_placement(uow, p, "placement.created")
    if config is not None:
        notices.record_awarded(event, uow, config)  # §11.4 UK6 (and UK7)


def record_direct_placement(event: DirectPlacementRecorded, uow, config=None) -> None:
    """§5 direct placement (business case 8.10) → a placement flagged direct."""
    p = domain.placement_from_direct(event, child_reference=_child_reference(uow, event))
    if not p.establishment_name:
        for m in uow.store.memberships_of(p.establishment_id):
            p.establishment_name = m["establishment_name"]
    create_placement(uow, p, "placement.created_direct")
    if config is not None:
        notices.record_direct(event, uow, config)  # §11.4 UK6, UK7 (none for user choice)


def record_referral_published(event: ReferralPublishedFeed, uow, config=None) -> None:
    _referral_record(
        uow,
        event,
        published_at=event.occurred_at,
        needs=[n.code for n in event.profile.needs] if event.profile else None,
    )
    if config is not None:
        notices.record_published(event, uow, config)  # §11.4 UK4


def record_referral_closed(event: ReferralClosedFeed, uow) -> None:
    _referral_record(uow, event, bids_count=event.bids_count)


def record_referral_unsuccessful(event: ReferralUnsuccessfulFeed, uow, config=None) -> None:
    _referral_record(
        uow, event, bids_count=event.bids_count, compliant_bids_count=0, status="unsuccessful"
    )
    if config is not None:
        notices.record_terminated(event, uow, config, "unsuccessful")  # §11.4 UK12


def record_referral_cancelled(event: ReferralCancelledFeed, uow, config=None) -> None:
    _referral_record(uow, event, status="cancelled")
    if config is not None:
        notices.record_terminated(event, uow, config, "cancelled")  # §11.4 UK12


def record_decline(event: InvitationDeclinedFeed, uow) -> None:
    """§5 declines feed benchmarking as market-capacity intelligence (§7.6)."""
    uow.store.insert_decline(
        referral_id=event.referral_id,
        establishment_id=event.establishment_id,
        authority=event.authority,
        category=event.category,
        reason_code=event.reason_code,
        at=event.occurred_at,
    )


def record_provider(event: ProviderRegisteredFeed, uow) -> None:
    """A provider's name, for publication (§7.5), and its identifiers (§11.2)."""
    uow.store.upsert_provider(event.provider.id, event.provider.name, uow.now())
    uow.store.set_provider_identifiers(
        event.provider.id, uow.now(), name=None,
        ppon=event.ppon or event.provider.ppon,
        companies_house_number=event.companies_house_number
        or event.provider.companies_house_number)


def record_membership(event: MembershipFeed, uow, status: str, config=None,
                      change: str | None = None) -> None:
    """Who runs an establishment, and whether it is admitted (block contracts, §7.3); an
    admission or removal under a dynamic market (``change``) raises its UK15 (reg 25(6))."""
    uow.store.upsert_membership(
        establishment_id=event.establishment_id,
        category=event.category,
        provider_id=event.provider_id,
        name=event.establishment_name,
        status=status,
        now=uow.now(),
    )
    if change is not None and config is not None:
        notices.record_member_change(event, uow, config, change)
    elif event.ppon or event.companies_house_number:
        uow.store.set_provider_identifiers(
            event.provider_id, uow.now(), name=event.provider_name, ppon=event.ppon,
            companies_house_number=event.companies_house_number)


def record_market(event, uow, config, status: str) -> None:
    """A market created or established (§11.2; UK13, UK14)."""
    notices.record_market(event, uow, config, status)


def record_market_ended(event, uow, config=None) -> None:
    """A market ended (UK16)."""
    notices.record_market_ended(event, uow, config)
