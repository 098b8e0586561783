"""Inspections (RULES §4.1, §4.5): the lead records a regulator's judgement
``{body, grade, date}`` for an establishment; a latest INADEQUATE suspends its memberships
at once (the qualification service decides, ``record_inspection``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request

from gateway.web.pages import REFUSED, refusal, rpc, signed_in
from gateway.web.views.memberships import establishment_page
from services.qualification.messages import InspectionCreate

bp = Blueprint("web_inspections", __name__)
LABELS = {"body": "Inspectorate", "grade": "Judgement", "date": "Date of the judgement"}


@bp.post("/memberships/<establishment_id>/inspections")
@signed_in("lead")
def record(establishment_id):
    form = request.form
    try:
        body = InspectionCreate.model_validate(
            {k: form.get(f"inspection.{k}", "").strip() for k in LABELS})
        est = rpc("qualification", "record_inspection", establishment_id, body)
    except REFUSED as exc:
        errors = [{**e, "field": f"inspection-{e['field']}" if e.get("field") else None}
                  for e in refusal(exc, LABELS)]
        return establishment_page(establishment_id, errors)
    suspended = [ms["category"] for ms in est.get("memberships", [])
                 if ms["status"] == "suspended"]
    flash("The inspection is recorded" + (
        f". Suspended: {', '.join(suspended)}" if body.grade == "INADEQUATE" and suspended
        else ""))
    return redirect(f"/memberships/{establishment_id}")
