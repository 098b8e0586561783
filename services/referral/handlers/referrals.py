"""Referral use cases (RULES §5, §6.1, §10): create, read, list, publish, widen the radius,
close (by the owner, or by the deadline timer), cancel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from services.common import paging
from services.common.errors import Conflict, DomainError, InvalidInput
from services.common.logging import get_logger
from services.qualification.messages import EligibilityQuery
from services.referral import access
from services.referral.domain import (
    DEFAULT_MIN_TENDER_PERIOD_HOURS,
    Referral,
    Status,
    audit_referral,
    standings_at_deadline,
    transition,
)
from services.referral.domain.procurement import PCR2015, Procurement, min_tender_hours
from services.referral.handlers.shared import audit_change, commit, load
from services.referral.messages import (
    CancelRequest,
    CancelResult,
    CloseResult,
    EstablishmentSnapshot,
    ProviderReferralView,
    PublishRequest,
    PublishResult,
    RadiusRequest,
    RadiusResult,
    ReferralCreate,
    ReferralQuery,
    ReferralView,
    Standing,
)

log = get_logger(__name__)


# --------------------------------------------------------------------------- asking others


def eligible(referral: Referral, radius_miles: float, peers) -> list[EstablishmentSnapshot]:
    """§5: qualification's eligible establishments around the child's home."""
    spec = referral.spec
    return peers.eligible(
        EligibilityQuery(
            category=referral.category,
            lat=spec.home_location.lat,
            lon=spec.home_location.lon,
            radius_miles=radius_miles,
            authority=referral.authority,
            dps_id=referral.procurement.dps_id if referral.procurement else None,
        )
    )


def standings(referral: Referral, peers) -> dict[str, Standing]:
    """§6.2, §6.3 C: each live bidder's membership at the deadline (no call without one)."""
    ids = referral.live_bidders()
    if not ids:
        return {}
    dps_id = referral.procurement.dps_id if referral.procurement else None
    return standings_at_deadline(referral, peers.standings(referral.category, ids, dps_id))


def procurement_for(spec: ReferralCreate, peers) -> Procurement:
    """§11.1, §11.3: the market of a new call-off (``spec.dps_id`` or the default one),
    which must be established and not ended, with the category as one of its parts."""
    market = peers.market(spec.dps_id)
    if market.status not in ("open", "entry_closed") or market.state != "established":
        raise Conflict(f"the market {market.dps_id} is {market.status}: no call-off can be "
                       "started under it (RULES §11.1)")
    parts = getattr(market, "parts", None)
    if parts is not None and spec.category not in {p.category for p in parts}:
        raise InvalidInput.at(["category"], f"not a part of the market {market.dps_id}")
    return Procurement(dps_id=market.dps_id, regime=market.regime)


def tender_hours(referral: Referral, category_hours: int) -> int:
    """§11.3, s.54(4): 0 hours is allowed under the Act only."""
    return min_tender_hours(category_hours, referral.regime or PCR2015)


# --------------------------------------------------------------------------- use cases


def create_referral(
    spec: ReferralCreate, uow, principal: Mapping, peers
) -> ReferralView | ProviderReferralView:
    """``POST /referrals``: a draft owned by the caller's authority (§5), its weights
    resolved by scoring against the category's template (§6.1)."""
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
    referral = Referral.create(
        principal, spec, weights, uow.now(), category_min_invited=category.min_invited,
        procurement=procurement_for(spec, peers),
    )
    uow.store.add(referral)
    audit_change(uow, "referral.created", referral, None)
    commit(uow, referral)
    return referral.view_for(principal)


def get_referral(referral_id: str, uow, principal: Mapping) -> ReferralView | ProviderReferralView:
    """``GET /referrals/{id}``: the full record for the owner, the anonymised profile
    with its own invitations for an invited provider (§5, §10)."""
    return load(uow, referral_id).view_for(principal)


def parse_cursor(value: str | None) -> tuple[datetime, str] | None:
    """The last item's ``[created_at, id]`` from a cursor this service issued."""
    key = paging.decode(value)
    if key is None:
        return None
    try:
        return datetime.fromisoformat(key[0]), str(key[1])
    except (TypeError, ValueError, IndexError, KeyError):
        raise InvalidInput.at(["query", "cursor"], "not a cursor from this API") from None


def list_referrals(q: ReferralQuery, uow, principal: Mapping) -> dict:
    """``GET /referrals``: the owner's authority's referrals, or a provider's invited
    ones, anonymised (§10); newest first, paged."""
    cursor = parse_cursor(q.cursor)
    scope, who = access.referral_list_scope(principal)
    if scope == "authority":
        summaries = uow.store.authority_page(who, q, cursor, q.limit)
        keyed = [((s.created_at, s.referral_id), s.model_dump(mode="json")) for s in summaries]
    else:
        keyed = [
            ((r.created_at, r.referral_id), r.view_for(principal).model_dump(mode="json"))
            for r in uow.store.provider_page(who, q, cursor, q.limit)
        ]
    more = len(keyed) > q.limit
    keyed = keyed[: q.limit]
    last = keyed[-1][0] if more else None
    return {
        "items": [item for _, item in keyed],
        "next_cursor": paging.encode([last[0].isoformat(), last[1]]) if last else None,
    }


