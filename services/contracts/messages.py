"""Published language of the contracts service (DESIGN rule 2, RULES §7).

Longer than 400 lines on purpose: it is the one module other services and the gateway
import, so the whole published language (requests, views, consumed and emitted events) stays
in one place where a consumer finds it.

- Requests the gateway validates before calling contracts by RPC (``extra="forbid"``).
- Events contracts consumes from the referral service (``ReferralAwarded``,
  ``DirectPlacementRecorded``): the shapes contracts relies on; unknown fields are ignored.
- Events contracts emits (``PerformanceReviewed`` for qualification's §4.5 move,
  ``UpliftSet`` so that qualification uplifts admitted establishments' core costs, §7.2).

Money is Decimal pounds, at most 2 decimals, given and serialised as a string
(``"3500.00"``); floats are refused (RULES §4.4). Percentages likewise (``"3.1"``).

Over 400 lines on purpose: the published language stays one module, the only one other
services and the gateway may import (DESIGN rule 2, enforced by import-linter).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from services.common import money
from services.common.events import EventBase
from services.common.types import IsoDate, IsoDateTime, Money, StrictBool

__all__ = [
    "AwardedNeed",
    "AwardedReferral",
    "AwardedVariableCost",
    "BenchmarkQuery",
    "BlockContractCreate",
    "BlockPath",
    "BlockQuery",
    "CostShareQuery",
    "BlockPlaceCreate",
    "DirectPlacementCreate",
    "DirectPlacementRecorded",
    "EventBase",
    "Incentive",
    "InvitationDeclinedFeed",
    "MarketEndedFeed",
    "MarketEstablishedFeed",
    "MarketFeed",
    "MembershipFeed",
    "NOTICE_TITLES",
    "NoticeMarkPublished",
    "NoticePage",
    "NoticeView",
    "NoticePath",
    "NoticesQuery",
    "OverdueQuery",
    "PerformanceQuery",
    "PerformanceReviewed",
    "PlacementEnd",
    "PlacementPath",
    "PlacementQuery",
    "PlacementStart",
    "PlacementsQuery",
    "ProviderRegisteredFeed",
    "PublicationQuery",
    "ReferralAwarded",
    "ReferralCancelledFeed",
    "ReferralClosedFeed",
    "ReferralPublishedFeed",
    "ReferralUnsuccessfulFeed",
    "ReviewCreate",
    "UpliftCreate",
    "UpliftSet",
    "VariableCost",
    "VariationChanges",
    "VariationCreate",
    "WeeklyPrice",
]


def _decimal_2dp(value: object) -> Decimal:
    """Strings, ints or Decimals with at most 2 decimals; never floats (RULES §4.4)."""
    if isinstance(value, float | bool) or not isinstance(value, str | int | Decimal):
        raise ValueError('give a string such as "3500.00", not a number with a binary fraction')
    return money.parse(value)


def _decimal_text(value: object) -> Decimal:
    """A decimal given as a string (or int/Decimal), any number of places; never a float
    (§11 estimated values and fee percentages from other services' events)."""
    if isinstance(value, float | bool) or not isinstance(value, str | int | Decimal):
        raise ValueError('give a decimal string such as "663540.00"')
    try:
        parsed = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError("not a decimal number") from None
    if not parsed.is_finite() or parsed < 0:
        raise ValueError("must be a finite number of at least 0")
    return parsed


DecimalText = Annotated[Decimal, BeforeValidator(_decimal_text),
                        PlainSerializer(lambda v: format(v, "f"), return_type=str)]
Regime = Literal["PCR2015_DPS", "PA2023_DYNAMIC_MARKET"]


def _fmt_2dp(value: Decimal) -> str:
    return f"{value:.2f}"


def _fmt_plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


DiscountPercent = Annotated[
    Decimal,
    BeforeValidator(_decimal_2dp),
    Field(ge=0, lt=100),
    PlainSerializer(_fmt_plain, return_type=str),
]
UpliftPercent = Annotated[
    Decimal,
    BeforeValidator(_decimal_2dp),
    Field(gt=-100, le=100),
    PlainSerializer(_fmt_plain, return_type=str),
]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Id = Annotated[str, Field(min_length=1, max_length=100)]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Score = Annotated[int, Field(ge=1, le=5, strict=True)]
EndReasonCode = Literal[
    "planned", "step_down", "breakdown", "child_left_care", "staying_put", "other",
    "did_not_start",
]


class Request(BaseModel):
    """Base of RPC arguments: unknown fields are refused (422 naming them)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class VariableCost(Request):
    """An itemised variable cost for this child's needs (never uplifted, §7.2)."""

    label: Annotated[str, Field(min_length=1, max_length=200)]
    weekly: Money


# --- requests (API.md "Contracts and placements") ------------------------------------------


class PlacementStart(Request):
    """``POST /placements/{id}/start`` (§7.1 pending_start → active)."""

    date: IsoDate
    reason: Annotated[str, Field(max_length=2000)] | None = None


class PlacementEnd(Request):
    """``POST /placements/{id}/end`` (§7.1 active → ended, with an end reason; or
    pending_start → ended with ``did_not_start``: the child never arrived, and the
    placement then counts in no benchmark, cost share or block occupancy)."""

    date: IsoDate
    reason: EndReasonCode
    note: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _other_needs_note(self) -> PlacementEnd:
        if self.reason == "other" and not self.note:
            raise ValueError("an end reason of 'other' needs a note")
        return self


class VariationChanges(Request):
    """What a variation changes (§7.2). Core heads given are set (others kept); a given
    ``variable_costs`` list replaces the whole list; a given discount replaces it."""

    core_costs: dict[Code, Money] | None = None
    variable_costs: list[VariableCost] | None = None
    discount_percent: DiscountPercent | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> VariationChanges:
        if (
            self.core_costs is None
            and self.variable_costs is None
            and (self.discount_percent is None)
        ):
            raise ValueError("a variation must change core_costs, variable_costs or discount")
        if self.core_costs is not None and not self.core_costs:
            raise ValueError("core_costs, when given, must name at least one head")
        return self


class VariationCreate(Request):
    """``POST /placements/{id}/variations`` (§7.2: every price change is a variation)."""

    effective_from: IsoDate
    changes: VariationChanges
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ReviewCreate(Request):
    """``POST /placements/{id}/reviews`` (§7.4): 1–5 per monitored component."""

    date: IsoDate
    scores: Annotated[dict[Code, Score], Field(min_length=1)]
    child_view: Annotated[str, Field(max_length=10_000)] | None = None
    parent_view: Annotated[str, Field(max_length=10_000)] | None = None


class DirectPlacementCreate(Request):
    """``POST /direct-placements`` (§5 direct placement, business case 8.10). The reason code
    is checked against the configured list by the domain
    (``domain.DEFAULT_DIRECT_REASON_CODES``)."""

    establishment_id: Id
    category: Code
    reason_code: Code
    justification: Annotated[str, Field(min_length=1, max_length=10_000)]
    weekly_price: Money
    child_reference: Annotated[str, Field(min_length=1, max_length=200)]


class UpliftCreate(Request):
    """``POST /uplifts`` (§7.2): a common annual uplift per category and core cost head."""

    category: Code
    cost_head: Code
    percent: UpliftPercent
    effective_from: IsoDate

    @model_validator(mode="after")
    def _not_zero(self) -> UpliftCreate:
        if self.percent == 0:
            raise ValueError("an uplift of 0 % changes nothing")
        return self


class BlockContractCreate(Request):
    """``POST /block-contracts`` (§7.3). ``end`` is the last day of the block (inclusive).
    ``category`` is an addition to API.md: needed when the establishment is admitted in
    more than one category."""

    establishment_id: Id
    places: Annotated[int, Field(ge=1, le=1000)]
    weekly_price_per_place: Money
    start: IsoDate
    end: IsoDate
    category: Code | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> BlockContractCreate:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class BlockPlaceCreate(Request):
    """Place a child into a free block place (§7.3); an addition to API.md
    (``POST /block-contracts/{id}/placements``). ``referral_id`` when placed from a referral."""

    child_reference: Annotated[str, Field(min_length=1, max_length=200)]
    start_date: IsoDate
    referral_id: Id | None = None


# --- path and query parameters (gateway) ------------------------------------------------

Cursor = Annotated[str, Field(max_length=500)]
Limit = Annotated[int, Field(ge=1, le=500)]
Quarter = Annotated[str, Field(pattern=r"^\d{4}-Q[1-4]$", description="e.g. 2026-Q3")]


class PlacementPath(Request):
    placement_id: Id


class BlockPath(Request):
    block_id: Id


class PlacementsQuery(Request):
    """``GET /placements``: a page in agreement order; optional filters."""

    limit: Limit = 50
    cursor: Cursor | None = None
    status: Literal["pending_start", "active", "ended"] | None = None
    category: Code | None = None
    establishment_id: Id | None = None


class PlacementQuery(Request):
    """``GET /placements/{id}``: ``on`` is the day the weekly cost and the price in force
    are shown for (default today; §7.2 "weekly cost on any date")."""

    on: IsoDate | None = None


class BlockQuery(Request):
    """``GET /block-contracts/{id}``: occupancy and voids up to ``as_of`` (default today)."""

    as_of: IsoDate | None = None


class OverdueQuery(Request):
    """``GET /reviews/overdue`` (§7.4 schedule tracking); an addition to API.md."""

    limit: Limit = 50
    cursor: Cursor | None = None
    as_of: IsoDate | None = None


class UpliftsQuery(Request):
    """RPC ``list_uplifts`` (§7.2): the uplifts set, of one category or all (the portal)."""

    category: Code | None = None


class PublicationQuery(Request):
    """``GET /publications/awards`` (§7.5)."""

    quarter: Quarter
    format: Literal["ocds", "csv"] = "ocds"


class BenchmarkQuery(Request):
    """``GET /benchmarks`` (§7.6): a category over ``from``..``to`` (both days included);
    default: the last 12 months."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    category: Code
    from_: IsoDate | None = Field(None, alias="from")
    to: IsoDate | None = None


class CostShareQuery(Request):
    """``GET /cost-shares?year=2026``: financial year 2026/27 (1 April to 31 March, §7.7)."""

    year: Annotated[int, Field(ge=2000, le=2999)]


NoticeType = Literal["UK4", "UK6", "UK7", "UK11", "UK12", "UK13", "UK14", "UK15", "UK16"]
NOTICE_TITLES: dict[str, str] = {
    "UK4": "Tender notice",
    "UK6": "Contract award notice",
    "UK7": "Contract details notice",
    "UK11": "Contract termination notice",
    "UK12": "Procurement termination notice",
    "UK13": "Dynamic market notice - intention",
    "UK14": "Dynamic market notice - establishment",
    "UK15": "Dynamic market notice - modification",
    "UK16": "Dynamic market notice - cessation",
}
"""§11.4's notices (UK17, payments compliance, is the authorities' own and not built here)."""


class NoticesQuery(Request):
    """``GET /notices`` (§11.4): Procurement Act notices as OCDS releases, by type and by the
    day they were raised (``from``..``to``, both included); ``due=true`` lists instead those
    due within 7 days or overdue and not yet marked published."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: NoticeType | None = None
    from_: IsoDate | None = Field(None, alias="from")
    to: IsoDate | None = None
    due: StrictBool = False
    limit: Limit = 100
    cursor: Cursor | None = None


