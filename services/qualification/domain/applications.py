"""The Application aggregate and its state machine (RULES §4, §4.3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from services.common.errors import Conflict, InvalidInput
from services.common.states import StateMachine
from services.qualification import messages as m
from services.qualification.domain.calendar import add_working_days, london_date
from services.qualification.domain.categories import CategoryConfig, total_weekly_core_cost
from services.qualification.domain.content import ApplicationContent
from services.qualification.domain.decisions import (
    Decision,
    DecisionOutcome,
    _automatic_failures,
    competency_score,
)
from services.qualification.domain.dps import DpsSettings
from services.qualification.domain.membership import _event
from services.qualification.domain.problems import _describe, _is_text, _Problems
from services.qualification.domain.vocabulary import (
    AFFORDABILITY,
    EVALUATION_WORKING_DAYS,
    EXTENDED_EVALUATION_WORKING_DAYS,
    INSPECTION,
    new_id,
)

if TYPE_CHECKING:  # annotations only: the establishment imports this module
    from services.qualification.domain.establishment import Establishment


class ApplicationStatus(StrEnum):
    """§4.3: ``draft → submitted → admitted | rejected`` (stored as the plain string)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ADMITTED = "admitted"
    REJECTED = "rejected"


_A = ApplicationStatus
APPLICATION_MACHINE: StateMachine[ApplicationStatus] = StateMachine("application", {
    _A.DRAFT: {_A.SUBMITTED},
    _A.SUBMITTED: {_A.ADMITTED, _A.REJECTED},
    _A.ADMITTED: (),
    _A.REJECTED: (),
})
APPLICATION_TRANSITIONS: Mapping[str, frozenset[str]] = APPLICATION_MACHINE.transitions
"""The legal moves, by state (the members compare equal to their strings)."""
OPEN_APPLICATION_STATES = frozenset({_A.DRAFT, _A.SUBMITTED})


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
    dps_id: str = "dps-1"
    exclusion_check: dict | None = None
    """RULES §11.2, s.62: the lead's record of the debarment-list and exclusion check."""
    events: list = field(default_factory=list, repr=False)

    def record_exclusion_check(self, check: m.ExclusionCheck, by: dict, now: datetime) -> dict:
        """§11.2 (ss.57, 62): before admitting to a dynamic market, the lead records that
        the debarment list and the supplier's exclusion information were checked."""
        if self.status != "submitted":
            raise Conflict(f"the application is {self.status}; the exclusion check is "
                           "recorded before the decision")
        if not check.debarment_list_checked:
            raise InvalidInput.at(["debarment_list_checked"], "the debarment list must be "
                                  "checked (s.62) before the check can be recorded")
        self.exclusion_check = {
            "debarment_list_checked": True, "debarred": check.debarred,
            "excluded": check.excluded, "notes": check.notes,
            "checked_at": now.isoformat(), "checked_by": by.get("sub") or by.get("role"),
        }
        return self.exclusion_check

    def _require(self, target: str) -> None:
        APPLICATION_MACHINE.check(
            _A(self.status), _A(target),
            f"the application is {self.status}; it cannot become {target}",
        )

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
        *,
        require_exclusion_check: bool = False,
        drop_evidence: frozenset[str] = frozenset(),
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
        check = self.exclusion_check or {}
        if check.get("debarred") or check.get("excluded"):
            reason = ("the supplier is on the debarment list (s.62, a mandatory exclusion "
                      "ground, s.57)" if check.get("debarred")
                      else "the supplier is excluded or excludable (ss.57, 58)")
            failures["EXCLUSIONS"] = (f"{failures['EXCLUSIONS']}; {reason}"
                                      if "EXCLUSIONS" in failures else reason)
        if require_exclusion_check and not failures and not check:
            raise Conflict(
                "record the debarment-list and exclusion check first (RULES §11.2, "
                "Procurement Act 2023 ss.57, 62): POST /applications/{id}/exclusion-check",
                [{"loc": ["exclusion_check"], "msg": "required before admission"}],
            )
        ordered = {
            c: failures[c] for c in (*config.pass_fail_criteria, AFFORDABILITY) if c in failures
        }
        competency = competency_score(decision.scores, config.weighted_criteria_weights)
        status = "rejected" if ordered else "admitted"
        self._require(status)
        if status == "admitted":
            establishment.admit(self, config, competency, decision.scores, now,
                                drop_evidence=drop_evidence)
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
            dps_id=self.dps_id,
            exclusion_check=self.exclusion_check,
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
    dps_id: str = "dps-1",
) -> Application:
    """A new draft (§4) for the market ``dps_id`` (§11.1). ``applications`` are the
    establishment's existing applications. Refused while another one for the category and
    market is open or a membership of that market is current."""
    if config.code != category:
        raise ValueError(f"{config.code} configuration given for a {category} application")
    if category not in establishment.categories:
        raise InvalidInput.at(["category"], f"{establishment.name} does not offer {category}")
    if any(
        a.establishment_id == establishment.id
        and a.category == category
        and a.dps_id == dps_id
        and a.status in OPEN_APPLICATION_STATES
        for a in applications
    ):
        raise Conflict(f"{establishment.name} already has an open {category} application")
    current = establishment.current_membership(category, dps_id)
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
        dps_id=dps_id,
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
            dps_id=source.dps_id,
        )
        for est in targets
    ]


# --- memberships (§4.5, §7.2, §7.4) ------------------------------------------------------------
