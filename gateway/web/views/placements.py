"""Placements (RULES §7, §10): a provider its own without child details, a commissioner its
authority's, the contract manager all; the contracts service scopes them."""

from __future__ import annotations

from flask import Blueprint

from gateway.web.pages import page, rpc, signed_in

bp = Blueprint("web_placements", __name__)
READERS = ("provider", "commissioner", "lead", "contract_manager")


@bp.get("/placements")
@signed_in(*READERS)
def index():
    items = rpc("contracts", "list_placements", {"limit": 200})["items"]
    return page("placements.html", title="Placements", items=items)


@bp.get("/placements/<placement_id>")
@signed_in(*READERS)
def show(placement_id):
    p = rpc("contracts", "get_placement", placement_id, {})
    return page("placement.html", title="Placement", p=p)
