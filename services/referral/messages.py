"""Published language of the referral service (RULES §5, §6.4, §10): the gateway's request
models, the read views and replies, and the event payloads.

It is longer than the 400-line guide on purpose: it is the one module other services and
the gateway import (DESIGN "Layout"), so every model of the published language stays in it,
where a consumer finds them together.

Conventions:

- Requests are ``extra="forbid"``. Money is a string with 2 decimals on the wire
  (``"3500.00"``), a ``Decimal`` inside; floats are refused (§4.4).
- Child data (§5 data minimisation) appears in exactly three places: ``ReferralCreate`` (the
  owner's full record), ``ReferralView`` (the owner's read) and ``ReferralAwarded`` (the
  winner's copy, §5 "Full details go only to the awarded provider"). Everything a provider
  can read is built from ``AnonymisedProfile``.
- The scoring request and result are the scoring service's own models
  (``services.scoring.messages``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from services.common.events import EventBase
from services.common.types import Int32, IsoDate, IsoDateTime, Money, StrictBool
from services.scoring.messages import RankedBidMsg, ScoreInputsMsg, SubscoresMsg, WeightsMsg

MAX_RADIUS_MILES = 200
"""Upper bound of a referral's radius: the whole South East region fits well inside it."""

Percent = Annotated[Decimal, Field(ge=0, lt=100)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
CategoryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z_]{1,39}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _unique_codes(field: str, items: list) -> None:
    codes = [i.code for i in items]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"{field}: duplicate codes {', '.join(duplicates)}")


# --------------------------------------------------------------------------- referral (§5)


class SealedChildData(_Model):
    """A child's personal data (RULES §13) as it travels in events and is copied by other
    services: AES-GCM ciphertext under the data key ``key_id`` (services/common/crypto.py).
    Erasing that key makes every copy unreadable."""

    key_id: str
    sealed: str


class Location(_Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Child(_Model):
    """One child of the referral. ``name`` and ``date_of_birth`` belong to the full record
    only; providers see ``age``, ``gender`` and ``legal_status`` (§5)."""

    age: int = Field(ge=0, le=25)
    gender: Name | None = None
    legal_status: Name | None = None
    name: Name | None = None
    date_of_birth: IsoDate | None = None


class Need(_Model):
    """A need of the child's plan (EHCP / care plan), worth ``marks`` (§6.3 N)."""

    code: Code
    label: Name
    marks: int = Field(gt=0, le=1000)


class Feature(_Model):
    """A placement requirement (§5), must-have (§6.2) or desirable with ``marks`` (§6.3 F)."""

    code: Code
    label: Name
    must_have: StrictBool = False
    marks: int = Field(default=0, ge=0, le=1000)

    @model_validator(mode="after")
    def _desirable_has_marks(self) -> Feature:
        if not self.must_have and self.marks < 1:
            raise ValueError("a desirable feature is worth at least 1 mark")
        return self


class Incentive(_Model):
    """Optional incentive terms (business case 8.5), e.g. an early step-down premium."""

    kind: Literal["early_step_down", "other"] = "early_step_down"
    description: Text
    premium: Money | None = None
    within_weeks: int | None = Field(default=None, gt=0, le=520)


class ReferralCreate(_Model):
    """``POST /referrals`` (§5), and the full referral record kept by the owner.

    Additions to API.md: ``children[].name``, ``children[].date_of_birth`` and ``address``
    complete the authority's full record; they never leave towards providers before award.
    """

    category: CategoryCode
    child_reference: Name
    children: list[Child] = Field(min_length=1, max_length=20)
    home_location: Location
    address: Text | None = None
    radius_miles: float = Field(gt=0, le=MAX_RADIUS_MILES)
    deadline: IsoDateTime
    needs: list[Need] = []
    features: list[Feature] = []
    desired_outcomes: list[Text] = Field(min_length=1)
    weights: WeightsMsg | None = None
    price_weight: Int32 | None = None
    min_invited: int | None = Field(default=None, ge=1, le=1000)
    incentive: Incentive | None = None
    title: Name | None = Field(default=None, description="a title for the tender notice "
                               "(RULES §11.4); no child data")
    dps_id: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="the DPS or dynamic market of the call-off (RULES §11.3); "
        "the default market when not given")
    weekly_price_ceiling: Money | None = Field(
        default=None, description="the most the authority would pay a week, for the "
        "estimated value (RULES §11.4)")
    expected_weeks: int | None = Field(
        default=None, ge=1, le=1040, description="expected duration; unknown counts as "
        "above the threshold (Schedule 3 para 5)")

    @model_validator(mode="after")
    def _consistent(self) -> ReferralCreate:
        _unique_codes("needs", self.needs)
        _unique_codes("features", self.features)
        if self.weights is not None and self.price_weight is not None:
            raise ValueError("give weights or price_weight, not both")
        return self


