"""Referrals (RULES §5, §6, §10): a commissioner creates, publishes, answers, closes,
scores, evaluates, records the parents' choice and awards; an invited provider reads the
anonymised profile, asks, declines, bids and withdraws, and reads its feedback. The
referral service decides who sees what: anyone else gets its 404."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, request
from pydantic import ValidationError

from gateway.web.pages import FormInvalid, errors_from, nest, page, rpc, signed_in
from services.common.errors import DomainError
from services.referral.messages import (
    AnswerCreate,
    AwardRequest,
    BidCreate,
    CancelRequest,
    DeclineCreate,
    OutcomeScoreCreate,
    ParentChoice,
    PublishRequest,
    QuestionCreate,
    RadiusRequest,
    ReferralCreate,
)

bp = Blueprint("web_referrals", __name__)
OWNER = ("commissioner", "lead")
UK = ZoneInfo("Europe/London")
DECLINE_REASONS = [("no_capacity", "No capacity"), ("cannot_meet_needs", "Cannot meet the needs"),
                   ("location", "Location"), ("other", "Another reason")]  # RULES §5
LABELS = {"child_reference": "Child reference", "children-0-age": "Age",
          "home_location-lat": "Home latitude", "home_location-lon": "Home longitude",
          "radius_miles": "Radius", "deadline": "Deadline",
          "desired_outcomes": "Desired outcomes", "outcomes_statement": "Outcomes statement"}


def _url(referral_id: str, suffix: str = "") -> str:
    return f"/referrals/{referral_id}{suffix}"


@bp.get("/referrals")
@signed_in(*OWNER, "provider")
def index():
    items = rpc("referral", "list_referrals", {"limit": 200})["items"]
    return page("referrals.html", title="Invitations" if g.user.role == "provider"
                else "Referrals", items=items)


def _referral_body(form) -> dict:
    data = nest(form)
    deadline = data.get("deadline")
    if deadline:
        try:
            data["deadline"] = datetime.fromisoformat(deadline).replace(tzinfo=UK).isoformat()
        except ValueError as exc:
            raise FormInvalid([{"field": "deadline", "text": "Deadline: enter a date and time"
                                }]) from exc
    data["desired_outcomes"] = [line.strip() for line in form.get("desired_outcomes", "")
                                .splitlines() if line.strip()]
    data["needs"] = [n for n in data.get("needs", []) if n.get("code")]
    data["features"] = [dict(f, must_have=f.get("must_have") == "yes")
                        for f in data.get("features", []) if f.get("code")]
    return data


@bp.route("/referrals/new", methods=["GET", "POST"])
@signed_in(*OWNER)
def new():
    cats = [(c["code"], c["name"]) for c in rpc("qualification", "list_categories")["items"]]
    context = {"title": "New referral", "categories": cats, "form": request.form}
    if request.method == "GET":
        return page("referral_form.html", **context)
    try:
        body = ReferralCreate.model_validate(_referral_body(request.form))
        created = rpc("referral", "create_referral", body)
    except (ValidationError, DomainError, FormInvalid) as exc:
        return page("referral_form.html", **context, errors=errors_from(exc, LABELS))
    flash("The referral is saved as a draft. Publish it to invite providers.")
    return redirect(_url(created["referral_id"]))


@bp.get("/referrals/<referral_id>")
@signed_in(*OWNER, "provider")
def show(referral_id, errors=None, **extra):
    referral = rpc("referral", "get_referral", referral_id)
    questions = rpc("referral", "list_questions", referral_id)["items"]
    bids = rpc("referral", "list_bids", referral_id)
    context = {"r": referral, "questions": questions, "bids": bids, "errors": errors or [],
               "form": request.form, **extra}
    if g.user.role == "provider":
        category = rpc("qualification", "get_category", referral["category"], None)
        feedback = []
        if referral["status"] in ("awarded",):
            feedback = rpc("referral", "feedback", referral_id)["items"]
        live = {b["establishment_id"] for b in bids.get("items") or []
                if b["status"] == "submitted"}
        return page("referral_provider.html", title=f"{referral['category']} referral",
                    category=category, feedback=feedback, live=live,
                    reasons=DECLINE_REASONS, **context)
    return page("referral_owner.html", title=f"Referral {referral['spec']['child_reference']}",
                **context)


def _act(referral_id, done: str, method: str, *args, model=None, data=None, labels=None,
         **extra):
    """Call ``referral.method`` (a model built from ``data`` first); back to the page, with
    the error summary on failure."""
    try:
        payload = model.model_validate(data) if model is not None else None
        rpc("referral", method, referral_id, *args,
            *([payload] if payload is not None else []))
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status in (403, 404):
            raise
        facts = {k: v for e in getattr(exc, "errors", []) or [] if isinstance(e, dict)
                 for k, v in e.items() if k in ("invited", "min_invited")}
        return show(referral_id, errors=errors_from(exc, labels or LABELS), facts=facts,
                    **extra)
    flash(done)
    return redirect(_url(referral_id))


@bp.post("/referrals/<referral_id>/publish")
@signed_in(*OWNER)
def publish(referral_id):
    return _act(referral_id, "The referral is published: invited providers are told.",
                "publish", model=PublishRequest,
                data={"accept_fewer": request.form.get("accept_fewer") == "yes"})


@bp.post("/referrals/<referral_id>/radius")
@signed_in(*OWNER)
def widen(referral_id):
    return _act(referral_id, "The radius is wider: newly invited providers are told.",
                "widen_radius", model=RadiusRequest, data=nest(request.form),
                labels={"radius_miles": "Radius"})


@bp.post("/referrals/<referral_id>/close")
@signed_in(*OWNER)
def close(referral_id):
    return _act(referral_id, "The referral is closed: bids are open to you now.", "close")


@bp.post("/referrals/<referral_id>/cancel")
@signed_in(*OWNER)
def cancel(referral_id):
    return _act(referral_id, "The referral is cancelled.", "cancel",
                data=nest(request.form), model=CancelRequest, labels={"reason": "Reason"})


@bp.post("/referrals/<referral_id>/questions/<question_id>/answer")
@signed_in(*OWNER)
def answer(referral_id, question_id):
    return _act(referral_id, "Your answer is published to every invited provider.",
                "answer_question", question_id, model=AnswerCreate,
                data=nest(request.form), labels={"answer": "Answer"})


@bp.post("/referrals/<referral_id>/bids/<bid_id>/outcome-scores")
@signed_in(*OWNER)
def outcome_score(referral_id, bid_id):
    return _act(referral_id, "The outcome score is recorded.", "score_outcomes", bid_id,
                model=OutcomeScoreCreate, data=nest(request.form),
                labels={"score": "Outcome score", "evaluator": "Evaluator"})


@bp.post("/referrals/<referral_id>/evaluate")
@signed_in(*OWNER)
def evaluate(referral_id):
    return _act(referral_id, "The bids are scored and ranked.", "evaluate")


@bp.post("/referrals/<referral_id>/parent-choice")
@signed_in(*OWNER)
def parent_choice(referral_id):
    return _act(referral_id, "The parents' choice is recorded.", "record_parent_choice",
                model=ParentChoice, data=nest(request.form),
                labels={"bid_id": "Parents' choice", "reason": "Reason"})


@bp.post("/referrals/<referral_id>/award")
@signed_in(*OWNER)
def award(referral_id):
    return _act(referral_id, "The placement is awarded. Every bidder is told.", "award",
                model=AwardRequest, data={})


# --- the provider's side ---------------------------------------------------------------------


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


@bp.post("/referrals/<referral_id>/bids")
@signed_in("provider")
def bid(referral_id):
    data = nest(request.form)
    data["needs_met"] = request.form.getlist("needs_met")
    data["features_met"] = request.form.getlist("features_met")
    return _act(referral_id, "Your bid is submitted. You can change or withdraw it until the "
                "deadline.", "submit_bid", model=BidCreate, data=data,
                labels={**LABELS, **{f"core_costs-{k}": f"{k} (£ a week)"
                                     for k in data.get("core_costs", {})}})


@bp.post("/referrals/<referral_id>/bids/<bid_id>/withdraw")
@signed_in("provider")
def withdraw(referral_id, bid_id):
    return _act(referral_id, "Your bid is withdrawn.", "withdraw_bid", bid_id)
