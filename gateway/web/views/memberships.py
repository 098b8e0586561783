"""Memberships after admission (RULES §4.5): the lead reads every establishment's
memberships, suspends one for a pass/fail criterion that no longer holds (for every
authority: no new referrals, open bids withdrawn) and reinstates it once the provider has
resubmitted that criterion's evidence, its history kept; records the yearly
re-verification (a failed criterion suspends) and removes a membership. Inspections are
recorded on the same page (``views/inspections.py``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request

from gateway.web.pages import REFUSED, every, page, refusal, rpc, signed_in
from gateway.web.vocabulary import CATEGORIES
from services.common.errors import DomainError
from services.qualification.messages import MembershipRemoval, Reverification, SuspendRequest

bp = Blueprint("web_memberships", __name__)
STATUSES = ("admitted", "suspended", "removed")


@bp.get("/memberships")
@signed_in("lead")
def index():
    status = request.args.get("status", "")
    category = request.args.get("category", "")
    query = {**({"status": status} if status in STATUSES else {}),
             **({"category": category} if category in CATEGORIES else {})}
    items = every("qualification", "list_establishments", query)
    rows = [(e, ms) for e in items for ms in e["memberships"]
            if (not status or ms["status"] == status)
            and (not category or ms["category"] == category)]
    rows.sort(key=lambda r: (r[1]["status"] != "suspended", r[0]["name"].lower(),
                             r[1]["category"]))
    without = [e for e in items if not e["memberships"]] if not status else []
    return page("memberships.html", title="Memberships", rows=rows, without=without,
                status=status, statuses=STATUSES, category=category, categories=CATEGORIES)


def establishment_page(establishment_id: str, errors=None, form=None):
    est = rpc("qualification", "get_establishment", establishment_id)
    criteria = {ms["category"]: rpc("qualification", "get_category", ms["category"],
                                    None)["pass_fail_criteria"] for ms in est["memberships"]}
    return page("membership.html", title=est["name"], est=est, criteria=criteria,
                errors=errors or [], form=form if form is not None else request.form)


@bp.get("/memberships/<establishment_id>")
@signed_in("lead")
def show(establishment_id):
    return establishment_page(establishment_id)


@bp.post("/memberships/<establishment_id>/<category>/suspend")
@signed_in("lead")
def suspend(establishment_id, category):
    form = request.form
    try:
        body = SuspendRequest.model_validate({"criterion": form.get(f"{category}.criterion", ""),
                                              "reason": form.get(f"{category}.reason", "")})
        rpc("qualification", "suspend_membership", establishment_id, category, body)
    except REFUSED as exc:
        errors = [{**e, "field": f"{category}-{e['field']}" if e.get("field") else None}
                  for e in refusal(exc, {"criterion": "Criterion", "reason": "Reason"})]
        return establishment_page(establishment_id, errors)
    flash(f"The {category} membership is suspended for every authority. The provider is "
          "told, its open bids are withdrawn and it receives no new referral.")
    return redirect(f"/memberships/{establishment_id}")


@bp.post("/memberships/<establishment_id>/<category>/reinstate")
@signed_in("lead")
def reinstate(establishment_id, category):
    try:
        rpc("qualification", "reinstate_membership", establishment_id, category)
    except REFUSED as exc:
        return establishment_page(establishment_id, refusal(exc))
    flash(f"The {category} membership is admitted again; its history is kept.")
    return redirect(f"/memberships/{establishment_id}")


def _refused(establishment_id: str, category: str, exc: Exception, labels: dict,
             fields: dict):
    """The page again with the errors on this category's form fields (``fields``: the
    model's field → the form's)."""
    if isinstance(exc, DomainError) and exc.status not in (409, 422):
        raise exc
    errors = [{**e, "field": f"{category}-{fields.get(e['field'], e['field'])}"
               if e.get("field") else None} for e in refusal(exc, labels)]
    return establishment_page(establishment_id, errors)


@bp.post("/memberships/<establishment_id>/<category>/reverification")
@signed_in("lead")
def reverify(establishment_id, category):
    form = request.form
    failed = form.get(f"{category}.failed_criterion", "").strip()
    try:
        body = Reverification.model_validate(
            {"failed_criterion": failed or None,
             "reason": form.get(f"{category}.reverify_reason", "").strip() or None})
        rpc("qualification", "reverify_membership", establishment_id, category, body)
    except REFUSED as exc:
        return _refused(establishment_id, category, exc, {
            "failed_criterion": "Criterion that fails", "reason": "Reason"},
            {"reason": "reverify_reason"})
    flash(f"The {category} re-verification is recorded" + (
        f": suspended for {failed}" if failed else "; the next is due in a year"))
    return redirect(f"/memberships/{establishment_id}")


@bp.post("/memberships/<establishment_id>/<category>/removal")
@signed_in("lead")
def remove(establishment_id, category):
    try:
        body = MembershipRemoval.model_validate(
            {"reason": request.form.get(f"{category}.removal_reason", "")})
        rpc("qualification", "remove_membership", establishment_id, category, body)
    except REFUSED as exc:
        return _refused(establishment_id, category, exc, {"reason": "Reason for removal"},
                        {"reason": "removal_reason"})
    flash(f"The {category} membership is removed. The establishment may apply again.")
    return redirect(f"/memberships/{establishment_id}")
