"""Bids (RULES §5): validation against the invitation's snapshot, pricing (§4.4, §6.3),
submission, replacement and withdrawal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from services.common.errors import Conflict, InvalidInput
from services.common.money import fmt, round_pence
from services.referral import access
from services.referral.domain.parts import (
    WITHDRAWN,
    Bid,
    Invitation,
    code_errors,
    new_id,
    raise_all,
)
from services.referral.messages import (
    BidCreate,
    BidReceived,
    CohortTier,
    PriceBreakdown,
    PricedVariableCost,
    QualifiedService,
)
from services.scoring.messages import bid_price


def cohort_discount(tiers: Iterable[CohortTier], children: int) -> Decimal:
    """§4.4: the percent of the highest qualified tier with ``min_children <= children``."""
    applicable = [t for t in tiers if t.min_children <= children]
    return max(applicable, key=lambda t: t.min_children).percent if applicable else Decimal(0)


def free_text(terms: BidCreate) -> list[PricedVariableCost]:
    """The bid's variable costs taken as free-text items (no qualified service checked)."""
    return [
        PricedVariableCost(label=v.label or v.service, weekly=v.weekly or 0)
        for v in terms.variable_costs
    ]


def priced_variable_costs(
    terms: BidCreate, qualified: Iterable[QualifiedService]
) -> tuple[list[PricedVariableCost], list[dict]]:
    """§4.4 "can reduce but not increase": an additional service the establishment
    qualified with, at no more than its qualified unit price × units (exactly that when
    ``weekly`` is left out); a free-text item as given, marked as such. Returns the priced
    items and the field errors."""
    services = {q.name: q for q in qualified}
    priced, errors = [], []
    for i, item in enumerate(terms.variable_costs):
        if item.service is None:
            priced.append(PricedVariableCost(label=item.label, weekly=item.weekly))
            continue
        q = services.get(item.service)
        if q is None:
            known = ", ".join(sorted(services)) or "none"
            errors.append({"loc": ["variable_costs", i, "service"],
                           "msg": f"not an additional service of the qualified offer ({known})"})
            continue
        assert item.units is not None  # the message model requires them
        cap = round_pence(q.unit_price * item.units)
        weekly = cap if item.weekly is None else item.weekly
        if weekly > cap:
            errors.append({"loc": ["variable_costs", i, "weekly"], "msg": (
                f"{fmt(weekly)} exceeds the qualified {fmt(q.unit_price)} per {q.unit} × "
                f"{item.units} = {fmt(cap)} (reduce, never increase)")})
            continue
        priced.append(PricedVariableCost(
            label=item.label or q.name, weekly=weekly, free_text=False, service=q.name,
            units=item.units, unit_price=q.unit_price,
        ))
    return priced, errors


def price_bid(
    terms: BidCreate,
    children: int,
    tiers: Iterable[CohortTier],
    variable: list[PricedVariableCost] | None = None,
) -> PriceBreakdown:
    """A bid's weekly price (§4.4, §5, §6.3) by scoring's one pricing rule
    (``scoring.messages.bid_price``), with the cohort percent of the qualified tiers;
    ``variable`` as ``priced_variable_costs`` gives them (default: free text)."""
    variable = free_text(terms) if variable is None else variable
    percent = cohort_discount(tiers, children)
    discount, weekly = bid_price(
        terms.core_costs.values(), (v.weekly for v in variable), percent, children
    )
    return PriceBreakdown(
        core_costs=terms.core_costs,
        children=children,
        variable_costs=variable,
        discount_percent=percent,
        discount=discount,
        weekly_price=weekly,
    )


