"""Pure domain of the qualification service.

RULES §2 categories (versioned configuration), §3 the DPS's validity and entry windows,
§4 qualification (applications, evaluation, memberships), §5 the exact eligibility check,
§7.2 uplifts of qualified core costs and §7.4 competency moves.

Nothing here reads the clock, a database or the network. Commands take ``now`` (an aware
UTC datetime) and work out the UK civil date from it (``london_date``); queries take
``today``. The aggregates are ``Application`` and ``Establishment`` (which owns its
``Membership``s). They enforce their transitions, raise ``Conflict``/``InvalidInput``
(every invalid field named, all at once) and append the events they cause, payload models
from ``messages``, to ``.events``; the service writes those to the outbox in the same
transaction as the change.

Choices made where RULES is silent
----------------------------------
- Categories (§2, §4.1): DFE_REGISTRATION only for SEN. ALT_EDUCATION has no INSPECTION
  ("often unregulated"; the lead can add it by a settings change). SUPPORTED_ACCOMMODATION
  keeps INSPECTION (Ofsted-registered since 2023); an INSPECTION answer's judgement is
  optional everywhere, because a newly registered setting may not be inspected yet.
- Cost heads (§4.4): SEN's nine, with the two residential offers as *optional* heads;
  other categories get the common heads of the National Contracts schedules for their
  sector. Optional heads are priced add-ons and are not counted in the total weekly core
  cost that affordability caps apply to.
- Insurance minimums default to £10m employer's, £5m public and £2m professional liability
  (to be confirmed by the lead through a settings change).
- Weights are whole points summing to 100 and scores are whole numbers 0–100, so the core
  competency score is exact with at most 2 decimals (80/70/90 at 30/40/30 → 79.00).
  A competency move is computed exactly and rounded half up to 2 decimals.
- Working days (§4.3): Monday–Friday except bank holidays of England and Wales (the union
  of both, identical today). The due date is the 10th working day after the UK date of
  submission (15th when extended once, with a reason); overdue from the day after.
- Evidence ``expires_on`` is the first day the evidence no longer holds: reminders go out
  from 30 days before; on that day an unrenewed item suspends the membership.
- Organisation-level answers (reused by a copy, §4): EXCLUSIONS, FINANCIAL, INSURANCE
  (a group policy), COMPLIANCE, SAFEGUARDING, DATA_PROTECTION, the method statements,
  additional services and cohort discounts. Establishment-level (left for the copy to
  fill in): INSPECTION, DFE_REGISTRATION and the core costs.
- One open (draft or submitted) application and one current (admitted or suspended)
  membership per establishment and category; after a rejection or a removal the
  establishment may apply again (a DPS never shuts anyone out for good).
- At decision the domain adds failures the lead cannot pass: insurance cover below the
  minimum, an INADEQUATE latest judgement, evidence expired by the decision date and the
  common affordability cap (``AFFORDABILITY``).
- A membership can fail several criteria at once; reinstatement accepts a resubmission
  for every one of them together.
- Uplifts (§7.2) apply to admitted and suspended memberships, per head, rounded half up to
  the penny, in effective-date order; a membership admitted after the effective date keeps
  its qualified prices.
- Eligibility (§5): great-circle distance on a sphere of radius 3958.8 miles (the mean
  Earth radius), inside when ``distance <= radius``; only the authority's own cap applies
  (the common cap is checked at admission).
- Timers (§4.5, DESIGN rule 4): ``Membership.next_check`` is the first day the timer has
  something to do for a membership (a reminder 30 days before an expiry, the expiry, the
  re-verification due date); the store indexes it. A due re-verification is flagged once
  per due date (``reverification_due`` event); the lead then records the re-check.
- An establishment's location and categories are fixed after registration (referral
  snapshots and distances rely on them); name, address, capacity and contacts can change.
"""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from math import asin, cos, degrees, radians, sin, sqrt
from typing import Any, get_args

import holidays

from services.common import money
from services.common.errors import Conflict, InvalidInput, NotFound
from services.qualification import messages as m

# --- vocabularies -----------------------------------------------------------------------

CATEGORIES: tuple[str, ...] = get_args(m.CategoryCode)
PASS_FAIL_CRITERIA: tuple[str, ...] = get_args(m.CriterionCode)
WEIGHTED_CRITERIA: tuple[str, ...] = get_args(m.WeightedCriterion)
INSURANCE_COVERS: tuple[str, ...] = get_args(m.InsuranceCoverKind)
INSPECTION_BODIES: tuple[str, ...] = get_args(m.InspectionBody)
INSPECTION_GRADES: tuple[str, ...] = get_args(m.InspectionGrade)
REFERRAL_WEIGHT_KEYS: tuple[str, ...] = get_args(m.ReferralWeightKey)
PARTNER_AUTHORITIES = ("BHCC", "ESCC", "ECC", "KCC", "MED", "SCC", "WSCC")
"""The founding partners (§1). Associates may join: callers pass the current list."""

INSURANCE, INSPECTION = "INSURANCE", "INSPECTION"
AFFORDABILITY = "AFFORDABILITY"
"""The failure code of the common affordability cap (§4.4); not a configurable criterion."""
ESTABLISHMENT_CRITERIA = frozenset({INSPECTION, "DFE_REGISTRATION"})
EXPIRY_REQUIRED = frozenset({INSURANCE})
EVALUATION_WORKING_DAYS = 10
EXTENDED_EVALUATION_WORKING_DAYS = 15
REMINDER_DAYS = 30
EARTH_RADIUS_MILES = 3958.8
MAX_COMPETENCY_MOVE = Decimal(10)
_CENT = Decimal("0.01")
_HEAD_NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")
_COVER_NAMES = {
    "employers_liability": "employer's liability",
    "public_liability": "public liability",
    "professional_liability": "professional liability",
}


def new_id() -> str:
    return str(uuid.uuid4())


# --- input problems -----------------------------------------------------------------------


class _Problems:
    """Collects every problem with one input, then raises them together."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, loc: Sequence[Any], msg: str) -> None:
        self.items.append({"loc": list(loc), "msg": msg})

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidInput(_describe(self.items), self.items)


def _describe(problems: list[dict]) -> str:
    return "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _whole(value: Any, loc: Sequence[Any], problems: _Problems, low: int, high: int) -> int | None:
    if value is None:
        problems.add(loc, "is required")
    elif isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(loc, f"must be a whole number from {low} to {high}")
    else:
        return value
    return None


def _money(
    value: Any, loc: Sequence[Any], problems: _Problems, *, positive: bool = False
) -> Decimal | None:
    """A money amount (§4.4): parsed exactly, never negative (or zero when ``positive``)."""
    try:
        amount = money.parse(value)
    except (ValueError, TypeError) as exc:
        problems.add(loc, str(exc))
        return None
    if amount < 0 or (positive and amount == 0):
        problems.add(loc, "must be more than 0" if positive else "must not be negative")
        return None
    return amount


# --- time (§4.3, §4.5) ----------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def london_date(at: datetime) -> date:
    """The UK civil date of an instant.

    British Summer Time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
    last Sunday of October (Summer Time Order 2002); computed here so the domain needs no
    time-zone database.
    """
    if at.tzinfo is None:
        raise ValueError("a timezone-aware datetime is needed")
    utc = at.astimezone(UTC)
    bst_start = datetime.combine(_last_sunday(utc.year, 3), time(1), UTC)
    bst_end = datetime.combine(_last_sunday(utc.year, 10), time(1), UTC)
    return (utc + timedelta(hours=1)).date() if bst_start <= utc < bst_end else utc.date()


def add_months(day: date, months: int) -> date:
    """Calendar months later; the day is clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """Bank holidays of England and Wales in ``year`` (§4.3), substitute days included."""
    days: set[date] = set()
    for subdiv in ("ENG", "WLS"):
        days.update(holidays.country_holidays("GB", subdiv=subdiv, years=year))
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (§4.3); ``start`` itself never counts."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


