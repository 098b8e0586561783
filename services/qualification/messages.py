"""Published language of the qualification service (DESIGN rule 2).

RPC arguments (request models, validated by the gateway and again by the service), RPC
replies (views) and event payloads. Rules live in ``domain/``; the models here check
shape and format only, so that the OpenAPI document shows the same constraints the
service applies.

Longer than 400 lines on purpose: it is the one module other services and the gateway
import (DESIGN rule 2), so the whole published language stays in one place.

Conventions:
- Request models forbid unknown fields (``extra="forbid"``).
- Money is a Decimal of pounds, given and shown as a string with 2 decimals (``"3500.00"``);
  a float is refused (RULES §4.4).
- Scores, percentages and the performance index are Decimals, shown as JSON numbers.
- Patch models (``DpsPatch``, ``CategoryPatch``) must be dumped with ``exclude_unset=True``:
  an explicit ``null`` means "remove" (e.g. ``affordability_cap: null``).
- Events derive from ``services.common.events.EventBase``. Every membership event carries
  the establishment, provider, category and contacts so that no consumer calls back.

NOTE for whoever edits this file: keep the provider-organisation models below
(ProviderCreate, ProviderView, ProviderRegistered); the gateway uses them.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from services.common import money
from services.common.events import EventBase
from services.common.types import Int32, IsoDate, IsoDateTime, StrictBool

PPON_PATTERN = r"^P[A-Z]{3}-[0-9]{4}-[A-Z]{4}$"
"""A PPON (scheme GB-PPON, RULES §11.2), e.g. PBCP-5168-ZDGP."""


class ProviderCreate(BaseModel):
    """Open registration of a provider organisation (API.md POST /providers)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=300)
    companies_house_number: str | None = Field(
        None,
        pattern=r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$",
        description="8 characters, e.g. 01234567 or SC123456",
    )
    contact_email: EmailStr
    ppon: str | None = Field(
        None, pattern=PPON_PATTERN,
        description="Central Digital Platform identifier, scheme GB-PPON (RULES §11.2)",
        examples=["PBCP-5168-ZDGP"],
    )


class ProviderPatch(BaseModel):
    """PATCH /providers/{id}: the supplier identifiers of RULES §11.2."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    ppon: str | None = Field(None, pattern=PPON_PATTERN, examples=["PBCP-5168-ZDGP"])
    companies_house_number: str | None = Field(
        None, pattern=r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$")


class ProviderView(BaseModel):
    id: str
    name: str
    companies_house_number: str | None = None
    ppon: str | None = None
    contact_email: str
    created_at: datetime


class ProviderRegistered(EventBase):
    event_type: ClassVar[str] = "provider_registered"
    provider: ProviderView
    ppon: str | None = None
    companies_house_number: str | None = None


# --- vocabularies (the domain derives its code lists from these) -------------------------

CategoryCode = Literal[
    "SEN", "FOSTERCARE", "RESIDENTIAL", "ALT_EDUCATION", "SUPPORTED_ACCOMMODATION"
]
"""RULES §2."""
CriterionCode = Literal[
    "EXCLUSIONS",
    "FINANCIAL",
    "INSURANCE",
    "COMPLIANCE",
    "INSPECTION",
    "DFE_REGISTRATION",
    "SAFEGUARDING",
    "DATA_PROTECTION",
]
"""RULES §4.1 pass/fail criteria."""
WeightedCriterion = Literal["WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING"]
"""RULES §4.2."""
InsuranceCoverKind = Literal["employers_liability", "public_liability", "professional_liability"]
InspectionBody = Literal["OFSTED", "ISI", "CQC"]
InspectionGrade = Literal["OUTSTANDING", "GOOD", "REQUIRES_IMPROVEMENT", "INADEQUATE"]
"""RULES §4.1: Ofsted's 4-point scale (CSV codes 1–4); other scales map onto it."""
ReferralWeightKey = Literal["P", "C", "L", "O", "N", "F"]
DpsStatus = Literal["not_started", "open", "entry_closed", "expired"]
Regime = Literal["PCR2015_DPS", "PA2023_DYNAMIC_MARKET"]
"""RULES §11: the procurement regime of a DPS or dynamic market."""
MarketState = Literal["planned", "established", "ended"]
ApplicationStatus = Literal["draft", "submitted", "admitted", "rejected"]
MembershipStatus = Literal["admitted", "suspended", "removed"]
Actor = Literal["lead", "provider", "system"]

