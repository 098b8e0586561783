"""Categories: versioned configuration and the lead's settings changes (RULES §2, §4.4)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from services.common.errors import InvalidInput
from services.qualification import messages as m
from services.qualification.domain.problems import _money, _Problems, _whole
from services.qualification.domain.vocabulary import (
    _HEAD_NAME,
    INSPECTION,
    INSURANCE_COVERS,
    PARTNER_AUTHORITIES,
    PASS_FAIL_CRITERIA,
    REFERRAL_WEIGHT_KEYS,
    WEIGHTED_CRITERIA,
)

# --- categories: versioned configuration (§2) ----------------------------------------------

DEFAULT_WEIGHTS = {"WORKFORCE": 30, "OUTCOMES_APPROACH": 40, "PERFORMANCE_MONITORING": 30}
DEFAULT_REFERRAL_WEIGHTS = {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5}
DEFAULT_INSURANCE_MINIMUMS = {
    "employers_liability": Decimal("10000000.00"),
    "public_liability": Decimal("5000000.00"),
    "professional_liability": Decimal("2000000.00"),
}


@dataclass(frozen=True)
class CategoryConfig:
    """One version of a category's configuration (§2). Changed only by
    ``apply_settings_change``, which returns the next version."""

    code: str
    name: str
    pass_fail_criteria: tuple[str, ...]
    cost_heads: tuple[str, ...]
    optional_cost_heads: tuple[str, ...] = ()
    version: int = 1
    weighted_criteria_weights: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS)
    )
    insurance_minimums: Mapping[str, Decimal] = field(
        default_factory=lambda: dict(DEFAULT_INSURANCE_MINIMUMS)
    )
    min_tender_period_hours: int = 24
    min_invited: int = 3
    affordability_cap: Decimal | None = None
    authority_caps: Mapping[str, Decimal] = field(default_factory=dict)
    competency_period_months: int = 6
    referral_weights: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_REFERRAL_WEIGHTS)
    )

    @property
    def all_cost_heads(self) -> tuple[str, ...]:
        return self.cost_heads + self.optional_cost_heads

    def to_view(self) -> m.CategoryView:
        return m.CategoryView.model_validate(self)


_NOT_DFE = tuple(c for c in PASS_FAIL_CRITERIA if c != "DFE_REGISTRATION")


def default_category_configs() -> dict[str, CategoryConfig]:
    """Version 1 of every category (§2, §4.1, §4.4; choices in the module docstring)."""
    configs = (
        CategoryConfig(
            "SEN",
            "Independent and non-maintained special schools",
            PASS_FAIL_CRITERIA,
            (
                "assessment",
                "premises",
                "vehicles",
                "supplies_and_services",
                "education_classroom",
                "central_organisational",
                "core_staffing",
                "staff_related",
                "general_child_costs",
            ),
            ("residential_weekly_termly", "residential_42_52_week"),
        ),
        CategoryConfig(
            "FOSTERCARE",
            "Independent fostering agencies",
            _NOT_DFE,
            (
                "carer_fees",
                "carer_allowances",
                "supervising_social_work",
                "carer_recruitment_assessment_training",
                "support_services",
                "central_organisational",
            ),
        ),
        CategoryConfig(
            "RESIDENTIAL",
            "Children's homes for looked-after children",
            _NOT_DFE,
            (
                "premises",
                "core_staffing",
                "staff_related",
                "vehicles",
                "supplies_and_services",
                "general_child_costs",
                "central_organisational",
            ),
        ),
        CategoryConfig(
            "ALT_EDUCATION",
            "Alternative education",
            tuple(c for c in _NOT_DFE if c != INSPECTION),
            (
                "assessment",
                "premises",
                "education_classroom",
                "core_staffing",
                "staff_related",
                "supplies_and_services",
                "central_organisational",
            ),
        ),
        CategoryConfig(
            "SUPPORTED_ACCOMMODATION",
            "Supported accommodation for young people aged 16+",
            _NOT_DFE,
            (
                "premises",
                "core_staffing",
                "staff_related",
                "supplies_and_services",
                "general_young_person_costs",
                "central_organisational",
            ),
        ),
    )
    return {c.code: c for c in configs}


def _set_criteria(value, config, loc, problems, authorities):
    if not isinstance(value, list | tuple) or not value:
        problems.add(loc, "must list at least one criterion")
        return None
    for code in value:
        if code not in PASS_FAIL_CRITERIA:
            problems.add([*loc, code], "not a pass/fail criterion")
    if len(set(value)) != len(value):
        problems.add(loc, "must not repeat a criterion")
    return tuple(value)


def _set_heads(value, loc, problems, *, required: bool):
    if not isinstance(value, list | tuple) or (required and not value):
        problems.add(loc, "must list at least one cost head" if required else "must be a list")
        return None
    for head in value:
        if not isinstance(head, str) or not _HEAD_NAME.fullmatch(head):
            problems.add([*loc, str(head)], "must be lower_snake_case, at most 60 characters")
    if len(set(value)) != len(value):
        problems.add(loc, "must not repeat a cost head")
    return tuple(value)


def _set_points(value, current: Mapping[str, int], keys, loc, problems) -> dict[str, int] | None:
    """Merge whole points into ``current``; the result must sum to 100."""
    if not isinstance(value, Mapping):
        problems.add(loc, "must be an object")
        return None
    before = len(problems.items)
    merged = dict(current)
    for key, points in value.items():
        if key not in keys:
            problems.add([*loc, key], "unknown weight")
        elif _whole(points, [*loc, key], problems, 0, 100) is not None:
            merged[key] = points
    if len(problems.items) == before and sum(merged.values()) != 100:
        problems.add(loc, f"must sum to 100, not {sum(merged.values())}")
    return merged


def _set_referral_weights(value, config, loc, problems, authorities):
    """§6.1 constraints of the category's default referral weights."""
    before = len(problems.items)
    merged = _set_points(value, config.referral_weights, REFERRAL_WEIGHT_KEYS, loc, problems)
    if merged is not None and len(problems.items) == before:
        if not 30 <= merged["P"] <= 70:
            problems.add([*loc, "P"], "must be from 30 to 70 (§6.1)")
        if merged["C"] > 20:
            problems.add([*loc, "C"], "must be at most 20 (§6.1)")
    return merged


