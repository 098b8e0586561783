"""The child's personal data (RULES §13): who reads it, erasure by destroying the
referral's data key (crypto-shredding), and legal holds that block erasure. Each change is
audited without the data itself (§9)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from services.common.errors import Conflict, NotFound
from services.common.logging import get_logger
from services.referral import access
from services.referral.domain.retention import erasure_cutoff
from services.referral.handlers.shared import commit, load
from services.referral.messages import (
    ChildDataView,
    ChildDirectPlacementRecord,
    ChildErasureResult,
    ChildReferenceRequest,
    ChildReferralRecord,
    DirectPlacementChildView,
    ErasureRequest,
    LegalHoldRequest,
    ReferralChildExport,
)

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
    award, or whose placement ended, and of every direct placement whose placement ended,
    longer ago than its authority keeps it (``child_data_retention_months``, per authority
    ``child_data_retention_by_authority``); never under a legal hold; one per transaction,
    each audited; returns how many were erased."""
    erased = 0
    for authority in authorities:
        erased += _erase_due(new_uow, config, authority, _next_referral)
        erased += _erase_due(new_uow, config, authority, _next_direct_placement)
    if erased:
        log.info("personal data erased by retention", count=erased)
    return erased


def _erase_due(new_uow: Callable, config, authority: str, erase_next: Callable) -> int:
    erased = 0
    while True:
        with new_uow() as uow:
            cutoff = erasure_cutoff(uow.now(), authority, config.child_data_retention_months,
                                    config.child_data_retention_by_authority)
            if not erase_next(uow, authority, cutoff, f"retention: ended before {cutoff.date()}"):
                return erased
            uow.commit()
            erased += 1


def _next_referral(uow, authority: str, cutoff, reason: str) -> bool:
    ids = uow.store.ended_referral_ids(authority, cutoff, 1)
    if ids:
        erase_referral(uow, load(uow, ids[0]), reason)  # locked by the query above
    return bool(ids)


def _next_direct_placement(uow, authority: str, cutoff, reason: str) -> bool:
    ids = uow.store.ended_direct_placement_ids(authority, cutoff, 1)
    if ids:  # locked by the query above
        erase_direct_placement(uow, uow.store.direct_placement_child(ids[0]), reason)
    return bool(ids)


# --------------------------------------------------------------------------- direct placements


def erase_direct_placement(uow, placement: dict, reason: str) -> bool:
    """Erase one direct placement's child data by destroying its key (named by its
    ``placement_id``; contracts' copy goes with it), like a referral's (§13): refused under
    a legal hold; audited; False when erased already. Not committed."""
    if placement["legal_hold"]:
        raise Conflict(f"a legal hold blocks erasure: {placement['legal_hold']}")
    gone = uow.store.vault.destroy(placement["placement_id"])
    if gone:
        uow.audit("direct_placement.personal_data_erased", "direct_placement",
                  placement["placement_id"], {"personal_data": "held"},
                  {"personal_data": "erased", "reason": reason})
    return gone


def _own_direct_placement(uow, direct_placement_id: str, principal: Mapping,
                          lock: bool = True) -> dict:
    """§10: a direct placement is its authority's; to anyone else it does not exist."""
    found = uow.store.direct_placement_child(direct_placement_id, lock=lock)
    if found is None or access.acting_authority(principal) != found["authority"]:
        raise NotFound("direct placement not found")
    return found


def _direct_view(found: dict) -> DirectPlacementChildView:
    held = found["personal_data"] == "held"
    return DirectPlacementChildView(
        direct_placement_id=found["direct_placement_id"], placement_id=found["placement_id"],
        personal_data=found["personal_data"],
        child_reference=found["child_reference"] if held else None,
        legal_hold=found["legal_hold"], placement_ended_on=found["placement_ended_on"],
    )


def direct_placement_child(direct_placement_id: str, uow,
                           principal: Mapping) -> DirectPlacementChildView:
    """``GET /direct-placements/{id}/child`` (owner, §13): the child reference (``erased``
    once the key is destroyed), the legal hold and the day the placement ended."""
    return _direct_view(_own_direct_placement(uow, direct_placement_id, principal, lock=False))


