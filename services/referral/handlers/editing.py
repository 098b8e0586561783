"""Referral use cases of a less than perfect day (RULES §5, issue 13): edit a draft, extend
the deadline, copy an unsuccessful or cancelled referral into a new draft."""

from __future__ import annotations

from collections.abc import Mapping

from services.common.validation import parse
from services.referral.domain import audit_referral
from services.referral.handlers.shared import audit_change, commit, load
from services.referral.messages import (
    CopyRequest,
    DeadlineRequest,
    DeadlineResult,
    ReferralCreate,
    ReferralUpdate,
    ReferralView,
)


def merged_spec(spec: ReferralCreate, patch: ReferralUpdate) -> ReferralCreate:
    """The draft's record with the fields given replaced (a 422 names a bad one)."""
    given = patch.model_dump(mode="json", exclude_unset=True)
    merged = {**spec.model_dump(mode="json"), **given}
    if "weights" in given and "price_weight" not in given:
        merged["price_weight"] = None
    if "price_weight" in given and "weights" not in given:
        merged["weights"] = None
    return parse(ReferralCreate, merged)


def edit_draft(
    referral_id: str, patch: ReferralUpdate, uow, principal: Mapping, peers
) -> ReferralView:
    """``PATCH /referrals/{id}`` (§5 draft edits): the weights resolved again (§6.1)."""
    referral = load(uow, referral_id, lock=True)
    referral.authorise_owner(principal, "edit this referral")
    spec = merged_spec(referral.spec, patch)
    category = peers.category(spec.category)
    weights = peers.resolve_weights(
        {
            "weights": spec.weights.model_dump() if spec.weights else None,
            "price_weight": spec.price_weight,
            "template": dict(category.referral_weights) or None,
            "has_needs": bool(spec.needs),
            "has_desirable": any(not f.must_have for f in spec.features),
        }
    )
    before = audit_referral(referral)
    referral.edit_draft(principal, spec, weights, uow.now(), category.min_invited)
    audit_change(uow, "referral.edited", referral, before, fields=sorted(patch.model_fields_set))
    commit(uow, referral)
    return referral.view_for(principal)


def extend_deadline(
    referral_id: str, request: DeadlineRequest, uow, principal: Mapping
) -> DeadlineResult:
    """``POST /referrals/{id}/deadline`` (§5 extension): every invited one is told."""
    referral = load(uow, referral_id, lock=True)
    before = audit_referral(referral)
    result = referral.extend_deadline(principal, request, uow.now())
    audit_change(uow, "referral.deadline_extended", referral, before,
                 previous_deadline=result.previous_deadline.isoformat())
    commit(uow, referral)
    return result


def copy_referral(
    referral_id: str, request: CopyRequest, uow, principal: Mapping
) -> ReferralView:
    """``POST /referrals/{id}/copy`` (§5 re-run): a new draft, audited with its origin."""
    original = load(uow, referral_id)
    copy = original.copy_as_draft(principal, request, uow.now())
    uow.store.add(copy)
    audit_change(uow, "referral.created", copy, None, copied_from=original.referral_id)
    commit(uow, copy)
    return copy.view_for(principal)