# --- value types --------------------------------------------------------------------

Money = Annotated[
    Decimal,
    BeforeValidator(money.parse),
    Field(ge=-money.MAX, le=money.MAX),
    PlainSerializer(money.fmt, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,2})?$", "examples": ["3500.00"]}
    ),
]
"""Pounds as a string with at most 2 decimals; floats refused (RULES §4.4)."""

Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
"""An exact Decimal shown as a JSON number (scores, percentages, indices)."""

Score = Annotated[Number, Field(ge=0, le=100)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Label = Annotated[str, Field(min_length=1, max_length=300)]

_POSTCODE = re.compile(r"([A-PR-UWYZ][A-HK-Y]?[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})")


def _uk_postcode(value: str) -> str:
    """Normalise a UK postcode to upper case with one space (``bn11aa`` → ``BN1 1AA``)."""
    compact = re.sub(r"\s+", "", str(value)).upper()
    match = _POSTCODE.fullmatch(compact)
    if not match:
        raise ValueError("not a UK postcode")
    return f"{match[1]} {match[2]}"


UkPostcode = Annotated[
    str,
    BeforeValidator(_uk_postcode),
    WithJsonSchema({"type": "string", "examples": ["BN1 1AA"]}),
]


class Request(BaseModel):
    """Base of request models: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- shared parts (used in requests, replies and events) --------------------------------


class Location(Request):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class Contact(Request):
    """A person to notify (RULES §8): email always, SMS only where opted in."""

    name: Label
    email: EmailStr
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 ()-]{8,18}[0-9]$")
    sms_opt_in: StrictBool = False

    @model_validator(mode="after")
    def _sms_needs_phone(self) -> Contact:
        if self.sms_opt_in and not self.phone:
            raise ValueError("sms_opt_in needs a phone number")
        return self


class InsuranceCover(Request):
    """Cover amounts of the INSURANCE criterion (RULES §4.1)."""

    employers_liability: Money
    public_liability: Money
    professional_liability: Money


class InspectionJudgement(Request):
    """A regulator judgement ``{body, grade, date}`` (RULES §4.1)."""

    body: InspectionBody
    grade: InspectionGrade
    date: IsoDate


class PassFailAnswer(Request):
    """Answer to one pass/fail criterion (RULES §4.1).

    ``cover`` is required for INSURANCE (with ``expires_on``); ``judgement`` is the latest
    regulator judgement, optional and only meaningful for INSPECTION.
    """

    answer: Text
    evidence: Text
    expires_on: IsoDate | None = None
    cover: InsuranceCover | None = None
    judgement: InspectionJudgement | None = None


class MethodStatements(Request):
    """Method statements for the weighted criteria (RULES §4.2); all are needed to submit."""

    WORKFORCE: Text | None = None
    OUTCOMES_APPROACH: Text | None = None
    PERFORMANCE_MONITORING: Text | None = None


class AdditionalService(Request):
    """An additional service (learning support, OT, …) priced per unit and per week (§4.4)."""

    name: Label
    unit: Label = Field(description="what one unit is, e.g. 'one-hour session'")
    unit_price: Money
    weekly_price: Money


class CohortTier(Request):
    """Cohort/sibling discount: ``percent`` off from ``min_children`` children (§4.4)."""

    min_children: Int32
    percent: Number


# --- requests -----------------------------------------------------------------------


class EstablishmentCreate(Request):
    """POST /establishments (RULES §4: qualification is per establishment)."""

    name: Label
    urn: str | None = Field(
        None, pattern=r"^[A-Z]{0,2}[0-9]{6,7}$", description="Ofsted/DfE unique reference number"
    )
    address: Annotated[str, Field(min_length=1, max_length=1000)]
    postcode: UkPostcode
    location: Location
    categories: list[CategoryCode] = Field(min_length=1)
    capacity: int | None = Field(None, ge=1, le=10_000)
    contacts: list[Contact] = Field(min_length=1)

    @field_validator("categories")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("categories must not repeat")
        return value


class ApplicationUpdate(Request):
    """The content of an application (RULES §4.1, §4.2, §4.4); replaces a draft's content.

    Which codes and cost heads are allowed depends on the category's configuration; the
    service checks them and names the offending field.
    """

    pass_fail: dict[str, PassFailAnswer] = Field(default_factory=dict)
    method_statements: MethodStatements = Field(default_factory=MethodStatements)
    core_costs: dict[str, Money] = Field(default_factory=dict, description="weekly, per head")
    additional_services: list[AdditionalService] = Field(default_factory=list)
    cohort_discounts: list[CohortTier] = Field(default_factory=list)


class ApplicationCreate(ApplicationUpdate):
    """POST /applications: a draft for one establishment and one category (RULES §4)."""

    establishment_id: str
    category: CategoryCode
    dps_id: str | None = Field(
        None, max_length=64, description="the market applied to (RULES §11.1); the default one "
        "when not given")


class ApplicationCopy(Request):
    """POST /applications/{id}/copy: new drafts reusing the organisation's answers (§4)."""

    establishment_ids: list[str] = Field(min_length=1)


class CriterionResult(Request):
    result: Literal["pass", "fail"]
    reason: str | None = Field(
        None, max_length=5000, description="required for a fail; the provider is told it"
    )


class Scores(Request):
    """Evaluators' scores 0–100 for the weighted criteria (RULES §4.2)."""

    WORKFORCE: int = Field(ge=0, le=100)
    OUTCOMES_APPROACH: int = Field(ge=0, le=100)
    PERFORMANCE_MONITORING: int = Field(ge=0, le=100)


class Decision(Request):
    """POST /applications/{id}/decision (RULES §4.3): a result for every criterion."""

    pass_fail: dict[str, CriterionResult]
    scores: Scores


class EvaluationExtension(Request):
    """Extend the evaluation to 15 working days, with the reason recorded (§4.3)."""

    reason: Text


class InspectionCreate(InspectionJudgement):
    """POST /establishments/{id}/inspections; INADEQUATE suspends at once (§4.5)."""


class SuspendRequest(Request):
    """POST …/suspend: only for a pass/fail criterion of the category (RULES §4.5)."""

    criterion: str
    reason: Text
    dps_id: str | None = Field(None, max_length=64)


class Resubmission(PassFailAnswer):
    """POST …/resubmission: new evidence for the failed criterion only (RULES §4.5).

    The same shape renews evidence of an admitted membership before it expires.
    """

    criterion: str


class Reverification(Request):
    """The lead's annual re-verification of a membership (RULES §4.5)."""

    failed_criterion: str | None = None
    reason: str | None = Field(None, max_length=5000)


class MembershipRemoval(Request):
    reason: Text
    dps_id: str | None = Field(None, max_length=64)


class DpsPatch(Request):
    """PATCH /dps (RULES §3). Dump with ``exclude_unset=True``."""

    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    entry_open: StrictBool | None = None
    closed_from: IsoDate | None = Field(
        default=None, description="a scheduled closure of entry starts on this day (§3)"
    )
    closed_until: IsoDate | None = Field(
        default=None, description="entry reopens by itself on this day (§3)"
    )


class PartCreate(Request):
    """A category as a titled, numbered part of a market (RULES §11.2)."""

    number: int = Field(ge=1, le=999)
    category: CategoryCode
    title: Label


class MarketCreate(Request):
    """POST /markets (RULES §11.1): a dynamic market (``planned`` until established), or
    the record of a PCR 2015 DPS established before 24 February 2025."""

    regime: Regime = "PA2023_DYNAMIC_MARKET"
    title: Label
    description: Text | None = None
    parts: list[PartCreate] = Field(min_length=1, max_length=50)
    valid_from: IsoDate
    valid_to: IsoDate
    fee_percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)] | None = (
        Field(None, description="s.38: a fixed percentage of the awarded contract's value"))
    established_on: IsoDate | None = Field(
        None, description="a PCR 2015 DPS only: the day it was established (before 2025-02-24)")


