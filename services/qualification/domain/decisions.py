"""Scores and decisions (RULES §4.2, §4.3, §7.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from services.common import money
from services.qualification import messages as m
from services.qualification.domain.categories import CategoryConfig, total_weekly_core_cost
from services.qualification.domain.content import (
    ApplicationContent,
    InspectionJudgement,
    insurance_shortfalls,
)
from services.qualification.domain.problems import _is_text, _Problems, _whole
from services.qualification.domain.vocabulary import (
    _CENT,
    AFFORDABILITY,
    INSPECTION,
    INSURANCE,
    MAX_COMPETENCY_MOVE,
    WEIGHTED_CRITERIA,
)


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