# --- geography (§5) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float


def haversine_miles(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in miles on a sphere of radius 3958.8 miles (§5, §6.3)."""
    lat1, lat2 = radians(a.lat), radians(b.lat)
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin(radians(b.lon - a.lon) / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * asin(min(1.0, sqrt(h)))


def bounding_box(centre: GeoPoint, radius_miles: float) -> tuple[float, float, float, float]:
    """``(min_lat, max_lat, min_lon, max_lon)`` holding every point within the radius.

    The store's index-friendly prefilter before the exact check of ``eligible`` (§5). A box
    that would cross a pole or the antimeridian spans every longitude.
    """
    angle = radius_miles / EARTH_RADIUS_MILES
    margin = 1e-9
    dlat = degrees(angle) + margin
    min_lat, max_lat = centre.lat - dlat, centre.lat + dlat
    if min_lat <= -90 or max_lat >= 90:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    dlon = degrees(asin(min(1.0, sin(angle) / cos(radians(centre.lat))))) + margin
    if centre.lon - dlon < -180 or centre.lon + dlon > 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, centre.lon - dlon, centre.lon + dlon


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
    "min_tender_period_hours": lambda v, c, loc, p, a: _whole(v, loc, p, 1, 8760),
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

_DPS_REFUSALS = {
    "not_started": "the DPS has not started yet",
    "expired": "the DPS has ended",
    "entry_closed": "entry to the DPS is closed",
}


@dataclass(frozen=True)
class DpsSettings:
    """Period of validity (inclusive) and whether entry is open (§3)."""

    valid_from: date
    valid_to: date
    entry_open: bool = True

    def status(self, today: date) -> str:
        if today < self.valid_from:
            return "not_started"
        if today > self.valid_to:
            return "expired"
        return "open" if self.entry_open else "entry_closed"

    def ensure_accepting_applications(self, today: date) -> None:
        """§3: applications are submitted only within validity while entry is open."""
        status = self.status(today)
        if status != "open":
            raise Conflict(f"{_DPS_REFUSALS[status]}: no application can be submitted")

    def to_view(self, today: date) -> m.DpsView:
        return m.DpsView(
            status=self.status(today),
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            entry_open=self.entry_open,
        )


def apply_dps_change(settings: DpsSettings, patch: Mapping[str, Any]) -> DpsSettings:
    """§3: extend, shorten or end the period of validity; open or close entry."""
    if not patch:
        raise InvalidInput("the change is empty", [{"loc": [], "msg": "nothing to change"}])
    problems = _Problems()
    for key, value in patch.items():
        if key in ("valid_from", "valid_to"):
            if not isinstance(value, date) or isinstance(value, datetime):
                problems.add([key], "must be a date")
        elif key == "entry_open":
            if not isinstance(value, bool):
                problems.add([key], "must be true or false")
        else:
            problems.add([key], "not a setting that can be changed")
    problems.raise_if_any()
    changed = replace(settings, **patch)
    if changed.valid_to < changed.valid_from:
        raise InvalidInput.at(["valid_to"], "must not be before valid_from")
    return changed


# --- application content (§4.1, §4.2, §4.4) ----------------------------------------------------


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str | None = None
    sms_opt_in: bool = False


@dataclass(frozen=True)
class InspectionJudgement:
    """§4.1: ``{body, grade, date}``; INADEQUATE fails the INSPECTION criterion."""

    body: str
    grade: str
    date: date

    @property
    def inadequate(self) -> bool:
        return self.grade == "INADEQUATE"

    def describe(self) -> str:
        return f"{self.body} judgement of {self.date.isoformat()}: {self.grade}"

    @classmethod
    def from_message(cls, msg: m.InspectionJudgement) -> InspectionJudgement:
        return cls(msg.body, msg.grade, msg.date)


@dataclass(frozen=True)
class CriterionAnswer:
    """The answer and evidence for one pass/fail criterion (§4.1)."""

    answer: str
    evidence: str
    expires_on: date | None = None
    cover: Mapping[str, Decimal] | None = None
    judgement: InspectionJudgement | None = None

    @classmethod
    def from_message(cls, msg: m.PassFailAnswer) -> CriterionAnswer:
        return cls(
            msg.answer,
            msg.evidence,
            msg.expires_on,
            None if msg.cover is None else {k: getattr(msg.cover, k) for k in INSURANCE_COVERS},
            None if msg.judgement is None else InspectionJudgement.from_message(msg.judgement),
        )


@dataclass(frozen=True)
class AdditionalService:
    """§4.4: an additional service priced per unit and per week."""

    name: str
    unit: str
    unit_price: Decimal
    weekly_price: Decimal


@dataclass(frozen=True)
class CohortTier:
    """§4.4: ``percent`` off for a referral of ``min_children`` children or more."""

    min_children: int
    percent: Decimal


def _check_judgement(j: Any, loc: list, problems: _Problems, today: date) -> None:
    if j.body not in INSPECTION_BODIES:
        problems.add([*loc, "body"], f"must be one of {', '.join(INSPECTION_BODIES)}")
    if j.grade not in INSPECTION_GRADES:
        problems.add([*loc, "grade"], f"must be one of {', '.join(INSPECTION_GRADES)}")
    if not isinstance(j.date, date) or isinstance(j.date, datetime):
        problems.add([*loc, "date"], "must be a date")
    elif j.date > today:
        problems.add([*loc, "date"], "must not be in the future")


def _check_answer(
    code: str, ans: CriterionAnswer, loc: list, problems: _Problems, today: date
) -> None:
    """The shape of one answer (§4.1): text, evidence, expiry and cover where needed."""
    if not _is_text(ans.answer):
        problems.add([*loc, "answer"], "must not be empty")
    if not _is_text(ans.evidence):
        problems.add([*loc, "evidence"], "is required")
    if ans.expires_on is None:
        if code in EXPIRY_REQUIRED:
            problems.add([*loc, "expires_on"], "is required for this criterion")
    elif not isinstance(ans.expires_on, date) or isinstance(ans.expires_on, datetime):
        problems.add([*loc, "expires_on"], "must be a date")
    if code == INSURANCE:
        if ans.cover is None:
            problems.add([*loc, "cover"], "is required for insurance")
        else:
            for kind in ans.cover:
                if kind not in INSURANCE_COVERS:
                    problems.add([*loc, "cover", kind], "unknown kind of cover")
            for kind in INSURANCE_COVERS:
                _money(ans.cover.get(kind), [*loc, "cover", kind], problems)
    elif ans.cover is not None:
        problems.add([*loc, "cover"], "only applies to INSURANCE")
    if ans.judgement is not None:
        if code == INSPECTION:
            _check_judgement(ans.judgement, [*loc, "judgement"], problems, today)
        else:
            problems.add([*loc, "judgement"], "only applies to INSPECTION")


def insurance_shortfalls(
    cover: Mapping[str, Decimal], minimums: Mapping[str, Decimal]
) -> list[tuple[str, str]]:
    """§4.1: ``(kind, message)`` for each cover below the category's minimum."""
    return [
        (
            kind,
            f"{_COVER_NAMES[kind]} cover £{money.fmt(cover[kind])} is below the "
            f"minimum £{money.fmt(minimums[kind])}",
        )
        for kind in INSURANCE_COVERS
        if kind in minimums and cover[kind] < minimums[kind]
    ]


def _check_tiers(tiers: Sequence[CohortTier], problems: _Problems) -> None:
    """§4.4: min_children ≥ 2 and strictly increasing; percent in (0, 100)."""
    previous = None
    for i, tier in enumerate(tiers):
        loc = ["cohort_discounts", i]
        n = _whole(tier.min_children, [*loc, "min_children"], problems, 2, 1000)
        if n is not None:
            if previous is not None and n <= previous:
                problems.add([*loc, "min_children"], "must be more than the tier before")
            previous = n
        p = tier.percent
        if isinstance(p, bool) or not isinstance(p, int | Decimal) or not 0 < p < 100:
            problems.add([*loc, "percent"], "must be more than 0 and less than 100")


@dataclass(frozen=True)
class ApplicationContent:
    """What a provider states in an application (§4.1, §4.2, §4.4)."""

    pass_fail: Mapping[str, CriterionAnswer] = field(default_factory=dict)
    method_statements: Mapping[str, str] = field(default_factory=dict)
    core_costs: Mapping[str, Decimal] = field(default_factory=dict)
    additional_services: tuple[AdditionalService, ...] = ()
    cohort_discounts: tuple[CohortTier, ...] = ()

    @classmethod
    def from_message(cls, msg: m.ApplicationUpdate) -> ApplicationContent:
        return cls(
            pass_fail={c: CriterionAnswer.from_message(a) for c, a in msg.pass_fail.items()},
            method_statements={k: v for k, v in msg.method_statements if v is not None},
            core_costs=dict(msg.core_costs),
            additional_services=tuple(
                AdditionalService(s.name, s.unit, s.unit_price, s.weekly_price)
                for s in msg.additional_services
            ),
            cohort_discounts=tuple(
                CohortTier(t.min_children, t.percent) for t in msg.cohort_discounts
            ),
        )

    def validate(self, config: CategoryConfig, today: date) -> None:
        """Everything given must be valid for ``config`` (§4.1–§4.4); InvalidInput names
        each bad field. What is still missing is ``completeness_problems``' business."""
        problems = _Problems()
        for code, ans in self.pass_fail.items():
            if code not in config.pass_fail_criteria:
                problems.add(["pass_fail", code], f"not a pass/fail criterion of {config.code}")
            else:
                _check_answer(code, ans, ["pass_fail", code], problems, today)
        for key, statement in self.method_statements.items():
            if key not in WEIGHTED_CRITERIA:
                problems.add(["method_statements", key], "not a weighted criterion")
            elif not _is_text(statement):
                problems.add(["method_statements", key], "must not be empty")
        for head, amount in self.core_costs.items():
            if head not in config.all_cost_heads:
                problems.add(["core_costs", head], f"not a cost head of {config.code}")
            else:
                _money(amount, ["core_costs", head], problems)
        names = set()
        for i, service in enumerate(self.additional_services):
            loc = ["additional_services", i]
            if not _is_text(service.name):
                problems.add([*loc, "name"], "must not be empty")
            elif service.name.strip().lower() in names:
                problems.add([*loc, "name"], "is listed twice")
            else:
                names.add(service.name.strip().lower())
            if not _is_text(service.unit):
                problems.add([*loc, "unit"], "must not be empty")
            _money(service.unit_price, [*loc, "unit_price"], problems)
            _money(service.weekly_price, [*loc, "weekly_price"], problems)
        _check_tiers(self.cohort_discounts, problems)
        problems.raise_if_any()

    def completeness_problems(self, config: CategoryConfig, today: date) -> list[dict]:
        """What stops submission (§4.3): every criterion answered with unexpired evidence,
        every method statement and every (non-optional) cost head. ``[{loc, msg}]``."""
        problems = _Problems()
        for code in config.pass_fail_criteria:
            ans = self.pass_fail.get(code)
            if ans is None:
                problems.add(["pass_fail", code], "is missing")
            elif ans.expires_on is not None and ans.expires_on <= today:
                problems.add(["pass_fail", code, "expires_on"], "the evidence has expired")
        for key in WEIGHTED_CRITERIA:
            if key not in self.method_statements:
                problems.add(["method_statements", key], "is missing")
        for head in config.cost_heads:
            if head not in self.core_costs:
                problems.add(["core_costs", head], "is missing")
        return problems.items

    def organisation_answers(self, config: CategoryConfig) -> ApplicationContent:
        """The answers a copy reuses (§4): everything but the establishment-level criteria
        and the core costs, restricted to what ``config`` knows."""
        return ApplicationContent(
            pass_fail={
                c: a
                for c, a in self.pass_fail.items()
                if c in config.pass_fail_criteria and c not in ESTABLISHMENT_CRITERIA
            },
            method_statements=dict(self.method_statements),
            additional_services=self.additional_services,
            cohort_discounts=self.cohort_discounts,
        )


# --- scores (§4.2, §7.4) ------------------------------------------------------------------------


def competency_score(scores: Mapping[str, int], weights: Mapping[str, int]) -> Decimal:
    """§4.2: the weighted mean of the three scores, 0–100, exact to 2 decimals."""
    total = sum(Decimal(scores[k]) * weights[k] for k in WEIGHTED_CRITERIA) / 100
    return total.quantize(_CENT, rounding=ROUND_HALF_UP)


def moved_competency(old: Decimal, index: Decimal) -> Decimal:
    """§4.5/§7.4: ``old + clamp((index − old) / 2, −10, +10)``, kept within 0–100 and
    rounded half up to 2 decimals."""
    step = max(-MAX_COMPETENCY_MOVE, min(MAX_COMPETENCY_MOVE, (Decimal(index) - old) / 2))
    return max(Decimal(0), min(Decimal(100), old + step)).quantize(_CENT, rounding=ROUND_HALF_UP)


# --- decisions (§4.2, §4.3) ---------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionResult:
    result: str
    reason: str | None = None


@dataclass(frozen=True)
class Decision:
    """The lead's evaluation: a result per criterion and a score per weighted criterion."""

    pass_fail: Mapping[str, CriterionResult]
    scores: Mapping[str, int]

    @classmethod
    def from_message(cls, msg: m.Decision) -> Decision:
        return cls(
            {c: CriterionResult(r.result, r.reason) for c, r in msg.pass_fail.items()},
            {k: getattr(msg.scores, k) for k in WEIGHTED_CRITERIA},
        )

    def validate(self, config: CategoryConfig) -> None:
        """It must cover exactly the criteria of ``config``; a fail needs a reason."""
        problems = _Problems()
        for code in config.pass_fail_criteria:
            if code not in self.pass_fail:
                problems.add(["pass_fail", code], "needs a result")
        for code, r in self.pass_fail.items():
            loc = ["pass_fail", code]
            if code not in config.pass_fail_criteria:
                problems.add(loc, f"not a criterion of {config.code} version {config.version}")
            elif r.result not in ("pass", "fail"):
                problems.add([*loc, "result"], "must be pass or fail")
            elif r.result == "fail" and not _is_text(r.reason):
                problems.add([*loc, "reason"], "is required for a fail")
        for key in WEIGHTED_CRITERIA:
            _whole(self.scores.get(key), ["scores", key], problems, 0, 100)
        for key in self.scores:
            if key not in WEIGHTED_CRITERIA:
                problems.add(["scores", key], "not a weighted criterion")
        problems.raise_if_any()


@dataclass(frozen=True)
class DecisionOutcome:
    status: str
    results: Mapping[str, CriterionResult]
    scores: Mapping[str, int]
    competency: Decimal
    failures: Mapping[str, str]
    decided_at: datetime

    def failure_list(self) -> list[dict]:
        return [{"criterion": c, "reason": r} for c, r in self.failures.items()]


def _automatic_failures(
    content: ApplicationContent,
    config: CategoryConfig,
    latest: InspectionJudgement | None,
    today: date,
) -> list[tuple[str, str]]:
    """§4.1, §4.4: failures no evaluator can pass."""
    found = []
    for code in config.pass_fail_criteria:
        expires_on = content.pass_fail[code].expires_on
        if expires_on is not None and expires_on <= today:
            found.append((code, f"the evidence expired on {expires_on.isoformat()}"))
    if INSURANCE in config.pass_fail_criteria:
        cover = content.pass_fail[INSURANCE].cover
        found += [
            (INSURANCE, msg) for _, msg in insurance_shortfalls(cover, config.insurance_minimums)
        ]
    if INSPECTION in config.pass_fail_criteria and latest is not None and latest.inadequate:
        found.append((INSPECTION, f"the latest judgement is INADEQUATE ({latest.describe()})"))
    total = total_weekly_core_cost(content.core_costs, config)
    cap = config.affordability_cap
    if cap is not None and total > cap:
        found.append(
            (
                AFFORDABILITY,
                f"the total weekly core cost £{money.fmt(total)} is above "
                f"the affordability cap £{money.fmt(cap)}",
            )
        )
    return found


# --- applications (§4, §4.3) --------------------------------------------------------------------

APPLICATION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "draft": frozenset({"submitted"}),
    "submitted": frozenset({"admitted", "rejected"}),
    "admitted": frozenset(),
    "rejected": frozenset(),
}
OPEN_APPLICATION_STATES = frozenset({"draft", "submitted"})


