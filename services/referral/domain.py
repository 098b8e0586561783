"""Referrals: the mini-competition for a child's placement (RULES §5), what it hands to
scoring (§6) and who may see what of it (§10).

Pure: plain classes, no I/O, no clock (every method takes ``now``). Methods check the
caller's rights, enforce the §5 lifecycle and append events (``messages``) to
``Referral.events``; the service emits them through its outbox. Principals are dicts
``{role, authority?, provider_id?}`` as the gateway passes them.

Decisions where RULES and API.md are silent (each one is tested):

- **Access (§10).** The owner is a commissioner of the referral's authority, or the lead
  acting for WSCC. A principal who may know the referral (the owner, an invited provider)
  but acts outside its rights gets ``Forbidden``: e.g. an invited provider bidding for an
  establishment that was not invited, or the owner bidding. Anyone else gets ``NotFound``
  (admitting that the referral exists would leak), except roles that never see referrals
  (contract manager, auditor), which get ``Forbidden``.
- **Distance shown to providers** is the exact distance rounded *down* to whole miles, so the
  figure a provider sees is in the same §6.3 location band as the distance scored.
- **Deadline.** "After the deadline" starts at the deadline itself: nothing is accepted at
  ``now >= deadline``. Publishing needs ``deadline >= published_at + min tender period``.
- **Publishing** below ``min_invited`` is refused (``Conflict`` carrying ``invited`` and
  ``min_invited`` in ``errors[0]``) unless ``accept_fewer``; with no eligible establishment
  at all it is refused even then.
- **Widening** is free in draft (nobody is invited yet; narrowing too). After publishing,
  until the deadline, the radius must grow and only establishments not yet invited are
  invited and alerted.
- **Bids.** Core costs are weekly **per child**, one for **every** head of the qualified
  offer (0.00 where a head is not needed): an unknown, missing or higher head is refused
  naming ``["core_costs", head]``. The price is the scoring service's rule (§4.4, §6.3):
  the cohort discount (highest qualified tier with ``min_children <= children``) applies to
  the core costs only, rounded half up to pence; see ``PriceBreakdown``. One live bid per
  establishment; once withdrawn, a new one may be submitted before the deadline.
- **Declines.** One per establishment, refused while it has a live bid (withdraw first);
  a declined establishment cannot bid.
- **Suspension (§4.5)** withdraws the establishment's live bids before the deadline and bars
  new ones until reinstatement. Close-early counts a suspended establishment as answered.
- **Sealed bids.** Contents open to the owner once the referral has closed, or the deadline
  has passed while it is still published. A referral cancelled before closing stays sealed.
- **Clarifications** are asked and answered while published and before the deadline; an
  answer can reword the question to anonymise it.
- **Outcome scores** are given while closed, to compliant bids only (§6.2); evaluation needs
  at least one score for every compliant bid unless the outcomes weight O is 0.
- **Compliance and standing at the deadline.** At close the service supplies each live
  bidder's ``Standing`` (admitted? competency?) from the qualification service; scoring uses
  it (§6.2, §6.3 C).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from services.common.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from services.common.events import EventBase
from services.common.money import fmt, round_pence
from services.referral.messages import (
    AnonymisedChild,
    AnonymisedProfile,
    AnswerCreate,
    AwardRequest,
    AwardResult,
    BidCreate,
    BidFeedback,
    BidReceived,
    BidsView,
    BidView,
    CancelRequest,
    CohortTier,
    DeclineCreate,
    DirectPlacementCreate,
    DirectPlacementRecorded,
    EstablishmentSnapshot,
    EvaluationView,
    FeedbackView,
    InvitationDeclined,
    InvitationNotice,
    OutcomeScoreCreate,
    ParentChoice,
    ParentChoiceRequired,
    PriceBreakdown,
    ProviderReferralView,
    PublishRequest,
    PublishResult,
    QuestionAnswered,
    QuestionCreate,
    QuestionView,
    RadiusRequest,
    RadiusResult,
    ReferralAwarded,
    ReferralCancelled,
    ReferralClosed,
    ReferralCreate,
    ReferralPublished,
    ReferralUnsuccessful,
    ReferralView,
    ReferralWidened,
    ShortlistEntry,
    Standing,
)
from services.scoring.messages import (
    BidMsg,
    FeatureMsg,
    NeedMsg,
    RankedBidMsg,
    ScoringRequest,
    ScoringResult,
    WeightsMsg,
)

COMMISSIONER, LEAD, PROVIDER = "commissioner", "lead", "provider"
LEAD_AUTHORITY = "WSCC"  # §1, §10: the lead acts as a commissioner of WSCC
DEFAULT_MIN_INVITED = 3  # §5
DEFAULT_MIN_TENDER_PERIOD_HOURS = 24  # §5
OTHER = "other"
DECLINE_REASONS = ("no_capacity", "cannot_meet_needs", "location", OTHER)  # §5
DIRECT_PLACEMENT_REASONS = (  # §5, business case 8.10; configurable
    "emergency",
    "court_direction",
    "continuity_of_care",
    "sibling_group",
    "unique_provision",
    "no_compliant_bid",
    OTHER,
)
SUBMITTED, WITHDRAWN = "submitted", "withdrawn"


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    EVALUATED = "evaluated"
    PARENT_CHOICE = "parent_choice"
    AWARDED = "awarded"
    UNSUCCESSFUL = "unsuccessful"
    CANCELLED = "cancelled"


_NEXT: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.PUBLISHED, Status.CANCELLED}),
    Status.PUBLISHED: frozenset({Status.CLOSED, Status.CANCELLED}),
    Status.CLOSED: frozenset(
        {Status.EVALUATED, Status.PARENT_CHOICE, Status.UNSUCCESSFUL, Status.CANCELLED}
    ),
    Status.EVALUATED: frozenset({Status.AWARDED, Status.CANCELLED}),
    Status.PARENT_CHOICE: frozenset({Status.AWARDED, Status.CANCELLED}),
    Status.AWARDED: frozenset(),
    Status.UNSUCCESSFUL: frozenset(),
    Status.CANCELLED: frozenset(),
}


def transition(current: Status, target: Status) -> Status:
    """The §5 lifecycle, checked in one place: ``draft → published → closed → evaluated →
    [parent_choice] → awarded``, ``closed → unsuccessful``, and ``→ cancelled`` from any
    state before award. Anything else is a ``Conflict``."""
    if target not in _NEXT[current]:
        raise Conflict(f"a {current} referral cannot become {target}")
    return target


def whole_miles(distance: Decimal) -> int:
    """Distance shown to providers (§5): rounded down, so it lies in the scored §6.3 band."""
    return math.floor(distance)


def cohort_discount(tiers: Iterable[CohortTier], children: int) -> Decimal:
    """§4.4: the percent of the highest qualified tier with ``min_children <= children``."""
    applicable = [t for t in tiers if t.min_children <= children]
    return max(applicable, key=lambda t: t.min_children).percent if applicable else Decimal(0)


def price_bid(terms: BidCreate, children: int, tiers: Iterable[CohortTier]) -> PriceBreakdown:
    """A bid's weekly price (§4.4, §5, §6.3): ``children × Σ core − discount + Σ variable``,
    the discount being the cohort percent of the core part, rounded half up to pence."""
    percent = cohort_discount(tiers, children)
    core = children * sum(terms.core_costs.values(), Decimal(0))
    discount = round_pence(core * percent / 100)
    variable = sum((v.weekly for v in terms.variable_costs), Decimal(0))
    return PriceBreakdown(
        core_costs=terms.core_costs,
        children=children,
        variable_costs=terms.variable_costs,
        discount_percent=percent,
        discount=discount,
        weekly_price=core - discount + variable,
    )


def _new_id() -> str:
    return str(uuid.uuid4())


def _acting_authority(principal: Mapping) -> str | None:
    """The authority a principal commissions for (§10), or None."""
    role = principal.get("role")
    if role == COMMISSIONER:
        return principal.get("authority")
    if role == LEAD:
        return principal.get("authority") or LEAD_AUTHORITY
    return None


def _raise_all(errors: list[dict]) -> None:
    """One ``InvalidInput`` naming every faulty field."""
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        raise InvalidInput(detail, errors)


def _code_errors(field_name: str, given: Sequence[str], known: set[str]) -> list[dict]:
    errors, seen = [], set()
    for i, code in enumerate(given):
        if code not in known:
            errors.append({"loc": [field_name, i], "msg": f"{code!r} is not in the referral"})
        elif code in seen:
            errors.append({"loc": [field_name, i], "msg": f"{code!r} is given twice"})
        seen.add(code)
    return errors


def _check_reason(code: str, reasons: Sequence[str]) -> None:
    if code not in reasons:
        raise InvalidInput.at(["reason_code"], f"must be one of {', '.join(reasons)}")


# --------------------------------------------------------------------------- parts


@dataclass
class Invitation:
    """An invited establishment (§5) with the snapshot scoring needs, taken at invitation."""

    snapshot: EstablishmentSnapshot
    invited_at: datetime
    suspended_reason: str | None = None

    @property
    def establishment_id(self) -> str:
        return self.snapshot.establishment_id

    @property
    def provider_id(self) -> str:
        return self.snapshot.provider_id

    def notice(self) -> InvitationNotice:
        s = self.snapshot
        return InvitationNotice(
            establishment_id=s.establishment_id,
            provider_id=s.provider_id,
            name=s.name,
            distance_miles=whole_miles(s.distance_miles),
            contacts=s.contacts,
        )


@dataclass
class Bid:
    """One establishment's bid (§5). ``submitted_at`` is the final submission (§6.3 ties);
    ``outcome_scores`` maps evaluator → 0–100; ``standing`` is recorded at close."""

    bid_id: str
    provider_id: str
    terms: BidCreate
    price: PriceBreakdown
    submitted_at: datetime
    status: str = SUBMITTED
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = None
    outcome_scores: dict[str, int] = field(default_factory=dict)
    standing: Standing | None = None

    @property
    def establishment_id(self) -> str:
        return self.terms.establishment_id

    @property
    def live(self) -> bool:
        return self.status == SUBMITTED


@dataclass
class Question:
    """A clarification (§5). ``published_text`` is the anonymised wording, set on answer."""

    question_id: str
    establishment_id: str
    provider_id: str
    text: str
    asked_at: datetime
    answer: str | None = None
    published_text: str | None = None
    answered_at: datetime | None = None

    def view(self, show_asker: bool) -> QuestionView:
        return QuestionView(
            question_id=self.question_id,
            question=self.published_text or self.text,
            answer=self.answer,
            asked_at=self.asked_at,
            answered_at=self.answered_at,
            establishment_id=self.establishment_id if show_asker else None,
        )


@dataclass
class Decline:
    """A declined invitation (§5), kept for benchmarking of market capacity (§7.6)."""

    establishment_id: str
    provider_id: str
    reason_code: str
    note: str | None
    declined_at: datetime


# --------------------------------------------------------------------------- referral


@dataclass
class Referral:
    """A referral (§5): one authority, one category, one child or a cohort of n children.

    ``spec`` is the full record (child data included) and never leaves towards providers;
    ``weights`` are the spec's weights as resolved by scoring (§6.1) when it was created.
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
    invitations: dict[str, Invitation] = field(default_factory=dict)
    bids: dict[str, Bid] = field(default_factory=dict)
    declines: dict[str, Decline] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    evaluation: EvaluationView | None = None
    parent_choice_bid_id: str | None = None
    parent_choice_reason: str | None = None
    awarded_bid_id: str | None = None
    placement_id: str | None = None
    events: list[EventBase] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        principal: Mapping,
        spec: ReferralCreate,
        weights: WeightsMsg,
        now: datetime,
        category_min_invited: int = DEFAULT_MIN_INVITED,
    ) -> Referral:
        """§5 ownership: a commissioner creates a draft for its own authority (the lead for
        WSCC). ``min_invited`` defaults to the category's."""
        authority = _acting_authority(principal)
        if authority is None:
            raise Forbidden("only a commissioner creates referrals")
        if spec.deadline <= now:
            raise InvalidInput.at(["deadline"], "must be in the future")
        return cls(
            referral_id=_new_id(),
            authority=authority,
            spec=spec,
            weights=weights,
            min_invited=spec.min_invited or category_min_invited,
            created_at=now,
        )

    # ----------------------------------------------------------------- basics

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

    def _live_bids(self) -> list[Bid]:
        return [b for b in self.bids.values() if b.live]

    def _live_bid(self, establishment_id: str) -> Bid | None:
        return next((b for b in self._live_bids() if b.establishment_id == establishment_id), None)

    def _notices(self) -> list[InvitationNotice]:
        return [i.notice() for i in self.invitations.values()]

    # ----------------------------------------------------------------- access (§10)

    def _is_owner(self, principal: Mapping) -> bool:
        return _acting_authority(principal) == self.authority

    def _invitations_of(self, principal: Mapping) -> list[Invitation]:
        if principal.get("role") != PROVIDER:
            return []
        return [
            i for i in self.invitations.values() if i.provider_id == principal.get("provider_id")
        ]

    def _refuse(self, principal: Mapping, action: str) -> DomainError:
        """§10: 403 to whoever may know this referral, 404 where its existence would leak."""
        knows = self._is_owner(principal) or self._invitations_of(principal)
        if not knows and principal.get("role") in (COMMISSIONER, LEAD, PROVIDER):
            return NotFound("referral not found")
        return Forbidden(f"you may not {action}")

    def _require_owner(self, principal: Mapping, action: str) -> None:
        if not self._is_owner(principal):
            raise self._refuse(principal, action)

    def authorise_owner(self, principal: Mapping, action: str) -> None:
        """§10 owner check alone, for the service to run before it asks other services
        anything on the owner's behalf (403 or 404 as ``_refuse`` decides)."""
        self._require_owner(principal, action)

    def _require_invited(
        self, principal: Mapping, establishment_id: str, action: str
    ) -> Invitation:
        for invitation in self._invitations_of(principal):
            if invitation.establishment_id == establishment_id:
                return invitation
        raise self._refuse(principal, f"{action} for establishment {establishment_id}")

    def _require_open(self, now: datetime) -> None:
        """§5: bids, questions and declines only while published and before the deadline."""
        if self.status != Status.PUBLISHED:
            raise Conflict(f"the referral is {self.status}")
        if now >= self.deadline:
            raise Conflict("the deadline has passed")

    # ----------------------------------------------------------------- views

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
        if self._is_owner(principal):
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
                cancel_reason=self.cancel_reason,
            )
        own = self._invitations_of(principal)
        if not own:
            raise self._refuse(principal, "read this referral")
        return ProviderReferralView(
            **dict(self.anonymised_profile()),
            status=self.status,
            invitations=[i.notice() for i in own],
        )

    def bids_opened(self, now: datetime) -> bool:
        """§5 sealed bids: contents open once closed, or past the deadline while published."""
        return self.closed_at is not None or (
            self.status == Status.PUBLISHED and now >= self.deadline
        )

    def visible_bids(self, principal: Mapping, now: datetime) -> BidsView:
        """§5, §10: before the deadline the owner sees only the count of live bids, after it
        every live bid; a provider sees only its own bids (withdrawn ones too)."""
        if self._is_owner(principal):
            live = self._live_bids()
            if not self.bids_opened(now):
                return BidsView(count=len(live))
            return BidsView(count=len(live), items=[self._bid_view(b, True) for b in live])
        own = {i.establishment_id for i in self._invitations_of(principal)}
        if not own:
            raise self._refuse(principal, "read bids")
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

    # ----------------------------------------------------------------- publishing (§5)

    def _invite(self, eligible: Iterable[EstablishmentSnapshot], now: datetime) -> list[Invitation]:
        new = [
            Invitation(snapshot=e, invited_at=now)
            for e in eligible
            if e.establishment_id not in self.invitations
        ]
        self.invitations.update((i.establishment_id, i) for i in new)
        return new

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
        self._require_owner(principal, "publish this referral")
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
        self.events.append(
            ReferralPublished(
                **self._head(now),
                profile=self.anonymised_profile(),
                invited=[i.notice() for i in new],
            )
        )
        return PublishResult(status=self.status, invited=invited)

    def widen_radius(
        self,
        principal: Mapping,
        request: RadiusRequest,
        eligible: Sequence[EstablishmentSnapshot],
        now: datetime,
    ) -> RadiusResult:
        """§5 widening: any radius in draft (``eligible`` is then unused); after publishing
        and until the deadline only a wider one, inviting and alerting newcomers only."""
        new: list[Invitation] = []
        if self.check_widening(principal, request, now):
            new = self._invite(eligible, now)
        self.spec = self.spec.model_copy(update={"radius_miles": request.radius_miles})
        if new:
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
        )

    def check_widening(self, principal: Mapping, request: RadiusRequest, now: datetime) -> bool:
        """The checks of ``widen_radius`` alone, so that the service asks for the eligible
        list only when it will be used: True after publishing (newcomers are invited),
        False in draft."""
        self._require_owner(principal, "change the radius")
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

    # ----------------------------------------------------------------- bids (§5)

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
        errors += _code_errors("needs_met", terms.needs_met, {n.code for n in self.spec.needs})
        errors += _code_errors(
            "features_met", terms.features_met, {f.code for f in self.spec.features}
        )
        if terms.proposed_start is not None and terms.proposed_start < now.date():
            errors.append({"loc": ["proposed_start"], "msg": "must not be in the past"})
        _raise_all(errors)
        price = price_bid(terms, self.children_count, invitation.snapshot.cohort_discounts)
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

    def _own_bid(self, principal: Mapping, bid_id: str) -> Bid:
        bid = self.bids.get(bid_id)
        if (
            bid is not None
            and principal.get("role") == PROVIDER
            and bid.provider_id == principal.get("provider_id")
        ):
            return bid
        if self._invitations_of(principal):
            raise NotFound("bid not found")
        raise self._refuse(principal, "change bids")

    def submit_bid(self, principal: Mapping, terms: BidCreate, now: datetime) -> Bid:
        """§5: one live bid per invited establishment, before the deadline."""
        invitation = self._require_invited(principal, terms.establishment_id, "bid")
        self._require_open(now)
        if invitation.suspended_reason is not None:
            raise Conflict(f"the establishment is suspended: {invitation.suspended_reason}")
        if invitation.establishment_id in self.declines:
            raise Conflict("the establishment has declined this referral")
        if self._live_bid(invitation.establishment_id):
            raise Conflict("the establishment already has a bid: replace or withdraw it")
        bid = Bid(
            bid_id=_new_id(),
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
        bid = self._own_bid(principal, bid_id)
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
        bid = self._own_bid(principal, bid_id)
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

    # ----------------------------------------------------------------- suspension (§4.5)

    def apply_suspension(
        self, establishment_id: str, category: str, reason: str, now: datetime
    ) -> list[str]:
        """§4.5: a suspended membership gets no new bid in and its open bids are withdrawn
        (before the deadline), with the reason. Returns the withdrawn bid ids."""
        invitation = self.invitations.get(establishment_id)
        if invitation is None or category != self.category:
            return []
        invitation.suspended_reason = reason
        if self.status != Status.PUBLISHED or now >= self.deadline:
            return []
        bid = self._live_bid(establishment_id)
        if bid is None:
            return []
        self._withdraw(bid, f"membership suspended: {reason}", now)
        return [bid.bid_id]

    def apply_reinstatement(self, establishment_id: str, category: str) -> None:
        """§4.5: a reinstated membership may bid again (if the referral is still open)."""
        invitation = self.invitations.get(establishment_id)
        if invitation is not None and category == self.category:
            invitation.suspended_reason = None

    # ----------------------------------------------------------------- clarifications (§5)

    def ask_question(self, principal: Mapping, request: QuestionCreate, now: datetime) -> Question:
        """§5: an invited provider asks before the deadline."""
        invitation = self._require_invited(principal, request.establishment_id, "ask")
        self._require_open(now)
        question = Question(
            question_id=_new_id(),
            establishment_id=invitation.establishment_id,
            provider_id=invitation.provider_id,
            text=request.question,
            asked_at=now,
        )
        self.questions[question.question_id] = question
        return question

    def answer_question(
        self, principal: Mapping, question_id: str, request: AnswerCreate, now: datetime
    ) -> Question:
        """§5: the owner answers once; the answer goes to every invited establishment with
        the question anonymised (optionally reworded by the owner)."""
        self._require_owner(principal, "answer questions")
        question = self.questions.get(question_id)
        if question is None:
            raise NotFound("question not found")
        self._require_open(now)
        if question.answer is not None:
            raise Conflict("the question has already been answered")
        question.answer = request.answer
        question.published_text = request.question or question.text
        question.answered_at = now
        self.events.append(
            QuestionAnswered(
                **self._head(now),
                question_id=question_id,
                question=question.published_text,
                answer=question.answer,
                recipients=self._notices(),
            )
        )
        return question

    def questions_for(self, principal: Mapping) -> list[QuestionView]:
        """§5: the owner sees every question and its asker; an invited provider sees every
        answered question (asker hidden unless itself) and its own unanswered ones."""
        if self._is_owner(principal):
            return [q.view(show_asker=True) for q in self.questions.values()]
        own = {i.establishment_id for i in self._invitations_of(principal)}
        if not own:
            raise self._refuse(principal, "read the questions")
        return [
            q.view(show_asker=q.establishment_id in own)
            for q in self.questions.values()
            if q.answer is not None or q.establishment_id in own
        ]

    # ----------------------------------------------------------------- declines (§5)

    def decline(
        self,
        principal: Mapping,
        request: DeclineCreate,
        now: datetime,
        reasons: Sequence[str] = DECLINE_REASONS,
    ) -> Decline:
        """§5: decline an invitation with a configured reason ("other" needs a note)."""
        invitation = self._require_invited(principal, request.establishment_id, "decline")
        self._require_open(now)
        if invitation.establishment_id in self.declines:
            raise Conflict("the establishment has already declined")
        if self._live_bid(invitation.establishment_id):
            raise Conflict("the establishment has a bid: withdraw it before declining")
        _check_reason(request.reason_code, reasons)
        if request.reason_code == OTHER and request.note is None:
            raise InvalidInput.at(["note"], "required when the reason is 'other'")
        decline = Decline(
            establishment_id=invitation.establishment_id,
            provider_id=invitation.provider_id,
            reason_code=request.reason_code,
            note=request.note,
            declined_at=now,
        )
        self.declines[decline.establishment_id] = decline
        self.events.append(
            InvitationDeclined(
                **self._head(now),
                establishment_id=decline.establishment_id,
                provider_id=decline.provider_id,
                reason_code=decline.reason_code,
                note=decline.note,
            )
        )
        return decline

    # ----------------------------------------------------------------- close (§5)

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
        self._require_owner(principal, "close this referral")
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

    # ----------------------------------------------------------------- evaluation (§5, §6)

    def _exclusions(self, bid: Bid) -> list[str]:
        """§6.2 non-compliance, known once closed: a missing must-have, or not admitted at
        the deadline. Scoring decides it again; here it only says which bids need scores."""
        met = set(bid.terms.features_met)
        reasons = [
            f"does not offer must-have feature {f.code}"
            for f in self.spec.features
            if f.must_have and f.code not in met
        ]
        if bid.standing is not None and not bid.standing.admitted:
            reasons.append("establishment not admitted in the category at the deadline")
        return reasons

    def score_outcomes(self, principal: Mapping, bid_id: str, request: OutcomeScoreCreate) -> Bid:
        """§5: an evaluator of the owning authority scores a compliant bid's outcomes
        statement 0–100 after the deadline; scoring again replaces its score."""
        self._require_owner(principal, "score bids")
        if self.status != Status.CLOSED:
            raise Conflict(
                f"outcome statements are scored while closed; the referral is {self.status}"
            )
        bid = self.bids.get(bid_id)
        if bid is None or not bid.live:
            raise NotFound("bid not found")
        reasons = self._exclusions(bid)
        if reasons:
            raise Conflict(f"a non-compliant bid is not scored: {'; '.join(reasons)}")
        bid.outcome_scores[request.evaluator] = request.score
        return bid

    def scoring_request(self, principal: Mapping) -> ScoringRequest:
        """§6: what the scoring service needs, for the owner's ``evaluate``. Every compliant
        bid needs an outcome score first, unless the outcomes weight is 0."""
        self._require_owner(principal, "evaluate this referral")
        if self.status != Status.CLOSED:
            raise Conflict(f"only a closed referral is evaluated; it is {self.status}")
        live = self._live_bids()
        if self.weights.O:
            unscored = [b.bid_id for b in live if not b.outcome_scores and not self._exclusions(b)]
            if unscored:
                raise Conflict(f"outcome statements not scored yet: bids {', '.join(unscored)}")
        return ScoringRequest(
            category=self.category,
            weights=self.weights,
            needs=[NeedMsg(**n.model_dump()) for n in self.spec.needs],
            features=[FeatureMsg(**f.model_dump()) for f in self.spec.features],
            bids=[self._scoring_bid(b) for b in live],
        )

    def _scoring_bid(self, bid: Bid) -> BidMsg:
        assert bid.standing is not None  # recorded at close
        return BidMsg(
            bid_id=bid.bid_id,
            establishment_id=bid.establishment_id,
            weekly_price=bid.price.weekly_price,
            competency=bid.standing.competency,
            distance_miles=self.invitations[bid.establishment_id].snapshot.distance_miles,
            outcome_scores=list(bid.outcome_scores.values()),
            needs_met=bid.terms.needs_met,
            features_met=bid.terms.features_met,
            admitted_at_deadline=bid.standing.admitted,
            submitted_at=bid.submitted_at,
        )

    def apply_scoring(self, result: ScoringResult, now: datetime) -> EvaluationView:
        """§6.3–§6.4: keep the ranking and shortlist; the referral becomes evaluated,
        parent_choice (shortlist of 2 or more) or unsuccessful (no compliant bid)."""
        if {r.bid_id for r in result.ranking} != {b.bid_id for b in self._live_bids()}:
            raise ValueError("the scoring result does not cover exactly the referral's bids")
        self.status = transition(self.status, Status(result.status))
        self.evaluated_at = now
        self.evaluation = EvaluationView(
            status=result.status, ranking=list(result.ranking), shortlist=list(result.shortlist)
        )
        if self.status == Status.PARENT_CHOICE:
            shortlist = [self._ranked(b) for b in result.shortlist]
            self.events.append(
                ParentChoiceRequired(
                    **self._head(now),
                    shortlist=[
                        ShortlistEntry(
                            bid_id=r.bid_id,
                            establishment_id=r.establishment_id,
                            name=self.invitations[r.establishment_id].snapshot.name,
                            total=r.total,
                            weekly_price=r.weekly_price,
                        )
                        for r in shortlist
                    ],
                )
            )
        elif self.status == Status.UNSUCCESSFUL:
            self.events.append(
                ReferralUnsuccessful(**self._head(now), bids_count=len(result.ranking))
            )
            self._send_feedback(now)
        return self.evaluation

    def _ranked(self, bid_id: str) -> RankedBidMsg:
        assert self.evaluation is not None
        return next(r for r in self.evaluation.ranking if r.bid_id == bid_id)

    # ----------------------------------------------------------------- award (§5, §6.4)

    def record_parent_choice(self, principal: Mapping, request: ParentChoice) -> None:
        """§6.4: the commissioner records the parents' choice from the shortlist."""
        self._require_owner(principal, "record the parents' choice")
        if self.status != Status.PARENT_CHOICE:
            raise Conflict(f"no parent choice is needed; the referral is {self.status}")
        assert self.evaluation is not None
        if request.bid_id not in self.evaluation.shortlist:
            raise InvalidInput.at(["bid_id"], "must be a bid on the shortlist")
        self.parent_choice_bid_id = request.bid_id
        self.parent_choice_reason = request.reason

    def award(self, principal: Mapping, request: AwardRequest, now: datetime) -> AwardResult:
        """§5: award to the top-ranked bid, or to the parents' choice (§6.4). The winner
        gets the full referral (§5) and contracts the placement agreement (§7.1); every
        other bidder gets its feedback."""
        self._require_owner(principal, "award this referral")
        if self.status == Status.PARENT_CHOICE:
            if self.parent_choice_bid_id is None:
                raise Conflict("record the parents' choice first (§6.4)")
            winner = self._ranked(self.parent_choice_bid_id)
        elif self.status == Status.EVALUATED:
            assert self.evaluation is not None
            winner = next(r for r in self.evaluation.ranking if r.compliant)
        else:
            raise Conflict(f"a {self.status} referral cannot be awarded")
        if request.bid_id is not None and request.bid_id != winner.bid_id:
            raise InvalidInput.at(["bid_id"], f"the award goes to bid {winner.bid_id}")
        assert self.evaluation is not None and self.published_at is not None
        self.status = transition(self.status, Status.AWARDED)
        self.awarded_at = now
        self.awarded_bid_id = winner.bid_id
        self.placement_id = _new_id()
        bid = self.bids[winner.bid_id]
        snapshot = self.invitations[bid.establishment_id].snapshot
        self.events.append(
            ReferralAwarded(
                **self._head(now),
                placement_id=self.placement_id,
                bid_id=bid.bid_id,
                provider_id=bid.provider_id,
                establishment_id=bid.establishment_id,
                establishment_name=snapshot.name,
                contacts=snapshot.contacts,
                child_reference=self.spec.child_reference,
                price=bid.price,
                proposed_start=bid.terms.proposed_start,
                incentive=self.spec.incentive,
                desired_outcomes=self.spec.desired_outcomes,
                published_at=self.published_at,
                awarded_at=now,
                bids_count=len(self.evaluation.ranking),
                compliant_bids_count=self._compliant_count(),
                winning_total=winner.total,
                parent_choice=self.evaluation.status == Status.PARENT_CHOICE,
                parent_choice_reason=self.parent_choice_reason,
                referral=self.spec,
            )
        )
        self._send_feedback(now)
        return AwardResult(placement_id=self.placement_id)

    # ----------------------------------------------------------------- feedback (§5)

    def _compliant_count(self) -> int:
        assert self.evaluation is not None
        return sum(r.compliant for r in self.evaluation.ranking)

    def _feedback(self, ranked: RankedBidMsg) -> FeedbackView:
        winner = self._ranked(self.awarded_bid_id) if self.awarded_bid_id else None
        return FeedbackView(
            bid_id=ranked.bid_id,
            establishment_id=ranked.establishment_id,
            awarded=ranked.bid_id == self.awarded_bid_id,
            compliant=ranked.compliant,
            reason=ranked.reason,
            rank=ranked.rank,
            total=ranked.total,
            subscores=ranked.subscores,
            weekly_price=ranked.weekly_price,
            compliant_bids_count=self._compliant_count(),
            winning_total=winner.total if winner else None,
        )

    def _send_feedback(self, now: datetime) -> None:
        """One ``bid_feedback`` event per bidder other than the winner (§5, §8)."""
        assert self.evaluation is not None
        for ranked in self.evaluation.ranking:
            if ranked.bid_id == self.awarded_bid_id:
                continue
            bid = self.bids[ranked.bid_id]
            self.events.append(
                BidFeedback(
                    **self._head(now),
                    provider_id=bid.provider_id,
                    contacts=self.invitations[bid.establishment_id].snapshot.contacts,
                    feedback=self._feedback(ranked),
                )
            )

    def feedback_for(self, principal: Mapping) -> list[FeedbackView]:
        """``GET /referrals/{id}/feedback`` (§5, §10): a bidder's own feedback only, once
        the referral is awarded or unsuccessful."""
        own = {i.establishment_id for i in self._invitations_of(principal)}
        if not own:
            raise self._refuse(principal, "read feedback")
        if self.status not in (Status.AWARDED, Status.UNSUCCESSFUL):
            raise Conflict(f"feedback is given after the award; the referral is {self.status}")
        assert self.evaluation is not None
        items = [self._feedback(r) for r in self.evaluation.ranking if r.establishment_id in own]
        if not items:
            raise NotFound("no feedback: none of your establishments bid")
        return items

    # ----------------------------------------------------------------- cancel (§5)

    def cancel(self, principal: Mapping, request: CancelRequest, now: datetime) -> None:
        """§5: the owner cancels at any time before award, with a reason."""
        self._require_owner(principal, "cancel this referral")
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
            )
        )


