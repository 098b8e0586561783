"""Price breakdowns and variations of a placement (RULES §7.1, §7.2).

Pence rounding (§4.4, §7.2): amounts are whole pence. Core heads are per child. The weekly
price is ``children × Σ core − discount + Σ variable items`` with ``discount =
round_half_up(children × Σ core × discount_percent / 100)``: the referral service's bid
price rule, so a placement starts at exactly the awarded price. An uplift multiplies one
core head and rounds that head half up to the penny at once (per head, half up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.common.errors import InvalidInput
from services.common.money import fmt, round_pence
from services.contracts.domain.values import HUNDRED, ZERO, _amount, _core, _discount, _text


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