@dataclass(eq=False)
class Application:
    """One establishment's application for one category: ``draft → submitted → admitted |
    rejected`` (§4.3)."""

    id: str
    establishment_id: str
    provider_id: str
    category: str
    content: ApplicationContent
    created_at: datetime
    status: str = "draft"
    copied_from: str | None = None
    config_version: int | None = None
    submitted_at: datetime | None = None
    due_on: date | None = None
    extension_reason: str | None = None
    decision: DecisionOutcome | None = None
    events: list = field(default_factory=list, repr=False)

    def _require(self, target: str) -> None:
        if target not in APPLICATION_TRANSITIONS[self.status]:
            raise Conflict(f"the application is {self.status}; it cannot become {target}")

    def _config_for(self, config: CategoryConfig, version: int | None = None) -> None:
        if config.code != self.category or version not in (None, config.version):
            raise ValueError(
                f"{config.code} v{config.version} is not the configuration of "
                f"this {self.category} application (v{version})"
            )

    def revise(self, content: ApplicationContent, config: CategoryConfig, now: datetime) -> None:
        """Replace a draft's content (§4)."""
        if self.status != "draft":
            raise Conflict(f"the application is {self.status}; only a draft can be changed")
        self._config_for(config)
        content.validate(config, london_date(now))
        self.content = content

    def submit(self, config: CategoryConfig, dps: DpsSettings, now: datetime) -> None:
        """§3, §4.3: while entry is open, complete against the configuration in force
        (``config``, whose version the application keeps); starts the 10 working days."""
        self._require("submitted")
        self._config_for(config)
        today = london_date(now)
        dps.ensure_accepting_applications(today)
        self.content.validate(config, today)
        missing = self.content.completeness_problems(config, today)
        if missing:
            raise Conflict(f"the application is incomplete: {_describe(missing)}", missing)
        self.status = "submitted"
        self.config_version = config.version
        self.submitted_at = now
        self.due_on = add_working_days(today, EVALUATION_WORKING_DAYS)

    def extend_evaluation(self, reason: str) -> None:
        """§4.3: once, to 15 working days after submission, with a recorded reason."""
        if self.status != "submitted":
            raise Conflict(
                f"the application is {self.status}; only a submitted "
                "application's evaluation can be extended"
            )
        if self.extension_reason is not None:
            raise Conflict("the evaluation has already been extended")
        if not _is_text(reason):
            raise InvalidInput.at(["reason"], "is required")
        self.extension_reason = reason.strip()
        self.due_on = add_working_days(
            london_date(self.submitted_at), EXTENDED_EVALUATION_WORKING_DAYS
        )

    def is_overdue(self, today: date) -> bool:
        """§4.3: still undecided after its due date."""
        return self.status == "submitted" and today > self.due_on

    def decide(
        self,
        decision: Decision,
        config: CategoryConfig,
        establishment: Establishment,
        now: datetime,
    ) -> DecisionOutcome:
        """§4.2, §4.3: admitted when every criterion passes (automatic failures included),
        otherwise rejected with a reason per failed criterion. ``config`` must be the
        version in force at submission. Admission creates the membership."""
        if self.status != "submitted":
            raise Conflict(
                f"the application is {self.status}; only a submitted application can be decided"
            )
        self._config_for(config, self.config_version)
        if establishment.id != self.establishment_id:
            raise ValueError("the decision needs the application's own establishment")
        decision.validate(config)
        today = london_date(now)
        failures = {
            c: r.reason.strip() for c, r in decision.pass_fail.items() if r.result == "fail"
        }
        inspection = self.content.pass_fail.get(INSPECTION)
        latest = establishment.latest_judgement(inspection.judgement if inspection else None)
        for code, reason in _automatic_failures(self.content, config, latest, today):
            failures[code] = f"{failures[code]}; {reason}" if code in failures else reason
        ordered = {
            c: failures[c] for c in (*config.pass_fail_criteria, AFFORDABILITY) if c in failures
        }
        competency = competency_score(decision.scores, config.weighted_criteria_weights)
        status = "rejected" if ordered else "admitted"
        self._require(status)
        if status == "admitted":
            establishment.admit(self, config, competency, decision.scores, now)
        self.status = status
        self.decision = DecisionOutcome(
            status, dict(decision.pass_fail), dict(decision.scores), competency, ordered, now
        )
        costs = dict(self.content.core_costs)
        self.events.append(
            _event(
                m.ApplicationDecided,
                establishment,
                self.category,
                now,
                application_id=self.id,
                status=status,
                failures=self.decision.failure_list(),
                scores=dict(decision.scores),
                competency=competency,
                core_costs=costs,
                total_weekly_core_cost=total_weekly_core_cost(costs, config),
            )
        )
        return self.decision

    def to_view(self, today: date) -> m.ApplicationView:
        c, d = self.content, self.decision
        return m.ApplicationView(
            id=self.id,
            establishment_id=self.establishment_id,
            provider_id=self.provider_id,
            category=self.category,
            status=self.status,
            created_at=self.created_at,
            copied_from=self.copied_from,
            config_version=self.config_version,
            submitted_at=self.submitted_at,
            due_on=self.due_on,
            extension_reason=self.extension_reason,
            overdue=self.is_overdue(today),
            pass_fail={k: asdict(a) for k, a in c.pass_fail.items()},
            method_statements=dict(c.method_statements),
            core_costs=dict(c.core_costs),
            additional_services=[asdict(s) for s in c.additional_services],
            cohort_discounts=[asdict(t) for t in c.cohort_discounts],
            decision=None
            if d is None
            else m.DecisionView(
                status=d.status,
                results={k: asdict(r) for k, r in d.results.items()},
                scores=dict(d.scores),
                competency=d.competency,
                failures=d.failure_list(),
                decided_at=d.decided_at,
            ),
        )


