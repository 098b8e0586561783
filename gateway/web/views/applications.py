"""Applications (RULES §4, §4.2, §4.3): a provider applies for one establishment and one
category with the category's criteria, cost heads and discounts, copies the application to
its other establishments, completes and submits each; the lead decides the queue, overdue
first, with a result per criterion and the weighted scores."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request

from gateway.web.files import file_response, upload_page, uploaded
from gateway.web.pages import REFUSED, errors_from, every, nest, page, refusal, rpc, signed_in
from gateway.web.vocabulary import WEIGHTED_CRITERIA
from services.qualification.messages import (
    ApplicationCopy,
    ApplicationCreate,
    ApplicationUpdate,
    Decision,
    EvaluationExtension,
)

bp = Blueprint("web_applications", __name__)
WEIGHTED = WEIGHTED_CRITERIA
LABELS = {"method_statements-WORKFORCE": "Workforce",
          "method_statements-OUTCOMES_APPROACH": "Outcomes approach",
          "method_statements-PERFORMANCE_MONITORING": "Performance monitoring"}


def _content(data: dict) -> dict:
    """The form's nested data as an application's content."""
    tiers = [t for t in data.get("cohort_discounts", []) if t.get("min_children")]
    return {"pass_fail": data.get("pass_fail", {}),
            "method_statements": data.get("method_statements", {}),
            "core_costs": data.get("core_costs", {}),
            "additional_services": data.get("additional_services", []),
            "cohort_discounts": tiers}


@bp.get("/applications")
@signed_in("provider", "lead")
def index():
    query = {"limit": 200}
    if g.user.role == "lead" and request.args.get("status", "submitted") != "all":
        query["status"] = request.args.get("status", "submitted")
    items = rpc("qualification", "list_applications", query)["items"]
    items.sort(key=lambda a: (not a["overdue"], a.get("due_on") or "9999", a["created_at"]))
    names = {e["id"]: e["name"] for e in
             every("qualification", "list_establishments")}
    return page("applications.html", title="Applications", items=items, names=names)


def _form_page(title, category, est, form, errors=None, application=None):
    return page("application_form.html", title=title, category=category, est=est, form=form,
                application=application, errors=errors or [], labels=LABELS)


@bp.route("/applications/new", methods=["GET", "POST"])
@signed_in("provider")
def new():
    est_id = request.values.get("establishment_id", "")
    code = request.values.get("category", "")
    est = rpc("qualification", "get_establishment", est_id)
    if code not in est["categories"]:
        abort(404)
    category = rpc("qualification", "get_category", code, None)
    title = f"Apply for {category['name']}"
    if request.method == "GET":
        return _form_page(title, category, est, {})
    data = nest(request.form, skip=("csrf_token", "establishment_id", "category"))
    try:
        body = ApplicationCreate.model_validate(
            {"establishment_id": est_id, "category": code, **_content(data)})
        created = rpc("qualification", "create_application", body)
    except REFUSED as exc:
        return _form_page(title, category, est, data, refusal(exc, LABELS))
    flash("Your application is saved as a draft. Check it, then submit it.")
    return redirect(f"/applications/{created['id']}")


@bp.route("/applications/<application_id>/edit", methods=["GET", "POST"])
@signed_in("provider")
def edit(application_id):
    app_ = rpc("qualification", "get_application", application_id)
    est = rpc("qualification", "get_establishment", app_["establishment_id"])
    category = rpc("qualification", "get_category", app_["category"], app_["config_version"])
    title = f"Change the {app_['category']} application"
    if request.method == "GET":
        return _form_page(title, category, est, app_, application=app_)
    data = nest(request.form)
    try:
        rpc("qualification", "update_application", application_id,
            ApplicationUpdate.model_validate(_content(data)))
    except REFUSED as exc:
        return _form_page(title, category, est, data, refusal(exc, LABELS), app_)
    flash("Your changes are saved")
    return redirect(f"/applications/{application_id}")


@bp.get("/applications/<application_id>")
@signed_in("provider", "lead")
def show(application_id, errors=None):
    app_ = rpc("qualification", "get_application", application_id)
    est = rpc("qualification", "get_establishment", app_["establishment_id"])
    category = rpc("qualification", "get_category", app_["category"], app_["config_version"])
    others = []
    if g.user.role == "provider":
        others = [e for e in every("qualification", "list_establishments")
                  if e["id"] != est["id"] and app_["category"] in e["categories"]]
    evidence = rpc("qualification", "list_evidence", application_id)["items"]
    return page("application.html", title=f"{est['name']}: {app_['category']} application",
                app=app_, est=est, category=category, others=others, weighted=WEIGHTED,
                evidence=evidence, errors=errors or [], form=request.form)


@bp.post("/applications/<application_id>/evidence")
@signed_in("provider")
@upload_page
def add_evidence(application_id):
    """An evidence file for one pass/fail criterion of an open application (§4, issue 12):
    PDF, DOCX, XLSX, JPEG or PNG by content, at most 20 MB; the service checks and keeps it."""
    try:
        filename, content = uploaded("file", "Evidence file")
        rpc("qualification", "add_evidence", application_id,
            {"criterion": request.form.get("criterion", ""), "filename": filename,
             "content_base64": content})
    except REFUSED as exc:
        return show(application_id, errors=errors_from(
            exc, {"file": "Evidence file", "criterion": "Criterion"}))
    flash(f"{filename} is added to the application's evidence.")
    return redirect(f"/applications/{application_id}")


@bp.get("/applications/<application_id>/evidence/<document_id>")
@signed_in("provider", "lead")
def evidence_file(application_id, document_id):
    """Download an evidence file byte for byte (its provider, the lead; audited)."""
    return file_response(rpc("qualification", "get_evidence", application_id, document_id))


@bp.post("/applications/<application_id>/submit")
@signed_in("provider")
def submit(application_id):
    try:
        rpc("qualification", "submit_application", application_id)
    except REFUSED as exc:
        return show(application_id, errors=refusal(exc, LABELS))
    flash("Your application is submitted. The lead authority decides within 10 working days.")
    return redirect(f"/applications/{application_id}")


@bp.post("/applications/<application_id>/copy")
@signed_in("provider")
def copy(application_id):
    ids = request.form.getlist("establishment_ids")
    try:
        copies = rpc("qualification", "copy_application", application_id,
                     ApplicationCopy(establishment_ids=ids))
    except REFUSED as exc:
        return show(application_id, errors=errors_from(
            exc, {"establishment_ids": "Establishments to copy to"}))
    flash(f"{len(copies['items'])} draft copies made. Complete each establishment's own "
          "answers, then submit it.")
    return redirect("/applications")


@bp.post("/applications/<application_id>/decision")
@signed_in("lead")
def decide(application_id):
    data = nest(request.form)
    try:
        decided = rpc("qualification", "decide_application", application_id,
                      Decision.model_validate({"pass_fail": data.get("pass_fail", {}),
                                               "scores": data.get("scores", {})}))
    except REFUSED as exc:
        return show(application_id, errors=refusal(exc))
    flash(f"The application is {decided['status']}. The provider is told by email.")
    return redirect("/applications")


@bp.post("/applications/<application_id>/extension")
@signed_in("lead")
def extend(application_id):
    """The evaluation extended to 15 working days, with the reason the provider is told
    (§4.3)."""
    try:
        extended = rpc("qualification", "extend_evaluation", application_id,
                       EvaluationExtension(reason=request.form.get("reason", "")))
    except REFUSED as exc:
        return show(application_id, errors=refusal(exc, {"reason": "Reason"}))
    flash(f"The evaluation is extended: the decision is now due on {extended['due_on']}.")
    return redirect(f"/applications/{application_id}")