class NoticePath(Request):
    notice_id: Annotated[str, Field(min_length=1, max_length=200)]


class NoticeMarkPublished(Request):
    """``POST /notices/{id}/published`` (an addition, §11.4): the notice was published on
    Find a Tender, under its FTS notice id (e.g. ``012345-2026``), at ``published_at``
    (default now)."""

    fts_notice_id: Annotated[str, Field(min_length=1, max_length=50,
                                        pattern=r"^[A-Za-z0-9-]+$")]
    published_at: IsoDateTime | None = None


class PerformanceQuery(Request):
    """``GET /performance`` (§7.4): an establishment's performance index over a period
    (default the last 6 months) and the reports sent to qualification; an addition."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    establishment_id: Id
    category: Code | None = None
    from_: IsoDate | None = Field(None, alias="from")
    to: IsoDate | None = None


# --- consumed events (from the referral service) ------------------------------------------


class Consumed(BaseModel):
    """Base of the parts of consumed events: fields contracts does not use are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Incentive(Consumed):
    """Incentive terms of an award (§7.1, business case 8.5), e.g. an early step-down premium
    paid when the child steps down within ``within_weeks``."""

    kind: Code = "early_step_down"
    description: Text
    premium: Money | None = None
    within_weeks: Annotated[int, Field(gt=0)] | None = None


