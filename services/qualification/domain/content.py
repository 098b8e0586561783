"""Application content: answers, evidence, judgements, services and cohort discounts (RULES
§4.1, §4.2, §4.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.common import money
from services.qualification import messages as m
from services.qualification.domain.categories import CategoryConfig
from services.qualification.domain.problems import _is_text, _money, _Problems, _whole
from services.qualification.domain.vocabulary import (
    _COVER_NAMES,
    ESTABLISHMENT_CRITERIA,
    EXPIRY_REQUIRED,
    INSPECTION,
    INSPECTION_BODIES,
    INSPECTION_GRADES,
    INSURANCE,
    INSURANCE_COVERS,
    WEIGHTED_CRITERIA,
)


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