class ReferralUpdate(_Model):
    """``PATCH /referrals/{id}`` (§5 draft edits): a draft is edited in full. Fields given
    replace the draft's (``null`` clears an optional one); the rest stay. The result must
    be a valid ``ReferralCreate``; the deadline is checked against the minimum tender
    period at publishing, not here."""

    category: CategoryCode | None = None
    child_reference: Name | None = None
    children: list[Child] | None = Field(default=None, min_length=1, max_length=20)
    home_location: Location | None = None
    address: Text | None = None
    radius_miles: float | None = Field(default=None, gt=0, le=MAX_RADIUS_MILES)
    deadline: IsoDateTime | None = None
    needs: list[Need] | None = None
    features: list[Feature] | None = None
    desired_outcomes: list[Text] | None = Field(default=None, min_length=1)
    weights: WeightsMsg | None = None
    price_weight: Int32 | None = None
    min_invited: int | None = Field(default=None, ge=1, le=1000)
    incentive: Incentive | None = None
    title: Name | None = None
    weekly_price_ceiling: Money | None = None
    expected_weeks: int | None = Field(default=None, ge=1, le=1040)


class DeadlineRequest(_Model):
    """``POST /referrals/{id}/deadline`` (§5 extension): only later, until it passes."""

    deadline: IsoDateTime


class DeadlineResult(_Model):
    deadline: IsoDateTime
    previous_deadline: IsoDateTime
    told: Int32 = Field(description="invited establishments told of the new deadline")


class CopyRequest(_Model):
    """``POST /referrals/{id}/copy`` (§5 re-run). Without ``deadline`` the copy keeps the
    original's tender period, counted from now; publishing checks it against the minimum."""

    deadline: IsoDateTime | None = None


class PublishRequest(_Model):
    accept_fewer: StrictBool = False


class RadiusRequest(_Model):
    radius_miles: float = Field(gt=0, le=MAX_RADIUS_MILES)


class CancelRequest(_Model):
    reason: Text


# --------------------------------------------------------------------------- establishments


class Contact(_Model):
    name: Name
    email: Name
    phone: Name | None = None
    sms_opt_in: StrictBool = False


class CohortTier(_Model):
    """Qualified cohort/sibling discount (§4.4): ``percent`` off from ``min_children``."""

    min_children: int = Field(ge=1, le=100)
    percent: Percent


class QualifiedService(_Model):
    """An additional service as qualified (§4.4): a bid may price it lower, never higher."""

    name: Name
    unit: Name
    unit_price: Money
    weekly_price: Money


class EstablishmentSnapshot(_Model):
    """An eligible establishment as the qualification service reports it when a referral is
    published or widened (§5), kept as the invitation's snapshot (DESIGN rule 1).

    ``distance_miles`` is the exact great-circle distance to the child's home (§6.3);
    ``core_costs`` and ``cohort_discounts`` are the qualified offer (§4.4).
    """

    establishment_id: str
    provider_id: str
    name: Name
    distance_miles: Decimal = Field(ge=0)
    core_costs: dict[str, Money]
    cohort_discounts: list[CohortTier] = []
    competency: Decimal = Field(ge=0, le=100)
    contacts: list[Contact] = []
    additional_services: list[QualifiedService] = []


class Standing(_Model):
    """An establishment's membership at the deadline (§6.2, §6.3 C), recorded at close."""

    admitted: StrictBool
    competency: Decimal = Field(ge=0, le=100)


# --------------------------------------------------------------------------- bids (§5)


Units = Annotated[Decimal, Field(gt=0, le=1000, decimal_places=2)]