def place_direct_placement_hold(direct_placement_id: str, request: LegalHoldRequest, uow,
                                principal: Mapping) -> DirectPlacementChildView:
    """``PUT /direct-placements/{id}/legal-hold`` (owner, §13): erasure of the placement's
    child data (on request or by retention) is refused until it is lifted."""
    found = _own_direct_placement(uow, direct_placement_id, principal)
    uow.store.set_direct_placement_hold(direct_placement_id, request.reason)
    uow.audit("direct_placement.legal_hold_placed", "direct_placement", found["placement_id"],
              {"legal_hold": found["legal_hold"]}, {"legal_hold": request.reason})
    uow.commit()
    return _direct_view({**found, "legal_hold": request.reason})


def lift_direct_placement_hold(direct_placement_id: str, uow,
                               principal: Mapping) -> DirectPlacementChildView:
    """``DELETE /direct-placements/{id}/legal-hold`` (owner, §13)."""
    found = _own_direct_placement(uow, direct_placement_id, principal)
    if found["legal_hold"] is not None:
        uow.store.set_direct_placement_hold(direct_placement_id, None)
        uow.audit("direct_placement.legal_hold_lifted", "direct_placement",
                  found["placement_id"], {"legal_hold": found["legal_hold"]},
                  {"legal_hold": None})
        uow.commit()
    return _direct_view({**found, "legal_hold": None})


# --------------------------------------------------------------------------- subject rights


def _child_records(uow, principal: Mapping, request: ChildReferenceRequest):
    authority = access.require_commissioner(principal, "answers subject rights requests")
    index = uow.store.child_index(authority, request.child_reference)
    referrals = [load(uow, rid, lock=True) for rid in uow.store.referral_ids_of_child(
        authority, index)]
    return authority, index, referrals, uow.store.direct_placements_of_child(authority, index)


def export_child(request: ChildReferenceRequest, uow, principal: Mapping) -> ReferralChildExport:
    """§13 subject access: what this service holds about one child of the caller's
    authority (found by its blind index); audited without the reference."""
    authority, index, referrals, direct = _child_records(uow, principal, request)
    export = ReferralChildExport(
        referrals=[
            ChildReferralRecord(
                referral_id=r.referral_id, category=r.category, status=str(r.status),
                created_at=r.created_at, child=r.child_data(), placement_id=r.placement_id,
                spec=r.spec.model_dump(mode="json") if r.personal_data == "held"
                else {"personal_data": "erased"},
            )
            for r in referrals
        ],
        direct_placements=[ChildDirectPlacementRecord(**d) for d in direct],
        key_ids=[r.referral_id for r in referrals] + [d["placement_id"] for d in direct],
        referral_ids=[r.referral_id for r in referrals],
    )
    uow.audit("child_data.exported", "child", index, None,
              {"authority": authority, "referrals": export.referral_ids,
               "direct_placements": [d["placement_id"] for d in direct]})
    uow.commit()
    return export


def erase_child(request: ChildReferenceRequest, uow, principal: Mapping) -> ChildErasureResult:
    """§13 erasure on request: every referral and direct placement of the child, or none
    (409) while any of them is under a legal hold."""
    authority, index, referrals, direct = _child_records(uow, principal, request)
    held = [r.referral_id for r in referrals if r.legal_hold]
    if held:
        raise Conflict(f"a legal hold blocks erasure of referrals {', '.join(held)}")
    held = [d["direct_placement_id"] for d in direct if d["legal_hold"]]
    if held:
        raise Conflict(f"a legal hold blocks erasure of direct placements {', '.join(held)}")
    reason = request.reason or "erasure requested"
    erased = [r.referral_id for r in referrals if erase_referral(uow, r, reason)]
    gone = [d["placement_id"] for d in direct if erase_direct_placement(uow, d, reason)]
    uow.commit()
    return ChildErasureResult(erased_referrals=erased, erased_direct_placements=gone)


def placement_ended(event, uow) -> None:
    """Contracts' ``placement_ended`` (§13): the retention clock of the referral, or of the
    direct placement, whose key sealed the placement's child data starts at its end."""
    if not event.child_key_id:
        return
    after = {"placement_id": event.placement_id, "ended_on": event.ended_on.isoformat()}
    if uow.store.placement_ended(event.child_key_id, event.ended_on):
        uow.audit("referral.placement_ended", "referral", event.child_key_id, None, after)
    elif uow.store.direct_placement_ended(event.child_key_id, event.ended_on) is not None:
        uow.audit("direct_placement.placement_ended", "direct_placement",
                  event.child_key_id, None, after)
