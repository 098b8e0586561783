"""The ``Referral`` aggregate (RULES §5): its fields, creation, publishing and widening,
closing and cancelling. Its state machine is ``lifecycle.MACHINE``; the other behaviour is
in the mixins it is composed of, one module per concept (views, bids, invitations,
clarifications, evaluation, award).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.common.errors import Conflict, InvalidInput
from services.common.events import EventBase
from services.referral import access
from services.referral.domain.award import Awarding
from services.referral.domain.bids import Bidding
from services.referral.domain.clarifications import Clarifications
from services.referral.domain.editing import Editing
from services.referral.domain.evaluation import Evaluation
from services.referral.domain.invitations import Invitations
from services.referral.domain.lifecycle import Status, transition
from services.referral.domain.parts import (
    DEFAULT_MIN_INVITED,
    DEFAULT_MIN_TENDER_PERIOD_HOURS,
    Bid,
    Decline,
    Invitation,
    Question,
    new_id,
)
from services.referral.domain.procurement import Procurement
from services.referral.domain.views import ReferralViews
from services.referral.messages import (
    CancelRequest,
    EstablishmentSnapshot,
    EvaluationView,
    PublishRequest,
    PublishResult,
    RadiusRequest,
    RadiusResult,
    ReferralCancelled,
    ReferralClosed,
    ReferralCreate,
    ReferralPublished,
    ReferralWidened,
    Standing,
)
from services.scoring.messages import WeightsMsg


@dataclass
class Referral(
    ReferralViews, Bidding, Invitations, Clarifications, Evaluation, Awarding, Editing
):
    """A referral (§5): one authority, one category, one child or a cohort of n children.

    ``spec`` is the full record (child data included) and never leaves towards providers;
    ``weights`` are the spec's weights as resolved by scoring (§6.1) when it was created.
    Its behaviour beyond the lifecycle is in the mixins (one module each): what each party
    sees (``views``), bids, invitations, clarifications, evaluation and award.
    """

    referral_id: str
    authority: str
    spec: ReferralCreate
    weights: WeightsMsg
    min_invited: int
    created_at: datetime
    status: Status = Status.DRAFT
    published_at: datetime | None = None
    closed_at: datetime | None = None
    evaluated_at: datetime | None = None
    awarded_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    personal_data: str = "held"  # or "erased" once its data key is destroyed (§13)
    legal_hold: str | None = None  # the reason of a legal hold, which blocks erasure (§13)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    bids: dict[str, Bid] = field(default_factory=dict)
    declines: dict[str, Decline] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    evaluation: EvaluationView | None = None
    parent_choice_bid_id: str | None = None
    parent_choice_reason: str | None = None
    awarded_bid_id: str | None = None
    placement_id: str | None = None
    block_id: str | None = None  # awarded to a free place of this block (§7.3)
    procurement: Procurement | None = None  # regime, market and value (§11.1, §11.3)
    events: list[EventBase] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        principal: Mapping,
        spec: ReferralCreate,
        weights: WeightsMsg,
        now: datetime,
        category_min_invited: int = DEFAULT_MIN_INVITED,
        procurement: Procurement | None = None,
    ) -> Referral:
        """§5 ownership: a commissioner creates a draft for its own authority (the lead for
        WSCC). ``min_invited`` defaults to the category's. ``procurement``: the market and
        regime it starts under, which it keeps (§11.1), valued at once (§11.4)."""
        authority = access.require_commissioner(principal, "creates referrals")
        if spec.deadline <= now:
            raise InvalidInput.at(["deadline"], "must be in the future")
        if procurement is not None:
            procurement = procurement.valued(spec.weekly_price_ceiling, spec.expected_weeks)
        return cls(
            procurement=procurement,
            referral_id=new_id(),
            authority=authority,
            spec=spec,
            weights=weights,
            min_invited=spec.min_invited or category_min_invited,
            created_at=now,
        )

    @property
    def category(self) -> str:
        return self.spec.category

    @property
    def deadline(self) -> datetime:
        return self.spec.deadline

    @property
    def children_count(self) -> int:
        return len(self.spec.children)

    def _head(self, now: datetime) -> dict:
        return {
            "referral_id": self.referral_id,
            "authority": self.authority,
            "category": self.category,
            "occurred_at": now,
        }

    def _procurement_fields(self) -> dict:
        """§11.4: the regime, market and value on the events of its notices."""
        if self.procurement is None:
            return {}
        return self.procurement.valued(self.spec.weekly_price_ceiling,
                                       self.spec.expected_weeks).event_fields()

    @property
    def regime(self) -> str | None:
        return None if self.procurement is None else self.procurement.regime

    def _live_bids(self) -> list[Bid]:
        return [b for b in self.bids.values() if b.live]

    def _live_bid(self, establishment_id: str) -> Bid | None:
        return next((b for b in self._live_bids() if b.establishment_id == establishment_id), None)

    def authorise_owner(self, principal: Mapping, action: str) -> None:
        """§10 owner check alone, for the service to run before it asks other services
        anything on the owner's behalf (403 or 404 as ``access.refusal`` decides)."""
        access.require_owner(principal, self, action)

    def _require_open(self, now: datetime) -> None:
        """§5: bids, questions and declines only while published and before the deadline."""
        if self.status != Status.PUBLISHED:
            raise Conflict(f"the referral is {self.status}")
        if now >= self.deadline:
            raise Conflict("the deadline has passed")

    def publish(
        self,
        principal: Mapping,
        request: PublishRequest,
        eligible: Sequence[EstablishmentSnapshot],
        now: datetime,
        min_tender_period_hours: int = DEFAULT_MIN_TENDER_PERIOD_HOURS,
    ) -> PublishResult:
        """§5: invite every eligible establishment (admitted, within the radius, under the
        authority's cap: the qualification service's list) and alert their contacts."""
        access.require_owner(principal, self, "publish this referral")
        transition(self.status, Status.PUBLISHED)
        earliest = now + timedelta(hours=min_tender_period_hours)
        if self.deadline < earliest:
            raise InvalidInput.at(
                ["deadline"],
                f"must be at least {min_tender_period_hours} hours after publishing "
                f"(not before {earliest.isoformat()})",
            )
        invited = len(eligible)
        if invited == 0 or (invited < self.min_invited and not request.accept_fewer):
            msg = (
                f"{invited} establishment(s) eligible, fewer than the minimum of "
                f"{self.min_invited}: widen the radius"
                + (" or publish with accept_fewer" if invited else "")
            )
            raise Conflict(
                msg,
                [
                    {
                        "loc": ["invited"],
                        "msg": msg,
                        "invited": invited,
                        "min_invited": self.min_invited,
                    }
                ],
            )
        self.status = Status.PUBLISHED
        self.published_at = now
        new = self._invite(eligible, now)
        if self.procurement is not None:  # valued as published (§11.4)
            self.procurement = self.procurement.valued(self.spec.weekly_price_ceiling,
                                                       self.spec.expected_weeks)
        self.events.append(
            ReferralPublished(
                **self._head(now),
                profile=self.anonymised_profile(),
                invited=[i.notice() for i in new],
                title=self.spec.title or f"Placement in {self.category}",
                deadline=self.deadline,
                **self._procurement_fields(),
            )
        )
        return PublishResult(status=self.status, invited=invited)

    def widen_radius(
        self,
        principal: Mapping,
        request: RadiusRequest,
        eligible: Sequence[EstablishmentSnapshot],
        now: datetime,
        min_tender_period_hours: int = DEFAULT_MIN_TENDER_PERIOD_HOURS,
    ) -> RadiusResult:
        """§5 widening: any radius in draft (``eligible`` is then unused); after publishing
        and until the deadline only a wider one, inviting and alerting newcomers only.
        A newcomer gets at least the minimum tender period: the deadline moves out where
        it must, every invited establishment is told, and the reply says so."""
        new: list[Invitation] = []
        if self.check_widening(principal, request, now):
            new = self._invite(eligible, now)
        self.spec = self.spec.model_copy(update={"radius_miles": request.radius_miles})
        moved, note = False, None
        if new:
            previous = self.deadline
            moved = self.give_newcomers_time(now, min_tender_period_hours)
            if moved:
                note = (
                    f"the deadline moved from {previous.isoformat()} to "
                    f"{self.deadline.isoformat()} so that the newly invited get the minimum "
                    f"tender period of {min_tender_period_hours} hours; every invited "
                    "establishment is told"
                )
            self.events.append(
                ReferralWidened(
                    **self._head(now),
                    profile=self.anonymised_profile(),
                    invited=[i.notice() for i in new],
                    radius_miles=request.radius_miles,
                )
            )
        return RadiusResult(
            radius_miles=request.radius_miles,
            invited_total=len(self.invitations),
            newly_invited=len(new),
            deadline=self.deadline,
            deadline_moved=moved,
            note=note,
        )

    def check_widening(self, principal: Mapping, request: RadiusRequest, now: datetime) -> bool:
        """The checks of ``widen_radius`` alone, so that the service asks for the eligible
        list only when it will be used: True after publishing (newcomers are invited),
        False in draft."""
        access.require_owner(principal, self, "change the radius")
        if self.status == Status.DRAFT:
            return False
        self._require_open(now)
        if request.radius_miles <= self.spec.radius_miles:
            raise InvalidInput.at(
                ["radius_miles"],
                f"after publishing the radius can only be widened beyond "
                f"{self.spec.radius_miles} miles",
            )
        return True

    def live_bidders(self) -> list[str]:
        """Establishments with a live bid: whose ``Standing`` the service fetches to close."""
        return [b.establishment_id for b in self._live_bids()]

    def close_due(self, now: datetime, standing: Mapping[str, Standing]) -> bool:
        """§5 deadline timer: closes a published referral whose deadline has passed.
        Idempotent: anything else is left alone and False returned."""
        if self.status != Status.PUBLISHED or now < self.deadline:
            return False
        self._close(now, standing, early=False)
        return True

    def close_early(
        self, principal: Mapping, now: datetime, standing: Mapping[str, Standing]
    ) -> None:
        """§5, API: the owner closes before the deadline only when every invited
        establishment has bid or declined (or been suspended); after it, at any time."""
        early = self.check_closable(principal, now)
        self._close(now, standing, early=early)

    def check_closable(self, principal: Mapping, now: datetime) -> bool:
        """The checks of ``close_early`` alone, so that the service fetches the bidders'
        standing only for a referral it may close; True when it would close early."""
        access.require_owner(principal, self, "close this referral")
        transition(self.status, Status.CLOSED)
        early = now < self.deadline
        if early:
            waiting = [
                i
                for i in self.invitations.values()
                if i.suspended_reason is None
                and i.establishment_id not in self.declines
                and self._live_bid(i.establishment_id) is None
            ]
            if waiting:
                raise Conflict(
                    f"{len(waiting)} invited establishment(s) have neither bid nor declined"
                )
        return early

    def _close(self, now: datetime, standing: Mapping[str, Standing], early: bool) -> None:
        live = self._live_bids()
        missing = [b.establishment_id for b in live if b.establishment_id not in standing]
        if missing:
            raise ValueError(f"no standing at the deadline for {', '.join(missing)}")
        self.status = transition(self.status, Status.CLOSED)
        self.closed_at = now
        for bid in live:
            bid.standing = standing[bid.establishment_id]
        self.events.append(ReferralClosed(**self._head(now), bids_count=len(live), early=early))

    def cancel(self, principal: Mapping, request: CancelRequest, now: datetime) -> None:
        """§5: the owner cancels at any time before award, with a reason."""
        access.require_owner(principal, self, "cancel this referral")
        before = self.status
        self.status = transition(self.status, Status.CANCELLED)
        self.cancelled_at = now
        self.cancel_reason = request.reason
        self.events.append(
            ReferralCancelled(
                **self._head(now),
                reason=request.reason,
                status_before=before,
                invited=self._notices(),
                was_published=self.published_at is not None,
                **self._procurement_fields(),
            )
        )