# --------------------------------------------------------------------------- direct placement


@dataclass
class DirectPlacement:
    """A placement without a competition (§5, business case 8.10), reported separately.
    The service checks that the establishment is admitted in the category and passes its
    ``provider_id``."""

    direct_placement_id: str
    placement_id: str
    authority: str
    provider_id: str
    request: DirectPlacementCreate
    recorded_at: datetime
    events: list[EventBase] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def record(
        cls,
        principal: Mapping,
        request: DirectPlacementCreate,
        provider_id: str,
        now: datetime,
        reasons: Sequence[str] = DIRECT_PLACEMENT_REASONS,
        establishment_name: str | None = None,
    ) -> DirectPlacement:
        authority = _acting_authority(principal)
        if authority is None:
            raise Forbidden("only a commissioner records direct placements")
        _check_reason(request.reason_code, reasons)
        placement = cls(
            direct_placement_id=_new_id(),
            placement_id=_new_id(),
            authority=authority,
            provider_id=provider_id,
            request=request,
            recorded_at=now,
        )
        placement.events.append(
            DirectPlacementRecorded(
                occurred_at=now,
                direct_placement_id=placement.direct_placement_id,
                placement_id=placement.placement_id,
                authority=authority,
                provider_id=provider_id,
                establishment_name=establishment_name,
                **dict(request),
            )
        )
        return placement
