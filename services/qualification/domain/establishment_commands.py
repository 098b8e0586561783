"""Membership commands of an Establishment (RULES §4.5): suspension, resubmission,
reinstatement, removal, renewal and re-verification. A mixin of ``Establishment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.common.errors import Conflict, InvalidInput
from services.qualification import messages as m
from services.qualification.domain.calendar import add_months, london_date
from services.qualification.domain.categories import CategoryConfig, total_weekly_core_cost
from services.qualification.domain.content import (
    CriterionAnswer,
    InspectionJudgement,
    _check_judgement,
)
from services.qualification.domain.membership import Milestone, _check_renewal, _event
from services.qualification.domain.problems import _is_text, _Problems
from services.qualification.domain.vocabulary import INSPECTION

REMOVAL_NOTICE = "REMOVAL_NOTICE"
"""The ground of the suspension between the notice of intended removal and the removal
(s.37(4), RULES §11.2)."""


class MembershipCommands:
    """§4.5 commands on the memberships of an establishment (mixed into ``Establishment``)."""

    def suspend(
        self, category: str, criterion: str, reason: str, config: CategoryConfig, now: datetime,
        dps_id: str | None = None,
    ) -> m.MembershipSuspended:
        """§4.5: the lead suspends for a pass/fail criterion of the category that no longer
        holds; no other ground is accepted."""
        ms = self.membership(category, dps_id)
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
        and the membership is admitted again, its history kept. A notice of intended removal
        (s.37(4)) needs no evidence: reinstating withdraws it after the supplier's answer."""
        ms = self.membership(category)
        if ms.state != "suspended":
            raise Conflict(f"the {category} membership is {ms.state}; it cannot be reinstated")
        failures, pending = ms._episode()
        missing = [c for c in failures if c not in pending and c != REMOVAL_NOTICE]
        if missing:
            raise Conflict(f"no resubmitted evidence yet for {', '.join(missing)}")
        today = london_date(now)
        accepted = {c: pending[c].answer for c in failures if c != REMOVAL_NOTICE}
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
                "reinstated", now, "lead",
                reason=f"evidence accepted for {', '.join(accepted)}" if accepted
                else "the intended removal withdrawn (s.37(4))"
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

    def notify_removal(self, category: str, reasons: str, mandatory: bool, now: datetime,
                       dps_id: str | None = None) -> m.MembershipRemovalNotified:
        """§11.2, Procurement Act 2023 s.37(4): before removing a supplier from a dynamic
        market the authority tells it the decision and the reasons; the membership is
        suspended meanwhile (no new referrals, §4.5) while the supplier answers."""
        ms = self.membership(category, dps_id)
        if not ms.current:
            raise Conflict(f"the {category} membership is {ms.state}")
        if not _is_text(reasons):
            raise InvalidInput.at(["reasons"], "is required")
        reasons = reasons.strip()
        ms.milestones.append(Milestone("removal_notified", now, "lead", REMOVAL_NOTICE, reasons))
        self._fail(ms, REMOVAL_NOTICE, f"notice of intended removal: {reasons}", "lead", now)
        event = _event(m.MembershipRemovalNotified, self, category, now, membership_id=ms.id,
                       reasons=reasons, mandatory_exclusion=mandatory,
                       notified_on=london_date(now))
        self.events.append(event)
        return event

    def remove(self, category: str, reason: str, now: datetime, dps_id: str | None = None,
               require_notice: bool = False) -> m.MembershipRemoved:
        """§4.5: the end of a membership (the establishment may apply again). Under the
        Procurement Act 2023 (``require_notice``) only after the supplier was told the
        decision and its reasons (s.37(4), ``notify_removal``)."""
        ms = self.membership(category, dps_id)
        if not _is_text(reason):
            raise InvalidInput.at(["reason"], "is required")
        since = next((i for i in range(len(ms.milestones) - 1, -1, -1)
                      if ms.milestones[i].kind in ("admitted", "reinstated")), -1)
        notice = next((s for s in ms.milestones[since + 1:] if s.kind == "removal_notified"),
                      None)
        if require_notice and ms.current and notice is None:
            raise Conflict(
                "the supplier must first be told the decision to remove it and the reasons "
                "(Procurement Act 2023 s.37(4)): POST …/removal-notice, then remove",
                [{"loc": ["reason"], "msg": "no notice of intended removal was given"}],
            )
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
            reasons=notice.reason if notice is not None else reason.strip(),
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

