"""Establishments (RULES §4): a provider adds and edits its own; the lead and the contract
manager read all, a commissioner admitted ones (§10: the qualification service decides)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request

from gateway.web.files import upload_page, uploaded
from gateway.web.pages import REFUSED, nest, page, refusal, rpc, signed_in
from services.qualification.messages import (
    EstablishmentCreate,
    EstablishmentUpdate,
    Resubmission,
)

bp = Blueprint("web_establishments", __name__)
READERS = ("provider", "lead", "contract_manager", "commissioner")
LABELS = {"name": "Name", "address": "Address", "postcode": "Postcode",
          "location-lat": "Latitude", "location-lon": "Longitude", "location": "Location",
          "categories": "Categories", "capacity": "Capacity", "contacts-0-name": "Contact name",
          "contacts-0-email": "Contact email", "contacts-0-phone": "Contact phone",
          "contacts": "Contact"}


def categories() -> list[tuple[str, str]]:
    """Checkbox options: (code, "code: name")."""
    return [(c["code"], f"{c['name']} ({c['code']})")
            for c in rpc("qualification", "list_categories")["items"]]


def _form_data() -> dict:
    data = nest(request.form)
    data["categories"] = request.form.getlist("categories")
    for contact in data.get("contacts", []):
        contact["sms_opt_in"] = contact.get("sms_opt_in") == "yes"
    return data


@bp.get("/establishments")
@signed_in(*READERS)
def index():
    listed = rpc("qualification", "list_establishments", {"limit": 200})
    return page("establishments.html", title="Establishments", items=listed["items"])


@bp.route("/establishments/new", methods=["GET", "POST"])
@signed_in("provider")
def new():
    context = {"title": "Add an establishment", "category_options": categories(), "form": {},
               "editing": False}
    if request.method == "GET":
        return page("establishment_form.html", **context)
    data = _form_data()
    context["form"] = data
    try:
        created = rpc("qualification", "create_establishment",
                      EstablishmentCreate.model_validate(data))
    except REFUSED as exc:
        return page("establishment_form.html", **context, errors=refusal(exc, LABELS))
    flash(f"{created['name']} is added. Apply to join the DPS in its categories.")
    return redirect(f"/establishments/{created['id']}")


@bp.get("/establishments/<establishment_id>")
@signed_in(*READERS)
def show(establishment_id, errors=None):
    est = rpc("qualification", "get_establishment", establishment_id)
    apps, configs = [], {}
    if g.user.role == "provider":
        apps = rpc("qualification", "list_applications",
                   {"establishment_id": establishment_id})["items"]
        configs = {ms["category"]: rpc("qualification", "get_category", ms["category"], None)
                   for ms in est["memberships"] if ms["status"] == "suspended"}
    return page("establishment.html", title=est["name"], est=est, applications=apps,
                configs=configs, errors=errors or [], form=request.form)


@bp.post("/establishments/<establishment_id>/memberships/<category>/resubmission")
@signed_in("provider")
@upload_page
def resubmit(establishment_id, category):
    """§4.5 reinstatement: new evidence for the criterion the membership is suspended for
    (an answer, its evidence and, optionally, the file itself); the lead then decides."""
    data = nest(request.form)
    criterion = data.get("criterion", "")
    prefix = f"resubmit-{criterion}"
    answer = data.get("resubmit", {}).get(criterion, {})
    has_file = bool(request.files.get("file") and request.files["file"].filename)
    try:
        if has_file:
            filename, content = uploaded("file", "Evidence file")
            answer.setdefault("evidence", f"The file {filename}")
        body = Resubmission.model_validate({**answer, "criterion": criterion})
        ms = next((m for m in rpc("qualification", "get_establishment", establishment_id)
                   ["memberships"] if m["category"] == category), None)
        if ms is None:
            abort(404)  # no membership in this category
        # the resubmission first (the service checks the membership's state, the criterion
        # and the answer), the file after: a refused resubmission leaves no stored file
        rpc("qualification", "resubmit_evidence", establishment_id, category, body)
        if has_file:
            rpc("qualification", "add_evidence", ms["application_id"],
                {"criterion": criterion, "filename": filename, "content_base64": content})
    except REFUSED as exc:
        errors = [dict(e, field=f"{prefix}-{e['field']}") if e.get("field") else e
                  for e in refusal(exc, LABELS)]
        return show(establishment_id, errors=errors)
    flash(f"Your new {criterion} evidence is sent. The lead authority checks it and can "
          "reinstate the membership.")
    return redirect(f"/establishments/{establishment_id}")


@bp.route("/establishments/<establishment_id>/edit", methods=["GET", "POST"])
@signed_in("provider")
def edit(establishment_id):
    est = rpc("qualification", "get_establishment", establishment_id)
    context = {"title": f"Change {est['name']}", "category_options": categories(), "form": est,
               "editing": True, "est": est}
    if request.method == "GET":
        return page("establishment_form.html", **context)
    data = _form_data()
    data = {k: data[k] for k in ("name", "address", "capacity", "contacts") if k in data}
    context["form"] = {**est, **data}
    try:
        rpc("qualification", "update_establishment", establishment_id,
            EstablishmentUpdate.model_validate(data).model_dump(mode="json", exclude_unset=True))
    except REFUSED as exc:
        return page("establishment_form.html", **context, errors=refusal(exc, LABELS))
    flash("Your changes are saved")
    return redirect(f"/establishments/{establishment_id}")
