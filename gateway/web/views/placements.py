"""Placements (RULES §7, §10): a provider its own without child details, a commissioner its
authority's, the contract manager all; the contracts service scopes them. The owning
commissioner manages its placements here: start, end with a reason, vary the price (a
variation with a reason and an effective date, §7.2) and record outcome reviews (§7.4)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request

from gateway.web.pages import REFUSED, nest, page, refusal, rpc, signed_in, today
from services.contracts.messages import PlacementEnd, PlacementStart, ReviewCreate, VariationCreate

bp = Blueprint("web_placements", __name__)
READERS = ("provider", "commissioner", "lead", "contract_manager")
OWNER = ("commissioner", "lead")
END_REASONS = [("planned", "Planned end"), ("step_down", "Step-down"),
               ("breakdown", "Breakdown"), ("child_left_care", "The child left care"),
               ("staying_put", "Staying put"), ("other", "Another reason (say which)"),
               ("did_not_start", "The placement did not start")]  # RULES §7.1
LABELS = {"date": "Date", "reason": "Reason", "note": "Note",
          "effective_from": "Effective from", "changes": "Changes",
          "changes-discount_percent": "Discount", "child_view": "The child's view",
          "parent_view": "The parents' view", "scores": "Scores"}


@bp.get("/placements")
@signed_in(*READERS)
def index():
    items = rpc("contracts", "list_placements", {"limit": 200})["items"]
    return page("placements.html", title="Placements", items=items)


@bp.get("/placements/<placement_id>")
@signed_in(*READERS)
def show(placement_id, errors=None, form=None):
    p = rpc("contracts", "get_placement", placement_id, {})
    return page("placement.html", title="Placement", p=p, errors=errors or [],
                form=form if form is not None else request.form, today=today().isoformat(),
                manage=g.user.role in OWNER, end_reasons=END_REASONS)


def _act(placement_id, done: str, method: str, model, data: dict, prefix: str):
    try:
        rpc("contracts", method, placement_id, model.model_validate(data))
    except REFUSED as exc:
        errors = [dict(e, field=f"{prefix}-{e['field'].removeprefix('changes-')}")
                  if e.get("field") else e for e in refusal(exc, LABELS)]
        return show(placement_id, errors=errors, form=request.form)
    flash(done)
    return redirect(f"/placements/{placement_id}")


def _section(prefix: str) -> dict:
    """The fields of one of the page's forms (each prefixes its names, so ids stay unique)."""
    data = nest(request.form)
    return data.get(prefix, {})


@bp.post("/placements/<placement_id>/start")
@signed_in(*OWNER)
def start(placement_id):
    return _act(placement_id, "The placement is active.", "start_placement", PlacementStart,
                _section("start"), "start")


@bp.post("/placements/<placement_id>/end")
@signed_in(*OWNER)
def end(placement_id):
    return _act(placement_id, "The placement has ended.", "end_placement", PlacementEnd,
                _section("end"), "end")


@bp.post("/placements/<placement_id>/variations")
@signed_in(*OWNER)
def vary(placement_id):
    data = _section("variation")
    changes = {}
    if data.get("core_costs"):
        changes["core_costs"] = data["core_costs"]
    if data.get("discount_percent"):
        changes["discount_percent"] = data["discount_percent"]
    return _act(placement_id, "The variation is recorded.", "vary_placement", VariationCreate,
                {"effective_from": data.get("effective_from"), "reason": data.get("reason"),
                 "changes": changes}, "variation")


@bp.post("/placements/<placement_id>/reviews")
@signed_in(*OWNER)
def review(placement_id):
    data = _section("review")
    data["scores"] = {k: int(v) if v.isdigit() else v  # radios 1–5 (§7.4)
                      for k, v in (data.get("scores") or {}).items()}
    return _act(placement_id, "The review is recorded.", "record_review", ReviewCreate,
                data, "review")