class MarketPatch(Request):
    """PATCH /markets/{id}: the period and entry (§3, §11.1 for a PCR DPS), title,
    description, the fee while planned (s.38), and which market is the default."""

    title: Label | None = None
    description: Text | None = None
    fee_percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)] | None = (
        None)
    default: StrictBool | None = None
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    entry_open: StrictBool | None = None
    closed_from: IsoDate | None = None
    closed_until: IsoDate | None = None


class MarketEnd(Request):
    """POST /markets/{id}/end (s.39(5)): today when not given."""

    ended_on: IsoDate | None = None


class MarketMigrate(Request):
    """POST /markets/{id}/migrate (RULES §11.1): a dynamic market from a PCR DPS with the
    same categories as parts; every admitted establishment is invited to join."""

    title: Label
    description: Text | None = None
    valid_from: IsoDate
    valid_to: IsoDate
    fee_percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)] | None = (
        None)
    establish: StrictBool = Field(True, description="establish the new market at once")


class ExclusionCheck(Request):
    """POST /applications/{id}/exclusion-check (RULES §11.2, ss.57, 62): the lead's record
    of the debarment-list check and the supplier's exclusion information, before admission."""

    debarment_list_checked: StrictBool
    debarred: StrictBool = False
    excluded: StrictBool = False
    notes: Text | None = None


