"""Published language of the scoring service (RULES §6): RPC arguments and replies.

Scoring is stateless and emits no events. Other services and the gateway import only this
module. It holds the wire shapes and the RPC naming scheme; the rules are in ``domain/``.

**Per-category instances** (DESIGN "Scoring can be run per category"):

- ``scoring`` answers the category-free calls ``ping`` and ``resolve_weights``. Every
  scoring process hosts it.
- ``scoring_<category in lower case>`` (e.g. ``scoring_sen``) answers ``ping`` and ``score``
  for that category only. Callers always score through
  ``scoring_service_name(request.category)``; they need no configuration.
- ``SCORING_CATEGORIES`` (comma-separated codes, read at start by ``run.py``) chooses which
  category services a process hosts. Unset or empty means all of them. To give SEN its own
  workers, run one deployment with ``SCORING_CATEGORIES=SEN`` and the general one with the
  other codes; nameko makes instances of one service name competing consumers.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from services.common.money import MAX, fmt, parse, round_pence
from services.common.types import Int32, IsoDateTime, StrictBool

SERVICE_NAME = "scoring"
Category = Literal["SEN", "FOSTERCARE", "RESIDENTIAL", "ALT_EDUCATION", "SUPPORTED_ACCOMMODATION"]
CATEGORIES: tuple[str, ...] = get_args(Category)  # RULES §2
Status = Literal["evaluated", "parent_choice", "unsuccessful"]


def scoring_service_name(category: str) -> str:
    """The nameko service that scores ``category``'s referrals, e.g. ``scoring_sen``."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    return f"{SERVICE_NAME}_{category.lower()}"


# Money (RULES §4.4): string in, Decimal inside, string with 2 decimals out. Floats refused.
Money = Annotated[Decimal, BeforeValidator(parse), Field(ge=-MAX, le=MAX),
                  PlainSerializer(fmt, return_type=str)]
# Points rounded for display (§6.3), serialised as a string with 2 decimals.
Points = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]


class _Request(BaseModel):
    """Arguments: unknown fields are refused, so a misspelt field is an error, not a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Reply(BaseModel):
    """Replies: unknown fields are ignored, so callers survive fields added later."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class WeightsMsg(_Request):
    """Points out of 100 (§6.1); whole numbers."""

    P: int
    C: int
    L: int
    O: int  # noqa: E741 (the component's name in RULES §6.1)
    N: int
    F: int


class NeedMsg(_Request):
    code: str
    label: str = ""
    marks: Int32


class FeatureMsg(_Request):
    code: str
    label: str = ""
    must_have: StrictBool = False
    marks: Int32 = 0  # ignored for must-haves (§6.2)


class VariableCostMsg(_Request):
    label: str
    weekly: Annotated[Money, Field(ge=0)]


class CostsMsg(_Request):
    """A bid's price breakdown (§5): the weekly price is computed by scoring (§6.3) with
    ``bid_price``. ``core_costs`` are per child; ``children`` is the referral's number of
    children (a sibling group of 3 pays 3 × core less the cohort discount)."""

    core_costs: dict[str, Annotated[Money, Field(ge=0)]]
    children: Annotated[int, Field(ge=1, le=50)] = 1
    variable_costs: list[VariableCostMsg] = []
    discount_percent: Annotated[Decimal, Field(ge=0, lt=100)] = Decimal(0)


def bid_price(
    core_costs: Iterable[Decimal],
    variable_costs: Iterable[Decimal],
    discount_percent: Decimal,
    children: int = 1,
) -> tuple[Decimal, Decimal]:
    """THE pricing rule of a bid (§4.4, §5, §6.3), used by the referral service to price a
    bid and by scoring (its preview included): ``children × Σ core − discount + Σ variable``,
    the discount being ``discount_percent`` of the core part, rounded half up to pence once.
    Variable costs are never discounted. Returns ``(discount, weekly_price)``."""
    core = children * sum(core_costs, Decimal(0))
    discount = round_pence(core * Decimal(discount_percent) / 100)
    return discount, core - discount + sum(variable_costs, Decimal(0))


