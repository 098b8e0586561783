"""Row mapping in one place: one ``<type>_to_row`` / ``<type>_from_row`` pair per domain
type, for table rows and for the JSON held in columns (answers, content, decisions,
category configurations). Repositories call these and write no mapping of their own.

Eligibility (§5) reads a narrow projection of its own (``eligibility._ELIGIBLE``) and
builds light aggregates from it there, for speed.
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


def answer_to_row(a: d.CriterionAnswer) -> dict:
    return m.PassFailAnswer.model_validate(asdict(a)).model_dump(mode="json")


def answer_from_row(data: dict) -> d.CriterionAnswer:
    return d.CriterionAnswer.from_message(m.PassFailAnswer.model_validate(data))


def content_to_row(c: d.ApplicationContent) -> dict:
    return {
        "pass_fail": {k: answer_to_row(a) for k, a in c.pass_fail.items()},
        "method_statements": dict(c.method_statements),
        "core_costs": {h: money.fmt(a) for h, a in c.core_costs.items()},
        "additional_services": [service_to_row(s) for s in c.additional_services],
        "cohort_discounts": [tier_to_row(t) for t in c.cohort_discounts],
    }


def content_from_row(data: dict) -> d.ApplicationContent:
    return d.ApplicationContent.from_message(m.ApplicationUpdate.model_validate(data))


def service_to_row(s: d.AdditionalService) -> dict:
    return {
        "name": s.name,
        "unit": s.unit,
        "unit_price": money.fmt(s.unit_price),
        "weekly_price": money.fmt(s.weekly_price),
    }


def service_from_row(data: dict) -> d.AdditionalService:
    return d.AdditionalService(
        data["name"], data["unit"], Decimal(data["unit_price"]), Decimal(data["weekly_price"])
    )


def tier_to_row(t: d.CohortTier) -> dict:
    return {"min_children": t.min_children, "percent": str(t.percent)}


def tier_from_row(data: dict) -> d.CohortTier:
    return d.CohortTier(int(data["min_children"]), Decimal(str(data["percent"])))


def decision_to_row(o: d.DecisionOutcome) -> dict:
    return {
        "status": o.status,
        "results": {c: {"result": r.result, "reason": r.reason} for c, r in o.results.items()},
        "scores": dict(o.scores),
        "competency": str(o.competency),
        "failures": o.failure_list(),
        "decided_at": o.decided_at.isoformat(),
    }


def decision_from_row(data: dict) -> d.DecisionOutcome:
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


def config_to_row(c: d.CategoryConfig) -> dict:
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


def config_from_row(data: dict) -> d.CategoryConfig:
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


def membership_from_row(r: Any, children: dict[str, dict]) -> d.Membership:
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
        cohort_discounts=tuple(tier_from_row(t) for t in r.cohort_discounts),
        additional_services=tuple(service_from_row(x) for x in r.additional_services),
        state=r.state,
        milestones=c["milestones"],
        competency_moves=c["moves"],
        reminded={k: date.fromisoformat(v) for k, v in r.reminded.items()},
        reverification_flagged=r.reverification_flagged,
        dps_id=r.dps_id,
    )

def application_to_row(app: d.Application, at: datetime) -> dict:
    return {
        "status": app.status,
        "content": content_to_row(app.content),
        "updated_at": at,
        "copied_from": app.copied_from,
        "config_version": app.config_version,
        "submitted_at": app.submitted_at,
        "due_on": app.due_on,
        "extension_reason": app.extension_reason,
        "decision": None if app.decision is None else decision_to_row(app.decision),
        "decided_at": None if app.decision is None else app.decision.decided_at,
        "exclusion_check": app.exclusion_check,
    }


def application_from_row(r: Any) -> d.Application:
    return d.Application(
        id=r.id,
        establishment_id=r.establishment_id,
        provider_id=r.provider_id,
        category=r.category,
        content=content_from_row(r.content),
        created_at=r.created_at,
        status=r.status,
        copied_from=r.copied_from,
        config_version=r.config_version,
        submitted_at=r.submitted_at,
        due_on=r.due_on,
        extension_reason=r.extension_reason,
        decision=None if r.decision is None else decision_from_row(r.decision),
        dps_id=r.dps_id,
        exclusion_check=r.exclusion_check,
    )




# --- establishments and their history -------------------------------------------------------


def contact_to_row(c: d.Contact) -> dict:
    return asdict(c)


def contacts_from_json(items: list[list]) -> list[d.Contact]:
    """``[[name, email, phone, sms_opt_in], ...]`` (``establishments._children_json``)."""
    return [d.Contact(name, email, phone, sms) for name, email, phone, sms in items]


def inspection_to_row(j: d.InspectionJudgement, at: datetime) -> dict:
    return {"body": j.body, "grade": j.grade, "date": j.date, "recorded_at": at}


def inspections_from_json(items: list[list]) -> list[d.InspectionJudgement]:
    """``[[body, grade, "YYYY-MM-DD"], ...]`` (``establishments._children_json``)."""
    return [d.InspectionJudgement(body, grade, date.fromisoformat(on))
            for body, grade, on in items]


def milestone_to_row(st: d.Milestone) -> dict:
    return {
        "kind": st.kind,
        "at": st.at,
        "by": st.by,
        "criterion": st.criterion,
        "reason": st.reason,
        "answer": None if st.answer is None else answer_to_row(st.answer),
    }


def milestone_from_row(r: Any) -> d.Milestone:
    answer = None if r.answer is None else answer_from_row(r.answer)
    return d.Milestone(r.kind, r.at, r.by, r.criterion, r.reason, answer)


def cost_to_row(e: d.CostEntry) -> dict:
    return asdict(e)


def cost_from_row(r: Any) -> d.CostEntry:
    return d.CostEntry(r.head, r.amount, r.effective_from, r.reason, r.uplift_id)


def move_to_row(mv: d.CompetencyMove) -> dict:
    return asdict(mv)


def move_from_row(r: Any) -> d.CompetencyMove:
    return d.CompetencyMove(r.period_start, r.period_end, r.performance_index,
                            r.reviews_count, r.old, r.new, r.at)


def membership_to_row(ms: d.Membership, at: datetime) -> dict:
    """The columns a save rewrites (the insert adds ``membership_insert_row``'s)."""
    return {
        "state": ms.state,
        "competency": ms.competency,
        "scores": dict(ms.scores),
        "reverification_due_on": ms.reverification_due_on,
        "reverification_flagged": ms.reverification_flagged,
        "cohort_discounts": [tier_to_row(t) for t in ms.cohort_discounts],
        "additional_services": [service_to_row(x) for x in ms.additional_services],
        "reminded": {c: day.isoformat() for c, day in ms.reminded.items()},
        "next_check": ms.next_check(),
        "updated_at": at,
    }


def membership_insert_row(est: d.Establishment, ms: d.Membership, at: datetime) -> dict:
    """A new membership's fixed columns; it carries its establishment's location (§5)."""
    return {
        "id": ms.id,
        "establishment_id": est.id,
        "category": ms.category,
        "dps_id": ms.dps_id,
        "application_id": ms.application_id,
        "admitted_on": ms.admitted_on,
        "lat": est.location.lat,
        "lon": est.location.lon,
        "created_at": at,
        **membership_to_row(ms, at),
    }


def establishment_to_row(est: d.Establishment, at: datetime) -> dict:
    return {
        "id": est.id,
        "provider_id": est.provider_id,
        "name": est.name,
        "urn": est.urn,
        "address": est.address,
        "postcode": est.postcode,
        "lat": est.location.lat,
        "lon": est.location.lon,
        "categories": list(est.categories),
        "capacity": est.capacity,
        "created_at": at,
        "updated_at": at,
    }


def establishment_from_row(r: Any, contacts: list, judgements: list,
                           members: list) -> d.Establishment:
    return d.Establishment(
        id=r.id,
        provider_id=r.provider_id,
        name=r.name,
        address=r.address,
        postcode=r.postcode,
        location=d.GeoPoint(r.lat, r.lon),
        categories=tuple(r.categories),
        contacts=tuple(contacts),
        urn=r.urn,
        capacity=r.capacity,
        inspections=judgements,
        memberships=members,
    )


# --- the DPS settings (§3) -------------------------------------------------------------------


def dps_to_row(settings: d.DpsSettings) -> dict:
    return {"valid_from": settings.valid_from, "valid_to": settings.valid_to,
            "entry_open": settings.entry_open, "closed_from": settings.closed_from,
            "closed_until": settings.closed_until}


def dps_from_row(r: Any) -> d.DpsSettings:
    return d.DpsSettings(r.valid_from, r.valid_to, r.entry_open, r.closed_from, r.closed_until)
