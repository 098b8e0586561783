"""DPS settings and qualification (API.md "DPS settings and qualification", RULES §2–§4).

The gateway authenticates, checks the role (401/403 before any validation), validates with
the qualification service's models and calls it; per-object rules (a provider's own
establishments, a commissioner reading admitted ones only, §10's 404-vs-403) are the
service's. Additions to API.md, documented in the OpenAPI document:

- ``GET /categories/{code}``: one category's configuration (``?version=`` for an older one).
- ``PATCH /establishments/{id}``: name, address, capacity or contacts.
- ``GET /establishments/eligible``: who a referral at a point would invite (§5), for the
  caller's authority.
- ``GET /applications/{id}`` and ``PUT /applications/{id}`` (replace a draft's content, e.g.
  a copy's establishment-level answers).
- ``POST /applications/{id}/extension``: evaluation extended to 15 working days (§4.3).
- ``POST /establishments/{id}/memberships/{category}/evidence`` (renew before expiry),
  ``…/reverification`` (the yearly re-check) and ``…/removal`` (§4.5).
- ``GET /dps`` and the markets (§3, §11.1): ``gateway/routes/markets.py``.
- ``POST /applications/{id}/exclusion-check`` (§11.2, s.62), ``POST …/memberships/
  {category}/removal-notice`` (s.37(4)), ``PATCH /providers/{id}`` (PPON, §11.2).
"""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field

from gateway.app import call
from gateway.auth import require
from gateway.csv_export import establishments_csv
from gateway.idempotency import idempotent
from services.qualification.messages import (
    ApplicationCopy,
    ApplicationCreate,
    ApplicationQuery,
    ApplicationUpdate,
    ApplicationView,
    CategoryCode,
    CategoryPatch,
    CategoryView,
    Decision,
    EligibleEstablishment,
    EligibleQuery,
    EstablishmentCreate,
    EstablishmentQuery,
    EstablishmentUpdate,
    EstablishmentView,
    EvaluationExtension,
    ExclusionCheck,
    ExportQuery,
    InspectionCreate,
    MembershipRemoval,
    MembershipView,
    ProviderPatch,
    ProviderView,
    RemovalNotice,
    Resubmission,
    Reverification,
    SuspendRequest,
)

bp = APIBlueprint(
    "qualification",
    __name__,
    url_prefix="/api/v1",
    abp_tags=[
        Tag(
            name="qualification",
            description="DPS settings, categories, "
            "establishments, applications and memberships (RULES §2–§4)",
        )
    ],
    abp_security=[{"bearer": []}],
)

ANY = ("lead", "commissioner", "provider", "contract_manager", "auditor")
READERS = ("provider", "lead", "contract_manager", "commissioner")


class CategoryPath(BaseModel):
    code: CategoryCode


class CategoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(None, ge=1, description="an older version (default: in force)")


class EstablishmentPath(BaseModel):
    establishment_id: str = Field(max_length=36)


class MembershipPath(BaseModel):
    establishment_id: str = Field(max_length=36)
    category: CategoryCode


class ProviderPath(BaseModel):
    provider_id: str = Field(max_length=36)


class ApplicationPath(BaseModel):
    application_id: str = Field(max_length=36)


class EstablishmentPage(BaseModel):
    items: list[EstablishmentView]
    next_cursor: str | None


class ApplicationPage(BaseModel):
    items: list[ApplicationView]
    next_cursor: str | None


class CategoryPage(BaseModel):
    items: list[CategoryView]
    next_cursor: str | None


class EligiblePage(BaseModel):
    items: list[EligibleEstablishment]
    next_cursor: str | None


def _q(model: BaseModel) -> dict:
    return model.model_dump(mode="json", exclude_none=True)


def _patch(model: BaseModel) -> dict:
    return model.model_dump(mode="json", exclude_unset=True)


def _call(method: str, *args):
    """Call the qualification service; a model argument (a request body) goes as JSON."""
    return call(
        "qualification",
        method,
        *(a.model_dump(mode="json") if isinstance(a, BaseModel) else a for a in args),
    )


# --- providers (§11.2) and categories (§2) --------------------------------------------------