class VariableCost(_Model):
    """A weekly variable cost of a bid (§4.4, §5): either an **additional service** the
    establishment qualified with, named by ``service`` (its qualified name is its code),
    ``units`` of it a week, priced at ``weekly`` no more than the qualified unit price ×
    units (left out: exactly that), or a **free-text** item with ``label`` and ``weekly``."""

    label: Name | None = None
    weekly: Money | None = None
    service: Name | None = None
    units: Units | None = None

    @model_validator(mode="after")
    def _service_or_free_text(self) -> VariableCost:
        if self.service is None:
            if self.label is None or self.weekly is None or self.units is not None:
                raise ValueError(
                    "a free-text item gives label and weekly; an additional service gives "
                    "service and units"
                )
        elif self.units is None:
            raise ValueError("an additional service gives its units a week")
        return self


class PricedVariableCost(_Model):
    """A variable cost as priced (§4.4): ``free_text`` items are marked as such; a
    qualified additional service carries its units and qualified unit price."""

    label: Name
    weekly: Money
    free_text: StrictBool = True
    service: Name | None = None
    units: Units | None = None
    unit_price: Money | None = None


class BidCreate(_Model):
    """``POST /referrals/{id}/bids`` and ``PUT …/bids/{bid_id}`` (§5).

    ``core_costs`` are weekly amounts **per child**, one for every head of the qualified
    offer; ``variable_costs`` are weekly items for the whole referral.
    """

    establishment_id: str
    core_costs: dict[str, Money]
    variable_costs: list[VariableCost] = []
    needs_met: list[Code] = []
    features_met: list[Code] = []
    outcomes_statement: Text
    proposed_start: IsoDate | None = None


class QuestionCreate(_Model):
    establishment_id: str
    question: Text


class AnswerCreate(_Model):
    """``answer`` is published to every invited establishment (§5). ``question`` optionally
    rewords the question before publication so that it cannot identify the asker."""

    answer: Text
    question: Text | None = None


class DeclineCreate(_Model):
    establishment_id: str
    reason_code: Code
    note: Text | None = None


class OutcomeScoreCreate(_Model):
    evaluator: Name
    score: int = Field(ge=0, le=100)


class ParentChoice(_Model):
    bid_id: str
    reason: Text | None = None


class AwardRequest(_Model):
    bid_id: str | None = None
    standstill_working_days: int | None = Field(
        default=None, ge=8, le=60, description="a voluntary standstill of at least 8 working "
        "days (Procurement Act 2023 s.51(3), RULES §11.4); the placement cannot start "
        "before it ends")


class DirectPlacementCreate(_Model):
    """``POST /direct-placements`` (§5, business case 8.10)."""

    establishment_id: str
    category: CategoryCode
    reason_code: Code
    justification: Text
    weekly_price: Money
    child_reference: Name
    dps_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    expressed_preference: Text | None = Field(
        default=None, description="user_choice: the preference the child or the parents or "
        "carers expressed (Schedule 5 paras 15–17); no names")
    best_interests_reason: Text | None = Field(
        default=None, description="user_choice: why a competition is not in the child's best "
        "interests (Schedule 5 para 15)")


# --------------------------------------------------------------------------- views, replies


class AnonymisedChild(_Model):
    age: Int32
    gender: str | None = None
    legal_status: str | None = None


class AnonymisedProfile(_Model):
    """All that providers ever see of a referral (§5 data minimisation): no name, date of
    birth, address, child reference or home location. ``weights`` are the award criteria."""

    referral_id: str
    category: str
    deadline: IsoDateTime
    children_count: Int32
    children: list[AnonymisedChild]
    needs: list[Need]
    features: list[Feature]
    desired_outcomes: list[str]
    weights: WeightsMsg
    incentive: Incentive | None = None


class InvitationNotice(_Model):
    """An invited establishment as notifications need it; distance in whole miles (§5)."""

    establishment_id: str
    provider_id: str
    name: str
    distance_miles: Int32
    contacts: list[Contact]


class ProviderReferralView(AnonymisedProfile):
    """``GET /referrals/{id}`` for an invited provider: the profile, the status and its own
    invited establishments with their whole-mile distances (§5, §10)."""

    status: str
    invitations: list[InvitationNotice]
    child: ChildDataView | None = None
    """The child's personal data, for the awarded provider only, from the award on (§13)."""


class ChildDetails(_Model):
    name: str | None = None
    date_of_birth: IsoDate | None = None


