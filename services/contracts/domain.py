"""Pure domain of the contracts service (RULES §7 contracts and placements, §10 anonymity).

Plain classes and functions: no nameko, no SQLAlchemy, no clock (``today``/``as_of``/``now``
are arguments). ``store.py`` loads and saves ``Placement``, ``Variation``, ``Review``,
``Uplift`` and ``BlockContract``; nested values have ``to_dict``/``from_dict``.

Conventions fixed here:

- **Pence rounding (§4.4, §7.2):** amounts are whole pence. Core heads are per child. The
  weekly price is ``children × Σ core − discount + Σ variable items`` with ``discount =
  round_half_up(children × Σ core × discount_percent / 100)``: the referral service's bid
  price rule, so a placement starts at exactly the awarded price. An uplift multiplies one
  core head and rounds that head half up to the penny at once (per head, half up).
- **Dates:** a placement occupies the days ``start_date <= day < ended_on`` (the end date is
  the day the child left). A block contract runs ``start..end`` with both days included.
- **Partial weeks (§7.3):** place-days are counted exactly; place-weeks are place-days / 7,
  rounded half up to 2 decimals (voids are computed in days, then converted).
- **Years:** cost shares use financial years (1 April to 31 March; the business case splits
  by "year 2015/16"). Quarters are calendar quarters (``ocds.parse_quarter``). Award days
  are UTC days.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from services.common import money
from services.common.errors import Conflict, Forbidden, InvalidInput
from services.common.money import fmt, round_pence
from services.contracts.messages import DirectPlacementRecorded, ReferralAwarded
from services.contracts.ocds import AwardRecord, award_day, quarter_of

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

DEFAULT_REVIEW_INTERVAL_MONTHS = 3
DEFAULT_DIRECT_REASON_CODES = (
    "emergency",
    "court_direction",
    "continuity_of_care",
    "sibling_group",
    "unique_provision",
    "no_compliant_bid",
    "other",
)
"""§5 direct placement: the configured list of reasons (business case 8.10), the same as the
referral service's, which records direct placements and checks the reason first."""

SINGLE_PRICE_HEAD = "agreed_weekly_price"
"""Direct and block placements have one agreed weekly price, held as this core head. No
category has a head of that name, so uplifts never touch it: it changes only by variation."""

DEFAULT_FEE_PERCENT = Decimal("1")
"""§7.7 platform transaction fee (business case Appendix A)."""

NAMED_ROLES = frozenset({"lead", "contract_manager"})
"""§10: roles that see every authority by name in benchmarks."""


# --- small validators --------------------------------------------------------------------


def _text(value: object, loc: list) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.at(loc, "must not be empty")
    return value.strip()


