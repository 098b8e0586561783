"""Cost shares (RULES §7.7): the split of a financial year's running and set-up costs
between the authorities, and the platform's transaction fees per authority and quarter.
The contract manager (and the lead) reads the split for any year."""

from __future__ import annotations

from flask import Blueprint, request
from pydantic import ValidationError

from gateway.web.pages import page, refusal, rpc, signed_in, today
from services.contracts.messages import CostShareQuery

bp = Blueprint("web_cost_shares", __name__)


def financial_year(today) -> int:
    """The financial year (1 April to 31 March) a day is in, by its starting year."""
    return today.year if today.month >= 4 else today.year - 1


@bp.get("/cost-shares")
@signed_in("contract_manager", "lead")
def index():
    year = request.args.get("year", "").strip() or str(financial_year(today()))
    try:
        query = CostShareQuery.model_validate({"year": year})
    except ValidationError as exc:
        return page("cost_shares.html", title="Cost shares", year=year, data=None,
                    errors=refusal(exc, {"year": "Financial year"}))
    data = rpc("contracts", "cost_shares", query.model_dump(mode="json"))
    quarters = sorted({q for a in data["authorities"] for q in a["transaction_fees"]})
    return page("cost_shares.html", title=f"Cost shares {data['year']}", year=year, data=data,
                quarters=quarters)