class ChildDataView(_Model):
    """``GET /referrals/{id}/child`` (§13): the child's personal data, decrypted, for the
    owning authority and the awarded provider from the award on; ``personal_data`` is
    ``erased`` (and the rest empty) once its key was destroyed."""

    referral_id: str
    personal_data: Literal["held", "erased"]
    child_reference: str | None = None
    children: list[ChildDetails] = []
    address: str | None = None
    home_location: Location | None = None
    legal_hold: str | None = None


class ErasureRequest(_Model):
    """``POST /referrals/{id}/erasure`` (§13): why the personal data is erased."""

    reason: Text


class LegalHoldRequest(_Model):
    """``PUT /referrals/{id}/legal-hold`` and ``PUT /direct-placements/{id}/legal-hold``
    (§13): a legal hold blocks erasure until lifted."""

    reason: Text


class AttachmentUpload(_Model):
    """An attachment as the gateway passes it on (the body of ``POST /referrals/{id}/
    attachments`` is the file itself; ``filename`` is its query parameter)."""

    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_base64: str


class AttachmentView(_Model):
    """A referral attachment (§13): the owner's, and the awarded provider's from the award
    on; ``erased`` once the referral's personal data is."""

    attachment_id: str
    referral_id: str
    filename: str
    content_type: str
    size: Int32
    sha256: str
    uploaded_at: IsoDateTime
    erased: StrictBool = False


class AttachmentList(_Model):
    items: list[AttachmentView]


class AttachmentContent(AttachmentView):
    content_base64: str | None = None


class ChildReferenceRequest(_Model):
    """``POST /child-data/export`` and ``…/erasure`` (§13 subject rights): one child of the
    caller's authority, found by the blind index of its reference, never stored in clear."""

    child_reference: Name
    reason: Text | None = None


class ChildReferralRecord(_Model):
    """What the referral service holds about the child in one referral (§13 export)."""

    referral_id: str
    category: str
    status: str
    created_at: IsoDateTime
    child: ChildDataView
    spec: dict
    placement_id: str | None = None


class ChildDirectPlacementRecord(_Model):
    direct_placement_id: str
    placement_id: str
    category: str
    recorded_at: IsoDateTime
    child_reference: str
    legal_hold: str | None = None


class DirectPlacementChildView(_Model):
    """``GET /direct-placements/{id}/child``, ``PUT``/``DELETE …/legal-hold`` (§13): a
    direct placement's child reference as its owning authority reads it (``erased`` once
    the placement's key was destroyed), its legal hold, and the day its placement ended
    (the retention clock)."""

    direct_placement_id: str
    placement_id: str
    personal_data: Literal["held", "erased"]
    child_reference: str | None = None
    legal_hold: str | None = None
    placement_ended_on: IsoDate | None = None


class ReferralChildExport(_Model):
    """The referral service's part of a subject access export (§13); ``key_ids`` name the
    data keys under which other services keep their copies."""

    referrals: list[ChildReferralRecord] = []
    direct_placements: list[ChildDirectPlacementRecord] = []
    key_ids: list[str] = []
    referral_ids: list[str] = []


class ChildErasureResult(_Model):
    erased_referrals: list[str] = []
    erased_direct_placements: list[str] = []


class EvaluationView(_Model):
    """``POST /referrals/{id}/evaluate`` reply (§6.3, §6.4). Each ranked bid carries the
    inputs its sub-scores were computed from; ``formula_version``, ``weights`` and
    ``lowest_compliant_weekly_price`` are as applied (absent for evaluations recorded
    before issue 15)."""

    status: str
    ranking: list[RankedBidMsg]
    shortlist: list[str]
    formula_version: str | None = None
    weights: WeightsMsg | None = None
    lowest_compliant_weekly_price: Money | None = None