def _set_money_map(value, current, keys, loc, problems, *, removable: bool):
    if not isinstance(value, Mapping):
        problems.add(loc, "must be an object")
        return None
    merged = dict(current)
    for key, amount in value.items():
        if key not in keys:
            problems.add([*loc, key], "unknown key")
        elif amount is None and removable:
            merged.pop(key, None)
        else:
            parsed = _money(amount, [*loc, key], problems, positive=removable)
            if parsed is not None:
                merged[key] = parsed
    return merged


def _set_cap(value, config, loc, problems, authorities):
    return None if value is None else _money(value, loc, problems, positive=True)


_SETTINGS: dict[str, Callable] = {
    "pass_fail_criteria": _set_criteria,
    "weighted_criteria_weights": lambda v, c, loc, p, a: _set_points(
        v, c.weighted_criteria_weights, WEIGHTED_CRITERIA, loc, p
    ),
    "cost_heads": lambda v, c, loc, p, a: _set_heads(v, loc, p, required=True),
    "optional_cost_heads": lambda v, c, loc, p, a: _set_heads(v, loc, p, required=False),
    "insurance_minimums": lambda v, c, loc, p, a: _set_money_map(
        v, c.insurance_minimums, INSURANCE_COVERS, loc, p, removable=False
    ),
    "min_tender_period_hours": lambda v, c, loc, p, a: _whole(v, loc, p, 0, 8760),
    "min_invited": lambda v, c, loc, p, a: _whole(v, loc, p, 1, 100),
    "affordability_cap": _set_cap,
    "authority_caps": lambda v, c, loc, p, a: _set_money_map(
        v, c.authority_caps, a, loc, p, removable=True
    ),
    "competency_period_months": lambda v, c, loc, p, a: _whole(v, loc, p, 1, 24),
    "referral_weights": _set_referral_weights,
}


def apply_settings_change(
    config: CategoryConfig,
    patch: Mapping[str, Any],
    authorities: Iterable[str] = PARTNER_AUTHORITIES,
) -> CategoryConfig:
    """The next version of ``config`` with ``patch`` applied (§2), or InvalidInput naming
    every bad field. Maps (weights, insurance minimums, authority caps) are merged; in
    ``authority_caps`` and for ``affordability_cap`` a ``None`` removes the cap.
    ``authorities`` are the codes of the partner and associate authorities (§1)."""
    if not patch:
        raise InvalidInput("the change is empty", [{"loc": [], "msg": "nothing to change"}])
    problems = _Problems()
    authorities = tuple(authorities)
    changes = {}
    for key, value in patch.items():
        setter = _SETTINGS.get(key)
        if setter is None:
            problems.add([key], "not a setting that can be changed")
        else:
            changes[key] = setter(value, config, [key], problems, authorities)
    if not problems:
        heads = set(changes.get("cost_heads", config.cost_heads))
        for head in changes.get("optional_cost_heads", config.optional_cost_heads):
            if head in heads:
                problems.add(["optional_cost_heads", head], "is already a cost head")
    problems.raise_if_any()
    return replace(config, version=config.version + 1, **changes)


def total_weekly_core_cost(costs: Mapping[str, Decimal], config: CategoryConfig) -> Decimal:
    """§4.4: the sum of the category's (non-optional) heads; caps apply to this total."""
    return sum(
        (amount for head, amount in costs.items() if head not in config.optional_cost_heads),
        Decimal("0.00"),
    )


# --- the DPS itself (§3) ---------------------------------------------------------------------
