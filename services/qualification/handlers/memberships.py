"""Membership commands (RULES §4.5): suspension, resubmission, reinstatement, renewal,
re-verification and removal, each on a locked establishment."""

from __future__ import annotations

from services.common.errors import InvalidInput, NotFound
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers.common import (
    audit_memberships,
    establishment_for,
    flush,
    summaries,
)
from services.qualification.handlers.markets import market_for


def _run(uow, principal, establishment_id: str, category: str, roles: tuple, action: str,
         command, dps_id: str | None = None) -> dict:
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
        view = est.membership(category, dps_id).to_view(configs[category], today)
        uow.commit()
    return view.model_dump(mode="json")


def suspend_membership(command: m.SuspendRequest, uow, principal: dict | None, *,
                       establishment_id: str, category: str) -> dict:
    """§4.5: only for a pass/fail criterion that no longer holds; all authorities (§10:
    the lead only)."""

    def suspend(est: d.Establishment, config, now) -> None:
        market = market_for(uow, est.membership(category, command.dps_id).dps_id)
        if command.criterion in market.conditions_exclude():  # §11.2, s.36(2)
            raise InvalidInput.at(["criterion"], f"{command.criterion} is not a condition of "
                                  f"membership of the dynamic market {market.dps_id} "
                                  "(Procurement Act 2023 s.36(2)); it is checked at award")
        est.suspend(category, command.criterion, command.reason, config, now, command.dps_id)

    return _run(uow, principal, establishment_id, category, access.LEAD,
                "membership.suspended", suspend, dps_id=command.dps_id)


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
    """§4.5: the end of a membership (the lead); the establishment may apply again. In a
    dynamic market only after the notice of intended removal (§11.2, s.37(4))."""

    def remove(est: d.Establishment, config, now) -> None:
        market = market_for(uow, est.membership(category, command.dps_id).dps_id)
        est.remove(category, command.reason, now, command.dps_id,
                   require_notice=market.pa2023)

    return _run(uow, principal, establishment_id, category, access.LEAD,
                "membership.removed", remove, dps_id=command.dps_id)


def notify_removal(command: m.RemovalNotice, uow, principal: dict | None, *,
                   establishment_id: str, category: str) -> dict:
    """§11.2, s.37(4): the supplier is told the decision to remove it and the reasons; the
    membership is suspended until the removal (the lead)."""
    return _run(uow, principal, establishment_id, category, access.LEAD,
                "membership.removal_notified",
                lambda est, config, now: est.notify_removal(
                    category, command.reasons, command.mandatory_exclusion, now,
                    command.dps_id),
                dps_id=command.dps_id)


def insurance_status(q: m.InsuranceQuery, uow, principal: dict | None = None) -> dict:
    """§11.2, s.36(2): insurance is checked at award under the Procurement Act 2023: the
    membership's INSURANCE evidence (renewed by the provider, ``renew_evidence``) must be
    in force today. For the referral service (award)."""
    with uow:
        today = d.london_date(uow.now())
        est = uow.store.establishments.get(q.establishment_id)
        ms = None if est is None else (est.current_membership(q.category, q.dps_id)
                                       or _latest(est, q.category, q.dps_id))
        if ms is None:
            return m.InsuranceStatus(current=False, reason="not a member").model_dump(
                mode="json")
        answer = ms.evidence.get(d.INSURANCE)
        if answer is None:
            return m.InsuranceStatus(
                current=False, reason="no insurance cover is recorded for the membership"
            ).model_dump(mode="json")
        if answer.expires_on is not None and answer.expires_on <= today:
            return m.InsuranceStatus(
                current=False, expires_on=answer.expires_on,
                reason=f"the insurance cover expired on {answer.expires_on.isoformat()}",
            ).model_dump(mode="json")
        return m.InsuranceStatus(current=True, expires_on=answer.expires_on).model_dump(
            mode="json")


def _latest(est: d.Establishment, category: str, dps_id: str | None):
    try:
        return est.membership(category, dps_id)
    except NotFound:
        return None
