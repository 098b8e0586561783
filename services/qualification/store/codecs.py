"""Row mapping in one place: domain values to and from JSON columns and rows.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.common import money
from services.qualification import domain as d
from services.qualification import messages as m

# --- codecs: domain values ↔ JSON ----------------------------------------------------------


def answer_json(a: d.CriterionAnswer) -> dict:
    return m.PassFailAnswer.model_validate(asdict(a)).model_dump(mode="json")


def answer_from(data: dict) -> d.CriterionAnswer:
    return d.CriterionAnswer.from_message(m.PassFailAnswer.model_validate(data))


def content_json(c: d.ApplicationContent) -> dict:
    return {
        "pass_fail": {k: answer_json(a) for k, a in c.pass_fail.items()},
        "method_statements": dict(c.method_statements),
        "core_costs": {h: money.fmt(a) for h, a in c.core_costs.items()},
        "additional_services": [_service_json(s) for s in c.additional_services],
        "cohort_discounts": [_tier_json(t) for t in c.cohort_discounts],
    }


def content_from(data: dict) -> d.ApplicationContent:
    return d.ApplicationContent.from_message(m.ApplicationUpdate.model_validate(data))


def _service_json(s: d.AdditionalService) -> dict:
    return {
        "name": s.name,
        "unit": s.unit,
        "unit_price": money.fmt(s.unit_price),
        "weekly_price": money.fmt(s.weekly_price),
    }


def _service_from(data: dict) -> d.AdditionalService:
    return d.AdditionalService(
        data["name"], data["unit"], Decimal(data["unit_price"]), Decimal(data["weekly_price"])
    )


def _tier_json(t: d.CohortTier) -> dict:
    return {"min_children": t.min_children, "percent": str(t.percent)}


def _tier_from(data: dict) -> d.CohortTier:
    return d.CohortTier(int(data["min_children"]), Decimal(str(data["percent"])))


def decision_json(o: d.DecisionOutcome) -> dict:
    return {
        "status": o.status,
        "results": {c: {"result": r.result, "reason": r.reason} for c, r in o.results.items()},
        "scores": dict(o.scores),
        "competency": str(o.competency),
        "failures": o.failure_list(),
        "decided_at": o.decided_at.isoformat(),
    }


def decision_from(data: dict) -> d.DecisionOutcome:
    return d.DecisionOutcome(
        status=data["status"],
        results={
            c: d.CriterionResult(r["result"], r.get("reason")) for c, r in data["results"].items()
        },
        scores=dict(data["scores"]),
        competency=Decimal(data["competency"]),
        failures={f["criterion"]: f["reason"] for f in data["failures"]},
        decided_at=datetime.fromisoformat(data["decided_at"]),
    )


def config_json(c: d.CategoryConfig) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "pass_fail_criteria": list(c.pass_fail_criteria),
        "cost_heads": list(c.cost_heads),
        "optional_cost_heads": list(c.optional_cost_heads),
        "version": c.version,
        "weighted_criteria_weights": dict(c.weighted_criteria_weights),
        "insurance_minimums": {k: money.fmt(v) for k, v in c.insurance_minimums.items()},
        "min_tender_period_hours": c.min_tender_period_hours,
        "min_invited": c.min_invited,
        "affordability_cap": None
        if c.affordability_cap is None
        else money.fmt(c.affordability_cap),
        "authority_caps": {k: money.fmt(v) for k, v in c.authority_caps.items()},
        "competency_period_months": c.competency_period_months,
        "referral_weights": dict(c.referral_weights),
    }


def config_from(data: dict) -> d.CategoryConfig:
    cap = data.get("affordability_cap")
    return d.CategoryConfig(
        code=data["code"],
        name=data["name"],
        pass_fail_criteria=tuple(data["pass_fail_criteria"]),
        cost_heads=tuple(data["cost_heads"]),
        optional_cost_heads=tuple(data.get("optional_cost_heads", ())),
        version=data["version"],
        weighted_criteria_weights=dict(data["weighted_criteria_weights"]),
        insurance_minimums={k: Decimal(v) for k, v in data["insurance_minimums"].items()},
        min_tender_period_hours=data["min_tender_period_hours"],
        min_invited=data["min_invited"],
        affordability_cap=None if cap is None else Decimal(cap),
        authority_caps={k: Decimal(v) for k, v in data.get("authority_caps", {}).items()},
        competency_period_months=data.get("competency_period_months", 6),
        referral_weights=dict(data.get("referral_weights", d.DEFAULT_REFERRAL_WEIGHTS)),
    )


def _membership(r: Any, children: dict[str, dict]) -> d.Membership:
    c = children[r.id]
    return d.Membership(
        id=r.id,
        category=r.category,
        application_id=r.application_id,
        admitted_on=r.admitted_on,
        competency=r.competency,
        scores=dict(r.scores),
        evidence=c["evidence"],
        costs=c["costs"],
        reverification_due_on=r.reverification_due_on,
        cohort_discounts=tuple(_tier_from(t) for t in r.cohort_discounts),
        additional_services=tuple(_service_from(x) for x in r.additional_services),
        state=r.state,
        milestones=c["milestones"],
        competency_moves=c["moves"],
        reminded={k: date.fromisoformat(v) for k, v in r.reminded.items()},
        reverification_flagged=r.reverification_flagged,
    )

def _application_values(app: d.Application, at: datetime) -> dict:
    return {
        "status": app.status,
        "content": content_json(app.content),
        "updated_at": at,
        "copied_from": app.copied_from,
        "config_version": app.config_version,
        "submitted_at": app.submitted_at,
        "due_on": app.due_on,
        "extension_reason": app.extension_reason,
        "decision": None if app.decision is None else decision_json(app.decision),
        "decided_at": None if app.decision is None else app.decision.decided_at,
    }


def _application(r: Any) -> d.Application:
    return d.Application(
        id=r.id,
        establishment_id=r.establishment_id,
        provider_id=r.provider_id,
        category=r.category,
        content=content_from(r.content),
        created_at=r.created_at,
        status=r.status,
        copied_from=r.copied_from,
        config_version=r.config_version,
        submitted_at=r.submitted_at,
        due_on=r.due_on,
        extension_reason=r.extension_reason,
        decision=None if r.decision is None else decision_from(r.decision),
    )