class RemovalNotice(Request):
    """POST …/memberships/{category}/removal-notice (s.37(4)): the supplier is told the
    decision to remove and its reasons; the membership is suspended meanwhile."""

    reasons: Text
    mandatory_exclusion: StrictBool = False
    dps_id: str | None = Field(None, max_length=64)


class InsuranceQuery(Request):
    establishment_id: str = Field(max_length=64)
    category: CategoryCode
    dps_id: str | None = Field(None, max_length=64)


class CategoryPatch(Request):
    """PATCH /categories/{code} (RULES §2): each change makes a new version.

    Maps are merged into the current setting; in ``authority_caps`` a ``null`` removes
    that authority's cap, and ``affordability_cap: null`` removes the common cap.
    Dump with ``exclude_unset=True``.
    """

    pass_fail_criteria: list[CriterionCode] | None = None
    weighted_criteria_weights: dict[WeightedCriterion, Int32] | None = None
    cost_heads: list[str] | None = None
    optional_cost_heads: list[str] | None = None
    insurance_minimums: dict[InsuranceCoverKind, Money] | None = None
    min_tender_period_hours: Int32 | None = None
    min_invited: Int32 | None = None
    affordability_cap: Money | None = None
    authority_caps: dict[str, Money | None] | None = None
    competency_period_months: Int32 | None = None
    referral_weights: dict[ReferralWeightKey, Int32] | None = None


class EligibilityQuery(Request):
    """Which establishments a referral must invite (RULES §5; of one market, §11.3)."""

    dps_id: str | None = Field(None, max_length=64,
                               description="members of this market only (RULES §11.3)")
    category: CategoryCode
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    radius_miles: float = Field(gt=0, le=1000, allow_inf_nan=False)
    authority: str = Field(min_length=1, max_length=20)


class EstablishmentUpdate(Request):
    """PATCH /establishments/{id}: what a provider may change after registering (§4).

    The location and categories are fixed once memberships exist elsewhere in the system;
    contacts replace the whole list (RULES §8: who is alerted).
    """

    name: Label | None = None
    address: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    capacity: int | None = Field(None, ge=1, le=10_000)
    contacts: list[Contact] | None = Field(None, min_length=1)


_NEAR = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*,\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$")


def parse_near(value: str) -> tuple[float, float]:
    """``"lat,lon"`` → ``(lat, lon)``, each within range."""
    match = _NEAR.fullmatch(value)
    if not match:
        raise ValueError("must be 'lat,lon', e.g. 51.27,0.52")
    lat, lon = float(match[1]), float(match[2])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("lat must be within -90..90 and lon within -180..180")
    return lat, lon


class EstablishmentQuery(Request):
    """GET /establishments filters (API.md). ``status`` is a membership status (in
    ``category`` when given); ``near`` + ``radius_miles`` keep those within the radius."""

    category: CategoryCode | None = None
    status: MembershipStatus | None = None
    near: str | None = Field(None, description="lat,lon, e.g. 51.27,0.52")
    radius_miles: float | None = Field(None, gt=0, le=1000, allow_inf_nan=False)
    reverification_due: StrictBool | None = Field(
        None, description="only memberships whose yearly re-verification is due (§4.5)"
    )
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None

    @field_validator("near")
    @classmethod
    def _near(cls, value: str | None) -> str | None:
        if value is not None:
            parse_near(value)
        return value

    @model_validator(mode="after")
    def _near_and_radius(self) -> EstablishmentQuery:
        if (self.near is None) != (self.radius_miles is None):
            raise ValueError("near and radius_miles go together")
        return self