class SealedChildData(Consumed):
    """A child's personal data sealed under the data key ``key_id`` (RULES §13): contracts
    opens it through services/common/crypto.py and keeps it sealed again."""

    key_id: Id
    sealed: Annotated[str, Field(min_length=1)]


class AwardedVariableCost(Consumed):
    label: Annotated[str, Field(min_length=1)]
    weekly: Money


class WeeklyPrice(Consumed):
    """The awarded bid's weekly price (§5, §6.3): core costs per child, ``children`` in the
    cohort, variable items for the whole placement; ``weekly_price = children × Σ core −
    discount + Σ variable`` with the discount rounded half up on the core total."""

    core_costs: dict[Code, Money]
    children: Annotated[int, Field(ge=1)] = 1
    variable_costs: list[AwardedVariableCost] = []
    discount_percent: DiscountPercent = Decimal("0")
    weekly_price: Money


class AwardedNeed(Consumed):
    code: Code


class AwardedReferral(Consumed):
    """The part of the awarded referral's full record that contracts keeps: need codes for
    §7.6 demand. The child's details in it are not read."""

    needs: list[AwardedNeed] = []
    deadline: IsoDateTime | None = None


class CallOffFields(BaseModel):
    """What the referral service's events tell of a call-off under a market (ISSUE14 event
    contract; RULES §11.3, §11.4). All optional: events sent before the referral service knew
    of regimes carry none of them, and stand for the PCR 2015 DPS ``dps-1``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    dps_id: Id | None = None
    regime: Regime | None = None
    estimated_value: DecimalText | None = None
    above_threshold: bool | None = None
    below_threshold_rules: str | None = None


class ReferralAwarded(CallOffFields, EventBase):
    """A referral was awarded (§5 award): contracts creates the IPA (§7.1) under
    ``placement_id``, idempotently by ``referral_id``. Matches the referral service's event;
    ``provider_name`` is wanted for publication (§7.5) but optional, ``referral`` is read
    for its need codes only, and the rest of that event (contacts, …) is ignored."""

    event_type: ClassVar[str] = "referral_awarded"

    occurred_at: IsoDateTime
    referral_id: Id
    placement_id: Id
    authority: Code
    category: Code
    bid_id: Id
    provider_id: Id
    provider_name: Annotated[str, Field(min_length=1)] | None = None
    establishment_id: Id
    establishment_name: Annotated[str, Field(min_length=1)]
    child_data: SealedChildData | None = None
    price: WeeklyPrice
    proposed_start: IsoDate | None = None
    incentive: Incentive | None = None
    desired_outcomes: list[str] = []
    published_at: IsoDateTime
    awarded_at: IsoDateTime
    bids_count: Annotated[int, Field(ge=0)]
    compliant_bids_count: Annotated[int, Field(ge=0)]
    referral: AwardedReferral | None = None
    # §11.4 voluntary standstill (s.51), assessment summaries (s.50(3)), insurance (§11.2)
    standstill_ends_on: IsoDate | None = None
    summaries_released_at: IsoDateTime | None = None
    insurance_checked_at: IsoDateTime | None = None


class DirectPlacementRecorded(CallOffFields, EventBase):
    """A commissioner recorded a direct placement (§5, business case 8.10), with the
    referral service: contracts creates the IPA under ``placement_id``, idempotently by
    ``direct_placement_id``; the price was agreed at ``occurred_at``. Names and a start date
    are optional."""

    event_type: ClassVar[str] = "direct_placement_recorded"

    occurred_at: IsoDateTime
    direct_placement_id: Id
    placement_id: Id
    authority: Code
    category: Code
    establishment_id: Id
    establishment_name: Annotated[str, Field(min_length=1)] | None = None
    provider_id: Id
    provider_name: Annotated[str, Field(min_length=1)] | None = None
    reason_code: Code
    justification: Annotated[str, Field(min_length=1)]
    weekly_price: Money
    child_data: SealedChildData | None = None
    start_date: IsoDate | None = None
    # §11.3 user choice (Schedule 5 paras 15–17): ``reason`` may repeat ``reason_code``
    reason: Code | None = None
    expressed_preference: str | None = None

    @property
    def direct_reason(self) -> str:
        return self.reason or self.reason_code


# --- consumed events: benchmarking and name feeds ---------------------------------------
# The parts of the referral and qualification services' events that contracts keeps (§7.5
# names, §7.3 who runs an establishment, §7.6 benchmarking). Unknown fields are ignored.


class _ReferralFeed(CallOffFields, EventBase):
    occurred_at: IsoDateTime
    referral_id: Id
    authority: Code
    category: Code


class ReferralPublishedFeed(_ReferralFeed):
    """``referral_published``: published at ``occurred_at``; its need codes (§7.6 demand)."""

    event_type: ClassVar[str] = "referral_published"
    profile: AwardedReferral | None = None
    title: str | None = None
    deadline: IsoDateTime | None = None  # the closing time (else the profile's)


class ReferralClosedFeed(_ReferralFeed):
    """``referral_closed``: the deadline passed (or it closed early) with ``bids_count``."""

    event_type: ClassVar[str] = "referral_closed"
    bids_count: Annotated[int, Field(ge=0)]


class ReferralUnsuccessfulFeed(_ReferralFeed):
    """``referral_unsuccessful``: no compliant bid (§5)."""

    event_type: ClassVar[str] = "referral_unsuccessful"
    bids_count: Annotated[int, Field(ge=0)]


class ReferralCancelledFeed(_ReferralFeed):
    """``referral_cancelled`` (§5)."""

    event_type: ClassVar[str] = "referral_cancelled"
    was_published: bool | None = None


class InvitationDeclinedFeed(_ReferralFeed):
    """``invitation_declined``: a decline and its reason, market-capacity intelligence
    (§5 declines, §7.6)."""

    event_type: ClassVar[str] = "invitation_declined"
    establishment_id: Id
    reason_code: Code


class _Provider(Consumed):
    id: Id
    name: Annotated[str, Field(min_length=1)]
    ppon: str | None = None
    companies_house_number: str | None = None


class ProviderRegisteredFeed(EventBase):
    """qualification's ``provider_registered``: the organisation's name, which publication
    names as the supplier (§7.5), and its identifiers (§11.2: PPON, Companies House), given
    on the event or in its ``provider``."""

    event_type: ClassVar[str] = "provider_registered"
    provider: _Provider
    ppon: str | None = None
    companies_house_number: str | None = None


class MembershipFeed(EventBase):
    """qualification's membership events (``membership_admitted``, ``…_suspended``,
    ``…_reinstated``, ``…_removed``): who runs an establishment and its name, for block
    contracts (§7.3)."""

    establishment_id: Id
    provider_id: Id
    establishment_name: Annotated[str, Field(min_length=1)]
    category: Code
    # ISSUE14 event contract (§11.2, §11.4 UK15): all optional
    membership_id: Id | None = None
    dps_id: Id | None = None
    regime: Regime | None = None
    provider_name: str | None = None
    ppon: str | None = None
    companies_house_number: str | None = None
    part_number: int | None = None
    reasons: str | None = None


class MarketPart(Consumed):
    number: int
    category: Code
    title: str


class MarketFeed(EventBase):
    """qualification's ``market_created`` (§11.4 UK13, before establishment): a market and
    its terms, kept by contracts for its notices and fees (s.38)."""

    event_type: ClassVar[str] = "market_created"
    occurred_at: IsoDateTime
    dps_id: Id
    regime: Regime
    title: Annotated[str, Field(min_length=1)]
    description: str | None = None
    parts: list[MarketPart] = []
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    fee_percent: DecimalText | None = None
    lead_authority: Code


class MarketEstablishedFeed(MarketFeed):
    """``market_established`` (§11.4 UK14): the same fields."""

    event_type: ClassVar[str] = "market_established"


class MarketEndedFeed(EventBase):
    """``market_ended`` (§11.4 UK16)."""

    event_type: ClassVar[str] = "market_ended"
    occurred_at: IsoDateTime
    dps_id: Id
    regime: Regime
    title: Annotated[str, Field(min_length=1)]
    ended_on: IsoDate


# --- emitted events ----------------------------------------------------------------------


class PerformanceReviewed(EventBase):
    """An establishment's performance index over a period (§7.4), consumed by qualification
    to move the core competency score (§4.5). ``performance_index`` is a 2-decimal string."""

    model_config = ConfigDict(extra="forbid")
    event_type: ClassVar[str] = "performance_reviewed"

    establishment_id: Id
    category: Code
    period_start: IsoDate
    period_end: IsoDate
    performance_index: Annotated[
        Decimal,
        BeforeValidator(_decimal_2dp),
        Field(ge=0, le=100),
        PlainSerializer(_fmt_2dp, return_type=str),
    ]
    reviews_count: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _period_in_order(self) -> PerformanceReviewed:
        if self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start")
        return self


class UpliftSet(EventBase):
    """The contract manager set an annual uplift (§7.2); qualification applies it to the
    qualified core costs of admitted establishments from ``effective_from``."""

    model_config = ConfigDict(extra="forbid")
    event_type: ClassVar[str] = "uplift_set"

    uplift_id: Id
    category: Code
    cost_head: Code
    percent: UpliftPercent
    effective_from: IsoDate


class ReferralPlacedInBlock(EventBase):
    """A referral's child was placed into a free block place (§7.3): the referral service
    awards the referral to ``placement_id`` and closes it. No child data."""

    model_config = ConfigDict(extra="forbid")
    event_type: ClassVar[str] = "referral_placed_in_block"

    occurred_at: IsoDateTime
    referral_id: Id
    placement_id: Id
    block_id: Id
    authority: Code
    category: Code
    provider_id: Id
    establishment_id: Id


class PlacementEnded(EventBase):
    """A placement ended (§7.1): the referral service starts the retention clock of the
    child's personal data sealed under ``child_key_id`` (§13). No child data."""

    model_config = ConfigDict(extra="forbid")
    event_type: ClassVar[str] = "placement_ended"

    occurred_at: IsoDateTime
    placement_id: Id
    authority: Code
    child_key_id: Id | None = None
    ended_on: IsoDate