class EvaluationRecord(_Model):
    """``GET /referrals/{id}/evaluation`` (§6, issue 15): the evaluation as recorded, with
    every bid's inputs as data, enough for a third party to replay the award.

    Nothing here is recomputed: the inputs are those stored when the referral was evaluated
    (a later uplift, inspection or competency move changes none of them). For each compliant
    bid, with ``w`` the weights and ``lowest`` the lowest compliant weekly price, RULES §6.3:
    ``P·lowest/weekly_price + C·competency/100 + L·max(0, 5 − ⌊distance_miles/10⌋)/5 +
    O·mean(outcome_scores)/100 + N·needs_marks_met/needs_marks_total +
    F·desirable_marks_met/desirable_marks_total`` (a part with a zero total counts 0) is
    exactly ``total_exact`` (a fraction such as ``"1009/12"``); ``total`` and ``subscores``
    are rounded for display. Bids are in rank order (total, then quality, lower price,
    earlier ``final_submission_at``, bid id), non-compliant ones last with their ``reason``.
    """

    referral_id: str
    status: str
    formula: Literal["RULES §6"] = "RULES §6"
    formula_version: str | None
    evaluated_at: IsoDateTime
    weights: WeightsMsg
    lowest_compliant_weekly_price: Money | None
    bids: list[RankedBidMsg]
    shortlist: list[str]


class PersonalDataWarning(_Model):
    """A free-text field of the referral that appears to hold a child's name or date of
    birth (§13): providers read it in the anonymised profile, so the commissioner should
    check it. A warning only; nothing is refused."""

    field: list[str | int] = Field(description='where, e.g. ["needs", 0, "label"]')
    reason: str


class ReferralView(_Model):
    """``GET /referrals/{id}`` for the owning authority (§10): the full record."""

    referral_id: str
    authority: str
    status: str
    spec: ReferralCreate
    weights: WeightsMsg
    min_invited: Int32
    created_at: IsoDateTime
    published_at: IsoDateTime | None
    closed_at: IsoDateTime | None
    invitations: list[InvitationNotice]
    declines_count: Int32
    evaluation: EvaluationView | None
    parent_choice_bid_id: str | None
    awarded_bid_id: str | None
    placement_id: str | None
    cancel_reason: str | None
    block_id: str | None = Field(
        default=None, description="awarded to a free place of this block contract (§7.3)"
    )
    personal_data: Literal["held", "erased"] = "held"
    legal_hold: str | None = None
    procurement: ProcurementView | None = None
    personal_data_warnings: list[PersonalDataWarning] = Field(
        default=[], description="free text that looks like a name or a date of birth (§13)")


class PublishResult(_Model):
    status: str
    invited: Int32


class RadiusResult(_Model):
    """``deadline_moved``: widening moved the deadline out so that every newly invited
    establishment gets the category's minimum tender period (§5); ``note`` says so."""

    radius_miles: float
    invited_total: Int32
    newly_invited: Int32
    deadline: IsoDateTime | None = None
    deadline_moved: StrictBool = False
    note: str | None = None


class PriceBreakdown(_Model):
    """A bid's weekly price (§4.4, §5, §6.3), exactly as the placement agreement keeps it
    (§7.1): ``weekly_price = children × Σ core_costs − discount + Σ variable_costs`` with
    ``discount = round_half_up(children × Σ core_costs × discount_percent / 100)``."""

    core_costs: dict[str, Money]
    children: Int32
    variable_costs: list[PricedVariableCost]
    discount_percent: Percent
    discount: Money
    weekly_price: Money


class BidView(BidCreate):
    """A bid as its bidder, or the owner after the deadline, reads it (§5 sealed bids).
    ``outcome_scores`` (evaluator → score) is shown to the owner only."""

    bid_id: str
    provider_id: str
    status: Literal["submitted", "withdrawn"]
    price: PriceBreakdown
    submitted_at: IsoDateTime
    withdrawn_at: IsoDateTime | None = None
    withdrawn_reason: str | None = None
    outcome_scores: dict[str, Int32] | None = None


class BidsView(_Model):
    """``GET /referrals/{id}/bids`` (§5, §10): the owner sees only ``count`` until the bids
    are opened; a provider sees its own bids and no count."""

    count: Int32 | None = None
    items: list[BidView] | None = None


class QuestionView(_Model):
    """A clarification (§5). ``establishment_id`` is shown to the owner and to the asker
    only; ``question`` is the published wording once answered."""

    question_id: str
    question: str
    answer: str | None
    asked_at: IsoDateTime
    answered_at: IsoDateTime | None
    establishment_id: str | None = None