@bp.patch("/providers/<provider_id>", responses={200: ProviderView})
@require("provider", "lead")
def patch_provider(path: ProviderPath, body: ProviderPatch):
    """The organisation's PPON (scheme GB-PPON) and Companies House number (§11.2)."""
    return _call("update_provider", path.provider_id, _patch(body))


@bp.get("/categories", responses={200: CategoryPage})
@require(*ANY)
def list_categories():
    """The five categories with criteria, weights, cost heads and settings (§2)."""
    return _call("list_categories")


@bp.get("/categories/<code>", responses={200: CategoryView})
@require(*ANY)
def get_category(path: CategoryPath, query: CategoryQuery):
    """One category's configuration in force, or an older ``version``."""
    return _call("get_category", path.code, query.version)


@bp.patch("/categories/<code>", responses={200: CategoryView})
@require("lead")
def patch_category(path: CategoryPath, body: CategoryPatch):
    """Change a category's settings; each change makes a new version (§2). Maps merge; a
    ``null`` cap removes it."""
    return _call("update_category", path.code, _patch(body))


# --- establishments (§4) -----------------------------------------------------------------------


@bp.post("/establishments", responses={201: EstablishmentView})
@require("provider")
@idempotent
def create_establishment(body: EstablishmentCreate):
    """Register one of the provider organisation's establishments (§4)."""
    return _call("create_establishment", body), 201


@bp.get("/establishments", responses={200: EstablishmentPage})
@require(*READERS)
def list_establishments(query: EstablishmentQuery):
    """A provider its own, a commissioner admitted ones, the lead and the contract manager
    all (§10). Filters: ``category``, ``status`` (a membership status), ``near=lat,lon`` with
    ``radius_miles``, ``reverification_due``."""
    return _call("list_establishments", _q(query))


