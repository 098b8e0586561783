"""Evidence files for pass/fail criteria (issue 12, RULES §4, §10): the application's
provider uploads them while the application is open, or for the failed criterion of its
suspended membership (§4.5 resubmission); that provider and the lead read them
(anyone else 404). Checked by ``services.common.documents``; uploads and downloads audited."""

from __future__ import annotations

import base64
import binascii
import uuid

from services.common import documents
from services.common.errors import Conflict, InvalidInput, NotFound
from services.qualification import access
from services.qualification import messages as m
from services.qualification.handlers.common import application_for, establishment_for


def _view(row: dict) -> dict:
    return m.EvidenceView(
        document_id=row["id"], application_id=row["application_id"],
        criterion=row["criterion"], filename=row["filename"],
        content_type=row["content_type"], size=row["size"], sha256=row["sha256"],
        uploaded_at=row["uploaded_at"].isoformat(),
    ).model_dump(mode="json")


def _resubmitting(uow, app, criterion: str, principal) -> bool:
    """§4.5 reinstatement: the admitted application of a membership suspended for
    ``criterion`` takes new evidence files for that criterion (the resubmission's own)."""
    if app.status != "admitted":
        return False
    est = establishment_for(uow, app.establishment_id, principal)
    try:
        ms = est.membership(app.category)
    except NotFound:
        return False
    return (ms.state == "suspended" and ms.application_id == app.id
            and criterion in ms.open_failures)


def upload(application_id: str, body: m.EvidenceUpload, uow, principal: dict | None) -> dict:
    principal = access.require_role(principal, *access.PROVIDER)
    with uow:
        app = application_for(uow, application_id, principal, lock=True)
        if app.status not in ("draft", "submitted") and not _resubmitting(
                uow, app, body.criterion, principal):
            raise Conflict(f"a {app.status} application takes no more evidence")
        if body.criterion not in app.content.pass_fail:
            raise InvalidInput.at(["criterion"], "not a pass/fail criterion of this application")
        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput.at(["file"], "not valid base64") from None
        checked = documents.check(content, body.filename)
        row = {"id": str(uuid.uuid4()), "application_id": app.id,
               "provider_id": app.provider_id, "criterion": body.criterion,
               "filename": checked.filename, "content_type": checked.content_type,
               "size": checked.size, "sha256": checked.sha256, "content": content,
               "uploaded_at": uow.now()}
        uow.store.add_evidence(row)
        uow.audit("application.evidence_added", "application", app.id, None,
                  {k: row[k] for k in ("id", "criterion", "filename", "size", "sha256")})
        uow.commit()
    return _view(row)


def list_evidence(application_id: str, uow, principal: dict | None) -> dict:
    principal = access.require_role(principal, *access.APPLICATION_READERS)
    with uow:
        app = application_for(uow, application_id, principal)
        return {"items": [_view(r) for r in uow.store.evidence_of(app.id)]}


def download(application_id: str, document_id: str, uow, principal: dict | None) -> dict:
    principal = access.require_role(principal, *access.APPLICATION_READERS)
    with uow:
        app = application_for(uow, application_id, principal)
        row = uow.store.evidence(app.id, str(document_id))
        if row is None:
            raise NotFound("no such evidence document")
        uow.audit("application.evidence_downloaded", "application", app.id, None,
                  {"document_id": row["id"]})
        uow.commit()
    return {**_view(row), "content_base64": base64.b64encode(row["content"]).decode()}
