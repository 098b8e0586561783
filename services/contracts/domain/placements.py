"""The placement aggregate (RULES §7.1; §7.3 block places are placements too).

States ``pending_start → active → ended`` are one enum and one transitions table
(``PLACEMENT_STATES``); any other move is the ``Conflict`` the machine raises. Dates: a
placement occupies the days ``start_date <= day < ended_on`` (the end date is the day the
child left).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from services.common.errors import Conflict, InvalidInput
from services.common.money import fmt
from services.common.states import StateMachine
from services.contracts.domain.calendar import add_months
from services.contracts.domain.notice_rules import check_start_after_standstill
from services.contracts.domain.values import ZERO, _amount, _optional_text, _text
from services.contracts.domain.variations import PriceBreakdown, VariableItem, Variation

if TYPE_CHECKING:
    from services.contracts.domain.reviews import Review

DEFAULT_REVIEW_INTERVAL_MONTHS = 3
SINGLE_PRICE_HEAD = "agreed_weekly_price"
"""Direct and block placements have one agreed weekly price, held as this core head. No
category has a head of that name, so uplifts never touch it: it changes only by variation."""


class PlacementStatus(StrEnum):
    PENDING_START = "pending_start"
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(StrEnum):
    PLANNED = "planned"
    STEP_DOWN = "step_down"
    BREAKDOWN = "breakdown"
    CHILD_LEFT_CARE = "child_left_care"
    STAYING_PUT = "staying_put"
    OTHER = "other"
    DID_NOT_START = "did_not_start"  # §7.1: pending_start → ended, the child never came


class PlacementSource(StrEnum):
    REFERRAL_AWARD = "referral_award"
    DIRECT_PLACEMENT = "direct_placement"
    BLOCK_PLACE = "block_place"


PLACEMENT_STATES = StateMachine(
    "placement",
    {
        PlacementStatus.PENDING_START: {PlacementStatus.ACTIVE, PlacementStatus.ENDED},
        PlacementStatus.ACTIVE: {PlacementStatus.ENDED},
        PlacementStatus.ENDED: set(),
    },
)
"""§7.1: the one transitions table of a placement."""


def source_key(source: PlacementSource | str, source_ref: str) -> str:
    """The idempotency key of a placement's creation, e.g. ``referral_award:<referral_id>``.
    The store keeps it UNIQUE so that a redelivered award event creates nothing (§7.1)."""
    return f"{PlacementSource(source).value}:{source_ref}"


@dataclass(frozen=True)
class IncentiveTerms:
    """Incentive terms (§7.1, business case 8.5), e.g. an early step-down premium paid when
    the child steps down within ``within_weeks``."""

    description: str
    kind: str = "early_step_down"
    premium: Decimal | None = None
    within_weeks: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "description", _text(self.description, ["incentive"]))
        object.__setattr__(self, "kind", _text(self.kind, ["incentive", "kind"]))
        if self.premium is not None:
            premium = _amount(self.premium, ["incentive", "premium"])
            object.__setattr__(self, "premium", premium)
        if self.within_weeks is not None and self.within_weeks < 1:
            raise InvalidInput.at(["incentive", "within_weeks"], "must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "premium": None if self.premium is None else fmt(self.premium),
            "within_weeks": self.within_weeks,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IncentiveTerms:
        return cls(
            data["description"],
            data.get("kind", "early_step_down"),
            data.get("premium"),
            data.get("within_weeks"),
        )


ECM_COMPONENTS = (
    "be_healthy",
    "stay_safe",
    "enjoy_and_achieve",
    "positive_contribution",
    "economic_wellbeing",
)
"""§7.4 default outcomes framework: Every Child Matters."""


@dataclass(frozen=True)
class OutcomesFramework:
    """The outcomes framework (§7.4): five components, configurable."""

    components: tuple[str, ...] = ECM_COMPONENTS

    def __post_init__(self) -> None:
        codes = tuple(_text(c, ["components"]) for c in self.components)
        if len(codes) != 5 or len(set(codes)) != 5:
            raise InvalidInput.at(["components"], "the framework has five distinct components")
        object.__setattr__(self, "components", codes)

    def monitored(self, components: Sequence[str] | None) -> tuple[str, ...]:
        """The components a placement monitors: all by default, else a subset, in framework
        order."""
        if components is None:
            return self.components
        unknown = sorted(set(components) - set(self.components))
        if unknown:
            raise InvalidInput.at(["monitored_components", unknown[0]], "not in the framework")
        if not components:
            raise InvalidInput.at(["monitored_components"], "monitor at least one component")
        return tuple(c for c in self.components if c in components)


DEFAULT_FRAMEWORK = OutcomesFramework()


@dataclass(eq=False)
class Placement:
    """An individual placement agreement (§7.1), or a child placed into a block place (§7.3).

    ``start_date`` is the planned start (if known) until the placement starts, then the
    actual one. ``agreed_at`` is when the price was agreed (award, direct placement or block
    placing). ``awarded_weekly_price`` is the price as awarded (published, §7.5, and
    benchmarked, §7.6); ``price_on`` replays the variations for the price in force.
    States: ``pending_start → active → ended``; any other move is a ``Conflict``."""

    placement_id: str
    authority: str
    provider_id: str
    establishment_id: str
    category: str
    child_reference: str
    source: PlacementSource
    source_ref: str
    agreed_at: datetime
    price: PriceBreakdown
    provider_name: str = ""
    establishment_name: str = ""
    awarded_weekly_price: Decimal | None = None
    reason_code: str | None = None
    justification: str | None = None
    block_id: str | None = None
    bids_count: int | None = None
    incentive: IncentiveTerms | None = None
    desired_outcomes: tuple[str, ...] = ()
    monitored_components: tuple[str, ...] = ECM_COMPONENTS
    review_interval_months: int = DEFAULT_REVIEW_INTERVAL_MONTHS
    start_date: date | None = None
    status: PlacementStatus = PlacementStatus.PENDING_START
    ended_on: date | None = None
    end_reason: EndReason | None = None
    end_note: str | None = None
    child_key_id: str | None = None  # the data key sealing the child reference (§13)
    variations: list[Variation] = field(default_factory=list)
    # §11: the market and regime it was awarded under, the call-off's estimated value and
    # threshold, the award's voluntary standstill (s.51) and the day the contract was entered
    # (s.53: UK7 is due within 120 days of it)
    dps_id: str | None = None
    regime: str | None = None
    estimated_value: Decimal | None = None
    above_threshold: bool | None = None
    standstill_ends_on: date | None = None
    entered_on: date | None = None

    def __post_init__(self) -> None:
        for name in ("placement_id", "authority", "provider_id", "establishment_id", "category"):
            setattr(self, name, _text(getattr(self, name), [name]))
        self.child_reference = _text(self.child_reference, ["child_reference"])
        self.source_ref = _text(self.source_ref, ["source_ref"])
        self.source = PlacementSource(self.source)
        self.status = PlacementStatus(self.status)
        self.end_reason = EndReason(self.end_reason) if self.end_reason else None
        if self.agreed_at.tzinfo is None:
            raise InvalidInput.at(["agreed_at"], "must be timezone-aware")
        if self.awarded_weekly_price is None:
            self.awarded_weekly_price = self.price.weekly_price
        if (self.source is PlacementSource.DIRECT_PLACEMENT) != (self.reason_code is not None):
            raise InvalidInput.at(["reason_code"], "a reason code is given for direct placements")
        if (self.source is PlacementSource.BLOCK_PLACE) != (self.block_id is not None):
            raise InvalidInput.at(["block_id"], "a block id is given for block places")
        if self.review_interval_months < 1:
            raise InvalidInput.at(["review_interval_months"], "must be at least 1")
        self.desired_outcomes = tuple(self.desired_outcomes)
        self.monitored_components = tuple(self.monitored_components)
        self.variations = list(self.variations)

    @property
    def source_key(self) -> str:
        return source_key(self.source, self.source_ref)

    # state machine ------------------------------------------------------------------------

    def start(self, on: date) -> None:
        """``pending_start → active`` on the actual start date; never before the award's
        voluntary standstill has ended (§11.4, s.51): a ``Conflict`` naming the first day."""
        PLACEMENT_STATES.check(
            self.status,
            PlacementStatus.ACTIVE,
            f"placement {self.placement_id} is {self.status}; it cannot start",
        )
        check_start_after_standstill(on, self.standstill_ends_on)
        self.status = PLACEMENT_STATES.check(
            self.status,
            PlacementStatus.ACTIVE,
            f"placement {self.placement_id} is {self.status}; it cannot start",
        )
        self.start_date = on

    def end(self, on: date, reason: EndReason | str, note: str | None = None) -> None:
        """``active → ended``, with an end reason; ``other`` needs a note. A placement
        that never started ends from ``pending_start`` with ``did_not_start`` only (§7.1)."""
        PLACEMENT_STATES.check(
            self.status,
            PlacementStatus.ENDED,
            f"placement {self.placement_id} is {self.status}; only an active one can end",
        )
        try:
            reason = EndReason(reason)
        except ValueError:
            options = ", ".join(r.value for r in EndReason)
            raise InvalidInput.at(["reason"], f"must be one of {options}") from None
        note = _optional_text(note)
        if reason is EndReason.OTHER and note is None:
            raise InvalidInput.at(["note"], "an end reason of 'other' needs a note")
        pending = self.status is PlacementStatus.PENDING_START
        if pending != (reason is EndReason.DID_NOT_START):
            raise Conflict(
                f"placement {self.placement_id} is {self.status}: "
                + ("a placement that never started ends with did_not_start"
                   if pending else "did_not_start is for a placement that never started")
            )
        if pending:
            self.ended_on, self.end_reason, self.end_note = on, reason, note
            self.status = PlacementStatus.ENDED
            return
        assert self.start_date is not None  # an active placement has started
        if on < self.start_date:
            raise InvalidInput.at(["date"], f"must not be before the start {self.start_date}")
        self.ended_on, self.end_reason, self.end_note = on, reason, note
        self.status = PlacementStatus.ENDED

    # prices -------------------------------------------------------------------------------

    def vary(
        self,
        *,
        variation_id: str,
        effective_from: date,
        reason: str,
        recorded_at: datetime,
        core_costs: Mapping[str, Decimal] | None = None,
        variable_costs: Sequence[VariableItem] | None = None,
        discount_percent: Decimal | None = None,
    ) -> Variation:
        """Record a price change from ``effective_from`` (§7.2)."""
        if self.status is PlacementStatus.ENDED:
            raise Conflict(f"placement {self.placement_id} has ended; its price cannot vary")
        if self.start_date is not None and effective_from < self.start_date:
            raise InvalidInput.at(
                ["effective_from"], f"must not be before the start {self.start_date}"
            )
        if not core_costs and variable_costs is None and discount_percent is None:
            raise InvalidInput.at(["changes"], "a variation must change at least one price")
        variation = Variation(
            variation_id=variation_id,
            effective_from=effective_from,
            reason=reason,
            recorded_at=recorded_at,
            core_costs=core_costs or {},
            variable_costs=None if variable_costs is None else tuple(variable_costs),
            discount_percent=discount_percent,
        )
        variation.apply(self.price_on(effective_from))
        self.variations.append(variation)
        return variation

    def price_on(self, on: date) -> PriceBreakdown:
        """The agreed breakdown in force on a day: the initial price, then every variation
        effective on or before ``on``, in order."""
        price = self.price
        for variation in sorted(self.variations, key=lambda v: v.order):
            if variation.effective_from <= on:
                price = variation.apply(price)
        return price

    @property
    def never_started(self) -> bool:
        """§7.1 ``did_not_start``: counts in no benchmark, cost share or block occupancy."""
        return self.end_reason is EndReason.DID_NOT_START

    def in_force_on(self, on: date) -> bool:
        return (
            self.status is not PlacementStatus.PENDING_START
            and not self.never_started
            and self.start_date is not None
            and self.start_date <= on
            and (self.ended_on is None or on < self.ended_on)
        )


def weekly_cost_on(placement: Placement, on: date) -> Decimal:
    """The weekly cost of a placement on a day (§7.2): the price in force then (core heads
    after discount plus variable items), or 0.00 when the child is not placed that day."""
    return placement.price_on(on).weekly_price if placement.in_force_on(on) else ZERO


def next_review_due(placement: Placement, reviews: Iterable[Review]) -> date | None:
    """Next review of an active placement: the last review (or the start) plus the review
    interval (default 3 months, §7.1). ``None`` when it is not active."""
    if placement.status is not PlacementStatus.ACTIVE or placement.start_date is None:
        return None
    dates = [r.date for r in reviews if r.placement_id == placement.placement_id]
    return add_months(max(dates, default=placement.start_date), placement.review_interval_months)
