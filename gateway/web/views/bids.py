"""An invited provider's side of a referral (RULES §5, §10): ask a question, decline, bid,
change the bid (the whole bid replaced) or withdraw it before the deadline. The referral
page and its refusals are ``referrals``'s; the referral service decides who may act."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request

from gateway.web.pages import REFUSED, nest, page, refusal, rpc, signed_in
from gateway.web.views.referrals import LABELS, _act, _url
from services.referral.messages import BidCreate, DeclineCreate, QuestionCreate

bp = Blueprint("web_bids", __name__)



@bp.post("/referrals/<referral_id>/questions")
@signed_in("provider")
def ask(referral_id):
    return _act(referral_id, "Your question is sent. The answer is published to every "
                "invited provider, without your name.", "ask_question", model=QuestionCreate,
                data=nest(request.form), labels={"question": "Question"})


@bp.post("/referrals/<referral_id>/declines")
@signed_in("provider")
def decline(referral_id):
    return _act(referral_id, "You have declined the invitation.", "decline",
                model=DeclineCreate, data=nest(request.form),
                labels={"reason_code": "Reason", "note": "Note"})


def _bid_data() -> dict:
    data = nest(request.form)
    data["needs_met"] = request.form.getlist("needs_met")
    data["features_met"] = request.form.getlist("features_met")
    return data


def _bid_labels(data: dict) -> dict:
    return {**LABELS, **{f"core_costs-{k}": f"{k} (£ a week)"
                         for k in data.get("core_costs", {})}}


@bp.post("/referrals/<referral_id>/bids")
@signed_in("provider")
def bid(referral_id):
    data = _bid_data()
    return _act(referral_id, "Your bid is submitted. You can change or withdraw it until the "
                "deadline.", "submit_bid", model=BidCreate, data=data,
                labels=_bid_labels(data))


@bp.route("/referrals/<referral_id>/bids/<bid_id>/edit", methods=["GET", "POST"])
@signed_in("provider")
def edit_bid(referral_id, bid_id):
    """Change one's own bid before the deadline (§5): the whole bid is replaced."""
    referral = rpc("referral", "get_referral", referral_id)
    mine = {b["bid_id"]: b for b in rpc("referral", "list_bids", referral_id).get("items")
            or []}
    if bid_id not in mine:
        abort(404)
    current = mine[bid_id]
    category = rpc("qualification", "get_category", referral["category"], None)
    names = {i["establishment_id"]: i["name"] for i in referral["invitations"]}
    context = {"title": "Change your bid", "r": referral, "b": current, "category": category,
               "establishment": names.get(current["establishment_id"], ""),
               "heads": list(current["core_costs"])}  # the heads checked at submission (§5)
    if request.method == "GET":
        form = {f"core_costs.{k}": v for k, v in current["core_costs"].items()}
        form["outcomes_statement"] = current["outcomes_statement"]
        form["proposed_start"] = current.get("proposed_start") or ""
        return page("bid_form.html", form=form, needs_met=current["needs_met"],
                    features_met=current["features_met"], **context)
    data = {**_bid_data(), "establishment_id": current["establishment_id"],
            "variable_costs": current.get("variable_costs") or []}
    try:
        rpc("referral", "replace_bid", referral_id, bid_id, BidCreate.model_validate(data))
    except REFUSED as exc:
        return page("bid_form.html", form=request.form, needs_met=data["needs_met"],
                    features_met=data["features_met"],
                    errors=refusal(exc, _bid_labels(data)), **context)
    flash("Your bid is changed. You can change or withdraw it until the deadline.")
    return redirect(_url(referral_id))


@bp.post("/referrals/<referral_id>/bids/<bid_id>/withdraw")
@signed_in("provider")
def withdraw(referral_id, bid_id):
    return _act(referral_id, "Your bid is withdrawn.", "withdraw_bid", bid_id)
