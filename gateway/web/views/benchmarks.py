"""Benchmarks (RULES §7.6, §10): a category's figures over a period for every authority,
and pictures of them (issue 11): the weekly cost distribution of every category as a box
plot, time to place and bids per referral month by month. The lead and the contract
manager see every authority by name; a commissioner its own by name and the others under
the anonymous labels the contracts service gives (the service decides, not this page)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, request

from gateway.web import charts
from gateway.web.pages import (
    REFUSED,
    FormInvalid,
    page,
    refusal,
    rpc,
    signed_in,
    today,
)
from gateway.web.vocabulary import CATEGORIES
from services.contracts.messages import BenchmarkQuery

bp = Blueprint("web_benchmarks", __name__)
LABELS = {"category": "Category", "from": "From", "to": "To"}
MONTHS = 12


def month_starts(last: date, count: int = MONTHS) -> list[date]:
    """The first days of the ``count`` months ending with ``last``'s month, oldest first."""
    y, m = last.year, last.month
    out = []
    for _ in range(count):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def month_end(start: date) -> date:
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _benchmarks(category: str, start: str | None, end: str | None) -> dict:
    query = {"category": category, **({"from": start} if start else {}),
             **({"to": end} if end else {})}
    return rpc("contracts", "benchmarks", query)


@bp.get("/benchmarks")
@signed_in("contract_manager", "lead", "commissioner")
def index():
    args = {k: v for k, v in request.args.items() if v.strip()}
    args.setdefault("category", "SEN")
    try:
        if args["category"] not in CATEGORIES:
            raise FormInvalid([{"field": "category", "text": "Choose a category"}])
        query = BenchmarkQuery.model_validate(args)
    except REFUSED as exc:
        return page("benchmarks.html", title="Benchmarks", form=request.args, data=None,
                    categories=CATEGORIES, errors=refusal(exc, LABELS))
    start = query.from_.isoformat() if query.from_ else None
    end = query.to.isoformat() if query.to else None
    try:
        data = _benchmarks(query.category, start, end)
    except REFUSED as exc:
        errors = refusal(exc, {"query-to": "To", "to": "To", "query-from": "From"})
        return page("benchmarks.html", title="Benchmarks", form=request.args, data=None,
                    categories=CATEGORIES, errors=errors)
    # the box plot: every category over the same period
    boxes = []
    for code in CATEGORIES:
        figures = data if code == query.category else _benchmarks(code, data["from"], data["to"])
        cost = figures.get("weekly_cost")
        boxes.append({"label": code, **(cost or {"median": None, "count": 0})})
    # month by month: the chosen category's last 12 months to the end of the period
    last = date.fromisoformat(data["to"])
    monthly = []
    for first in month_starts(last):
        figures = _benchmarks(query.category, first.isoformat(),
                              min(month_end(first), last).isoformat())
        monthly.append({"month": first.strftime("%Y-%m"),
                        "time_to_place_days": figures.get("time_to_place_days"),
                        "bids_per_referral": figures.get("bids_per_referral"),
                        "referrals": figures.get("referrals", 0)})
    pictures = {
        "cost": charts.cost_boxes("chart-cost", boxes),
        "time": charts.over_time("chart-time", f"Time to place in {query.category}, by month "
                                 "of publication", "Days (median)",
                                 [(m["month"], m["time_to_place_days"]) for m in monthly]),
        "bids": charts.over_time("chart-bids", f"Bids per referral in {query.category}, by "
                                 "month of publication", "Bids (mean)",
                                 [(m["month"], m["bids_per_referral"]) for m in monthly]),
    }
    return page("benchmarks.html", title=f"Benchmarks: {query.category}", form=args, data=data,
                categories=CATEGORIES, boxes=boxes, monthly=monthly, pictures=pictures,
                today=today())