def open_application(
    establishment: Establishment,
    category: str,
    content: ApplicationContent,
    config: CategoryConfig,
    applications: Iterable[Application],
    now: datetime,
    copied_from: str | None = None,
) -> Application:
    """A new draft (§4). ``applications`` are the establishment's existing applications.
    Refused while another one for the category is open or a membership is current."""
    if config.code != category:
        raise ValueError(f"{config.code} configuration given for a {category} application")
    if category not in establishment.categories:
        raise InvalidInput.at(["category"], f"{establishment.name} does not offer {category}")
    if any(
        a.establishment_id == establishment.id
        and a.category == category
        and a.status in OPEN_APPLICATION_STATES
        for a in applications
    ):
        raise Conflict(f"{establishment.name} already has an open {category} application")
    current = establishment.current_membership(category)
    if current is not None:
        raise Conflict(f"{establishment.name} is already {current.state} in {category}")
    content.validate(config, london_date(now))
    return Application(
        id=new_id(),
        establishment_id=establishment.id,
        provider_id=establishment.provider_id,
        category=category,
        content=content,
        created_at=now,
        copied_from=copied_from,
    )


def copy_application(
    source: Application,
    targets: Sequence[Establishment],
    applications: Mapping[str, Iterable[Application]],
    config: CategoryConfig,
    now: datetime,
) -> list[Application]:
    """§4: new drafts for the provider's other establishments, reusing the organisation's
    answers (see ``organisation_answers``). All or nothing. ``applications`` maps each
    target's id to its existing applications."""
    problems = _Problems()
    seen = set()
    for i, est in enumerate(targets):
        loc = ["establishment_ids", i]
        if est.id == source.establishment_id:
            problems.add(loc, "is the application's own establishment")
        elif est.id in seen:
            problems.add(loc, "is listed twice")
        elif est.provider_id != source.provider_id:
            problems.add(loc, "is not an establishment of this provider")
        seen.add(est.id)
    problems.raise_if_any()
    content = source.content.organisation_answers(config)
    return [
        open_application(
            est,
            source.category,
            content,
            config,
            applications.get(est.id, ()),
            now,
            copied_from=source.id,
        )
        for est in targets
    ]


