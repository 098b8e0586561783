"""File bodies (issue 12): a view marked ``upload_body`` takes the file itself as its body
(at most 20 MB, else 413; the app skips its JSON checks for it), and files go back byte for
byte with their type, name and SHA-256."""

from __future__ import annotations

import base64

from flask import Response, request

from services.common.documents import MAX_BYTES
from services.common.errors import TooLarge

FILE_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


def upload_body(view):
    """Mark a view whose body is a file of at most 20 MB."""
    view.__dps_upload__ = MAX_BYTES
    return view


def file_bytes() -> bytes:
    if (request.content_length or 0) > MAX_BYTES:
        raise TooLarge(f"file: at most {MAX_BYTES // (1024 * 1024)} MB")
    return request.get_data(cache=False)


def file_base64() -> str:
    return base64.b64encode(file_bytes()).decode()


def file_response(found: dict) -> Response:
    return Response(
        base64.b64decode(found["content_base64"]), mimetype=found["content_type"],
        headers={"Content-Disposition": f'attachment; filename="{found["filename"]}"',
                 "X-Content-SHA256": found["sha256"], "X-Content-Type-Options": "nosniff"},
    )
