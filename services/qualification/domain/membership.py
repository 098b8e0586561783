"""Memberships: state machine, milestones, prices and competency (RULES §4.5, §7.2, §7.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from services.common.errors import NotFound
from services.common.states import StateMachine
from services.qualification import messages as m
from services.qualification.domain.categories import CategoryConfig, total_weekly_core_cost
from services.qualification.domain.content import (
    AdditionalService,
    CohortTier,
    CriterionAnswer,
    _check_answer,
    insurance_shortfalls,
)
from services.qualification.domain.problems import _Problems
from services.qualification.domain.vocabulary import INSURANCE, REMINDER_DAYS

if TYPE_CHECKING:  # annotations only: the establishment imports this module
    from services.qualification.domain.establishment import Establishment


class MembershipState(StrEnum):
    """§4.5: ``admitted ⇄ suspended → removed`` (stored as the plain string)."""

    ADMITTED = "admitted"
    SUSPENDED = "suspended"
    REMOVED = "removed"


_S = MembershipState
MEMBERSHIP_MACHINE: StateMachine[MembershipState] = StateMachine("membership", {
    _S.ADMITTED: {_S.SUSPENDED, _S.REMOVED},
    _S.SUSPENDED: {_S.ADMITTED, _S.REMOVED},
    _S.REMOVED: (),
})
MEMBERSHIP_TRANSITIONS: Mapping[str, frozenset[str]] = MEMBERSHIP_MACHINE.transitions
"""The legal moves, by state (the members compare equal to their strings)."""
CURRENT_MEMBERSHIP_STATES = frozenset({_S.ADMITTED, _S.SUSPENDED})


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
    dps_id: str = "dps-1"
    """The market (DPS or dynamic market) this is a membership of (RULES §11.1)."""

    @property
    def current(self) -> bool:
        return self.state in CURRENT_MEMBERSHIP_STATES

    def _move(self, target: str) -> None:
        MEMBERSHIP_MACHINE.check(
            _S(self.state), _S(target),
            f"the {self.category} membership is {self.state}; it cannot become {target}",
        )
        self.state = str(target)

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
            dps_id=self.dps_id,
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