# --- memberships (§4.5, §7.2, §7.4) ------------------------------------------------------------

MEMBERSHIP_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "admitted": frozenset({"suspended", "removed"}),
    "suspended": frozenset({"admitted", "removed"}),
    "removed": frozenset(),
}
CURRENT_MEMBERSHIP_STATES = frozenset({"admitted", "suspended"})


@dataclass(frozen=True)
class Milestone:
    """A dated step in a membership's history (§4.5); a suspension names its criterion."""

    kind: str
    at: datetime
    by: str
    criterion: str | None = None
    reason: str | None = None
    answer: CriterionAnswer | None = None


@dataclass(frozen=True)
class CostEntry:
    """One head's weekly price from ``effective_from`` on (§4.4, §7.2)."""

    head: str
    amount: Decimal
    effective_from: date
    reason: str
    uplift_id: str | None = None


@dataclass(frozen=True)
class CompetencyMove:
    """One move of the core competency score and its reason (§4.5, §7.4)."""

    period_start: date
    period_end: date
    performance_index: Decimal
    reviews_count: int
    old: Decimal
    new: Decimal
    at: datetime


@dataclass(eq=False)
class Membership:
    """An establishment's place on the DPS in one category: ``admitted ↔ suspended →
    removed`` (§4.5). ``milestones`` is the full, append-only history."""

    id: str
    category: str
    application_id: str
    admitted_on: date
    competency: Decimal
    scores: Mapping[str, int]
    evidence: dict[str, CriterionAnswer]
    costs: list[CostEntry]
    reverification_due_on: date
    cohort_discounts: tuple[CohortTier, ...] = ()
    additional_services: tuple[AdditionalService, ...] = ()
    state: str = "admitted"
    milestones: list[Milestone] = field(default_factory=list)
    competency_moves: list[CompetencyMove] = field(default_factory=list)
    reminded: dict[str, date] = field(default_factory=dict)
    """criterion → the expiry date its reminder was sent for (once per item and date)."""
    reverification_flagged: date | None = None
    """The re-verification due date already flagged as due (once per due date)."""

    @property
    def current(self) -> bool:
        return self.state in CURRENT_MEMBERSHIP_STATES

    def _move(self, target: str) -> None:
        if target not in MEMBERSHIP_TRANSITIONS[self.state]:
            raise Conflict(
                f"the {self.category} membership is {self.state}; it cannot become {target}"
            )
        self.state = target

    def _episode(self) -> tuple[dict[str, Milestone], dict[str, Milestone]]:
        """Open failures and pending resubmissions since the last (re)admission."""
        failures: dict[str, Milestone] = {}
        resubmissions: dict[str, Milestone] = {}
        for step in self.milestones:
            if step.kind in ("admitted", "reinstated"):
                failures, resubmissions = {}, {}
            elif step.kind == "suspended":
                failures.setdefault(step.criterion, step)
            elif step.kind == "resubmitted":
                resubmissions[step.criterion] = step
        return failures, resubmissions

    @property
    def open_failures(self) -> dict[str, Milestone]:
        return self._episode()[0]

    @property
    def pending_resubmissions(self) -> dict[str, Milestone]:
        return self._episode()[1]

    def _entry(self, head: str, on: date) -> CostEntry | None:
        found = None
        for entry in self.costs:
            if entry.head == head and entry.effective_from <= on:
                found = entry
        return found

    def cost_on(self, head: str, on: date) -> Decimal:
        """§7.2: the qualified weekly price of ``head`` in force on ``on``."""
        entry = self._entry(head, on)
        if entry is None:
            raise NotFound(f"no {head} price is in force on {on.isoformat()}")
        return entry.amount

    def costs_on(self, on: date) -> dict[str, Decimal]:
        """Every head's price in force on ``on``."""
        heads = dict.fromkeys(e.head for e in self.costs)
        return {h: e.amount for h in heads if (e := self._entry(h, on)) is not None}

    def next_check(self) -> date | None:
        """§4.5, DESIGN rule 4: the first day the evidence timer has something to do for
        this membership, or None (not current, nothing dated). An unreminded expiry counts
        from 30 days before it, a reminded one from its date; a criterion the membership
        is already suspended for waits for reinstatement; the re-verification due date
        counts until it has been flagged."""
        if not self.current:
            return None
        failures = self.open_failures
        days = []
        for criterion, ans in self.evidence.items():
            exp = ans.expires_on
            if exp is None or criterion in failures:
                continue
            reminded = self.reminded.get(criterion) == exp
            days.append(exp if reminded else exp - timedelta(days=REMINDER_DAYS))
        if self.reverification_flagged != self.reverification_due_on:
            days.append(self.reverification_due_on)
        return min(days, default=None)

    def to_view(self, config: CategoryConfig, today: date) -> m.MembershipView:
        costs = self.costs_on(today)
        failures, resubmissions = self._episode()
        return m.MembershipView(
            id=self.id,
            category=self.category,
            status=self.state,
            application_id=self.application_id,
            admitted_on=self.admitted_on,
            competency=self.competency,
            scores=dict(self.scores),
            core_costs=costs,
            total_weekly_core_cost=total_weekly_core_cost(costs, config),
            cohort_discounts=[asdict(t) for t in self.cohort_discounts],
            additional_services=[asdict(s) for s in self.additional_services],
            evidence_expiry={c: a.expires_on for c, a in self.evidence.items() if a.expires_on},
            reverification_due_on=self.reverification_due_on,
            open_failures=[{"criterion": c, "reason": s.reason} for c, s in failures.items()],
            pending_resubmissions=list(resubmissions),
            history=[
                {
                    "kind": s.kind,
                    "at": s.at,
                    "by": s.by,
                    "criterion": s.criterion,
                    "reason": s.reason,
                }
                for s in self.milestones
            ],
            competency_moves=[asdict(mv) for mv in self.competency_moves],
            cost_history=[asdict(e) for e in self.costs],
        )


