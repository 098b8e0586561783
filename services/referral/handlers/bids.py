"""Bid use cases (RULES §5 sealed bids, §10): submit, replace, withdraw, list. A bid is
audited sealed: its terms only as a SHA-256 (``domain.audit_bid``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from services.referral.domain import Bid, Referral, audit_bid
from services.referral.handlers.shared import commit, load
from services.referral.messages import BidCreate, BidView


def _bid_change(
    referral_id: str,
    bid_id: str | None,
    action: str,
    change: Callable[[Referral], Bid],
    uow,
) -> BidView:
    """A bid submitted, replaced or withdrawn by ``change(referral)``, audited sealed as
    ``bid.<action>``."""
    referral = load(uow, referral_id, lock=True)
    before = audit_bid(referral.bids.get(bid_id)) if bid_id else None
    bid = change(referral)
    uow.audit(
        f"bid.{action}",
        "bid",
        bid.bid_id,
        before,
        {"referral_id": referral.referral_id, **audit_bid(bid)},
    )
    commit(uow, referral)
    return referral.bid_view(bid)


def submit_bid(referral_id: str, terms: BidCreate, uow, principal: Mapping) -> BidView:
    """``POST /referrals/{id}/bids``: sealed; checked against the invitation's snapshot
    (a core head above the qualified amount → 422 naming it)."""
    return _bid_change(
        referral_id, None, "submitted", lambda r: r.submit_bid(principal, terms, uow.now()), uow
    )


def replace_bid(
    referral_id: str, bid_id: str, terms: BidCreate, uow, principal: Mapping
) -> BidView:
    """``PUT /referrals/{id}/bids/{bid_id}``: the bidder replaces it before the deadline."""
    return _bid_change(
        referral_id,
        bid_id,
        "replaced",
        lambda r: r.replace_bid(principal, bid_id, terms, uow.now()),
        uow,
    )


def withdraw_bid(referral_id: str, bid_id: str, uow, principal: Mapping) -> BidView:
    """``DELETE /referrals/{id}/bids/{bid_id}``: withdrawn before the deadline."""
    return _bid_change(
        referral_id,
        bid_id,
        "withdrawn",
        lambda r: r.withdraw_bid(principal, bid_id, uow.now()),
        uow,
    )


def list_bids(referral_id: str, uow, principal: Mapping) -> dict:
    """``GET /referrals/{id}/bids``: the owner sees only ``count`` until the deadline,
    then every live bid; a provider its own bids only (§5 sealed, §10)."""
    view = load(uow, referral_id).visible_bids(principal, uow.now())
    # sealed (§5): before the deadline the owner gets {count} only, a provider {items}
    return {k: v for k, v in view.model_dump(mode="json").items() if v is not None}