class FeedbackView(_Model):
    """A bidder's own feedback (§5): its total and sub-scores, rank, the number of compliant
    bids and the winning total; a non-compliant bid gets its reason instead of scores."""

    bid_id: str
    establishment_id: str
    awarded: StrictBool
    compliant: StrictBool
    reason: str | None = None
    rank: Int32 | None = None
    total: Decimal | None = None
    subscores: SubscoresMsg | None = None
    weekly_price: Money
    compliant_bids_count: Int32
    winning_total: Decimal | None = None
    total_exact: str | None = None  # exact fraction (§6.3)
    formula_version: str | None = None
    weights: WeightsMsg | None = None
    inputs: ScoreInputsMsg | None = None  # own bid's, distance in whole miles (§5)
    explanation: dict[str, str] = Field(
        default={}, description="how each of the bid's own sub-scores was computed (§5)"
    )
    winning_subscores: SubscoresMsg | None = Field(
        default=None,
        description="the winning bid's sub-scores (§5 assessment summary): never its prices "
        "or statements",
    )
    released_at: IsoDateTime | None = Field(
        default=None, description="when the referral's feedback was released: all at once"
    )


class AwardResult(_Model):
    placement_id: str


class ReferralQuery(_Model):
    """``GET /referrals`` filters and paging (newest first)."""

    status: (
        Literal[
            "draft",
            "published",
            "closed",
            "evaluated",
            "parent_choice",
            "awarded",
            "unsuccessful",
            "cancelled",
        ]
        | None
    ) = None
    category: CategoryCode | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None


class ReferralSummary(_Model):
    """One item of the owner's ``GET /referrals`` (§10): the record's headline and counts;
    bids only as a count (§5 sealed). The full record is ``GET /referrals/{id}``."""

    referral_id: str
    authority: str
    category: str
    status: str
    child_reference: str
    radius_miles: float
    deadline: IsoDateTime
    created_at: IsoDateTime
    published_at: IsoDateTime | None
    closed_at: IsoDateTime | None
    invited_count: Int32
    bids_count: Int32
    declines_count: Int32


class DeclineView(_Model):
    """A recorded decline (§5)."""

    establishment_id: str
    reason_code: str
    note: str | None
    declined_at: IsoDateTime


class CloseResult(_Model):
    """``POST /referrals/{id}/close`` reply: the live bids kept for evaluation (§5)."""

    status: str
    closed_at: IsoDateTime
    bids_count: Int32
    early: StrictBool


class OutcomeScoreView(_Model):
    """``POST …/bids/{bid_id}/outcome-scores`` reply: every evaluator's score so far and
    the mean that scoring uses (§5)."""

    bid_id: str
    outcome_scores: dict[str, Int32]
    mean: Decimal


class ParentChoiceView(_Model):
    status: str
    bid_id: str
    reason: str | None


class CancelResult(_Model):
    status: str
    reason: str
    cancelled_at: IsoDateTime


class DirectPlacementView(DirectPlacementCreate):
    """``POST /direct-placements`` reply (§5, business case 8.10)."""

    direct_placement_id: str
    placement_id: str
    authority: str
    provider_id: str
    establishment_name: str | None = None
    recorded_at: IsoDateTime


# --------------------------------------------------------------------------- events


class ProcurementView(_Model):
    """Under which regime and market a referral runs, and its value (RULES §11.3, §11.4)."""

    dps_id: str | None = None
    regime: Literal["PCR2015_DPS", "PA2023_DYNAMIC_MARKET"] | None = None
    estimated_value: Money | None = None
    above_threshold: StrictBool | None = None
    below_threshold_rules: str | None = None
    standstill_ends_on: IsoDate | None = None
    insurance_checked_at: IsoDateTime | None = None
    summaries_released_at: IsoDateTime | None = None


class _ProcurementFields(BaseModel):
    """The call-off's regime, market and value on its notices' events (RULES §11.4)."""

    dps_id: str | None = None
    regime: str | None = None
    estimated_value: str | None = None
    above_threshold: bool | None = None
    below_threshold_rules: str | None = None


class _ReferralEvent(EventBase):
    referral_id: str
    authority: str
    category: str


class _InvitationEvent(_ReferralEvent):
    profile: AnonymisedProfile
    invited: list[InvitationNotice]


class ReferralPublished(_InvitationEvent, _ProcurementFields):
    """§5, §8: alert the contacts of every invited establishment (§11.4: UK4)."""

    event_type = "referral_published"
    title: str | None = None
    deadline: IsoDateTime | None = None


class ReferralWidened(_InvitationEvent):
    """§5 widening, §8: ``invited`` holds the newly invited establishments only."""

    event_type = "referral_widened"
    radius_miles: float


