"""Evidence files for pass/fail criteria (issue 12, RULES §4, §10): the application's
provider uploads them (PDF, DOCX, XLSX, JPEG or PNG by content, at most 20 MB); that
provider and the lead download them, anyone else gets 404. The body is the file itself."""

from __future__ import annotations

from typing import Annotated

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field

from gateway.app import call
from gateway.auth import require
from gateway.uploads import FILE_BODY, file_base64, file_response, upload_body
from services.qualification.messages import EvidenceList, EvidenceView

bp = APIBlueprint(
    "documents",
    __name__,
    url_prefix="/api/v1",
    abp_tags=[Tag(name="documents", description="RULES §4 evidence files")],
    abp_security=[{"bearer": []}],
)

Id = Annotated[str, Field(min_length=1, max_length=100)]


class ApplicationPath(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application_id: Id


class DocumentPath(ApplicationPath):
    document_id: Id


class EvidenceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    criterion: Annotated[str, Field(min_length=1, max_length=64)]
    filename: Annotated[str, Field(min_length=1, max_length=255)]


@bp.post("/applications/<application_id>/evidence", responses={201: EvidenceView},
         openapi_extensions=FILE_BODY)
@require("provider")
@upload_body
def add_evidence(path: ApplicationPath, query: EvidenceQuery):
    """Upload an evidence file for one pass/fail criterion of an open application (§4);
    413 over 20 MB, 422 for a type outside the allow-list (checked by content)."""
    body = {"criterion": query.criterion, "filename": query.filename,
            "content_base64": file_base64()}
    return call("qualification", "add_evidence", path.application_id, body), 201


@bp.get("/applications/<application_id>/evidence", responses={200: EvidenceList})
@require("provider", "lead")
def list_evidence(path: ApplicationPath):
    """The application's evidence files (its provider, the lead)."""
    return call("qualification", "list_evidence", path.application_id)


@bp.get("/applications/<application_id>/evidence/<document_id>",
        responses={200: {"content": {"application/octet-stream": {}}}})
@require("provider", "lead")
def get_evidence(path: DocumentPath):
    """Download an evidence file byte for byte (its provider, the lead; audited)."""
    return file_response(call("qualification", "get_evidence", path.application_id,
                              path.document_id))