def publish(
    referral_id: str, request: PublishRequest, uow, principal: Mapping, peers
) -> PublishResult:
    """``POST /referrals/{id}/publish`` (§5): invite every eligible establishment and
    snapshot what scoring needs; 409 with ``invited`` below the minimum."""
    referral = load(uow, referral_id, lock=True)
    access.require_owner(principal, referral, "publish this referral")
    transition(referral.status, Status.PUBLISHED)  # a Conflict before asking anyone
    category = peers.category(referral.category)
    found = eligible(referral, referral.spec.radius_miles, peers)
    before = audit_referral(referral)
    result = referral.publish(
        principal,
        request,
        found,
        uow.now(),
        min_tender_period_hours=tender_hours(referral, category.min_tender_period_hours),
    )
    audit_change(
        uow,
        "referral.published",
        referral,
        before,
        invited_establishments=sorted(referral.invitations),
    )
    commit(uow, referral)
    log.info("referral published", referral_id=referral.referral_id, invited=result.invited)
    return result


def widen_radius(
    referral_id: str, request: RadiusRequest, uow, principal: Mapping, peers
) -> RadiusResult:
    """``POST /referrals/{id}/radius`` (§5 widening): only wider after publishing;
    only the newcomers are invited and alerted."""
    referral = load(uow, referral_id, lock=True)
    found: list[EstablishmentSnapshot] = []
    period = DEFAULT_MIN_TENDER_PERIOD_HOURS
    if referral.check_widening(principal, request, uow.now()):
        found = eligible(referral, request.radius_miles, peers)
        period = tender_hours(referral,
                              peers.category(referral.category).min_tender_period_hours)
    before = audit_referral(referral)
    known = set(referral.invitations)
    result = referral.widen_radius(principal, request, found, uow.now(), period)
    audit_change(
        uow,
        "referral.radius_changed",
        referral,
        before,
        newly_invited=sorted(set(referral.invitations) - known),
        deadline_moved=result.deadline_moved,
    )
    commit(uow, referral)
    return result


def close(referral_id: str, uow, principal: Mapping, peers) -> CloseResult:
    """``POST /referrals/{id}/close``: early only when every invited establishment has
    bid or declined; after the deadline at any time (§5)."""
    referral = load(uow, referral_id, lock=True)
    now = uow.now()
    early = referral.check_closable(principal, now)
    before = audit_referral(referral)
    referral.close_early(principal, now, standings(referral, peers))
    audit_change(uow, "referral.closed", referral, before, early=early)
    commit(uow, referral)
    assert referral.closed_at is not None
    return CloseResult(
        status=referral.status,
        closed_at=referral.closed_at,
        bids_count=len(referral.live_bidders()),
        early=early,
    )


def close_due_referrals(new_uow: Callable, peers, batch: int) -> int:
    """§5 deadline, DESIGN rule 4: close up to ``batch`` published referrals whose
    deadline passed, one per transaction (``new_uow()`` opens each); returns how many were
    looked at. A domain error (e.g. qualification down) stops until the next tick."""
    done = 0
    for _ in range(batch):
        try:
            if not close_one_due(new_uow, peers):
                return done
        except DomainError as exc:
            log.warning("closing a due referral failed; retrying later", error=str(exc))
            return done
        done += 1
    return done


def close_one_due(new_uow: Callable, peers) -> bool:
    """One due referral, selected ``FOR UPDATE SKIP LOCKED`` (safe with several
    instances); closing again is a no-op. False when none is due."""
    with new_uow() as uow:
        ids = uow.store.due_referral_ids(uow.now(), 1)
        if not ids:
            return False
        referral = load(uow, ids[0])  # its row is locked by the query above
        before = audit_referral(referral)
        if referral.close_due(uow.now(), standings(referral, peers)):
            audit_change(uow, "referral.closed", referral, before, early=False, by="deadline")
            commit(uow, referral)
            log.info(
                "referral closed at its deadline",
                referral_id=referral.referral_id,
                bids=len(referral.live_bidders()),
            )
    return True


def cancel(referral_id: str, request: CancelRequest, uow, principal: Mapping) -> CancelResult:
    """``POST /referrals/{id}/cancel`` (§5): any time before award, with a reason."""
    referral = load(uow, referral_id, lock=True)
    before = audit_referral(referral)
    referral.cancel(principal, request, uow.now())
    audit_change(uow, "referral.cancelled", referral, before)
    commit(uow, referral)
    assert referral.cancelled_at is not None
    return CancelResult(
        status=referral.status, reason=request.reason, cancelled_at=referral.cancelled_at
    )
