"""Membership commands (RULES §4.5): suspension, resubmission, reinstatement, renewal,
re-verification and removal, each on a locked establishment."""

from __future__ import annotations

from services.common.errors import NotFound
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers.common import (
    audit_memberships,
    establishment_for,
    flush,
    summaries,
)


def _run(uow, principal, establishment_id: str, category: str, roles: tuple, action: str,
         command) -> dict:
    """Run ``command(est, config, now)`` on a locked establishment; audit and emit."""
    principal = access.require_role(principal, *roles)
    if category not in d.CATEGORIES:
        raise NotFound(f"no category {category}")
    with uow:
        now, today = uow.now(), d.london_date(uow.now())
        configs = uow.store.current_configs(now)
        est = establishment_for(uow, establishment_id, principal, lock=True)
        before = summaries(est, today)
        command(est, configs[category], now)
        flush(uow, est, now)
        audit_memberships(uow, action, est, before, today)
        view = est.membership(category).to_view(configs[category], today)
        uow.commit()
    return view.model_dump(mode="json")


def suspend_membership(command: m.SuspendRequest, uow, principal: dict | None, *,
                       establishment_id: str, category: str) -> dict:
    """§4.5: only for a pass/fail criterion that no longer holds; all authorities (§10:
    the lead only)."""
    return _run(uow, principal, establishment_id, category, access.LEAD,
                "membership.suspended",
                lambda est, config, now: est.suspend(category, command.criterion,
                                                     command.reason, config, now))


def resubmit_evidence(command: m.Resubmission, uow, principal: dict | None, *,
                      establishment_id: str, category: str) -> dict:
    """§4.5: the provider resubmits the failed criterion's evidence only."""
    answer = d.CriterionAnswer.from_message(command)
    return _run(uow, principal, establishment_id, category, access.PROVIDER,
                "membership.evidence_resubmitted",
                lambda est, config, now: est.resubmit(category, command.criterion, answer,
                                                      config, now))


def reinstate_membership(command: None, uow, principal: dict | None, *,
                         establishment_id: str, category: str) -> dict:
    """§4.5: the lead accepts the resubmission; admitted again, history kept."""
    return _run(uow, principal, establishment_id, category, access.LEAD,
                "membership.reinstated",
                lambda est, config, now: est.reinstate(category, config, now))


def renew_evidence(command: m.Resubmission, uow, principal: dict | None, *,
                   establishment_id: str, category: str) -> dict:
    """§4.5: new evidence before the old expires (keeps the membership admitted)."""
    answer = d.CriterionAnswer.from_message(command)
    return _run(uow, principal, establishment_id, category, access.PROVIDER,
                "membership.evidence_renewed",
                lambda est, config, now: est.renew_evidence(category, command.criterion,
                                                            answer, config, now))


def reverify_membership(command: m.Reverification, uow, principal: dict | None, *,
                        establishment_id: str, category: str) -> dict:
    """§4.5: the yearly re-verification (the lead); a failed criterion suspends."""
    return _run(uow, principal, establishment_id, category, access.LEAD,
                "membership.reverified",
                lambda est, config, now: est.reverify(category, config, now,
                                                      command.failed_criterion,
                                                      command.reason))


def remove_membership(command: m.MembershipRemoval, uow, principal: dict | None, *,
                      establishment_id: str, category: str) -> dict:
    """§4.5: the end of a membership (the lead); the establishment may apply again."""
    return _run(uow, principal, establishment_id, category, access.LEAD,
                "membership.removed",
                lambda est, config, now: est.remove(category, command.reason, now))
