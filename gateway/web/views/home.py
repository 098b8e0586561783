"""The start page and each role's home (RULES §12)."""

from __future__ import annotations

from flask import Blueprint, g

from gateway.web.pages import page

bp = Blueprint("web_home", __name__)


@bp.get("/")
def home():
    if g.get("user") is None:
        return page("start.html", title="Children's placements DPS")
    return page("home.html", title="Home")