class ExportQuery(Request):
    """GET /establishments/export (business case 7.16)."""

    category: CategoryCode | None = None
    format: Literal["csv", "json"] = "json"


class EligibleQuery(Request):
    """GET /establishments/eligible: who a referral at this point would invite (§5), for
    the caller's own authority."""

    dps_id: str | None = Field(None, max_length=64, description="members of this market "
                               "only (RULES §11.3)")
    category: CategoryCode
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    radius_miles: float = Field(gt=0, le=1000, allow_inf_nan=False)


class ApplicationQuery(Request):
    """GET /applications filters (API.md): ``overdue=true`` lists undecided applications
    past their due date (§4.3)."""

    status: ApplicationStatus | None = None
    overdue: StrictBool | None = None
    category: CategoryCode | None = None
    establishment_id: str | None = None
    dps_id: str | None = Field(None, max_length=64, description="one market's (§11.1)")
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None


class StandingsQuery(Request):
    """RPC ``standings``: the memberships of some establishments at a moment (§6.2, §6.3)."""

    dps_id: str | None = Field(None, max_length=64)
    category: CategoryCode
    establishment_ids: list[str] = Field(max_length=10_000)


class UpliftRequest(Request):
    """RPC ``apply_uplift`` (RULES §7.2); the same content as contracts' ``uplift_set``."""

    uplift_id: str = Field(min_length=1, max_length=100)
    category: CategoryCode
    cost_head: str = Field(min_length=1, max_length=64)
    percent: Annotated[Number, Field(gt=-100, le=100)]
    effective_from: IsoDate


# --- replies --------------------------------------------------------------------------


