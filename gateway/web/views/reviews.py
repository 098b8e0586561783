"""Performance reviews (RULES §7.4, §4.5): the contract manager tracks reviews that are
overdue in every authority, and reads an establishment's performance index (0–100, from the
mean review score) with the reports sent to qualification and the moves of its core
competency score they caused, each with its reason."""

from __future__ import annotations

from flask import Blueprint, redirect, request

from gateway.web.pages import REFUSED, every, page, refusal, rpc, signed_in
from services.contracts.messages import PerformanceQuery

bp = Blueprint("web_reviews", __name__)


@bp.get("/reviews")
@signed_in("contract_manager")
def index():
    overdue = rpc("contracts", "overdue_reviews", {"limit": 200})
    establishments = every("qualification", "list_establishments")
    establishments.sort(key=lambda e: e["name"].lower())
    return page("reviews.html", title="Performance reviews", overdue=overdue,
                establishments=establishments)


@bp.get("/reviews/establishments")
@signed_in("contract_manager")
def choose():
    est = request.args.get("establishment_id", "").strip()
    return redirect(f"/reviews/establishments/{est}" if est else "/reviews")


@bp.get("/reviews/establishments/<establishment_id>")
@signed_in("contract_manager", "lead")
def establishment(establishment_id):
    est = rpc("qualification", "get_establishment", establishment_id)
    args = {k: v for k, v in request.args.items() if v.strip() and k in ("from", "to")}
    errors, performance = [], None
    try:
        query = PerformanceQuery.model_validate({"establishment_id": establishment_id, **args})
        performance = rpc("contracts", "performance", query.model_dump(mode="json",
                                                                        by_alias=True))
    except REFUSED as exc:
        errors = refusal(exc, {"from": "From", "to": "To", "query-to": "To"})
    return page("review_establishment.html", title=f"Performance of {est['name']}", est=est,
                performance=performance, form=request.args, errors=errors)
