"""Referral attachments (issue 12, RULES §13, §10): documents about the child (an EHCP, a
care plan) that the owner attaches; they are child data, sealed under the referral's key
(erased with it), read by the owner and, from the award on, the awarded provider (a losing
bidder gets 404). Uploads are checked by ``services.common.documents``; downloads audited."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from services.common import documents
from services.common.errors import Conflict, InvalidInput, NotFound
from services.referral import access
from services.referral.domain.parts import new_id
from services.referral.handlers.shared import load
from services.referral.messages import (
    AttachmentContent,
    AttachmentList,
    AttachmentUpload,
    AttachmentView,
)


def _view(row: Mapping, erased: bool) -> AttachmentView:
    return AttachmentView(attachment_id=row["id"], referral_id=row["referral_id"],
                          filename=row["filename"], content_type=row["content_type"],
                          size=row["size"], sha256=row["sha256"],
                          uploaded_at=row["uploaded_at"], erased=erased)


def upload(referral_id: str, body: AttachmentUpload, uow, principal: Mapping) -> AttachmentView:
    referral = load(uow, referral_id, lock=True)
    access.require_owner(principal, referral, "attach documents to this referral")
    if referral.personal_data == "erased":
        raise Conflict("the referral's personal data was erased: nothing can be attached")
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput.at(["file"], "not valid base64") from None
    checked = documents.check(content, body.filename)
    row = {"id": new_id(), "referral_id": referral.referral_id, "filename": checked.filename,
           "content_type": checked.content_type, "size": checked.size,
           "sha256": checked.sha256, "uploaded_at": uow.now()}
    uow.store.add_attachment(row, content)
    uow.audit("referral.attachment_added", "referral", referral.referral_id, None,
              {"attachment_id": row["id"], "content_type": checked.content_type,
               "size": checked.size, "sha256": checked.sha256})  # §13: not the name
    uow.commit()
    return _view(row, False)


def list_attachments(referral_id: str, uow, principal: Mapping) -> AttachmentList:
    referral = load(uow, referral_id)
    access.require_child_data_reader(principal, referral)
    erased = referral.personal_data == "erased"
    return AttachmentList(items=[_view(r, erased) for r in uow.store.attachments_of(referral_id)])


def download(referral_id: str, attachment_id: str, uow, principal: Mapping) -> AttachmentContent:
    referral = load(uow, referral_id)
    access.require_child_data_reader(principal, referral)
    found = uow.store.attachment(referral.referral_id, str(attachment_id))
    if found is None:
        raise NotFound("attachment not found")
    row, content = found
    uow.audit("referral.attachment_downloaded", "referral", referral.referral_id, None,
              {"attachment_id": row["id"], "erased": content is None})
    uow.commit()
    view = _view(row, content is None)
    return AttachmentContent(
        **view.model_dump(),
        content_base64=base64.b64encode(content).decode() if content is not None else None,
    )
