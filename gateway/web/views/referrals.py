"""Referrals (RULES §5, §6, §10): a commissioner creates, publishes, answers, closes,
scores, evaluates, records the parents' choice and awards; an invited provider reads the
anonymised profile, asks, declines, bids and withdraws, and reads its feedback. The
referral service decides who sees what: anyone else gets its 404."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, request

from gateway.web import uk_time
from gateway.web.pages import REFUSED, FormInvalid, nest, page, refusal, rpc, signed_in
from gateway.web.vocabulary import WEIGHT_KEYS, WEIGHT_NAMES
from services.common.errors import DomainError
from services.referral.messages import (
    AnswerCreate,
    AwardRequest,
    CancelRequest,
    DeadlineRequest,
    OutcomeScoreCreate,
    ParentChoice,
    PublishRequest,
    RadiusRequest,
    ReferralCreate,
    ReferralUpdate,
)

bp = Blueprint("web_referrals", __name__)
OWNER = ("commissioner", "lead")
UK = ZoneInfo("Europe/London")
DECLINE_REASONS = [("no_capacity", "No capacity"), ("cannot_meet_needs", "Cannot meet the needs"),
                   ("location", "Location"), ("other", "Another reason")]  # RULES §5
LABELS = {"child_reference": "Child reference", "children-0-age": "Age",
          "home_location-lat": "Home latitude", "home_location-lon": "Home longitude",
          "radius_miles": "Radius", "deadline": "Deadline",
          "desired_outcomes": "Desired outcomes", "outcomes_statement": "Outcomes statement",
          "weekly_price_ceiling": "Most you would pay a week",
          "expected_weeks": "Expected duration"}


def _url(referral_id: str, suffix: str = "") -> str:
    return f"/referrals/{referral_id}{suffix}"


@bp.get("/referrals")
@signed_in(*OWNER, "provider")
def index():
    items = rpc("referral", "list_referrals", {"limit": 200})["items"]
    return page("referrals.html", title="Invitations" if g.user.role == "provider"
                else "Referrals", items=items)




def _referral_body(form) -> dict:
    data = nest(form, skip=("csrf_token", "preview"))
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
    weights = data.pop("weights", None) or {}
    if weights:  # all six explicitly (§6.1), or none
        missing = [k for k in WEIGHT_KEYS if k not in weights]
        if missing:
            raise FormInvalid([{"field": f"weights-{k}", "text": f"{WEIGHT_NAMES[k]} weight: "
                                "give all six weights, or none"} for k in missing])
        data["weights"] = weights
    return data


def _form_of(spec: dict) -> dict:
    """A referral's spec as the form's dotted fields (to edit a draft)."""
    form: dict = {}

    def put(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                put(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                put(f"{prefix}.{i}", v)
        elif value is not None:
            form[prefix] = value

    put("", {k: v for k, v in spec.items() if k not in ("desired_outcomes", "deadline")})
    for i, f in enumerate(spec.get("features") or []):
        form[f"features.{i}.must_have"] = "yes" if f.get("must_have") else ""
    form["desired_outcomes"] = "\n".join(spec.get("desired_outcomes") or [])
    if spec.get("deadline"):
        form["deadline"] = (datetime.fromisoformat(spec["deadline"]).astimezone(UK)
                            .strftime("%Y-%m-%dT%H:%M"))
    return form


FORM_OPTIONAL = ("address", "weights", "price_weight", "weekly_price_ceiling",
                 "expected_weeks")
"""The optional fields the referral form shows: one left blank clears the draft's. Fields
the form does not show (``incentive``, ``min_invited``, ``title``, set through the API) are
never sent, so an edit in the portal keeps them (§5 draft edits)."""


def draft_patch(data: dict) -> dict:
    """The ``edit_draft`` patch (``ReferralUpdate``) for the form's fields (§5)."""
    data = dict(data)
    for optional in FORM_OPTIONAL:
        data.setdefault(optional, None)  # a blank field clears it
    ReferralCreate.model_validate({k: v for k, v in data.items() if v is not None})
    return ReferralUpdate.model_validate(data).model_dump(mode="json", exclude_unset=True)


def _preview_weights(data: dict, categories: dict) -> dict:
    """The weights the referral would use (§6.1): the scoring service rescales O, N and F
    when only the price weight is given, exactly as it does at creation."""
    category = categories.get(data.get("category")) or {}
    request_ = {"weights": data.get("weights"), "has_needs": bool(data.get("needs")),
                "has_desirable": any(not f["must_have"] for f in data.get("features", [])),
                "template": category.get("referral_weights") or None}
    try:
        if data.get("weights"):
            request_["weights"] = {k: int(v) for k, v in data["weights"].items()}
        elif data.get("price_weight") is not None:
            request_["price_weight"] = int(data["price_weight"])
    except ValueError as exc:
        raise FormInvalid([{"field": "price_weight", "text": "Weights: enter whole numbers"}]
                          ) from exc
    return rpc("scoring", "resolve_weights", request_)


ROWS = {"children": 2, "needs": 3, "features": 3}
"""The form's rows of each list at least; a draft with more shows them all and one blank row
more, so that saving an edit never drops an entry the API or an earlier edit added."""


def _rows(form) -> dict[str, int]:
    rows = dict(ROWS)
    for key in form:
        match = re.match(r"(children|needs|features)\.(\d+)\.", key)
        if match:
            rows[match[1]] = max(rows[match[1]], int(match[2]) + 2)
    return rows


def _form_page(context: dict, form, errors=None, weights=None):
    return page("referral_form.html", **context, form=form, errors=errors or [],
                weights=weights, rows=_rows(form))


