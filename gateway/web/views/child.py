"""The child's personal data in the portal (issue 12, RULES §13, §10): the owning authority
and, from the award on, the awarded provider read the full record and its documents on one
page (a losing bidder gets the referral service's 404); the owner attaches documents,
places and lifts a legal hold and erases the referral's personal data; and, per child
reference, exports everything held (JSON) or erases it. The services decide and audit."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, g, redirect, request

from gateway.routes.personal_data import child_export
from gateway.web.files import file_response, upload_page, uploaded
from gateway.web.pages import REFUSED, FormInvalid, nest, page, refusal, rpc, signed_in
from services.referral.messages import ChildReferenceRequest, ErasureRequest, LegalHoldRequest

bp = Blueprint("web_child", __name__)
OWNER = ("commissioner", "lead")
READERS = (*OWNER, "provider")
LABELS = {"reason": "Reason", "file": "Document", "child_reference": "Child reference"}


def _url(referral_id: str) -> str:
    return f"/referrals/{referral_id}/child"


@bp.get("/referrals/<referral_id>/child")
@signed_in(*READERS)
def show(referral_id, errors=None):
    child = rpc("referral", "child_data", referral_id)  # 404 unless entitled (§13)
    attachments = rpc("referral", "list_attachments", referral_id)["items"]
    return page("child.html", title="The child's details", child=child,
                attachments=attachments, owner=g.user.role in OWNER, errors=errors or [],
                form=request.form)  # Cache-Control: no-store on every signed-in page


def _errors(exc: Exception, reason_field: str | None = None) -> list[dict]:
    """The summary; a ``reason`` error (the model's, the service's) links to the form's own
    reason input (``hold_reason``, ``erase_reason``: two forms on the page have one)."""
    return [dict(e, field=reason_field) if reason_field and e.get("field") == "reason" else e
            for e in refusal(exc, LABELS)]


def _act(referral_id, done: str, method: str, *args, reason_field: str | None = None):
    try:
        rpc("referral", method, referral_id, *args)
    except REFUSED as exc:
        return show(referral_id, errors=_errors(exc, reason_field))
    flash(done)
    return redirect(_url(referral_id))


def _reason(field: str, label: str) -> dict:
    """``{"reason": …}`` from the form's ``field`` (two forms on the page each have one)."""
    reason = (request.form.get(field) or "").strip()
    if not reason:
        raise FormInvalid([{"field": field, "text": f"{label}: enter a reason"}])
    return {"reason": reason}


@bp.post("/referrals/<referral_id>/child/attachments")
@signed_in(*OWNER)
@upload_page
def attach(referral_id):
    try:
        filename, content = uploaded("file", "Document")
    except FormInvalid as exc:
        return show(referral_id, errors=exc.errors)
    return _act(referral_id, f"{filename} is attached. Only your authority and, from the "
                "award on, the awarded provider can open it.", "add_attachment",
                {"filename": filename, "content_base64": content})


@bp.get("/referrals/<referral_id>/child/attachments/<attachment_id>")
@signed_in(*READERS)
def download(referral_id, attachment_id):
    found = rpc("referral", "get_attachment", referral_id, attachment_id)
    if found["content_base64"] is None:
        flash("That document was erased with the child's personal data.")
        return redirect(_url(referral_id))
    return file_response(found)


def _with_reason(referral_id: str, model, field: str, label: str, done: str, method: str):
    """A hold or an erasure (§13): the reason typed in ``field``, then the referral call."""
    try:
        body = model.model_validate(_reason(field, label))
    except REFUSED as exc:
        return show(referral_id, errors=_errors(exc, field))
    return _act(referral_id, done, method, body.model_dump(mode="json"), reason_field=field)


@bp.post("/referrals/<referral_id>/child/legal-hold")
@signed_in(*OWNER)
def hold(referral_id):
    return _with_reason(referral_id, LegalHoldRequest, "hold_reason", "Reason for the hold",
                        "The legal hold is recorded: the personal data cannot be erased "
                        "until it is lifted.", "place_legal_hold")


@bp.post("/referrals/<referral_id>/child/legal-hold/lift")
@signed_in(*OWNER)
def lift(referral_id):
    return _act(referral_id, "The legal hold is lifted.", "lift_legal_hold")


@bp.post("/referrals/<referral_id>/child/erasure")
@signed_in(*OWNER)
def erase(referral_id):
    return _with_reason(referral_id, ErasureRequest, "erase_reason", "Why is it erased",
                        "The child's personal data is erased: every copy is unreadable now.",
                        "erase_child_data")


# --- subject rights per child reference (§13) -----------------------------------------------


@bp.get("/child-data")
@signed_in(*OWNER)
def subject_rights(errors=None):
    return page("child_data.html", title="A child's personal data", errors=errors or [],
                form=request.form)


@bp.post("/child-data")
@signed_in(*OWNER)
def subject_rights_act():
    """Export (JSON download) or erase everything held about one child reference."""
    erase_it = request.form.get("action") == "erase"
    try:
        body = ChildReferenceRequest.model_validate(
            nest(request.form, skip=("csrf_token", "action")))
        if erase_it and not body.reason:
            raise FormInvalid([{"field": "reason", "text": "Reason: say why it is erased"}])
        if erase_it:
            result = rpc("referral", "erase_child", body)
        else:
            document = child_export(body)  # the same as POST /api/v1/child-data/export
    except REFUSED as exc:
        return subject_rights(errors=refusal(exc, LABELS))
    if erase_it:
        flash(f"Erased: {len(result['erased_referrals'])} referrals and "
              f"{len(result['erased_direct_placements'])} direct placements of this child. "
              "Every copy is unreadable now.")
        return redirect("/child-data")
    return Response(json.dumps(document, indent=2), headers={
        "Content-Type": "application/json",
        "Content-Disposition": 'attachment; filename="child-data-export.json"'})