class BidMsg(_Request):
    """One bid with the referral's snapshot of its establishment at the deadline.

    Give exactly one of ``weekly_price`` (already after the cohort discount) or ``costs``.
    """

    bid_id: str
    establishment_id: str
    weekly_price: Money | None = None
    costs: CostsMsg | None = None
    competency: Decimal
    distance_miles: Decimal
    outcome_scores: list[Decimal] = []
    needs_met: list[str] = []
    features_met: list[str] = []
    admitted_at_deadline: StrictBool
    submitted_at: IsoDateTime

    @model_validator(mode="after")
    def _one_price(self) -> BidMsg:
        if (self.weekly_price is None) == (self.costs is None):
            raise ValueError("give exactly one of weekly_price or costs")
        return self


class ScoringRequest(_Request):
    """Argument of ``scoring_<category>.score``: a referral spec and its bids.

    Give ``weights`` (all six), or ``price_weight`` (P only, §6.1 rescale), or neither (the
    template). ``template`` is the category's referral criteria template (§2); default
    P=50, C=20, L=5, O=10, N=10, F=5.
    """

    category: Category
    weights: WeightsMsg | None = None
    price_weight: Int32 | None = None
    template: WeightsMsg | None = None
    needs: list[NeedMsg] = []
    features: list[FeatureMsg] = []
    bids: list[BidMsg] = []


class ResolveWeightsRequest(_Request):
    """Argument of ``scoring.resolve_weights``: check a referral's weights when it is created
    (§6.1). The reply is a ``WeightsMsg``."""

    weights: WeightsMsg | None = None
    price_weight: Int32 | None = None
    template: WeightsMsg | None = None
    has_needs: StrictBool
    has_desirable: StrictBool


class SubscoresMsg(_Reply):
    P: Points
    C: Points
    L: Points
    O: Points  # noqa: E741 (the component's name in RULES §6.1)
    N: Points
    F: Points


class ScoreInputsMsg(_Reply):
    """Everything §6.3 read of one bid, as applied (issue 15): with the weights and the
    lowest compliant weekly price these alone give its sub-scores. Money as a string after
    the cohort discount; competency, distance (full precision) and evaluator scores as
    exact decimal strings; marks as whole numbers."""

    weekly_price: Money
    competency: Decimal
    distance_miles: Decimal
    outcome_scores: list[Decimal] = []
    needs_marks_met: int
    needs_marks_total: int
    desirable_marks_met: int
    desirable_marks_total: int
    final_submission_at: IsoDateTime


class RankedBidMsg(_Reply):
    """One bid in the result. An excluded bid (§6.2) has ``compliant=false``, a ``reason``
    and no rank or scores."""

    bid_id: str
    establishment_id: str
    compliant: StrictBool
    reason: str | None = None
    rank: Int32 | None = None
    total: Points | None = None  # rounded for display (§6.3)
    total_exact: str | None = None  # exact fraction, e.g. "1009/12"
    quality_total: Points | None = None  # all but price (§6.3 first tie-break)
    subscores: SubscoresMsg | None = None
    explanation: dict[str, str] = {}  # per component, how it was computed
    weekly_price: Money
    inputs: ScoreInputsMsg | None = None  # what the sub-scores were computed from
    subscores_exact: dict[str, str] | None = None  # per component, an exact fraction


class ScoringResult(_Reply):
    """Reply of ``score`` (§6.3, §6.4): the weights used, the lowest compliant price, the
    ranked bids followed by the excluded ones, and the parent-choice shortlist."""

    status: Status
    formula_version: str | None = None  # of the §6.3–§6.4 rules applied
    weights: WeightsMsg
    lowest_price: Money | None = None
    ranking: list[RankedBidMsg]
    shortlist: list[str]


class RecordedBidMsg(_Request):
    """One bid of a stored evaluation: compliant or not as decided then (§6.2), and the
    inputs recorded for it."""

    bid_id: str
    compliant: bool
    inputs: ScoreInputsMsg


class ReplayRequest(_Request):
    """Argument of ``scoring.replay`` (issue 15): a stored evaluation's weights and inputs."""

    weights: WeightsMsg
    bids: list[RecordedBidMsg]


class ReplayedBidMsg(_Reply):
    bid_id: str
    compliant: bool
    rank: int | None = None
    total_exact: str | None = None
    subscores_exact: dict[str, str] | None = None


class ReplayResult(_Reply):
    """Reply of ``scoring.replay``: §6.3–§6.4 recomputed from the inputs alone with the
    rules of ``formula_version`` (today's): the lowest compliant price, each bid's exact
    total and rank (ranked bids first), and the shortlist."""

    formula_version: str
    lowest_price: Money | None = None
    bids: list[ReplayedBidMsg]
    shortlist: list[str]