def _event(cls: type, establishment: Establishment, category: str, now: datetime, **fields):
    """An event with the common payload: who it is about and whom to tell (§8)."""
    return cls(
        occurred_at=now,
        establishment_id=establishment.id,
        provider_id=establishment.provider_id,
        establishment_name=establishment.name,
        category=category,
        contacts=[asdict(c) for c in establishment.contacts],
        **fields,
    )


def _check_renewal(
    criterion: str, answer: CriterionAnswer, config: CategoryConfig, today: date
) -> None:
    """New evidence for a membership (§4.5): valid, unexpired, insurance at the minimums
    and no INADEQUATE judgement. Fields are named as in ``messages.Resubmission``."""
    problems = _Problems()
    _check_answer(criterion, answer, [], problems, today)
    if not problems:
        if answer.expires_on is not None and answer.expires_on <= today:
            problems.add(["expires_on"], "must be after today")
        if criterion == INSURANCE:
            for kind, msg in insurance_shortfalls(answer.cover, config.insurance_minimums):
                problems.add(["cover", kind], msg)
        if answer.judgement is not None and answer.judgement.inadequate:
            problems.add(["judgement", "grade"], "an INADEQUATE judgement fails the criterion")
    problems.raise_if_any()


@dataclass(eq=False)
class Establishment:
    """One school, home or agency office (§4) and its memberships, one per category at a
    time (earlier, removed ones are kept)."""

    id: str
    provider_id: str
    name: str
    address: str
    postcode: str
    location: GeoPoint
    categories: tuple[str, ...]
    contacts: tuple[Contact, ...]
    urn: str | None = None
    capacity: int | None = None
    inspections: list[InspectionJudgement] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    events: list = field(default_factory=list, repr=False)

    @classmethod
    def register(cls, provider_id: str, request: m.EstablishmentCreate) -> Establishment:
        """A new establishment of ``provider_id`` (§4); its contacts are announced (§8)."""
        est = cls(
            id=new_id(),
            provider_id=provider_id,
            name=request.name,
            address=request.address,
            postcode=request.postcode,
            location=GeoPoint(request.location.lat, request.location.lon),
            categories=tuple(request.categories),
            contacts=tuple(
                Contact(c.name, str(c.email), c.phone, c.sms_opt_in) for c in request.contacts
            ),
            urn=request.urn,
            capacity=request.capacity,
        )
        est.events.append(est._contacts_event())
        return est

    def _contacts_event(self) -> m.EstablishmentContactsChanged:
        return m.EstablishmentContactsChanged(
            establishment_id=self.id,
            provider_id=self.provider_id,
            contacts=[asdict(c) for c in self.contacts],
        )

    def update(self, request: m.EstablishmentUpdate) -> None:
        """§4, §8: change the name, address, capacity or contacts (the location and
        categories stay). New contacts are announced."""
        given = request.model_fields_set
        if not given:
            raise InvalidInput("the change is empty", [{"loc": [], "msg": "nothing to change"}])
        for key in ("name", "address", "capacity"):
            if key in given:
                value = getattr(request, key)
                if value is None and key != "capacity":
                    raise InvalidInput.at([key], "must not be null")
                setattr(self, key, value)
        if "contacts" in given:
            if not request.contacts:
                raise InvalidInput.at(["contacts"], "must list at least one contact")
            contacts = tuple(
                Contact(c.name, str(c.email), c.phone, c.sms_opt_in) for c in request.contacts
            )
            if contacts != self.contacts:
                self.contacts = contacts
                self.events.append(self._contacts_event())

    # -- queries -------------------------------------------------------------------

    def membership(self, category: str) -> Membership:
        """The latest membership in ``category`` (removed included), or NotFound."""
        for ms in reversed(self.memberships):
            if ms.category == category:
                return ms
        raise NotFound(f"{self.name} has no membership in {category}")

    def current_membership(self, category: str) -> Membership | None:
        return next((ms for ms in self.memberships if ms.category == category and ms.current), None)

    def _current(self) -> list[Membership]:
        return [ms for ms in self.memberships if ms.current]

    def latest_judgement(self, *extra: InspectionJudgement | None) -> InspectionJudgement | None:
        """The most recent judgement by date (the last recorded wins a tie), counting
        ``extra`` ones not yet recorded."""
        latest = None
        for j in (*self.inspections, *extra):
            if j is not None and (latest is None or j.date >= latest.date):
                latest = j
        return latest

    def expiring_evidence(self, today: date) -> list[tuple[Membership, str, date]]:
        """§4.5: evidence expiring within 30 days, not yet reminded for that expiry date."""
        horizon = today + timedelta(days=REMINDER_DAYS)
        found = []
        for ms in self._current():
            failures = ms.open_failures
            for criterion, ans in ms.evidence.items():
                exp = ans.expires_on
                if (
                    exp is not None
                    and today < exp <= horizon
                    and criterion not in failures
                    and ms.reminded.get(criterion) != exp
                ):
                    found.append((ms, criterion, exp))
        return found

    def due_reverifications(self, today: date) -> list[Membership]:
        """§4.5: current memberships whose yearly re-verification is due."""
        return [ms for ms in self._current() if ms.reverification_due_on <= today]

    def to_view(self, configs: Mapping[str, CategoryConfig], today: date) -> m.EstablishmentView:
        return m.EstablishmentView(
            id=self.id,
            provider_id=self.provider_id,
            name=self.name,
            urn=self.urn,
            address=self.address,
            postcode=self.postcode,
            location=asdict(self.location),
            categories=list(self.categories),
            capacity=self.capacity,
            contacts=[asdict(c) for c in self.contacts],
            inspections=[asdict(j) for j in self.inspections],
            memberships=[ms.to_view(configs[ms.category], today) for ms in self.memberships],
        )

    # -- commands ------------------------------------------------------------------

    def _keep_judgements(self, *judgements: InspectionJudgement | None) -> None:
        """§4.1: a judgement given as evidence joins the inspection record, once."""
        for judgement in judgements:
            if judgement is not None and judgement not in self.inspections:
                self.inspections.append(judgement)

    def admit(
        self,
        application: Application,
        config: CategoryConfig,
        competency: Decimal,
        scores: Mapping[str, int],
        now: datetime,
    ) -> Membership:
        """§4.3: a new membership from an admitted application (called by ``decide``)."""
        if self.current_membership(application.category) is not None:
            raise Conflict(f"{self.name} already has a current {application.category} membership")
        today = london_date(now)
        content = application.content
        ms = Membership(
            id=new_id(),
            category=application.category,
            application_id=application.id,
            admitted_on=today,
            competency=competency,
            scores=dict(scores),
            evidence=dict(content.pass_fail),
            costs=[CostEntry(h, a, today, "qualified") for h, a in content.core_costs.items()],
            reverification_due_on=add_months(today, 12),
            cohort_discounts=content.cohort_discounts,
            additional_services=content.additional_services,
            milestones=[Milestone("admitted", now, "lead")],
        )
        inspection = content.pass_fail.get(INSPECTION)
        if inspection:
            self._keep_judgements(inspection.judgement)
        self.memberships.append(ms)
        costs = ms.costs_on(today)
        self.events.append(
            _event(
                m.MembershipAdmitted,
                self,
                ms.category,
                now,
                membership_id=ms.id,
                admitted_on=today,
                location=asdict(self.location),
                competency=competency,
                core_costs=costs,
                total_weekly_core_cost=total_weekly_core_cost(costs, config),
                cohort_discounts=[asdict(t) for t in ms.cohort_discounts],
                reverification_due_on=ms.reverification_due_on,
            )
        )
        return ms

    def _fail(
        self, ms: Membership, criterion: str, reason: str, by: str, now: datetime
    ) -> m.MembershipSuspended | None:
        """§4.5: suspend at once for ``criterion``, unless already suspended for it."""
        if criterion in ms.open_failures:
            return None
        if ms.state != "suspended":
            ms._move("suspended")
        ms.milestones.append(Milestone("suspended", now, by, criterion, reason))
        event = _event(
            m.MembershipSuspended,
            self,
            ms.category,
            now,
            membership_id=ms.id,
            criterion=criterion,
            reason=reason,
            suspended_by=by,
            suspended_on=london_date(now),
        )
        self.events.append(event)
        return event

    def suspend(
        self, category: str, criterion: str, reason: str, config: CategoryConfig, now: datetime
    ) -> m.MembershipSuspended:
        """§4.5: the lead suspends for a pass/fail criterion of the category that no longer
        holds; no other ground is accepted."""
        ms = self.membership(category)
        if not ms.current:
            raise Conflict(f"the {category} membership is {ms.state}; it cannot become suspended")
        problems = _Problems()
        if criterion not in config.pass_fail_criteria:
            problems.add(
                ["criterion"],
                "a suspension must name a pass/fail criterion of "
                f"{category}: {', '.join(config.pass_fail_criteria)}",
            )
        if not _is_text(reason):
            problems.add(["reason"], "is required")
        problems.raise_if_any()
        if criterion in ms.open_failures:
            raise Conflict(f"the {category} membership is already suspended for {criterion}")
        return self._fail(ms, criterion, reason.strip(), "lead", now)

    def record_inspection(
        self, judgement: InspectionJudgement, configs: Mapping[str, CategoryConfig], now: datetime
    ) -> list[m.MembershipSuspended]:
        """§4.1, §4.5: keep the judgement; a latest judgement of INADEQUATE suspends at once
        every current membership whose category has the INSPECTION criterion."""
        problems = _Problems()
        _check_judgement(judgement, [], problems, london_date(now))
        problems.raise_if_any()
        self.inspections.append(judgement)
        if not judgement.inadequate or self.latest_judgement() is not judgement:
            return []
        suspended = (
            self._fail(ms, INSPECTION, judgement.describe(), "system", now)
            for ms in self._current()
            if INSPECTION in configs[ms.category].pass_fail_criteria
        )
        return [event for event in suspended if event is not None]

    def resubmit(
        self,
        category: str,
        criterion: str,
        answer: CriterionAnswer,
        config: CategoryConfig,
        now: datetime,
    ) -> None:
        """§4.5: the provider resubmits the evidence of a criterion it is suspended for."""
        ms = self.membership(category)
        if ms.state != "suspended":
            raise Conflict(
                f"the {category} membership is {ms.state}; only a suspended "
                "membership takes a resubmission"
            )
        failures = ms.open_failures
        if criterion not in failures:
            raise Conflict(
                f"the {category} membership is suspended for "
                f"{', '.join(failures)}, not {criterion}: only that evidence "
                "can be resubmitted"
            )
        _check_renewal(criterion, answer, config, london_date(now))
        ms.milestones.append(Milestone("resubmitted", now, "provider", criterion, answer=answer))

    def reinstate(
        self, category: str, config: CategoryConfig, now: datetime
    ) -> m.MembershipReinstated:
        """§4.5: the lead accepts the resubmitted evidence (one for every failed criterion)
        and the membership is admitted again, its history kept."""
        ms = self.membership(category)
        if ms.state != "suspended":
            raise Conflict(f"the {category} membership is {ms.state}; it cannot be reinstated")
        failures, pending = ms._episode()
        missing = [c for c in failures if c not in pending]
        if missing:
            raise Conflict(f"no resubmitted evidence yet for {', '.join(missing)}")
        today = london_date(now)
        accepted = {c: pending[c].answer for c in failures}
        expired = [c for c, a in accepted.items() if a.expires_on and a.expires_on <= today]
        if expired:
            raise Conflict(f"the resubmitted evidence has expired for {', '.join(expired)}")
        judgements = [a.judgement for a in accepted.values() if a.judgement is not None]
        latest = self.latest_judgement(*judgements)
        if INSPECTION in failures and latest is not None and latest.inadequate:
            raise Conflict(
                f"the latest inspection judgement is still INADEQUATE ({latest.describe()})"
            )
        self._keep_judgements(*judgements)
        ms.evidence.update(accepted)
        ms._move("admitted")
        ms.milestones.append(
            Milestone(
                "reinstated", now, "lead", reason=f"evidence accepted for {', '.join(accepted)}"
            )
        )
        costs = ms.costs_on(today)
        event = _event(
            m.MembershipReinstated,
            self,
            category,
            now,
            membership_id=ms.id,
            criteria=list(accepted),
            reinstated_on=today,
            competency=ms.competency,
            core_costs=costs,
            total_weekly_core_cost=total_weekly_core_cost(costs, config),
        )
        self.events.append(event)
        return event

    def remove(self, category: str, reason: str, now: datetime) -> m.MembershipRemoved:
        """§4.5: the end of a membership (the establishment may apply again)."""
        ms = self.membership(category)
        if not _is_text(reason):
            raise InvalidInput.at(["reason"], "is required")
        ms._move("removed")
        ms.milestones.append(Milestone("removed", now, "lead", reason=reason.strip()))
        event = _event(
            m.MembershipRemoved,
            self,
            category,
            now,
            membership_id=ms.id,
            reason=reason.strip(),
            removed_on=london_date(now),
        )
        self.events.append(event)
        return event

    def renew_evidence(
        self,
        category: str,
        criterion: str,
        answer: CriterionAnswer,
        config: CategoryConfig,
        now: datetime,
    ) -> None:
        """§4.5: the provider renews evidence before it expires (a criterion it is
        suspended for takes a resubmission instead)."""
        ms = self.membership(category)
        if not ms.current:
            raise Conflict(f"the {category} membership is {ms.state}")
        if criterion not in config.pass_fail_criteria:
            raise InvalidInput.at(["criterion"], f"not a pass/fail criterion of {category}")
        if criterion in ms.open_failures:
            raise Conflict(
                f"the {category} membership is suspended for {criterion}: "
                "resubmit that evidence instead"
            )
        _check_renewal(criterion, answer, config, london_date(now))
        ms.evidence[criterion] = answer
        self._keep_judgements(answer.judgement)
        ms.milestones.append(Milestone("evidence_renewed", now, "provider", criterion))

    def reverify(
        self,
        category: str,
        config: CategoryConfig,
        now: datetime,
        failed_criterion: str | None = None,
        reason: str | None = None,
    ) -> list[m.MembershipSuspended]:
        """§4.5: the yearly re-verification; the next is due a year later. A failed
        criterion suspends the membership."""
        ms = self.membership(category)
        if not ms.current:
            raise Conflict(f"the {category} membership is {ms.state}")
        if failed_criterion is not None:
            problems = _Problems()
            if failed_criterion not in config.pass_fail_criteria:
                problems.add(["failed_criterion"], f"not a pass/fail criterion of {category}")
            if not _is_text(reason):
                problems.add(["reason"], "is required for a failed criterion")
            problems.raise_if_any()
        today = london_date(now)
        ms.reverification_due_on = add_months(today, 12)
        ms.milestones.append(
            Milestone(
                "reverified",
                now,
                "lead",
                failed_criterion,
                reason.strip() if _is_text(reason) else None,
            )
        )
        if failed_criterion is None:
            return []
        event = self._fail(ms, failed_criterion, reason.strip(), "lead", now)
        return [event] if event else []

    def remind_expiring_evidence(self, now: datetime) -> list[m.EvidenceExpiring]:
        """§4.5, §8: one reminder per evidence item and expiry date, 30 days ahead."""
        today = london_date(now)
        events = []
        for ms, criterion, expires_on in self.expiring_evidence(today):
            ms.reminded[criterion] = expires_on
            events.append(
                _event(
                    m.EvidenceExpiring,
                    self,
                    ms.category,
                    now,
                    membership_id=ms.id,
                    criterion=criterion,
                    expires_on=expires_on,
                    days_left=(expires_on - today).days,
                )
            )
        self.events.extend(events)
        return events

    def flag_due_reverifications(self, now: datetime) -> list[m.ReverificationDue]:
        """§4.5: tell the lead, once per due date, that a yearly re-verification is due."""
        today = london_date(now)
        events = []
        for ms in self.due_reverifications(today):
            if ms.reverification_flagged == ms.reverification_due_on:
                continue
            ms.reverification_flagged = ms.reverification_due_on
            events.append(
                _event(
                    m.ReverificationDue,
                    self,
                    ms.category,
                    now,
                    membership_id=ms.id,
                    due_on=ms.reverification_due_on,
                )
            )
        self.events.extend(events)
        return events

    def suspend_expired_evidence(self, now: datetime) -> list[m.MembershipSuspended]:
        """§4.5: evidence not renewed by its expiry date suspends for its criterion."""
        today = london_date(now)
        suspended = (
            self._fail(
                ms,
                criterion,
                f"the evidence expired on {ans.expires_on.isoformat()} and was not renewed",
                "system",
                now,
            )
            for ms in self._current()
            for criterion, ans in list(ms.evidence.items())
            if ans.expires_on is not None and ans.expires_on <= today
        )
        return [event for event in suspended if event is not None]

    def apply_performance_review(
        self, review: m.PerformanceReviewed, configs: Mapping[str, CategoryConfig], now: datetime
    ) -> list[m.CompetencyChanged]:
        """§4.5, §7.4: move the competency of the review's membership (every current one
        without a category), at most once per configured period: a review is skipped
        when its period starts less than ``competency_period_months`` after the period of
        the last move (so a redelivered review is a no-op). Every move is kept."""
        if review.establishment_id != self.id:
            raise ValueError("the review is about another establishment")
        events = []
        for ms in self._current():
            if review.category not in (None, ms.category):
                continue
            last = ms.competency_moves[-1] if ms.competency_moves else None
            months = configs[ms.category].competency_period_months
            if last is not None and review.period_start < add_months(last.period_start, months):
                continue
            old, new = ms.competency, moved_competency(ms.competency, review.performance_index)
            ms.competency_moves.append(
                CompetencyMove(
                    review.period_start,
                    review.period_end,
                    review.performance_index,
                    review.reviews_count,
                    old,
                    new,
                    now,
                )
            )
            ms.competency = new
            if new != old:
                events.append(
                    _event(
                        m.CompetencyChanged,
                        self,
                        ms.category,
                        now,
                        membership_id=ms.id,
                        old=old,
                        new=new,
                        performance_index=review.performance_index,
                        period_start=review.period_start,
                        period_end=review.period_end,
                        reviews_count=review.reviews_count,
                    )
                )
        self.events.extend(events)
        return events

    def apply_uplift(
        self,
        config: CategoryConfig,
        head: str,
        percent: Decimal,
        effective_from: date,
        uplift_id: str,
        now: datetime,
    ) -> m.CoreCostsChanged | None:
        """§7.2: raise one head of the qualified core costs by ``percent`` from
        ``effective_from``, rounded half up to the penny, keeping the price history.

        None when there is nothing to do: no current membership in the category, the
        uplift already applied (``uplift_id``), or no price in force on that date
        (admitted later). An uplift dated before a later price of the head is refused.
        """
        problems = _Problems()
        if head not in config.all_cost_heads:
            problems.add(["cost_head"], f"not a cost head of {config.code}")
        if isinstance(percent, bool) or not isinstance(percent, int | Decimal) or percent <= -100:
            problems.add(["percent"], "must be a number more than -100")
        problems.raise_if_any()
        ms = self.current_membership(config.code)
        if ms is None or any(e.uplift_id == uplift_id for e in ms.costs):
            return None
        base = ms._entry(head, effective_from)
        if base is None:
            return None
        later = [
            e.effective_from
            for e in ms.costs
            if e.head == head and e.effective_from > effective_from
        ]
        if later:
            raise Conflict(
                f"{self.name}'s {head} already has a price from "
                f"{max(later).isoformat()}; uplifts apply in date order"
            )
        new = money.round_pence(base.amount * (100 + Decimal(percent)) / 100)
        reason = f"uplift of {percent}% from {effective_from.isoformat()}"
        ms.costs.append(CostEntry(head, new, effective_from, reason, uplift_id))
        costs = ms.costs_on(effective_from)
        event = _event(
            m.CoreCostsChanged,
            self,
            config.code,
            now,
            membership_id=ms.id,
            cost_head=head,
            old=base.amount,
            new=new,
            percent=percent,
            effective_from=effective_from,
            uplift_id=uplift_id,
            reason=reason,
            core_costs=costs,
            total_weekly_core_cost=total_weekly_core_cost(costs, config),
        )
        self.events.append(event)
        return event