class BidReceived(_ReferralEvent):
    """§8: the bidder's receipt. No bid content (sealed, §5)."""

    event_type = "bid_received"
    bid_id: str
    establishment_id: str
    provider_id: str
    action: Literal["submitted", "changed", "withdrawn"]
    reason: str | None = None
    contacts: list[Contact]


class InvitationDeclined(_ReferralEvent):
    """§5: declines feed benchmarking (§7.6) as intelligence on market capacity."""

    event_type = "invitation_declined"
    establishment_id: str
    provider_id: str
    reason_code: str
    note: str | None = None


class QuestionAnswered(_ReferralEvent):
    """§5, §8: the anonymised question and its answer for every invited establishment."""

    event_type = "question_answered"
    question_id: str
    question: str
    answer: str
    recipients: list[InvitationNotice]


class ReferralClosed(_ReferralEvent):
    """§8: tell the owning commissioner how many bids were received."""

    event_type = "referral_closed"
    bids_count: Int32
    early: StrictBool


class ShortlistEntry(_Model):
    bid_id: str
    establishment_id: str
    name: str
    total: Decimal | None
    weekly_price: Money


class ParentChoiceRequired(_ReferralEvent):
    """§6.4, §8: the commissioner must record the parents' choice from the shortlist."""

    event_type = "parent_choice_required"
    shortlist: list[ShortlistEntry]


class ReferralAwarded(_ReferralEvent, _ProcurementFields):
    """§5 award → §7.1 placement agreement (contracts) and the winner's notification (§8).

    ``placement_id`` is chosen here so that the contracts service creates the placement
    under it idempotently and the award reply can name it. ``referral`` is the full record
    for the winner only (§5).
    """

    event_type = "referral_awarded"
    placement_id: str
    bid_id: str
    provider_id: str
    establishment_id: str
    establishment_name: str
    contacts: list[Contact]
    price: PriceBreakdown
    proposed_start: IsoDate | None
    incentive: Incentive | None
    desired_outcomes: list[str]
    published_at: IsoDateTime
    awarded_at: IsoDateTime
    bids_count: Int32
    compliant_bids_count: Int32
    winning_total: Decimal | None
    parent_choice: StrictBool
    parent_choice_reason: str | None
    referral: AnonymisedProfile
    child_data: SealedChildData | None = None
    standstill_ends_on: IsoDate | None = None
    summaries_released_at: IsoDateTime | None = None
    insurance_checked_at: IsoDateTime | None = None


class BidFeedback(_ReferralEvent):
    """§5, §8: one event per unsuccessful bidder, carrying only that bidder's feedback, so
    that notifications email each its own (after an award or an unsuccessful referral)."""

    event_type = "bid_feedback"
    provider_id: str
    contacts: list[Contact]
    feedback: FeedbackView


class ReferralUnsuccessful(_ReferralEvent, _ProcurementFields):
    """§5: no compliant bid. Each bidder's reason follows as its own ``bid_feedback``."""

    event_type = "referral_unsuccessful"
    bids_count: Int32


class ReferralDeadlineExtended(_ReferralEvent):
    """§5 extension, §8: every invited establishment is told of the later deadline, set by
    the owner (``extended``) or moved out by a widening (``widened``)."""

    event_type = "referral_deadline_extended"
    deadline: IsoDateTime
    previous_deadline: IsoDateTime
    cause: Literal["extended", "widened"]
    invited: list[InvitationNotice]


class ReferralCancelled(_ReferralEvent, _ProcurementFields):
    """§5: cancelled before award, with its reason; invited establishments are told."""

    event_type = "referral_cancelled"
    reason: str
    status_before: str
    invited: list[InvitationNotice]
    was_published: StrictBool = False


class DirectPlacementRecorded(EventBase, _ProcurementFields):
    """§5 direct placement (business case 8.10): contracts creates the placement under
    ``placement_id``; benchmarking and publication report it separately."""

    event_type = "direct_placement_recorded"
    direct_placement_id: str
    placement_id: str
    authority: str
    category: str
    establishment_id: str
    provider_id: str
    reason_code: str
    justification: str
    weekly_price: Money
    child_data: SealedChildData | None = None
    establishment_name: str | None = None
    reason: str | None = None
    expressed_preference: str | None = None
    best_interests_reason: str | None = None