class Reply(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DpsView(Reply):
    """GET /dps (RULES §3): the default market, its regime (§11.1)."""

    status: DpsStatus
    valid_from: IsoDate
    valid_to: IsoDate
    entry_open: StrictBool
    closed_from: IsoDate | None = None
    closed_until: IsoDate | None = None
    dps_id: str = "dps-1"
    regime: Regime = "PCR2015_DPS"
    title: str | None = None
    state: MarketState = "established"
    established_on: IsoDate | None = None
    ended_on: IsoDate | None = None
    expires_at_latest: IsoDate | None = Field(
        None, description="a PCR DPS: 23 February 2029 at the latest (SI 2024/716 reg 5)")


class PartView(Reply):
    number: Int32
    category: CategoryCode
    title: str


class MarketView(DpsView):
    """A DPS or dynamic market (RULES §11.1)."""

    description: str | None = None
    parts: list[PartView]
    fee_percent: Annotated[Decimal, PlainSerializer(str, return_type=str)] | None = None
    lead_authority: str
    migrated_from: str | None = None
    default: StrictBool = False


class InsuranceStatus(Reply):
    """Insurance cover at award (RULES §11.2, s.36(2)): current cover of the membership."""

    current: StrictBool
    expires_on: IsoDate | None = None
    reason: str | None = None


class CategoryView(Reply):
    """One version of a category's configuration (RULES §2)."""

    code: CategoryCode
    name: str
    version: Int32
    pass_fail_criteria: list[CriterionCode]
    weighted_criteria_weights: dict[WeightedCriterion, Int32]
    cost_heads: list[str]
    optional_cost_heads: list[str]
    insurance_minimums: dict[InsuranceCoverKind, Money]
    min_tender_period_hours: Int32
    min_invited: Int32
    affordability_cap: Money | None
    authority_caps: dict[str, Money]
    competency_period_months: Int32
    referral_weights: dict[ReferralWeightKey, Int32]


class CriterionFailure(Reply):
    criterion: str
    reason: str


class DecisionView(Reply):
    """The outcome of an evaluation (RULES §4.3), with the core competency score (§4.2)."""

    status: Literal["admitted", "rejected"]
    results: dict[str, CriterionResult]
    scores: dict[WeightedCriterion, Int32]
    competency: Score
    failures: list[CriterionFailure]
    decided_at: IsoDateTime


class ApplicationView(ApplicationUpdate, Reply):
    id: str
    establishment_id: str
    provider_id: str
    category: CategoryCode
    status: ApplicationStatus
    created_at: IsoDateTime
    copied_from: str | None
    config_version: Int32 | None
    submitted_at: IsoDateTime | None
    due_on: IsoDate | None
    extension_reason: str | None
    overdue: StrictBool
    decision: DecisionView | None
    dps_id: str = "dps-1"
    exclusion_check: dict | None = Field(
        None, description="the lead's debarment-list and exclusion check (RULES §11.2, s.62)")


class MilestoneView(Reply):
    """A dated step in a membership's history (RULES §4.5)."""

    kind: Literal[
        "admitted",
        "suspended",
        "resubmitted",
        "reinstated",
        "removed",
        "reverified",
        "evidence_renewed",
        "removal_notified",
    ]
    at: IsoDateTime
    by: Actor
    criterion: str | None
    reason: str | None


class CompetencyMoveView(Reply):
    """One move of the core competency score with its reason (RULES §4.5, §7.4)."""

    period_start: IsoDate
    period_end: IsoDate
    performance_index: Number
    reviews_count: Int32
    old: Score
    new: Score
    at: IsoDateTime


class CostEntryView(Reply):
    """One dated price of a cost head (RULES §7.2)."""

    head: str
    amount: Money
    effective_from: IsoDate
    reason: str
    uplift_id: str | None = None


class MembershipView(Reply):
    id: str
    category: CategoryCode
    dps_id: str = "dps-1"
    status: MembershipStatus
    application_id: str
    admitted_on: IsoDate
    competency: Score
    scores: dict[WeightedCriterion, Int32]
    core_costs: dict[str, Money] = Field(description="in force on the day asked")
    total_weekly_core_cost: Money
    cohort_discounts: list[CohortTier]
    additional_services: list[AdditionalService]
    evidence_expiry: dict[str, IsoDate]
    reverification_due_on: IsoDate
    open_failures: list[CriterionFailure]
    pending_resubmissions: list[str]
    history: list[MilestoneView]
    competency_moves: list[CompetencyMoveView]
    cost_history: list[CostEntryView]


class ContactView(Reply):
    """A contact as stored (checked when it was given): replies do not re-validate it."""

    name: str
    email: str
    phone: str | None = None
    sms_opt_in: StrictBool = False


class EstablishmentView(Reply):
    id: str
    provider_id: str
    name: str
    urn: str | None
    address: str
    postcode: str
    location: Location
    categories: list[CategoryCode]
    capacity: Int32 | None
    contacts: list[ContactView]
    inspections: list[InspectionJudgement]
    memberships: list[MembershipView]


class EligibleEstablishment(Reply):
    """An establishment a referral must invite (RULES §5), with what referral snapshots."""

    establishment_id: str
    provider_id: str
    name: str
    category: CategoryCode
    location: Location
    distance_miles: float
    core_costs: dict[str, Money]
    total_weekly_core_cost: Money
    cohort_discounts: list[CohortTier]
    competency: Score
    contacts: list[ContactView]
    additional_services: list[AdditionalService] = Field(
        default_factory=list, description="qualified additional services (§4.4), per unit"
    )


class Standing(Reply):
    """An establishment's standing in a category (RULES §6.2 compliance, §6.3 C)."""

    admitted: StrictBool
    status: MembershipStatus | None = Field(description="null: never a member")
    competency: Score


class UpliftResult(Reply):
    """What ``apply_uplift`` did (RULES §7.2); a repeat of the same uplift id is a no-op."""

    uplift_id: str
    already_applied: StrictBool
    applied: list[str] = Field(description="establishment ids whose price changed")
    skipped: list[dict] = Field(description="establishment id and why it was left alone")


# --- events emitted ---------------------------------------------------------------------


class MembershipEvent(EventBase):
    """Common payload: who it is about and whom to tell (RULES §8)."""

    establishment_id: str
    provider_id: str
    establishment_name: str
    category: CategoryCode
    contacts: list[Contact]
    dps_id: str | None = None
    regime: Regime | None = None
    provider_name: str | None = None
    ppon: str | None = None
    companies_house_number: str | None = None
    part_number: int | None = None


class ApplicationDecided(MembershipEvent):
    """RULES §4.3: the provider is told the outcome and every failed criterion's reason."""

    event_type: ClassVar[str] = "application_decided"
    application_id: str
    status: Literal["admitted", "rejected"]
    failures: list[CriterionFailure]
    scores: dict[WeightedCriterion, Int32]
    competency: Score
    core_costs: dict[str, Money]
    total_weekly_core_cost: Money


class MembershipAdmitted(MembershipEvent):
    """RULES §4.3/§4.5: a new membership; everything a referral snapshot needs."""

    event_type: ClassVar[str] = "membership_admitted"
    membership_id: str
    admitted_on: IsoDate
    location: Location
    competency: Score
    core_costs: dict[str, Money]
    total_weekly_core_cost: Money
    cohort_discounts: list[CohortTier]
    reverification_due_on: IsoDate


class MembershipSuspended(MembershipEvent):
    """RULES §4.5: applies to all authorities; open bids are withdrawn, no new referrals."""

    event_type: ClassVar[str] = "membership_suspended"
    membership_id: str
    criterion: str
    reason: str
    suspended_by: Actor
    suspended_on: IsoDate


class MembershipReinstated(MembershipEvent):
    """RULES §4.5: the lead accepted the resubmitted evidence."""

    event_type: ClassVar[str] = "membership_reinstated"
    membership_id: str
    criteria: list[str]
    reinstated_on: IsoDate
    competency: Score
    core_costs: dict[str, Money]
    total_weekly_core_cost: Money


class MembershipRemoved(MembershipEvent):
    event_type: ClassVar[str] = "membership_removed"
    membership_id: str
    reason: str
    removed_on: IsoDate
    reasons: str | None = None


class MembershipRemovalNotified(MembershipEvent):
    """s.37(4): the supplier is told the decision to remove it and the reasons; the
    membership is suspended until the removal (RULES §11.2)."""

    event_type: ClassVar[str] = "membership_removal_notified"
    membership_id: str
    reasons: str
    mandatory_exclusion: StrictBool
    notified_on: IsoDate


class EvidenceExpiring(MembershipEvent):
    """RULES §4.5/§8: evidence expires within 30 days (email and SMS)."""

    event_type: ClassVar[str] = "evidence_expiring"
    membership_id: str
    criterion: str
    expires_on: IsoDate
    days_left: Int32


class CompetencyChanged(MembershipEvent):
    """RULES §4.5/§7.4: the core competency score moved by contract-management performance."""

    event_type: ClassVar[str] = "competency_changed"
    membership_id: str
    old: Score
    new: Score
    performance_index: Number
    period_start: IsoDate
    period_end: IsoDate
    reviews_count: Int32


class CoreCostsChanged(MembershipEvent):
    """RULES §7.2: an uplift changed one head of the qualified core costs."""

    event_type: ClassVar[str] = "core_costs_changed"
    membership_id: str
    cost_head: str
    old: Money
    new: Money
    percent: Number
    effective_from: IsoDate
    uplift_id: str
    reason: str
    core_costs: dict[str, Money] = Field(description="every head in force from effective_from")
    total_weekly_core_cost: Money


class ReverificationDue(MembershipEvent):
    """RULES §4.5: the yearly re-verification of a membership has fallen due (once per due
    date); the lead re-checks it (``POST …/reverification``)."""

    event_type: ClassVar[str] = "reverification_due"
    membership_id: str
    due_on: IsoDate


class DigestApplication(Reply):
    """An application overdue for decision (§4.3), as the lead's digest lists it."""

    application_id: str
    establishment_id: str
    establishment_name: str
    category: CategoryCode
    due_on: IsoDate


class DigestMembership(Reply):
    """A membership due for re-verification (§4.5), as the lead's digest lists it."""

    membership_id: str
    establishment_id: str
    establishment_name: str
    category: CategoryCode
    due_on: IsoDate


class DigestMarketWarning(Reply):
    """§11.1: a PCR DPS expires within 6 (or 3) months (SI 2024/716 reg 5)."""

    dps_id: str
    title: str
    expires_on: IsoDate
    months_before: Int32


class LeadDigest(EventBase):
    """RULES §8: the lead's daily digest, once per London ``day``, when anything is overdue
    or due. No child data: applications and memberships are the providers' affairs."""

    event_type: ClassVar[str] = "lead_digest"
    day: IsoDate
    overdue_applications: list[DigestApplication]
    reverifications_due: list[DigestMembership]
    market_warnings: list[DigestMarketWarning] = []


class MarketPart(BaseModel):
    number: int
    category: str
    title: str


class MarketCreated(EventBase):
    """A dynamic market intended, before establishment (s.39(2), UK13, RULES §11.4)."""

    event_type: ClassVar[str] = "market_created"
    dps_id: str
    regime: Regime
    title: str
    description: str | None = None
    parts: list[MarketPart]
    valid_from: IsoDate
    valid_to: IsoDate
    fee_percent: str | None = None
    lead_authority: str


class MarketEstablished(MarketCreated):
    """The market is established (s.39(3), UK14)."""

    event_type: ClassVar[str] = "market_established"


class MarketEnded(EventBase):
    """The market ends (s.39(5), UK16)."""

    event_type: ClassVar[str] = "market_ended"
    dps_id: str
    regime: Regime
    title: str
    ended_on: IsoDate


class MarketExpiryWarning(EventBase):
    """§11.1: the lead is warned 6 and 3 months before a PCR DPS expires."""

    event_type: ClassVar[str] = "market_expiry_warning"
    dps_id: str
    title: str
    expires_on: IsoDate
    months_before: Int32


class MarketInvitation(EventBase):
    """§11.1 migration: an admitted establishment is invited to join the new dynamic
    market; its draft application there is pre-filled from its old one."""

    event_type: ClassVar[str] = "market_invitation"
    dps_id: str
    from_dps_id: str
    title: str
    establishment_id: str
    provider_id: str
    establishment_name: str
    category: CategoryCode
    application_id: str
    contacts: list[Contact]


class EstablishmentContactsChanged(EventBase):
    """Who to alert for an establishment (RULES §8): sent when its contacts change (not at
    registration: the membership events and referral invitations carry the contacts they
    need, so registering costs no event and no consumer's transaction). The shape of
    ``services.notifications.messages.EstablishmentContacts`` exactly (that model forbids
    other fields); the latest by ``occurred_at`` wins."""

    event_type: ClassVar[str] = "establishment_contacts_changed"
    establishment_id: str
    provider_id: str
    contacts: list[Contact]


# --- events consumed --------------------------------------------------------------------


class PerformanceReviewed(EventBase):
    """Emitted by contracts (RULES §7.4): an establishment's performance over a period.

    ``performance_index`` is ``(mean review score − 1) / 4 × 100``. Without ``category`` it
    moves the competency of every current membership of the establishment.

    The emitter's model is ``services.contracts.messages.PerformanceReviewed`` (source
    ``contracts``, type ``performance_reviewed``): the same fields, with ``category``
    always given and the index as a 2-decimal string. This model reads that payload
    (and tolerates fields added later), so the consumer does not depend on the emitter's
    stricter model.
    """

    event_type: ClassVar[str] = "performance_reviewed"
    establishment_id: str
    category: CategoryCode | None = None
    period_start: IsoDate
    period_end: IsoDate
    performance_index: Annotated[Number, Field(ge=0, le=100)]
    reviews_count: int = Field(ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _period_in_order(self) -> PerformanceReviewed:
        if self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start")
        return self


class UpliftSet(EventBase):
    """Emitted by contracts (RULES §7.2) when the contract manager sets an annual uplift;
    this service applies it to the qualified core costs of admitted establishments.

    Reads ``services.contracts.messages.UpliftSet`` (source ``contracts``, type
    ``uplift_set``; percent as a string) tolerantly, like ``PerformanceReviewed``. The
    category is checked by the handler (an unknown one is logged and acknowledged).
    """

    event_type: ClassVar[str] = "uplift_set"
    uplift_id: str = Field(min_length=1, max_length=100)
    category: str
    cost_head: str
    percent: Annotated[Number, Field(gt=-100, le=100)]
    effective_from: IsoDate


# --------------------------------------------------------------------------- evidence files


class EvidenceUpload(BaseModel):
    """An evidence file as the gateway passes it on (``POST /applications/{id}/evidence``:
    the body is the file; ``criterion`` and ``filename`` are query parameters)."""

    model_config = ConfigDict(extra="forbid")
    criterion: Annotated[str, Field(min_length=1, max_length=64)]
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_base64: str


class EvidenceView(BaseModel):
    """An uploaded evidence file for a pass/fail criterion (§4, issue 12)."""

    document_id: str
    application_id: str
    criterion: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: str


class EvidenceList(BaseModel):
    items: list[EvidenceView]


class EvidenceContent(EvidenceView):
    content_base64: str
