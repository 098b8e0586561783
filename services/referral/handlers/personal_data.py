"""The child's personal data (RULES §13): who reads it, erasure by destroying the
referral's data key (crypto-shredding), and legal holds that block erasure. Each change is
audited without the data itself (§9)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from services.common.errors import Conflict
from services.common.logging import get_logger
from services.referral import access
from services.referral.domain.retention import erasure_cutoff
from services.referral.handlers.shared import commit, load
from services.referral.messages import ChildDataView, ErasureRequest, LegalHoldRequest

log = get_logger(__name__)


def child_data(referral_id: str, uow, principal: Mapping) -> ChildDataView:
    """``GET /referrals/{id}/child``: the owner, or the awarded provider from the award on."""
    referral = load(uow, referral_id)
    access.require_child_data_reader(principal, referral)
    return referral.child_data()


def erase(referral_id: str, request: ErasureRequest, uow, principal: Mapping) -> ChildDataView:
    """``POST /referrals/{id}/erasure`` (owner): destroys the data key, so every copy (this
    service's rows and outbox, contracts' placement, dead-lettered messages, backups) is
    unreadable; 409 under a legal hold. Erasing twice changes nothing."""
    referral = load(uow, referral_id, lock=True)
    access.require_owner(principal, referral, "erase this referral's personal data")
    erase_referral(uow, referral, request.reason)
    uow.commit()
    return referral.child_data()


def erase_referral(uow, referral, reason: str) -> bool:
    """Erase one referral's personal data (not committed); False when erased already."""
    if referral.legal_hold:
        raise Conflict(f"a legal hold blocks erasure: {referral.legal_hold}")
    held = referral.personal_data == "held"  # "erased" already if its key is gone
    uow.store.vault.destroy(referral.referral_id)
    referral.personal_data = "erased"
    uow.store.save(referral)
    if held:
        uow.audit("referral.personal_data_erased", "referral", referral.referral_id,
                  {"personal_data": "held"}, {"personal_data": "erased", "reason": reason})
    return held


def place_legal_hold(referral_id: str, request: LegalHoldRequest, uow,
                     principal: Mapping) -> ChildDataView:
    """``PUT /referrals/{id}/legal-hold`` (owner): erasure is refused until it is lifted."""
    referral = load(uow, referral_id, lock=True)
    access.require_owner(principal, referral, "place a legal hold")
    before = referral.legal_hold
    referral.legal_hold = request.reason
    uow.audit("referral.legal_hold_placed", "referral", referral.referral_id,
              {"legal_hold": before}, {"legal_hold": request.reason})
    commit(uow, referral)
    return referral.child_data()


def lift_legal_hold(referral_id: str, uow, principal: Mapping) -> ChildDataView:
    """``DELETE /referrals/{id}/legal-hold`` (owner)."""
    referral = load(uow, referral_id, lock=True)
    access.require_owner(principal, referral, "lift a legal hold")
    if referral.legal_hold is not None:
        uow.audit("referral.legal_hold_lifted", "referral", referral.referral_id,
                  {"legal_hold": referral.legal_hold}, {"legal_hold": None})
        referral.legal_hold = None
        commit(uow, referral)
    return referral.child_data()


def erase_expired(new_uow: Callable, config, authorities) -> int:
    """§13 retention timer: erase the personal data of every referral that ended without
    award longer ago than its authority keeps it, one per transaction, each audited;
    returns how many were erased."""
    erased = 0
    for authority in authorities:
        while True:
            with new_uow() as uow:
                cutoff = erasure_cutoff(uow.now(), authority, config.child_data_retention_months,
                                        config.child_data_retention_by_authority)
                ids = uow.store.ended_referral_ids(authority, cutoff, 1)
                if not ids:
                    break
                referral = load(uow, ids[0])  # locked by the query above
                erase_referral(uow, referral, f"retention: ended before {cutoff.date()}")
                uow.commit()
                erased += 1
    if erased:
        log.info("personal data erased by retention", count=erased)
    return erased