# --- replies (documented in the served OpenAPI; issue 10) ---------------------------------
# The service builds its replies as JSON-ready views (``domain.views`` and friends); these
# models describe them for partner developers and contract tests. The fields listed are
# always present; views may carry more (child details for the owning authority, §10).

_Json = dict[str, object]


class Reply(BaseModel):
    model_config = ConfigDict(extra="allow")


class PlacementView(Reply):
    """A placement on a day (§7.1, §7.2): price in force, variations, review due."""

    id: str
    authority: str
    provider_id: str
    establishment_id: str
    category: str
    source: str
    status: str
    start_date: str | None
    ended_on: str | None
    agreed_at: str
    awarded_weekly_price: str
    weekly_cost: str
    price: _Json
    current_price: _Json
    variations: list[_Json]
    next_review_due: str | None


class PlacementPage(Reply):
    items: list[PlacementView]
    next_cursor: str | None


class VariationReply(PlacementView):
    """The placement after the variation, and the variation itself (§7.2)."""

    variation: _Json


class ReviewReply(Reply):
    """An outcome review (§7.4) and the placement's next review date."""

    id: str
    placement_id: str
    date: str
    score: str
    scores: _Json
    next_review_due: str | None


class OverduePage(Reply):
    items: list[_Json]
    next_cursor: str | None
    as_of: str