def _optional_text(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _decimal(value: object, loc: list) -> Decimal:
    """A Decimal with at most 2 decimals (money and percentages); floats refused."""
    try:
        return money.parse(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise InvalidInput.at(loc, str(exc)) from None


def _amount(value: object, loc: list) -> Decimal:
    amount = _decimal(value, loc)
    if amount < 0:
        raise InvalidInput.at(loc, "must not be negative")
    return amount


def _discount(value: object, loc: list) -> Decimal:
    percent = _decimal(value, loc)
    if not 0 <= percent < 100:
        raise InvalidInput.at(loc, "must be at least 0 and below 100")
    return percent


def _core(heads: Mapping[str, object], loc: list) -> dict[str, Decimal]:
    return {
        _text(head, loc): _amount(amount, [*loc, head]) for head, amount in sorted(heads.items())
    }


def _q2(value: Fraction) -> Decimal:
    """An exact rational rounded half up to 2 decimals."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT, ROUND_HALF_UP)


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the month's last day (31 Jan + 1 → 28/29
    Feb). Negative ``months`` go back."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- price breakdown and variations (§7.1, §7.2) -----------------------------------------


@dataclass(frozen=True)
class VariableItem:
    """An itemised variable cost for the child's needs. Never uplifted (§7.2)."""

    label: str
    weekly: Decimal


def _items(items: Iterable[VariableItem], loc: list) -> tuple[VariableItem, ...]:
    return tuple(
        VariableItem(
            _text(item.label, [*loc, i, "label"]), _amount(item.weekly, [*loc, i, "weekly"])
        )
        for i, item in enumerate(items)
    )


def _items_to_dicts(items: Iterable[VariableItem]) -> list[dict[str, str]]:
    return [{"label": item.label, "weekly": fmt(item.weekly)} for item in items]


def _items_from_dicts(items: Iterable[Mapping[str, Any]]) -> tuple[VariableItem, ...]:
    return tuple(VariableItem(item["label"], item["weekly"]) for item in items)


@dataclass(frozen=True)
class PriceBreakdown:
    """A placement's weekly price (§7.1): core heads per child, the number of children (a
    cohort or sibling group, §5), variable items for the whole placement, and a discount
    percent on the core cost only (see the module's rounding rule)."""

    core_costs: Mapping[str, Decimal]
    variable_costs: tuple[VariableItem, ...] = ()
    discount_percent: Decimal = Decimal("0")
    children: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.children, bool) or not isinstance(self.children, int):
            raise InvalidInput.at(["children"], "must be a whole number")
        if self.children < 1:
            raise InvalidInput.at(["children"], "must be at least 1")
        object.__setattr__(self, "core_costs", _core(self.core_costs, ["core_costs"]))
        object.__setattr__(self, "variable_costs", _items(self.variable_costs, ["variable_costs"]))
        object.__setattr__(
            self, "discount_percent", _discount(self.discount_percent, ["discount_percent"])
        )

    @property
    def core_total(self) -> Decimal:
        return self.children * sum(self.core_costs.values(), ZERO)

    @property
    def discount(self) -> Decimal:
        return round_pence(self.core_total * self.discount_percent / HUNDRED)

    @property
    def weekly_price(self) -> Decimal:
        variable = sum((item.weekly for item in self.variable_costs), ZERO)
        return self.core_total - self.discount + variable

    def to_dict(self) -> dict[str, Any]:
        return {
            "core_costs": {head: fmt(amount) for head, amount in self.core_costs.items()},
            "children": self.children,
            "variable_costs": _items_to_dicts(self.variable_costs),
            "discount_percent": fmt(self.discount_percent),
            "discount": fmt(self.discount),
            "weekly_price": fmt(self.weekly_price),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceBreakdown:
        return cls(
            core_costs=data["core_costs"],
            variable_costs=_items_from_dicts(data.get("variable_costs", ())),
            discount_percent=data.get("discount_percent", "0"),
            children=data.get("children", 1),
        )


@dataclass(frozen=True)
class HeadUplift:
    """The part of a variation that an uplift made: ``cost_head`` × (1 + percent/100)."""

    uplift_id: str
    cost_head: str
    percent: Decimal


@dataclass(frozen=True)
class Variation:
    """A dated price change of one placement (§7.2: every price change is a variation).

    Either a manual change (core heads given are set, others kept; a given variable list
    replaces the whole list; a given discount replaces it) or an uplift (``uplift``), which
    multiplies the head's value in force on its effective date, so that a later back-dated
    manual variation of the same head is still uplifted when the history is replayed.
    Variations apply in order of (effective_from, recorded_at, variation_id)."""

    variation_id: str
    effective_from: date
    reason: str
    recorded_at: datetime
    core_costs: Mapping[str, Decimal] = field(default_factory=dict)
    variable_costs: tuple[VariableItem, ...] | None = None
    discount_percent: Decimal | None = None
    uplift: HeadUplift | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", _text(self.reason, ["reason"]))
        loc = ["changes"]
        object.__setattr__(self, "core_costs", _core(self.core_costs, [*loc, "core_costs"]))
        if self.variable_costs is not None:
            items = _items(self.variable_costs, [*loc, "variable_costs"])
            object.__setattr__(self, "variable_costs", items)
        if self.discount_percent is not None:
            percent = _discount(self.discount_percent, [*loc, "discount_percent"])
            object.__setattr__(self, "discount_percent", percent)
        manual = (
            bool(self.core_costs)
            or self.variable_costs is not None
            or (self.discount_percent is not None)
        )
        if manual == (self.uplift is not None):
            raise InvalidInput.at(loc, "a variation changes prices, or is an uplift (not both)")

    @property
    def order(self) -> tuple[date, datetime, str]:
        return (self.effective_from, self.recorded_at, self.variation_id)

    def apply(self, price: PriceBreakdown) -> PriceBreakdown:
        if self.uplift is not None:
            head = self.uplift.cost_head
            if head not in price.core_costs:
                return price
            factor = (HUNDRED + self.uplift.percent) / HUNDRED
            core = {**price.core_costs, head: round_pence(price.core_costs[head] * factor)}
            return replace(price, core_costs=core)
        return PriceBreakdown(
            core_costs={**price.core_costs, **self.core_costs},
            variable_costs=(
                price.variable_costs if self.variable_costs is None else self.variable_costs
            ),
            discount_percent=(
                price.discount_percent if self.discount_percent is None else self.discount_percent
            ),
            children=price.children,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.variation_id,
            "effective_from": self.effective_from.isoformat(),
            "reason": self.reason,
            "recorded_at": self.recorded_at.isoformat(),
            "core_costs": {head: fmt(amount) for head, amount in self.core_costs.items()},
            "variable_costs": (
                None if self.variable_costs is None else _items_to_dicts(self.variable_costs)
            ),
            "discount_percent": (
                None if self.discount_percent is None else fmt(self.discount_percent)
            ),
            "uplift": None
            if self.uplift is None
            else {
                "uplift_id": self.uplift.uplift_id,
                "cost_head": self.uplift.cost_head,
                "percent": str(self.uplift.percent),
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Variation:
        uplift = data.get("uplift")
        items = data.get("variable_costs")
        discount = data.get("discount_percent")
        return cls(
            variation_id=data["id"],
            effective_from=date.fromisoformat(data["effective_from"]),
            reason=data["reason"],
            recorded_at=datetime.fromisoformat(data["recorded_at"]),
            core_costs=data.get("core_costs") or {},
            variable_costs=None if items is None else _items_from_dicts(items),
            discount_percent=None if discount is None else Decimal(discount),
            uplift=None
            if uplift is None
            else HeadUplift(uplift["uplift_id"], uplift["cost_head"], Decimal(uplift["percent"])),
        )


# --- placements (§7.1) -------------------------------------------------------------------


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


class PlacementSource(StrEnum):
    REFERRAL_AWARD = "referral_award"
    DIRECT_PLACEMENT = "direct_placement"
    BLOCK_PLACE = "block_place"


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
    variations: list[Variation] = field(default_factory=list)

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
        """``pending_start → active`` on the actual start date."""
        if self.status is not PlacementStatus.PENDING_START:
            raise Conflict(f"placement {self.placement_id} is {self.status}; it cannot start")
        self.start_date = on
        self.status = PlacementStatus.ACTIVE

    def end(self, on: date, reason: EndReason | str, note: str | None = None) -> None:
        """``active → ended``, with an end reason; ``other`` needs a note."""
        if self.status is not PlacementStatus.ACTIVE:
            raise Conflict(
                f"placement {self.placement_id} is {self.status}; only an active one can end"
            )
        try:
            reason = EndReason(reason)
        except ValueError:
            options = ", ".join(r.value for r in EndReason)
            raise InvalidInput.at(["reason"], f"must be one of {options}") from None
        note = _optional_text(note)
        if reason is EndReason.OTHER and note is None:
            raise InvalidInput.at(["note"], "an end reason of 'other' needs a note")
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

    def in_force_on(self, on: date) -> bool:
        return (
            self.status is not PlacementStatus.PENDING_START
            and self.start_date is not None
            and self.start_date <= on
            and (self.ended_on is None or on < self.ended_on)
        )


def weekly_cost_on(placement: Placement, on: date) -> Decimal:
    """The weekly cost of a placement on a day (§7.2): the price in force then (core heads
    after discount plus variable items), or 0.00 when the child is not placed that day."""
    return placement.price_on(on).weekly_price if placement.in_force_on(on) else ZERO


def _parties(event: ReferralAwarded | DirectPlacementRecorded) -> dict[str, Any]:
    """What both placement events tell of a placement's parties and child (§7.1)."""
    return {
        "placement_id": event.placement_id,
        "authority": event.authority,
        "provider_id": event.provider_id,
        "provider_name": event.provider_name or "",
        "establishment_id": event.establishment_id,
        "establishment_name": event.establishment_name or "",
        "category": event.category,
        "child_reference": event.child_reference,
    }


def placement_from_award(
    event: ReferralAwarded,
    *,
    framework: OutcomesFramework = DEFAULT_FRAMEWORK,
    monitored: Sequence[str] | None = None,
    review_interval_months: int = DEFAULT_REVIEW_INTERVAL_MONTHS,
) -> Placement:
    """The IPA created from an award (§5 award, §7.1) under the event's ``placement_id``.
    Idempotency: the caller first looks for ``source_key(REFERRAL_AWARD, event.referral_id)``
    and the store keeps that key unique, so a redelivered event creates nothing.
    ``provider_name`` may be missing from the event; the service then fills it in from its
    copy of provider organisations (publication names the supplier, §7.5)."""
    incentive = event.incentive
    return Placement(
        **_parties(event),
        source=PlacementSource.REFERRAL_AWARD,
        source_ref=event.referral_id,
        agreed_at=event.awarded_at,
        price=PriceBreakdown(
            core_costs=event.price.core_costs,
            variable_costs=tuple(
                VariableItem(v.label, v.weekly) for v in event.price.variable_costs
            ),
            discount_percent=event.price.discount_percent,
            children=event.price.children,
        ),
        awarded_weekly_price=event.price.weekly_price,
        bids_count=event.bids_count,
        incentive=None
        if incentive is None
        else IncentiveTerms(
            incentive.description, incentive.kind, incentive.premium, incentive.within_weeks
        ),
        desired_outcomes=tuple(event.desired_outcomes),
        monitored_components=framework.monitored(monitored),
        review_interval_months=review_interval_months,
        start_date=event.proposed_start,
    )


def placement_from_direct(
    event: DirectPlacementRecorded,
    *,
    framework: OutcomesFramework = DEFAULT_FRAMEWORK,
    review_interval_months: int = DEFAULT_REVIEW_INTERVAL_MONTHS,
) -> Placement:
    """A direct placement without a competition (§5, business case 8.10) under the event's
    ``placement_id``, idempotent by ``source_key(DIRECT_PLACEMENT, direct_placement_id)``.
    The recording service has checked the reason code; it is not re-checked here, where a
    refusal would only dead-letter the event. The price was agreed when it was recorded."""
    return Placement(
        **_parties(event),
        source=PlacementSource.DIRECT_PLACEMENT,
        source_ref=event.direct_placement_id,
        agreed_at=event.occurred_at,
        price=PriceBreakdown(core_costs={SINGLE_PRICE_HEAD: event.weekly_price}),
        reason_code=event.reason_code,
        justification=_text(event.justification, ["justification"]),
        monitored_components=framework.components,
        review_interval_months=review_interval_months,
        start_date=event.start_date,
    )


def check_direct_reason(
    reason_code: str, reason_codes: Sequence[str] = DEFAULT_DIRECT_REASON_CODES
) -> None:
    """§5: a direct placement's reason comes from the configured list (for a
    ``messages.DirectPlacementCreate`` handled here rather than by the referral service)."""
    if reason_code not in reason_codes:
        raise InvalidInput.at(["reason_code"], f"must be one of {', '.join(reason_codes)}")


def award_record(placement: Placement) -> AwardRecord | None:
    """What §7.5 publishes of a placement: referral awards and direct placements (flagged);
    a block place is not an award. No child data is carried over."""
    if placement.source is PlacementSource.BLOCK_PLACE:
        return None
    assert placement.awarded_weekly_price is not None  # set by __post_init__
    return AwardRecord(
        award_id=placement.source_ref,
        placement_id=placement.placement_id,
        authority=placement.authority,
        provider_id=placement.provider_id,
        provider_name=placement.provider_name or placement.provider_id,
        category=placement.category,
        awarded_at=placement.agreed_at,
        weekly_price=placement.awarded_weekly_price,
        direct_reason_code=placement.reason_code,
        bids_count=placement.bids_count,
    )


def placement_view(
    placement: Placement,
    *,
    on: date,
    reviews: Iterable[Review] = (),
    include_child_details: bool = True,
) -> dict[str, Any]:
    """A JSON-ready view of a placement on a day. With ``include_child_details=False`` it is
    the provider's view (§10: "own, without child details"): no child reference, no direct
    placement justification and no end note, which are free text about the child."""
    p = placement
    view: dict[str, Any] = {
        "id": p.placement_id,
        "authority": p.authority,
        "provider_id": p.provider_id,
        "provider_name": p.provider_name,
        "establishment_id": p.establishment_id,
        "establishment_name": p.establishment_name,
        "category": p.category,
        "source": p.source.value,
        "source_ref": p.source_ref,
        "reason_code": p.reason_code,
        "block_id": p.block_id,
        "status": p.status.value,
        "start_date": _iso(p.start_date),
        "ended_on": _iso(p.ended_on),
        "end_reason": p.end_reason.value if p.end_reason else None,
        "agreed_at": p.agreed_at.isoformat(),
        "awarded_weekly_price": fmt(p.awarded_weekly_price or ZERO),
        "price": p.price.to_dict(),
        "current_price": p.price_on(on).to_dict(),
        "weekly_cost": fmt(weekly_cost_on(p, on)),
        "variations": [v.to_dict() for v in sorted(p.variations, key=lambda v: v.order)],
        "incentive": p.incentive.to_dict() if p.incentive else None,
        "desired_outcomes": list(p.desired_outcomes),
        "monitored_components": list(p.monitored_components),
        "review_interval_months": p.review_interval_months,
        "next_review_due": _iso(next_review_due(p, reviews)),
    }
    if include_child_details:
        view["child_reference"] = p.child_reference
        view["justification"] = p.justification
        view["end_note"] = p.end_note
    return view


# --- uplifts (§7.2) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Uplift:
    """A common annual uplift of one core cost head in one category, e.g. staff-related
    +3.1 % from 1 April (§7.2). It never touches variable costs."""

    uplift_id: str
    category: str
    cost_head: str
    percent: Decimal
    effective_from: date

    def __post_init__(self) -> None:
        for name in ("uplift_id", "category", "cost_head"):
            object.__setattr__(self, name, _text(getattr(self, name), [name]))
        percent = _decimal(self.percent, ["percent"])
        if not -100 < percent <= 100 or percent == 0:
            raise InvalidInput.at(["percent"], "must be above -100, at most 100 and not 0")
        object.__setattr__(self, "percent", percent)

    def applies_to(self, placement: Placement) -> bool:
        """Same category; price agreed before the effective date (later prices already
        reflect it); not ended by then; the head is priced on that date; not applied yet."""
        return (
            placement.category == self.category
            and award_day(placement.agreed_at) < self.effective_from
            and (placement.ended_on is None or placement.ended_on > self.effective_from)
            and self.cost_head in placement.price_on(self.effective_from).core_costs
            and not any(
                v.uplift is not None and v.uplift.uplift_id == self.uplift_id
                for v in placement.variations
            )
        )


def apply_uplift(
    placement: Placement, uplift: Uplift, *, variation_id: str, recorded_at: datetime
) -> Variation | None:
    """Record the uplift on a placement as a variation from its effective date, or ``None``
    when it does not apply. The store keeps (placement, uplift) unique as well."""
    if not uplift.applies_to(placement):
        return None
    variation = Variation(
        variation_id=variation_id,
        effective_from=uplift.effective_from,
        reason=f"annual uplift of {uplift.cost_head} by {uplift.percent} % (§7.2)",
        recorded_at=recorded_at,
        uplift=HeadUplift(uplift.uplift_id, uplift.cost_head, uplift.percent),
    )
    placement.variations.append(variation)
    return variation


# --- block contracts (§7.3) --------------------------------------------------------------


@dataclass(frozen=True)
class BlockContract:
    """k places reserved by an authority at an establishment, ``start..end`` (both days
    included), at a weekly price per place (§7.3)."""

    block_id: str
    authority: str
    provider_id: str
    establishment_id: str
    category: str
    places: int
    weekly_price_per_place: Decimal
    start: date
    end: date
    provider_name: str = ""
    establishment_name: str = ""

    def __post_init__(self) -> None:
        for name in ("block_id", "authority", "provider_id", "establishment_id", "category"):
            object.__setattr__(self, name, _text(getattr(self, name), [name]))
        if isinstance(self.places, bool) or not isinstance(self.places, int) or self.places < 1:
            raise InvalidInput.at(["places"], "must be a whole number of at least 1")
        price = _amount(self.weekly_price_per_place, ["weekly_price_per_place"])
        object.__setattr__(self, "weekly_price_per_place", price)
        if self.end < self.start:
            raise InvalidInput.at(["end"], "must not be before start")


def _span(placement: Placement, until: date) -> tuple[date, date] | None:
    """Days a placement holds a place: ``[start_date, ended_on or until)``."""
    if placement.start_date is None:
        return None
    return placement.start_date, placement.ended_on or until


def _occupants(block: BlockContract, placements: Iterable[Placement]) -> list[tuple[date, date]]:
    after_end = block.end + timedelta(days=1)
    spans = (_span(p, after_end) for p in placements if p.block_id == block.block_id)
    return [s for s in spans if s is not None]


def _peak(spans: Iterable[tuple[date, date]], low: date, high: date) -> tuple[date, int]:
    """The first day in ``[low, high)`` with the most spans, and that count."""
    changes: list[tuple[date, int]] = []
    for start, end in spans:
        start, end = max(start, low), min(end, high)
        if start < end:
            changes += [(start, 1), (end, -1)]
    best_day, best, current = low, 0, 0
    for day, delta in sorted(changes, key=lambda c: (c[0], c[1])):
        current += delta
        if current > best:
            best_day, best = day, current
    return best_day, best


def place_in_block(
    block: BlockContract,
    placements: Iterable[Placement],
    *,
    placement_id: str,
    child_reference: str,
    start_date: date,
    agreed_at: datetime,
    referral_id: str | None = None,
    framework: OutcomesFramework = DEFAULT_FRAMEWORK,
    review_interval_months: int = DEFAULT_REVIEW_INTERVAL_MONTHS,
) -> Placement:
    """Place a child into a free block place (§7.3). It is recorded as a placement at the
    place price. A place must be free on every day from ``start_date`` to the block's end
    (the new placement is assumed to last to the end), else ``Conflict``. ``placements``
    are the block's placements (others are ignored)."""
    if not block.start <= start_date <= block.end:
        raise InvalidInput.at(
            ["start_date"], f"must be within the block {block.start}..{block.end}"
        )
    day, taken = _peak(_occupants(block, placements), start_date, block.end + timedelta(days=1))
    if taken >= block.places:
        raise Conflict(
            f"block contract {block.block_id} has no free place from {start_date}: "
            f"all {block.places} places are taken on {day}"
        )
    return Placement(
        placement_id=placement_id,
        authority=block.authority,
        provider_id=block.provider_id,
        provider_name=block.provider_name,
        establishment_id=block.establishment_id,
        establishment_name=block.establishment_name,
        category=block.category,
        child_reference=child_reference,
        source=PlacementSource.BLOCK_PLACE,
        source_ref=f"{block.block_id}/{referral_id or placement_id}",
        agreed_at=agreed_at,
        price=PriceBreakdown(core_costs={SINGLE_PRICE_HEAD: block.weekly_price_per_place}),
        block_id=block.block_id,
        monitored_components=framework.components,
        review_interval_months=review_interval_months,
        start_date=start_date,
    )


def _weeks(days: int) -> Decimal:
    return _q2(Fraction(days, 7))


@dataclass(frozen=True)
class BlockOccupancy:
    """Occupancy of a block from its start up to ``as_of`` (included, capped at its end).
    Place-days are exact; place-weeks are days / 7 rounded half up to 2 decimals."""

    block_id: str
    as_of: date
    days: int
    capacity_place_days: int
    used_place_days: int
    void_place_days: int
    occupied_places: int
    free_places: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "block_id": self.block_id,
            "as_of": self.as_of.isoformat(),
            "days": self.days,
            "capacity_place_days": self.capacity_place_days,
            "used_place_days": self.used_place_days,
            "void_place_days": self.void_place_days,
            "capacity_place_weeks": str(_weeks(self.capacity_place_days)),
            "used_place_weeks": str(_weeks(self.used_place_days)),
            "void_place_weeks": str(_weeks(self.void_place_days)),
            "occupied_places": self.occupied_places,
            "free_places": self.free_places,
        }


def block_occupancy(
    block: BlockContract, placements: Iterable[Placement], as_of: date
) -> BlockOccupancy:
    """Used and void (unused) place-days of a block up to ``as_of`` (§7.3 voids), and the
    places occupied and free on ``as_of`` (0 free outside the block's period)."""
    window_end = min(as_of, block.end) + timedelta(days=1)
    days = max(0, (window_end - block.start).days)
    spans = _occupants(block, placements)
    used = sum(
        max(0, (min(end, window_end) - max(start, block.start)).days) for start, end in spans
    )
    capacity = block.places * days
    occupied = sum(1 for start, end in spans if start <= as_of < end)
    running = block.start <= as_of <= block.end
    return BlockOccupancy(
        block_id=block.block_id,
        as_of=as_of,
        days=days,
        capacity_place_days=capacity,
        used_place_days=used,
        void_place_days=max(0, capacity - used),
        occupied_places=occupied if running else 0,
        free_places=max(0, block.places - occupied) if running else 0,
    )


# --- outcome reviews (§7.4) --------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """An outcome review of a placement: 1–5 per monitored component, and the child's and
    parents' views (§7.4). Establishment and category are copied from the placement."""

    review_id: str
    placement_id: str
    authority: str
    establishment_id: str
    category: str
    date: date
    scores: Mapping[str, int]
    recorded_at: datetime
    child_view: str | None = None
    parent_view: str | None = None

    @property
    def score(self) -> Fraction:
        """The review's score: the mean of its component scores."""
        return Fraction(sum(self.scores.values()), len(self.scores))


def record_review(
    placement: Placement,
    *,
    review_id: str,
    on: date,
    scores: Mapping[str, int],
    recorded_at: datetime,
    child_view: str | None = None,
    parent_view: str | None = None,
) -> Review:
    """Score every monitored component 1–5 (§7.4); only a started placement is reviewed."""
    if placement.status is PlacementStatus.PENDING_START or placement.start_date is None:
        raise Conflict(f"placement {placement.placement_id} has not started; it has no review")
    if on < placement.start_date:
        raise InvalidInput.at(["date"], f"must not be before the start {placement.start_date}")
    for component in placement.monitored_components:
        if component not in scores:
            raise InvalidInput.at(["scores", component], "a monitored component needs a score")
    for component, score in scores.items():
        if component not in placement.monitored_components:
            raise InvalidInput.at(["scores", component], "not monitored by this placement")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput.at(["scores", component], "must be a whole number from 1 to 5")
    return Review(
        review_id=review_id,
        placement_id=placement.placement_id,
        authority=placement.authority,
        establishment_id=placement.establishment_id,
        category=placement.category,
        date=on,
        scores={c: scores[c] for c in placement.monitored_components},
        recorded_at=recorded_at,
        child_view=_optional_text(child_view),
        parent_view=_optional_text(parent_view),
    )


def next_review_due(placement: Placement, reviews: Iterable[Review]) -> date | None:
    """Next review of an active placement: the last review (or the start) plus the review
    interval (default 3 months, §7.1). ``None`` when it is not active."""
    if placement.status is not PlacementStatus.ACTIVE or placement.start_date is None:
        return None
    dates = [r.date for r in reviews if r.placement_id == placement.placement_id]
    return add_months(max(dates, default=placement.start_date), placement.review_interval_months)


@dataclass(frozen=True)
class OverdueReview:
    placement_id: str
    authority: str
    establishment_id: str
    due: date
    days_overdue: int


def overdue_reviews(
    placements: Iterable[Placement], reviews: Iterable[Review], as_of: date
) -> list[OverdueReview]:
    """Active placements whose next review was due before ``as_of``, most overdue first."""
    by_placement: dict[str, list[Review]] = defaultdict(list)
    for review in reviews:
        by_placement[review.placement_id].append(review)
    overdue = []
    for p in placements:
        due = next_review_due(p, by_placement[p.placement_id])
        if due is not None and due < as_of:
            overdue.append(
                OverdueReview(
                    p.placement_id, p.authority, p.establishment_id, due, (as_of - due).days
                )
            )
    return sorted(overdue, key=lambda o: (o.due, o.placement_id))


def mean_review_score(reviews: Iterable[Review]) -> Fraction | None:
    """The mean of the reviews' scores (each review counts once), exact."""
    scores = [r.score for r in reviews]
    return sum(scores, Fraction(0)) / len(scores) if scores else None


def performance_index(reviews: Iterable[Review]) -> Decimal | None:
    """``(mean − 1) / 4 × 100`` (§7.4), 0–100, rounded half up to 2 decimals."""
    mean = mean_review_score(reviews)
    return None if mean is None else _q2((mean - 1) / 4 * 100)


def performance_period(as_of: date, months: int = 6) -> tuple[date, date]:
    """The last period before ``as_of`` (default 6 months, §4.5): both days included."""
    return add_months(as_of, -months), as_of - timedelta(days=1)


def reporting_period(day: date, months: int = 6) -> tuple[date, date]:
    """The reporting period holding ``day`` (§4.5, §7.4): periods of ``months`` months
    (a divisor of 12; default 6) counted from 1 January, so that periods are the same for
    every establishment and consecutive periods start exactly ``months`` apart (the
    qualification service moves a competency at most once per period). Both days included:
    ``2026-08-14`` → ``(2026-07-01, 2026-12-31)``."""
    if isinstance(months, bool) or not isinstance(months, int) or months < 1 or 12 % months:
        raise InvalidInput.at(["months"], "must divide 12 (1, 2, 3, 4, 6 or 12)")
    start = date(day.year, (day.month - 1) // months * months + 1, 1)
    return start, add_months(start, months) - timedelta(days=1)


@dataclass(frozen=True)
class EstablishmentPerformance:
    """An establishment's performance in one category over a period (§7.4)."""

    establishment_id: str
    category: str
    period_start: date
    period_end: date
    performance_index: Decimal
    reviews_count: int

    def payload(self) -> dict[str, Any]:
        """The body of a ``messages.PerformanceReviewed`` event (without the envelope)."""
        return {
            "establishment_id": self.establishment_id,
            "category": self.category,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "performance_index": self.performance_index,
            "reviews_count": self.reviews_count,
        }


def establishment_performance(
    reviews: Iterable[Review], period_start: date, period_end: date
) -> list[EstablishmentPerformance]:
    """Per (establishment, category), the index over the reviews dated in the period (both
    days included). Establishments without a review in the period are left out."""
    if period_end <= period_start:
        raise InvalidInput.at(["period_end"], "must be after period_start")
    groups: dict[tuple[str, str], list[Review]] = defaultdict(list)
    for r in reviews:
        if period_start <= r.date <= period_end:
            groups[(r.establishment_id, r.category)].append(r)
    return [
        EstablishmentPerformance(
            establishment_id=establishment,
            category=category,
            period_start=period_start,
            period_end=period_end,
            performance_index=performance_index(group),  # type: ignore[arg-type]
            reviews_count=len(group),
        )
        for (establishment, category), group in sorted(groups.items())
    ]


# --- benchmarking (§7.6) and anonymity (§10) ---------------------------------------------


@dataclass(frozen=True)
class ReferralRecord:
    """What benchmarking needs of a referral. ``bids_count`` and ``compliant_bids_count``
    are ``None`` until its deadline; ``decline_reasons`` holds one code per decline."""

    referral_id: str
    authority: str
    category: str
    published_at: datetime
    needs: tuple[str, ...] = ()
    bids_count: int | None = None
    compliant_bids_count: int | None = None
    awarded_at: datetime | None = None
    decline_reasons: tuple[str, ...] = ()


def referral_record_from_award(event: ReferralAwarded) -> ReferralRecord:
    """The benchmarking record of an awarded referral (declines are added from the referral
    service's ``invitation_declined`` events)."""
    return ReferralRecord(
        referral_id=event.referral_id,
        authority=event.authority,
        category=event.category,
        published_at=event.published_at,
        needs=tuple(need.code for need in event.referral.needs) if event.referral else (),
        bids_count=event.bids_count,
        compliant_bids_count=event.compliant_bids_count,
        awarded_at=event.awarded_at,
    )


def cost_distribution(values: Iterable[Decimal]) -> dict[str, Any] | None:
    """Count, minimum, quartiles, median and maximum of weekly costs (§7.6).

    Quartiles are ``statistics.quantiles(n=4, method="inclusive")`` on the Decimals: linear
    interpolation between order statistics, as spreadsheets' QUARTILE.INC; the median is the
    middle quartile. Each is rounded half up to the penny. ``None`` for no value."""
    data = sorted(values)
    if not data:
        return None
    q1, median, q3 = (
        statistics.quantiles(data, n=4, method="inclusive") if len(data) > 1 else data * 3
    )
    return {
        "count": len(data),
        "min": round_pence(data[0]),
        "lower_quartile": round_pence(q1),
        "median": round_pence(median),
        "upper_quartile": round_pence(q3),
        "max": round_pence(data[-1]),
    }


def authority_labels(
    authorities: Iterable[str], *, role: str, reader_authority: str | None, secret: bytes
) -> dict[str, str]:
    """How a reader sees each authority in benchmarks (§7.6, §10).

    The lead and the contract manager see codes. A commissioner sees its own code and every
    other authority as ``Authority 3F9A``: the first hex digits of
    HMAC-SHA256(secret, reader + other), so labels are stable for a reader across calls,
    differ between readers and reveal nothing without the secret. Digits are added (4, 6,
    …) until the labels of the given set are distinct. Other roles: ``Forbidden``."""
    codes = sorted(set(authorities))
    if role in NAMED_ROLES:
        return {code: code for code in codes}
    if role != "commissioner" or not reader_authority:
        raise Forbidden("benchmarks are for commissioners, the lead and the contract manager")
    if not secret:
        raise ValueError("an anonymisation secret is required")
    digests = {
        code: hmac.new(secret, f"{reader_authority}\x1f{code}".encode(), hashlib.sha256)
        .hexdigest()
        .upper()
        for code in codes
        if code != reader_authority
    }
    width = 4
    while len({d[:width] for d in digests.values()}) < len(digests):
        width += 2
    labels = {code: f"Authority {digest[:width]}" for code, digest in digests.items()}
    if reader_authority in codes:
        labels[reader_authority] = reader_authority
    return labels


def _days(start: datetime, end: datetime) -> Fraction:
    delta = end - start
    return Fraction(delta.days * 86_400 + delta.seconds, 86_400)


def _median(values: list[Fraction]) -> Decimal | None:
    return _q2(statistics.median(values)) if values else None


def _mean(values: list[int]) -> Decimal | None:
    return _q2(Fraction(sum(values), len(values))) if values else None


def _counts(codes: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(codes).items()))


def _fees(placements: list[Placement], fee_percent: Decimal) -> dict[str, Any]:
    """§7.7 platform transaction fees on the awards among ``placements`` (block places are
    not awards), per calendar quarter of the award."""
    by_quarter: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for p in placements:
        award = award_record(p)
        if award is not None:
            by_quarter[quarter_of(award_day(award.awarded_at))] += transaction_fee(
                award, fee_percent
            )
    return {
        "percent": format(fee_percent.normalize(), "f"),
        "by_quarter": dict(sorted(by_quarter.items())),
        "total": sum(by_quarter.values(), ZERO),
    }


def _figures(
    placements: list[Placement],
    referrals: list[ReferralRecord],
    reviews: list[Review],
    fee_percent: Decimal = DEFAULT_FEE_PERCENT,
) -> dict[str, Any]:
    via_dps = [p for p in placements if p.source is not PlacementSource.DIRECT_PLACEMENT]
    direct = [p for p in placements if p.source is PlacementSource.DIRECT_PLACEMENT]
    closed = [r for r in referrals if r.bids_count is not None]
    three = [r for r in closed if (r.compliant_bids_count or 0) >= 3]
    mean_score = mean_review_score(reviews)
    return {
        "placements": len(via_dps),
        "weekly_cost": cost_distribution(p.awarded_weekly_price or ZERO for p in via_dps),
        "direct_placements": {
            "count": len(direct),
            "by_reason": _counts(p.reason_code or "" for p in direct),
            "weekly_cost": cost_distribution(p.awarded_weekly_price or ZERO for p in direct),
        },
        "referrals": len(referrals),
        "bids_per_referral": _mean([r.bids_count or 0 for r in closed]),
        "share_with_3_compliant_bids_percent": (
            _q2(Fraction(100 * len(three), len(closed))) if closed else None
        ),
        "time_to_place_days": _median(
            [_days(r.published_at, r.awarded_at) for r in referrals if r.awarded_at is not None]
        ),
        "mean_review_score": None if mean_score is None else _q2(mean_score),
        "demand": {
            "referrals_per_month": _counts(
                award_day(r.published_at).strftime("%Y-%m") for r in referrals
            ),
            "referrals_per_need": _counts(need for r in referrals for need in set(r.needs)),
        },
        "declines_by_reason": _counts(code for r in referrals for code in r.decline_reasons),
        "transaction_fees": _fees(placements, fee_percent),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def benchmark(
    *,
    category: str,
    period_start: date,
    period_end: date,
    placements: Iterable[Placement],
    referrals: Iterable[ReferralRecord],
    reviews: Iterable[Review],
    role: str,
    reader_authority: str | None,
    secret: bytes,
    fee_percent: Decimal = DEFAULT_FEE_PERCENT,
) -> dict[str, Any]:
    """Benchmarks of a category over a period, both days included (§7.6), JSON-ready.

    - placements: agreed in the period; ``weekly_cost`` is the distribution of the awarded
      weekly prices of competed and block placements; direct placements are reported
      separately (§5), by reason.
    - referrals: published in the period; bids per referral and the share with at least 3
      compliant bids count those past their deadline; time to place is the median of
      publish → award in days (2 decimals); demand per month of publication and per need.
    - declines by reason, as market-capacity intelligence (§5).
    - ``transaction_fees``: the platform fee (§7.7, ``fee_percent`` of each award's
      annualised value, rounded per award) per calendar quarter, overall and per authority.
    - mean review score: reviews dated in the period (each review's mean, then the mean).
    - ``by_authority``: the same figures per authority, labelled per §10 and sorted by label.
    """
    if period_end < period_start:
        raise InvalidInput.at(["to"], "must not be before from")

    def within(day: date) -> bool:
        return period_start <= day <= period_end

    placed = [p for p in placements if p.category == category and within(award_day(p.agreed_at))]
    refs = [r for r in referrals if r.category == category and within(award_day(r.published_at))]
    revs = [r for r in reviews if r.category == category and within(r.date)]
    involved = {p.authority for p in placed} | {r.authority for r in refs + revs}
    labels = authority_labels(involved, role=role, reader_authority=reader_authority, secret=secret)
    by_authority = [
        {
            "authority": label,
            **_figures(
                [p for p in placed if p.authority == code],
                [r for r in refs if r.authority == code],
                [r for r in revs if r.authority == code],
                fee_percent,
            ),
        }
        for code, label in sorted(labels.items(), key=lambda item: item[1])
    ]
    return _jsonable(
        {
            "category": category,
            "from": period_start,
            "to": period_end,
            **_figures(placed, refs, revs, fee_percent),
            "by_authority": by_authority,
        }
    )


# --- cost sharing (§7.7) -----------------------------------------------------------------


def allocate_pence(total: Decimal, weights: Mapping[str, int]) -> dict[str, Decimal]:
    """Split ``total`` in proportion to ``weights`` in whole pence so that the shares sum
    exactly to it: largest remainder (Hamilton) — each gets the floor of its quota, and the
    pence left go one each to the largest remainders, ties to the smaller authority code.
    If every weight is 0 the split is equal (a zero weight otherwise gets nothing)."""
    if not weights:
        raise InvalidInput.at(["authorities"], "there is no authority to share the cost")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights.values()):
        raise InvalidInput.at(["weights"], "weights are whole numbers of at least 0")
    pence = money.to_pence(_amount(total, ["amount"]))
    if not any(weights.values()):
        weights = dict.fromkeys(weights, 1)
    whole = sum(weights.values())
    shares = {code: pence * weight // whole for code, weight in weights.items()}
    remainders = {code: pence * weight % whole for code, weight in weights.items()}
    left = pence - sum(shares.values())
    for code in sorted(weights, key=lambda c: (-remainders[c], c))[:left]:
        shares[code] += 1
    return {code: money.from_pence(shares[code]) for code in sorted(shares)}


def financial_year(year: int) -> tuple[date, date]:
    """Financial year ``year``/``year+1``: 1 April to 31 March, both included."""
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year < 9999:
        raise InvalidInput.at(["year"], "must be a year such as 2026")
    return date(year, 4, 1), date(year + 1, 3, 31)


def transaction_fee(award: AwardRecord, percent: Decimal = DEFAULT_FEE_PERCENT) -> Decimal:
    """§7.7 platform fee on one award: annualised value × rate, rounded half up to pence."""
    return round_pence(award.annual_value * percent / HUNDRED)


def cost_shares(
    *,
    year: int,
    authorities: Iterable[str],
    placements: Iterable[Placement],
    awards: Iterable[AwardRecord],
    running_cost: Decimal,
    setup_cost: Decimal = ZERO,
    fee_percent: Decimal = DEFAULT_FEE_PERCENT,
) -> dict[str, Any]:
    """The cost split of financial year ``year`` (§7.7), JSON-ready.

    - Running cost: in proportion to each authority's placements agreed in the previous
      financial year (all sources: awards, direct and block placements), by
      ``allocate_pence``; an authority with none pays no running share, unless no authority
      has any, when it is split equally.
    - Set-up cost: split equally, by the same exact allocation.
    - Transaction fees: ``fee_percent`` of the annualised value of each award made in the
      year, rounded per award, reported per authority and per calendar quarter.

    The authorities sharing are ``authorities`` plus any that placed in the previous year.
    """
    fee_percent = _decimal(fee_percent, ["fee_percent"])
    if not 0 <= fee_percent <= 100:
        raise InvalidInput.at(["fee_percent"], "must be from 0 to 100")
    start, end = financial_year(year)
    basis_start, basis_end = financial_year(year - 1)
    counts = dict.fromkeys(authorities, 0)
    for p in placements:
        if basis_start <= award_day(p.agreed_at) <= basis_end:
            counts[p.authority] = counts.get(p.authority, 0) + 1
    running = allocate_pence(running_cost, counts)
    setup = allocate_pence(setup_cost, dict.fromkeys(counts, 1))
    fees: dict[str, dict[str, Decimal]] = {code: {} for code in counts}
    for award in awards:
        day = award_day(award.awarded_at)
        if start <= day <= end:
            quarters = fees.setdefault(award.authority, {})
            quarter = quarter_of(day)
            quarters[quarter] = quarters.get(quarter, ZERO) + transaction_fee(award, fee_percent)
    rows = [
        {
            "authority": code,
            "placements_previous_year": counts.get(code, 0),
            "running_share": running.get(code, ZERO),
            "setup_share": setup.get(code, ZERO),
            "total_share": running.get(code, ZERO) + setup.get(code, ZERO),
            "transaction_fees": dict(sorted(fees[code].items())),
            "transaction_fees_total": sum(fees[code].values(), ZERO),
        }
        for code in sorted(fees)
    ]
    return _jsonable(
        {
            "year": f"{year}/{str(year + 1)[-2:]}",
            "from": start,
            "to": end,
            "basis_from": basis_start,
            "basis_to": basis_end,
            "running_cost": _amount(running_cost, ["running_cost"]),
            "setup_cost": _amount(setup_cost, ["setup_cost"]),
            "fee_percent": fee_percent,
            "authorities": rows,
            "transaction_fees_total": sum((r["transaction_fees_total"] for r in rows), ZERO),
        }
    )
