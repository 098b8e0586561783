"""Files through the portal (issue 12, RULES §4 evidence, §13 attachments): a page marked
``upload_page`` takes a multipart form of up to 20 MB (the portal's other forms stay at the
app's 2 MB); ``uploaded`` reads its file as the services take it (base64, as the JSON API
passes a file body on), refusing on the form what the services would refuse; downloads go
back byte for byte like the API's."""

from __future__ import annotations

import base64

from flask import request

from gateway.uploads import file_response
from gateway.web.pages import FormInvalid
from services.common import documents
from services.common.documents import MAX_BYTES
from services.common.errors import DomainError

FORM_OVERHEAD = 256 * 1024  # the multipart envelope and the form's other fields


def upload_page(view):
    """Mark a page whose form carries a file of at most 20 MB (read before CSRF checks)."""
    view.__dps_upload__ = MAX_BYTES + FORM_OVERHEAD
    return view


def uploaded(field: str = "file", label: str = "File") -> tuple[str, str]:
    """``(filename, content_base64)`` of the form's file, or the error naming the field."""
    file = request.files.get(field)
    if file is None or not file.filename:
        raise FormInvalid([{"field": field, "text": f"{label}: choose a file"}])
    content = file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise FormInvalid([{"field": field, "text": f"{label}: the file must be 20 MB or "
                            "smaller"}])
    try:  # the services' own check (type, emptiness), before anything is stored or sent
        documents.check(content, file.filename)
    except DomainError as exc:
        text = next((e["msg"] for e in exc.errors if "msg" in e), exc.detail)
        raise FormInvalid([{"field": field, "text": f"{label}: {text[:1].upper()}{text[1:]}"}]
                          ) from exc
    return file.filename, base64.b64encode(content).decode()


__all__ = ["file_response", "upload_page", "uploaded"]
