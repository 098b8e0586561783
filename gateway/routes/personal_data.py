"""Children's personal data (RULES §13): the decrypted record for its entitled readers,
erasure by destroying the referral's data key, and legal holds. The referral service
decides who may (owner; the awarded provider reads from the award on; anyone else 404)."""

from __future__ import annotations

from typing import Annotated

from flask import g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field

from gateway.app import call
from gateway.auth import require
from gateway.uploads import FILE_BODY, file_base64, file_response, upload_body
from services.common.errors import Conflict
from services.referral.messages import (
    AttachmentList,
    AttachmentView,
    ChildDataView,
    ChildErasureResult,
    ChildReferenceRequest,
    DirectPlacementChildView,
    ErasureRequest,
    LegalHoldRequest,
    ReferralChildExport,
)

bp = APIBlueprint(
    "personal_data",
    __name__,
    url_prefix="/api/v1",
    abp_tags=[Tag(name="personal data", description="RULES §13")],
    abp_security=[{"bearer": []}],
)

OWNER = ("commissioner", "lead")


class ReferralPath(BaseModel):
    model_config = ConfigDict(extra="forbid")
    referral_id: Annotated[str, Field(min_length=1, max_length=100)]


@bp.get("/referrals/<referral_id>/child", responses={200: ChildDataView})
@require("commissioner", "lead", "provider")
def child_data(path: ReferralPath):
    """The child's personal data, decrypted: the owning authority, and the awarded provider
    from the award on; a losing bidder gets 404 (§13)."""
    return call("referral", "child_data", path.referral_id)


@bp.post("/referrals/<referral_id>/erasure", responses={200: ChildDataView})
@require(*OWNER)
def erase(path: ReferralPath, body: ErasureRequest):
    """Erase the child's personal data by destroying the referral's data key: every copy
    becomes unreadable; 409 under a legal hold (§13)."""
    return call("referral", "erase_child_data", path.referral_id, body.model_dump(mode="json"))


@bp.put("/referrals/<referral_id>/legal-hold", responses={200: ChildDataView})
@require(*OWNER)
def place_hold(path: ReferralPath, body: LegalHoldRequest):
    """Record a legal hold with its reason: erasure is refused until it is lifted (§13)."""
    return call("referral", "place_legal_hold", path.referral_id, body.model_dump(mode="json"))


@bp.delete("/referrals/<referral_id>/legal-hold", responses={200: ChildDataView})
@require(*OWNER)
def lift_hold(path: ReferralPath):
    """Lift the legal hold (§13)."""
    return call("referral", "lift_legal_hold", path.referral_id)


class DirectPlacementPath(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direct_placement_id: Annotated[str, Field(min_length=1, max_length=100)]


@bp.get("/direct-placements/<direct_placement_id>/child",
        responses={200: DirectPlacementChildView})
@require(*OWNER)
def direct_placement_child(path: DirectPlacementPath):
    """A direct placement's child reference, decrypted, for its owning authority
    (``"personal_data": "erased"`` once erased), its legal hold and the day its placement
    ended, from which retention counts; another authority gets 404 (§13)."""
    return call("referral", "direct_placement_child", path.direct_placement_id)


@bp.put("/direct-placements/<direct_placement_id>/legal-hold",
        responses={200: DirectPlacementChildView})
@require(*OWNER)
def place_direct_placement_hold(path: DirectPlacementPath, body: LegalHoldRequest):
    """Record a legal hold with its reason on a direct placement: erasure of its child data,
    on request or by retention, is refused until it is lifted; another authority gets 404
    (§13)."""
    return call("referral", "place_direct_placement_hold", path.direct_placement_id,
                body.model_dump(mode="json"))


@bp.delete("/direct-placements/<direct_placement_id>/legal-hold",
           responses={200: DirectPlacementChildView})
@require(*OWNER)
def lift_direct_placement_hold(path: DirectPlacementPath):
    """Lift a direct placement's legal hold (§13)."""
    return call("referral", "lift_direct_placement_hold", path.direct_placement_id)


class ChildExport(BaseModel):
    """§13 subject access: everything the platform holds about one child reference of the
    caller's authority, as each service holds it (qualification holds no child data)."""

    child_reference: str
    authority: str | None
    referral: ReferralChildExport
    contracts: dict
    notifications: dict
    qualification: dict


@bp.post("/child-data/export", responses={200: ChildExport})
@require(*OWNER)
def export(body: ChildReferenceRequest):
    """Export everything held about one child reference as JSON: the referral service finds
    the child's records by blind index; contracts and notifications add their copies (§13).
    Audited in each service."""
    return child_export(body)


def child_export(body: ChildReferenceRequest) -> dict:
    """The §13 export document of one child reference, as the caller (``g.principal``):
    the same for the API and the portal's download."""
    referral = call("referral", "export_child", body.model_dump(mode="json"))
    return {
        "child_reference": body.child_reference,
        "authority": g.principal.authority,
        "referral": referral,
        "contracts": call("contracts", "child_export", referral["key_ids"]),
        "notifications": call("notifications", "child_export", referral["referral_ids"]),
        "qualification": {"note": "qualification holds no personal data about children"},
    }


@bp.post("/child-data/erasure", responses={200: ChildErasureResult})
@require(*OWNER)
def erase_child(body: ChildReferenceRequest):
    """Erase every record of one child reference (its referrals' and direct placements'
    data keys are destroyed: every copy in every service becomes unreadable); 409 while a
    legal hold stands on any of them (§13)."""
    return call("referral", "erase_child", body.model_dump(mode="json"))


# --------------------------------------------------------------------------- attachments


class UploadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: Annotated[str, Field(min_length=1, max_length=255)]


class AttachmentPath(ReferralPath):
    attachment_id: Annotated[str, Field(min_length=1, max_length=100)]


@bp.post("/referrals/<referral_id>/attachments", responses={201: AttachmentView},
         openapi_extensions=FILE_BODY)
@require(*OWNER)
@upload_body
def add_attachment(path: ReferralPath, query: UploadQuery):
    """Attach a document about the child (PDF, DOCX, XLSX, JPEG or PNG, by content; at most
    20 MB: 413): stored encrypted under the referral's key, visible to the owner and, from
    the award on, to the awarded provider (§13). The body is the file itself."""
    body = {"filename": query.filename, "content_base64": file_base64()}
    return call("referral", "add_attachment", path.referral_id, body), 201


@bp.get("/referrals/<referral_id>/attachments", responses={200: AttachmentList})
@require("commissioner", "lead", "provider")
def list_attachments(path: ReferralPath):
    """The referral's attachments: the owner, and the awarded provider from the award on;
    anyone else 404 (§13)."""
    return call("referral", "list_attachments", path.referral_id)


@bp.get("/referrals/<referral_id>/attachments/<attachment_id>",
        responses={200: {"content": {"application/octet-stream": {}}}})
@require("commissioner", "lead", "provider")
def get_attachment(path: AttachmentPath):
    """Download an attachment, byte for byte as uploaded (``X-Content-SHA256``); audited.
    409 once erased with the referral's personal data (§13)."""
    found = call("referral", "get_attachment", path.referral_id, path.attachment_id)
    if found["content_base64"] is None:
        raise Conflict("the attachment was erased with the referral's personal data")
    return file_response(found)