def _categories() -> dict:
    return {c["code"]: c for c in rpc("qualification", "list_categories")["items"]}


@bp.route("/referrals/new", methods=["GET", "POST"])
@signed_in(*OWNER)
def new():
    categories = _categories()
    context = {"title": "New referral", "categories": [(c, v["name"]) for c, v in
                                                       categories.items()],
               "action": "/referrals/new", "editing": False}
    if request.method == "GET":
        return _form_page(context, request.form)
    try:
        data = _referral_body(request.form)
        if request.form.get("preview"):
            return _form_page(context, request.form, weights=_preview_weights(data, categories))
        body = ReferralCreate.model_validate(data)
        created = rpc("referral", "create_referral", body)
    except REFUSED as exc:
        return _form_page(context, request.form, refusal(exc, LABELS))
    flash("The referral is saved as a draft. Publish it to invite providers.")
    return redirect(_url(created["referral_id"]))


@bp.route("/referrals/<referral_id>/edit", methods=["GET", "POST"])
@signed_in(*OWNER)
def edit(referral_id):
    """§5 draft edits: a draft is edited in full; the deadline is checked at publishing."""
    referral = rpc("referral", "get_referral", referral_id)
    if referral["status"] != "draft":
        flash(f"The referral is {referral['status'].replace('_', ' ')}: only a draft can be "
              "changed. Widen the radius or move the deadline instead.")
        return redirect(_url(referral_id))
    categories = _categories()
    context = {"title": "Change the draft referral", "editing": True, "r": referral,
               "categories": [(c, v["name"]) for c, v in categories.items()],
               "action": _url(referral_id, "/edit")}
    if request.method == "GET":
        return _form_page(context, _form_of(referral["spec"]), weights=referral["weights"])
    try:
        data = _referral_body(request.form)
        if request.form.get("preview"):
            return _form_page(context, request.form, weights=_preview_weights(data, categories))
        rpc("referral", "edit_draft", referral_id, draft_patch(data))
    except REFUSED as exc:
        return _form_page(context, request.form, refusal(exc, LABELS))
    flash("Your changes to the draft are saved.")
    return redirect(_url(referral_id))


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
        heads = _bid_heads(referral, category) if referral["status"] == "published" else []
        return page("referral_provider.html", title=f"{referral['category']} referral",
                    category=category, feedback=feedback, live=live, heads=heads,
                    reasons=DECLINE_REASONS, **context)
    # the page's <title> stays in browser history and tab lists: no child reference (§13)
    return page("referral_owner.html", title=f"Referral {referral_id[:8]}", **context)


def _bid_heads(referral: dict, category: dict) -> list[str]:
    """The cost heads a new bid prices: those of the qualified offer of each invited
    establishment of the provider in the referral's category, which the invitation
    snapshots and the referral service checks the bid against (§5, §4.4); in the category's
    order. The category's heads when none can be read."""
    heads: list[str] = []
    for invitation in referral.get("invitations") or []:
        try:
            est = rpc("qualification", "get_establishment", invitation["establishment_id"])
        except DomainError as exc:
            if exc.status in (403, 404):
                continue
            raise
        for membership in est.get("memberships") or []:
            if membership["category"] == referral["category"] and (
                    membership["status"] != "removed"):
                heads += [h for h in membership["core_costs"] if h not in heads]
    order = list(category.get("cost_heads") or [])
    return sorted(heads, key=lambda h: order.index(h) if h in order else len(order)) or order


def _act(referral_id, done: str, method: str, *args, model=None, data=None, labels=None,
         **extra):
    """Call ``referral.method`` (a model built from ``data`` first); back to the page, with
    the error summary on failure."""
    try:
        payload = model.model_validate(data) if model is not None else None
        rpc("referral", method, referral_id, *args,
            *([payload] if payload is not None else []))
    except REFUSED as exc:
        facts = {k: v for e in getattr(exc, "errors", []) or [] if isinstance(e, dict)
                 for k, v in e.items() if k in ("invited", "min_invited")}
        return show(referral_id, errors=refusal(exc, labels or LABELS), facts=facts,
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
    try:
        result = rpc("referral", "widen_radius", referral_id,
                     RadiusRequest.model_validate(nest(request.form)))
    except REFUSED as exc:
        return show(referral_id, errors=refusal(exc, {"radius_miles": "Radius"}))
    if result["invited_total"] or result["newly_invited"]:
        flash(f"The radius is {result['radius_miles']:g} miles: {result['invited_total']} "
              f"invited, {result['newly_invited']} of them new and told now."
              + (f" {result['note']}" if result.get("note") else ""))
    else:
        flash(f"The radius is {result['radius_miles']:g} miles. Publishing invites every "
              "admitted establishment within it.")
    return redirect(_url(referral_id))


@bp.post("/referrals/<referral_id>/deadline")
@signed_in(*OWNER)
def extend(referral_id):
    """§5 extension: later, never earlier, until it passes; every invited one is told."""
    try:
        when = datetime.fromisoformat(request.form.get("deadline", "")).replace(tzinfo=UK)
        result = rpc("referral", "extend_deadline", referral_id,
                     DeadlineRequest(deadline=when.isoformat()))
    except REFUSED as exc:  # before ValueError: pydantic's ValidationError is one
        return show(referral_id, errors=refusal(exc, {"deadline": "New deadline"}))
    except ValueError:  # not a date and time
        return show(referral_id, errors=[{"field": "deadline",
                                          "text": "New deadline: enter a date and time"}])
    flash(f"The deadline is now {uk_time(result['deadline'])}: {result['told']} invited "
          "establishments are told.")
    return redirect(_url(referral_id))


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
