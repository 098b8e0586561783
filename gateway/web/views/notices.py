"""Procurement Act notices (RULES §11.4): the feed of OCDS releases raised for the dynamic
markets and their call-offs, filtered by type, and the due list (deadline near or missed, not
yet published on Find a Tender), for the lead and the contract manager. Each release can be
downloaded as JSON for Find a Tender and, once published there, marked published."""

from __future__ import annotations

import json

from flask import Blueprint, Response, redirect, request
from pydantic import ValidationError

from gateway.web.pages import errors_from, nest, page, rpc, signed_in
from services.common.errors import DomainError
from services.contracts.messages import NOTICE_TITLES, NoticeMarkPublished, NoticesQuery

bp = Blueprint("web_notices", __name__)
READERS = ("lead", "contract_manager")


SHOWN = 200


def _latest(query: dict) -> dict:
    """The feed's newest ``SHOWN`` notices, newest first (the API pages oldest first)."""
    items, cursor = [], None
    for _ in range(20):
        page_ = rpc("contracts", "list_notices", {**query, "limit": 500,
                                                  **({"cursor": cursor} if cursor else {})})
        items = (items + page_["items"])[-SHOWN:]
        cursor = page_["next_cursor"]
        if not cursor:
            break
    return {"items": list(reversed(items))}


def _render(errors=None):
    try:
        query = NoticesQuery.model_validate({"type": request.args.get("type") or None})
    except ValidationError as exc:
        errors = (errors or []) + errors_from(exc, {"type": "Notice type"})
        query = NoticesQuery()
    feed = _latest(query.model_dump(mode="json", by_alias=True, exclude_none=True))
    due = rpc("contracts", "list_notices", {"due": True})
    return page("notices.html", title="Procurement Act notices", feed=feed["items"],
                due=due["items"], as_of=due["as_of"], chosen=query.type or "",
                labels=NOTICE_TITLES, errors=errors)



@bp.get("/notices")
@signed_in(*READERS)
def index():
    return _render()


@bp.get("/notices/<path:notice_id>/release.json")
@signed_in(*READERS)
def release(notice_id):
    notice = rpc("contracts", "get_notice", notice_id)  # an unknown id is the 404 page
    body = json.dumps(notice["release"], indent=2, ensure_ascii=False)
    name = notice_id.replace(":", "-")
    return Response(body.encode("utf-8"), headers={
        "Content-Type": "application/json",
        "Content-Disposition": f'attachment; filename="{name}.json"'})


@bp.post("/notices/<path:notice_id>/published")
@signed_in(*READERS)
def mark_published(notice_id):
    try:
        body = NoticeMarkPublished.model_validate(nest(request.form))
        rpc("contracts", "mark_notice_published", notice_id,
            body.model_dump(mode="json", exclude_none=True))
    except (ValidationError, DomainError) as exc:
        return _render(errors_from(exc, {"fts_notice_id": "Find a Tender notice id"}))
    return redirect("/notices")
