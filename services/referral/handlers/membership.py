"""Consumed events: qualification's (RULES §4.5: a suspended membership's open bids are
withdrawn with the reason and it may not bid until reinstated) and contracts' block
placement (§7.3). Idempotence (claim-once) is
``@consumes``'s, in ``service.py``; these handlers get the parsed event and its unit of
work, and the caller commits."""

from __future__ import annotations

from services.common.logging import get_logger
from services.contracts.messages import ReferralPlacedInBlock
from services.qualification.messages import MembershipReinstated, MembershipSuspended
from services.referral.domain import audit_bid, audit_referral
from services.referral.handlers.shared import load, save

log = get_logger(__name__)


def membership_suspended(event: MembershipSuspended, uow) -> None:
    """§4.5: on every authority's open referrals that invited the establishment."""
    reason = f"{event.criterion}: {event.reason}"
    for referral_id in uow.store.open_referral_ids_inviting(event.establishment_id, event.category):
        referral = load(uow, referral_id, lock=True)
        live = {b.bid_id: audit_bid(b) for b in referral.bids.values() if b.live}
        withdrawn = referral.apply_suspension(
            event.establishment_id, event.category, reason, uow.now()
        )
        uow.audit(
            "invitation.suspended",
            "referral",
            referral_id,
            {"establishment_id": event.establishment_id, "bids": [live[b] for b in withdrawn]},
            {
                "establishment_id": event.establishment_id,
                "reason": reason,
                "withdrawn_bids": withdrawn,
            },
        )
        save(uow, referral)
        if withdrawn:
            log.info("bids withdrawn on suspension", referral_id=referral_id, bids=withdrawn)


def membership_reinstated(event: MembershipReinstated, uow) -> None:
    """§4.5: a reinstated membership may bid again on referrals still open."""
    for referral_id in uow.store.open_referral_ids_inviting(event.establishment_id, event.category):
        referral = load(uow, referral_id, lock=True)
        referral.apply_reinstatement(event.establishment_id, event.category)
        uow.audit(
            "invitation.reinstated",
            "referral",
            referral_id,
            None,
            {"establishment_id": event.establishment_id},
        )
        uow.store.save(referral)


def placed_in_block(event: ReferralPlacedInBlock, uow) -> None:
    """§7.3: a referral's child placed into a free block place awards the referral to that
    placement and closes it (contracts' ``referral_placed_in_block``)."""
    referral = uow.store.get(event.referral_id, lock=True)
    if referral is None:
        log.warning("block place for an unknown referral", referral_id=event.referral_id)
        return
    before = audit_referral(referral)
    if not referral.place_in_block(
        event.authority, event.category, event.placement_id, event.block_id, uow.now()
    ):
        log.warning("block place left the referral alone", referral_id=event.referral_id,
                    status=str(referral.status))
        return
    uow.audit("referral.placed_in_block", "referral", referral.referral_id, before,
              {**audit_referral(referral), "block_id": event.block_id})
    save(uow, referral)