class UpliftView(Reply):
    """A common annual uplift as set (§7.2)."""

    id: str
    category: str
    cost_head: str
    percent: str
    effective_from: str
    placements_uplifted: int
    created_at: str


class BlockView(Reply):
    """A block contract with its occupancy and placements (§7.3)."""

    id: str
    authority: str
    provider_id: str
    establishment_id: str
    category: str
    places: int
    weekly_price_per_place: str
    start: str
    end: str
    occupancy: _Json
    placements: list[_Json]


class BenchmarkView(Reply):
    """A category's benchmarks over a period, overall and per authority (§7.6)."""

    category: str
    placements: int
    referrals: int
    by_authority: list[_Json]


class CostShareView(Reply):
    """A financial year's cost split and transaction fees (§7.7)."""

    year: str
    running_cost: str
    setup_cost: str
    fee_percent: str
    authorities: list[_Json]
    transaction_fees_total: str
    # §11.2 (s.38): awards under a dynamic market charge its fee to the awarded supplier,
    # per supplier and per quarter, instead of the authorities' transaction fee
    supplier_fees: _Json | None = None


class NoticeView(Reply):
    """A §11.4 notice: its OCDS release (UK profile) and deadline."""

    notice_id: str
    notice_type: str
    ocid: str
    due_by: str | None
    published_at: str | None
    fts_notice_id: str | None
    release: _Json


class NoticePage(Reply):
    items: list[_Json]
    next_cursor: str | None


class PerformanceView(Reply):
    """An establishment's performance index per category and its reports (§7.4)."""

    establishment_id: str
    categories: list[_Json]
    reports: list[_Json]


PUBLICATION_RESPONSE = {
    "description": "The quarter's awards: an OCDS 1.1 release package (format=ocds) or CSV",
    "content": {"application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}}},
}
