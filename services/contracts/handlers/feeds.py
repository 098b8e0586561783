"""Consumed events (DESIGN rule 1, 3): the ``@consumes`` entrypoint has parsed the event and
claimed its id in ``uow``; these handlers apply it and the entrypoint commits.

- referral: ``referral_awarded`` → placement (§7.1); ``direct_placement_recorded`` →
  placement flagged direct (§5); ``referral_published`` / ``_closed`` / ``_unsuccessful`` /
  ``_cancelled`` and ``invitation_declined`` → benchmarking records (§7.6). The placement's
  UNIQUE ``source_key`` stops a copy of an award under another event id.
- qualification: ``provider_registered`` → provider names (publication, §7.5); membership
  events → who runs an establishment (block contracts, §7.3).
"""

from __future__ import annotations

from services.common.crypto import ERASED
from services.contracts import domain
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


def record_award(event: ReferralAwarded, uow) -> None:
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


def record_direct_placement(event: DirectPlacementRecorded, uow) -> None:
    """§5 direct placement (business case 8.10) → a placement flagged direct."""
    p = domain.placement_from_direct(event, child_reference=_child_reference(uow, event))
    if not p.establishment_name:
        for m in uow.store.memberships_of(p.establishment_id):
            p.establishment_name = m["establishment_name"]
    create_placement(uow, p, "placement.created_direct")


def record_referral_published(event: ReferralPublishedFeed, uow) -> None:
    _referral_record(
        uow,
        event,
        published_at=event.occurred_at,
        needs=[n.code for n in event.profile.needs] if event.profile else None,
    )


def record_referral_closed(event: ReferralClosedFeed, uow) -> None:
    _referral_record(uow, event, bids_count=event.bids_count)


def record_referral_unsuccessful(event: ReferralUnsuccessfulFeed, uow) -> None:
    _referral_record(
        uow, event, bids_count=event.bids_count, compliant_bids_count=0, status="unsuccessful"
    )


def record_referral_cancelled(event: ReferralCancelledFeed, uow) -> None:
    _referral_record(uow, event, status="cancelled")


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
    """A provider's name, for publication (§7.5)."""
    uow.store.upsert_provider(event.provider.id, event.provider.name, uow.now())


def record_membership(event: MembershipFeed, uow, status: str) -> None:
    """Who runs an establishment, and whether it is admitted (block contracts, §7.3)."""
    uow.store.upsert_membership(
        establishment_id=event.establishment_id,
        category=event.category,
        provider_id=event.provider_id,
        name=event.establishment_name,
        status=status,
        now=uow.now(),
    )