class Bidding:
    """Bids on the ``Referral`` aggregate (a mixin of ``referral.Referral``)."""

    def _priced(self, terms: BidCreate, invitation: Invitation, now: datetime) -> PriceBreakdown:
        """Validate a bid against the invitation's snapshot and the referral, then price it."""
        qualified = invitation.snapshot.core_costs
        errors = [
            {"loc": ["core_costs", head], "msg": "not a cost head of the qualified offer"}
            for head in terms.core_costs
            if head not in qualified
        ]
        for head, cap in qualified.items():
            amount = terms.core_costs.get(head)
            if amount is None:
                msg = "missing: give every head of the qualified offer (0.00 if not needed)"
                errors.append({"loc": ["core_costs", head], "msg": msg})
            elif amount > cap:
                msg = f"{fmt(amount)} exceeds the qualified {fmt(cap)} (reduce, never increase)"
                errors.append({"loc": ["core_costs", head], "msg": msg})
        errors += code_errors("needs_met", terms.needs_met, {n.code for n in self.spec.needs})
        errors += code_errors(
            "features_met", terms.features_met, {f.code for f in self.spec.features}
        )
        if terms.proposed_start is not None and terms.proposed_start < now.date():
            errors.append({"loc": ["proposed_start"], "msg": "must not be in the past"})
        variable, wrong = priced_variable_costs(terms, invitation.snapshot.additional_services)
        raise_all(errors + wrong)
        price = price_bid(
            terms, self.children_count, invitation.snapshot.cohort_discounts, variable
        )
        if price.weekly_price <= 0:
            raise InvalidInput.at(["core_costs"], "the weekly price must be more than 0.00")
        return price

    def _bid_event(self, bid: Bid, action: str, now: datetime, reason: str | None = None) -> None:
        self.events.append(
            BidReceived(
                **self._head(now),
                bid_id=bid.bid_id,
                establishment_id=bid.establishment_id,
                provider_id=bid.provider_id,
                action=action,
                reason=reason,
                contacts=self.invitations[bid.establishment_id].snapshot.contacts,
            )
        )

    def submit_bid(self, principal: Mapping, terms: BidCreate, now: datetime) -> Bid:
        """§5: one live bid per invited establishment, before the deadline."""
        invitation = access.require_invited(principal, self, terms.establishment_id, "bid")
        self._require_open(now)
        if invitation.suspended_reason is not None:
            raise Conflict(f"the establishment is suspended: {invitation.suspended_reason}")
        if invitation.establishment_id in self.declines:
            raise Conflict("the establishment has declined this referral")
        if self._live_bid(invitation.establishment_id):
            raise Conflict("the establishment already has a bid: replace or withdraw it")
        bid = Bid(
            bid_id=new_id(),
            provider_id=invitation.provider_id,
            terms=terms,
            price=self._priced(terms, invitation, now),
            submitted_at=now,
        )
        self.bids[bid.bid_id] = bid
        self._bid_event(bid, "submitted", now)
        return bid

    def replace_bid(self, principal: Mapping, bid_id: str, terms: BidCreate, now: datetime) -> Bid:
        """§5: the bidder replaces its live bid before the deadline."""
        bid = access.require_own_bid(principal, self, bid_id)
        self._require_open(now)
        if not bid.live:
            raise Conflict("the bid has been withdrawn")
        if terms.establishment_id != bid.establishment_id:
            raise InvalidInput.at(
                ["establishment_id"], "a bid cannot move to another establishment"
            )
        bid.price = self._priced(terms, self.invitations[bid.establishment_id], now)
        bid.terms = terms
        bid.submitted_at = now
        self._bid_event(bid, "changed", now)
        return bid

    def withdraw_bid(self, principal: Mapping, bid_id: str, now: datetime) -> Bid:
        """§5: the bidder withdraws its live bid before the deadline."""
        bid = access.require_own_bid(principal, self, bid_id)
        self._require_open(now)
        if not bid.live:
            raise Conflict("the bid has already been withdrawn")
        self._withdraw(bid, "withdrawn by the provider", now)
        return bid

    def _withdraw(self, bid: Bid, reason: str, now: datetime) -> None:
        bid.status = WITHDRAWN
        bid.withdrawn_at = now
        bid.withdrawn_reason = reason
        self._bid_event(bid, "withdrawn", now, reason)
