"""What scoring reads and what it answers (RULES §6.2–§6.4): plain frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from services.scoring.domain.weights import COMPONENTS, Weights

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Need:
    """A need of the child, worth ``marks`` (§6.3 needs)."""

    code: str
    marks: int
    label: str = ""


@dataclass(frozen=True)
class Feature:
    """A required feature: must-have (§6.2) or desirable, worth ``marks`` (§6.3 features)."""

    code: str
    must_have: bool
    marks: int = 0
    label: str = ""


@dataclass(frozen=True)
class Bid:
    """What scoring needs of one bid, with the establishment's state at the deadline."""

    bid_id: str
    establishment_id: str
    weekly_price: Decimal  # after the cohort discount (§6.3)
    competency: Decimal  # core competency score at the deadline, 0–100 (§4.2)
    distance_miles: Decimal  # great-circle distance to the child's home (§6.3)
    submitted_at: datetime  # final submission (§6.3 last tie-break)
    admitted_at_deadline: bool  # §6.2
    outcome_scores: tuple[Decimal, ...] = ()  # each evaluator's 0–100 (§5)
    needs_met: frozenset[str] = frozenset()
    features_met: frozenset[str] = frozenset()


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Inputs:
    """Everything §6.3 reads of one bid, as applied: with the weights and the lowest
    compliant price these alone give its sub-scores (``evaluation.subscores_of``), so an
    evaluation can be replayed from them without the referral or the bids."""

    weekly_price: Decimal  # after the cohort discount
    competency: Decimal  # at the deadline
    distance_miles: Decimal
    outcome_scores: tuple[Decimal, ...]
    needs_marks_met: int
    needs_marks_total: int
    desirable_marks_met: int
    desirable_marks_total: int
    final_submission_at: datetime  # the last tie-break


@dataclass(frozen=True)
class Subscores:
    """Exact points per component (§6.3)."""

    P: Fraction
    C: Fraction
    L: Fraction
    O: Fraction  # noqa: E741 (the component's name in RULES §6.1)
    N: Fraction
    F: Fraction

    @property
    def total(self) -> Fraction:
        return self.P + self.quality

    @property
    def quality(self) -> Fraction:
        """All but price: the first tie-break (§6.3)."""
        return self.C + self.L + self.O + self.N + self.F

    def as_dict(self) -> dict[str, Fraction]:
        return {c: getattr(self, c) for c in COMPONENTS}


@dataclass(frozen=True)
class ScoredBid:
    """One bid's result: excluded with ``reasons`` (§6.2), or scored and ranked (§6.3)."""

    bid: Bid
    reasons: tuple[str, ...] = ()
    subscores: Subscores | None = None
    explanation: Mapping[str, str] = field(default_factory=dict)  # per component, in words
    rank: int | None = None
    inputs: Inputs | None = None  # what the sub-scores were computed from

    @property
    def compliant(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class Evaluation:
    """The outcome of scoring a referral's bids (§6.3, §6.4)."""

    status: str  # EVALUATED, PARENT_CHOICE or UNSUCCESSFUL
    formula_version: str
    weights: Weights
    lowest_price: Decimal | None  # lowest compliant weekly price
    ranking: tuple[ScoredBid, ...]  # ranked compliant bids, then the excluded ones
    shortlist: tuple[str, ...]  # bid ids (§6.4)

    @property
    def ranked(self) -> tuple[ScoredBid, ...]:
        return tuple(s for s in self.ranking if s.compliant)