# --- eligibility (§5) ---------------------------------------------------------------------------


def eligible(
    establishment: Establishment,
    config: CategoryConfig,
    point: GeoPoint,
    radius_miles: float,
    authority: str,
    today: date,
) -> m.EligibleEstablishment | None:
    """§5: the exact check after the store's bounding-box prefilter. Eligible when admitted
    (not suspended) in the category, within the radius (``distance <= radius``) and not
    above the authority's own cap on the total weekly core cost in force ``today``."""
    ms = establishment.current_membership(config.code)
    if ms is None or ms.state != "admitted":
        return None
    distance = haversine_miles(establishment.location, point)
    if distance > radius_miles:
        return None
    costs = ms.costs_on(today)
    total = total_weekly_core_cost(costs, config)
    cap = config.authority_caps.get(authority)
    if cap is not None and total > cap:
        return None
    location = establishment.location
    return m.EligibleEstablishment(  # plain dicts: this runs for every establishment found
        establishment_id=establishment.id,
        provider_id=establishment.provider_id,
        name=establishment.name,
        category=config.code,
        location={"lat": location.lat, "lon": location.lon},
        distance_miles=distance,
        core_costs=costs,
        total_weekly_core_cost=total,
        cohort_discounts=[
            {"min_children": t.min_children, "percent": t.percent} for t in ms.cohort_discounts
        ],
        competency=ms.competency,
        contacts=[
            {"name": c.name, "email": c.email, "phone": c.phone, "sms_opt_in": c.sms_opt_in}
            for c in establishment.contacts
        ],
    )
