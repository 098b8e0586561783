"""Uplifts (RULES §7.2): the contract manager sets a common annual uplift per category and
cost head (e.g. staff-related +3.1 % from 1 April). From its date it applies to the same
head of active placements and to the qualified core costs of admitted establishments, never
to variable costs; the contracts service does both (``set_uplift``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request

from gateway.web.pages import REFUSED, page, refusal, rpc, signed_in
from services.contracts.messages import UpliftCreate

bp = Blueprint("web_uplifts", __name__)
LABELS = {"category": "Category", "cost_head": "Cost head", "percent": "Uplift",
          "effective_from": "From"}


def _page(category: str, form, errors=None):
    categories = rpc("qualification", "list_categories")["items"]
    chosen = next((c for c in categories if c["code"] == category), categories[0])
    set_ = rpc("contracts", "list_uplifts", {"category": chosen["code"]})["items"]
    return page("uplifts.html", title="Uplifts", categories=categories, chosen=chosen,
                uplifts=set_, form=form, errors=errors or [])


@bp.get("/uplifts")
@signed_in("contract_manager")
def index():
    return _page(request.args.get("category", ""), request.args)


@bp.post("/uplifts")
@signed_in("contract_manager")
def create():
    form = request.form
    try:
        body = UpliftCreate.model_validate({k: form.get(k, "").strip() for k in LABELS})
        done = rpc("contracts", "set_uplift", body)
    except REFUSED as exc:
        return _page(form.get("category", ""), form, refusal(exc, LABELS))
    flash(f"{done['cost_head']} in {done['category']} goes up by {done['percent']}% from "
          f"{done['effective_from']}: {done['placements_uplifted']} active placements changed; "
          "admitted establishments' qualified costs follow.")
    return redirect(f"/uplifts?category={done['category']}")
