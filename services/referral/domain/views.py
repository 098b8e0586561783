"""What each party may see of a referral (RULES §5 data minimisation and sealed bids,
§10): the owner's full record, the anonymised profile an invited provider gets, and the
bids each may read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.referral import access
from services.referral.domain.identifying import warnings_for
from services.referral.domain.lifecycle import Status
from services.referral.domain.parts import (
    Bid,
)
from services.referral.messages import (
    AnonymisedChild,
    AnonymisedProfile,
    BidsView,
    BidView,
    ChildDataView,
    ChildDetails,
    ProviderReferralView,
    ReferralView,
)


class ReferralViews:
    """Views of the ``Referral`` aggregate (a mixin of ``referral.Referral``)."""

    def anonymised_profile(self) -> AnonymisedProfile:
        """§5 data minimisation: the only description of the child that providers get."""
        return AnonymisedProfile(
            referral_id=self.referral_id,
            category=self.category,
            deadline=self.deadline,
            children_count=self.children_count,
            children=[
                AnonymisedChild(age=c.age, gender=c.gender, legal_status=c.legal_status)
                for c in self.spec.children
            ],
            needs=self.spec.needs,
            features=self.spec.features,
            desired_outcomes=self.spec.desired_outcomes,
            weights=self.weights,
            incentive=self.spec.incentive,
        )

    def view_for(self, principal: Mapping) -> ReferralView | ProviderReferralView:
        """``GET /referrals/{id}`` (§10): the full record for the owner; the anonymised
        profile with its own invitations for an invited provider."""
        if access.is_owner(principal, self):
            return ReferralView(
                referral_id=self.referral_id,
                authority=self.authority,
                status=self.status,
                spec=self.spec,
                weights=self.weights,
                min_invited=self.min_invited,
                created_at=self.created_at,
                published_at=self.published_at,
                closed_at=self.closed_at,
                invitations=self._notices(),
                declines_count=len(self.declines),
                evaluation=self.evaluation,
                parent_choice_bid_id=self.parent_choice_bid_id,
                awarded_bid_id=self.awarded_bid_id,
                placement_id=self.placement_id,
            block_id=self.block_id,
                cancel_reason=self.cancel_reason,
                personal_data=self.personal_data,
                legal_hold=self.legal_hold,
                procurement=None if self.procurement is None else self.procurement.to_view(),
                personal_data_warnings=warnings_for(self.spec),
            )
        own = access.invitations_of(principal, self)
        if not own:
            raise access.refusal(principal, self, "read this referral")
        return ProviderReferralView(
            **dict(self.anonymised_profile()),
            status=self.status,
            invitations=[i.notice() for i in own],
            child=self.child_data() if access.is_awarded_provider(principal, self) else None,
        )

    def child_data(self) -> ChildDataView:
        """§13: the child's personal data as its entitled readers see it."""
        if self.personal_data == "erased":
            return ChildDataView(referral_id=self.referral_id, personal_data="erased",
                                 legal_hold=self.legal_hold)
        return ChildDataView(
            referral_id=self.referral_id,
            personal_data="held",
            child_reference=self.spec.child_reference,
            children=[ChildDetails(name=c.name, date_of_birth=c.date_of_birth)
                      for c in self.spec.children],
            address=self.spec.address,
            home_location=self.spec.home_location,
            legal_hold=self.legal_hold,
        )

    def bids_opened(self, now: datetime) -> bool:
        """§5 sealed bids: contents open once closed, or past the deadline while published."""
        return self.closed_at is not None or (
            self.status == Status.PUBLISHED and now >= self.deadline
        )

    def visible_bids(self, principal: Mapping, now: datetime) -> BidsView:
        """§5, §10: before the deadline the owner sees only the count of live bids, after it
        every live bid; a provider sees only its own bids (withdrawn ones too)."""
        if access.is_owner(principal, self):
            live = self._live_bids()
            if not self.bids_opened(now):
                return BidsView(count=len(live))
            return BidsView(count=len(live), items=[self._bid_view(b, True) for b in live])
        own = {i.establishment_id for i in access.invitations_of(principal, self)}
        if not own:
            raise access.refusal(principal, self, "read bids")
        return BidsView(
            items=[
                self._bid_view(b, False) for b in self.bids.values() if b.establishment_id in own
            ]
        )

    def bid_view(self, bid: Bid) -> BidView:
        """A bid as its own bidder reads it (§5 sealed: no outcome scores)."""
        return self._bid_view(bid, False)

    def _bid_view(self, bid: Bid, for_owner: bool) -> BidView:
        return BidView(
            **dict(bid.terms),
            bid_id=bid.bid_id,
            provider_id=bid.provider_id,
            status=bid.status,
            price=bid.price,
            submitted_at=bid.submitted_at,
            withdrawn_at=bid.withdrawn_at,
            withdrawn_reason=bid.withdrawn_reason,
            outcome_scores=dict(bid.outcome_scores) if for_owner else None,
        )