@bp.get("/establishments/export", responses={200: {
    "description": "Admitted establishments with their memberships (format=json or csv)",
    "content": {"application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}}}}})
@require("lead", "contract_manager")
def export_establishments(query: ExportQuery):
    """Admitted establishments with their memberships, as JSON or CSV (one row per
    membership), for partners who run referrals on another platform (business case
    7.16)."""
    data = _call("export_establishments", _q(query))
    if query.format == "json":
        return data
    name = f"dps-establishments-{query.category or 'all'}-{data['generated_on']}.csv"
    return Response(
        establishments_csv(data),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/establishments/eligible", responses={200: EligiblePage})
@require("commissioner", "lead")
def eligible_establishments(query: EligibleQuery):
    """Who a referral at this point would invite (§5): admitted, not suspended, within the
    radius and not above the caller's authority's cap; nearest first."""
    return _call("list_eligible", query)


@bp.get("/establishments/<establishment_id>", responses={200: EstablishmentView})
@require(*READERS)
def get_establishment(path: EstablishmentPath):
    """With memberships per category: status, core competency, costs and history."""
    return _call("get_establishment", path.establishment_id)


@bp.patch("/establishments/<establishment_id>", responses={200: EstablishmentView})
@require("provider", "lead")
def patch_establishment(path: EstablishmentPath, body: EstablishmentUpdate):
    """Change the name, address, capacity or contacts (the location and categories stay)."""
    return _call("update_establishment", path.establishment_id, _patch(body))


@bp.post("/establishments/<establishment_id>/inspections", responses={201: EstablishmentView})
@require("lead")
@idempotent
def record_inspection(path: EstablishmentPath, body: InspectionCreate):
    """Record a regulator judgement; a latest INADEQUATE suspends at once (§4.5)."""
    return _call("record_inspection", path.establishment_id, body), 201


# --- memberships (§4.5) ------------------------------------------------------------------------

_MS = "/establishments/<establishment_id>/memberships/<category>"


@bp.post(f"{_MS}/suspend", responses={200: MembershipView})
@require("lead")
def suspend(path: MembershipPath, body: SuspendRequest):
    """Suspend for a pass/fail criterion that no longer holds (§4.5), for all authorities."""
    return _call("suspend_membership", path.establishment_id, path.category, body)


@bp.post(f"{_MS}/resubmission", responses={200: MembershipView})
@require("provider")
def resubmit(path: MembershipPath, body: Resubmission):
    """New evidence for the failed criterion only (§4.5)."""
    return _call("resubmit_evidence", path.establishment_id, path.category, body)


@bp.post(f"{_MS}/reinstate", responses={200: MembershipView})
@require("lead")
def reinstate(path: MembershipPath):
    """Accept the resubmitted evidence: admitted again, history kept (§4.5)."""
    return _call("reinstate_membership", path.establishment_id, path.category)


@bp.post(f"{_MS}/evidence", responses={200: MembershipView})
@require("provider")
def renew_evidence(path: MembershipPath, body: Resubmission):
    """Renew a criterion's evidence before it expires (§4.5)."""
    return _call("renew_evidence", path.establishment_id, path.category, body)


@bp.post(f"{_MS}/reverification", responses={200: MembershipView})
@require("lead")
def reverify(path: MembershipPath, body: Reverification):
    """The yearly re-verification; naming a failed criterion suspends (§4.5)."""
    return _call("reverify_membership", path.establishment_id, path.category, body)


@bp.post(f"{_MS}/removal-notice", responses={200: MembershipView})
@require("lead")
def removal_notice(path: MembershipPath, body: RemovalNotice):
    """Tell the supplier the decision to remove it and the reasons; suspended until the
    removal (§11.2, Procurement Act 2023 s.37(4))."""
    return _call("notify_removal", path.establishment_id, path.category, body)


@bp.post(f"{_MS}/removal", responses={200: MembershipView})
@require("lead")
def remove(path: MembershipPath, body: MembershipRemoval):
    """End a membership (§4.5); the establishment may apply again."""
    return _call("remove_membership", path.establishment_id, path.category, body)


# --- applications (§4, §4.3) --------------------------------------------------------------------


@bp.post("/applications", responses={201: ApplicationView})
@require("provider")
@idempotent
def create_application(body: ApplicationCreate):
    """A draft for one establishment and one category (§4)."""
    return _call("create_application", body), 201


@bp.get("/applications", responses={200: ApplicationPage})
@require("provider", "lead")
def list_applications(query: ApplicationQuery):
    """A provider its own, the lead all; filters ``status``, ``overdue=true`` (§4.3)."""
    return _call("list_applications", _q(query))


@bp.get("/applications/<application_id>", responses={200: ApplicationView})
@require("provider", "lead")
def get_application(path: ApplicationPath):
    """One application with its decision: scores, competency and rejection reasons."""
    return _call("get_application", path.application_id)


@bp.put("/applications/<application_id>", responses={200: ApplicationView})
@require("provider")
def update_application(path: ApplicationPath, body: ApplicationUpdate):
    """Replace a draft's content."""
    return _call("update_application", path.application_id, body)


@bp.post("/applications/<application_id>/copy", responses={201: ApplicationPage})
@require("provider")
@idempotent
def copy_application(path: ApplicationPath, body: ApplicationCopy):
    """New drafts for other establishments of the organisation, reusing its answers (§4)."""
    return _call("copy_application", path.application_id, body), 201


@bp.post("/applications/<application_id>/submit", responses={200: ApplicationView})
@require("provider")
def submit_application(path: ApplicationPath):
    """Submit for evaluation: 409 while entry is closed or when incomplete (§3, §4.3)."""
    return _call("submit_application", path.application_id)


@bp.post("/applications/<application_id>/extension", responses={200: ApplicationView})
@require("lead")
def extend_evaluation(path: ApplicationPath, body: EvaluationExtension):
    """Extend the evaluation to 15 working days, once, with a reason (§4.3)."""
    return _call("extend_evaluation", path.application_id, body)


@bp.post("/applications/<application_id>/exclusion-check", responses={200: ApplicationView})
@require("lead")
def exclusion_check(path: ApplicationPath, body: ExclusionCheck):
    """Record the debarment-list and exclusion check, needed before admission to a
    dynamic market (§11.2, Procurement Act 2023 ss.57, 62)."""
    return _call("record_exclusion_check", path.application_id, body)


@bp.post("/applications/<application_id>/decision", responses={200: ApplicationView})
@require("lead")
def decide(path: ApplicationPath, body: Decision):
    """Admit or reject, with a result per criterion and the weighted scores → core
    competency (§4.2, §4.3)."""
    return _call("decide_application", path.application_id, body)
