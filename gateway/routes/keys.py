"""Registration and keys (API.md): POST /providers, POST /keys, DELETE /keys/{id}."""

from __future__ import annotations

from flask import current_app, g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field

from gateway.app import call, limiter
from gateway.auth import create_key, require, revoke_key
from gateway.idempotency import idempotent
from services.qualification.messages import ProviderCreate

bp = APIBlueprint("keys", __name__, url_prefix="/api/v1", abp_tags=[Tag(name="keys")],
                  abp_security=[{"bearer": []}])


# open registration has its own blueprint so that its rate limit is checked before the
# body is validated: a flood of invalid requests is limited too
registration = APIBlueprint("registration", __name__, url_prefix="/api/v1",
                            abp_tags=[Tag(name="keys")])
limiter.limit(lambda: current_app.extensions["dps.settings"].registration_rate_limit)(
    registration)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(description="lead, commissioner, provider, contract_manager, auditor")
    authority: str | None = Field(None, max_length=20)
    provider_id: str | None = Field(None, max_length=36)
    label: str = Field(min_length=1, max_length=200)


class KeyCreated(BaseModel):
    id: str
    api_key: str = Field(description="shown once; only its hash is stored")


class ProviderRegistered(BaseModel):
    id: str
    api_key: str


class KeyPath(BaseModel):
    key_id: str


def _engine():
    return current_app.extensions["dps.engine"]


def _lead_authority():
    return current_app.extensions["dps.settings"].lead_authority


@registration.post("/providers", responses={201: ProviderRegistered})
@require(public=True)
@idempotent
def register_provider(body: ProviderCreate):
    """Open registration of a provider organisation (RULES §3); returns its key once."""
    provider = call("qualification", "create_provider", body.model_dump(mode="json"))
    _, key = create_key(_engine(), "provider", f"{provider['name']} (registration)",
                        provider_id=provider["id"], lead_authority=_lead_authority())
    return {"id": provider["id"], "api_key": key}, 201


@bp.post("/keys", responses={201: KeyCreated})
@require("lead")
@idempotent
def create(body: KeyCreate):
    """The lead issues a key for any principal (RULES §1)."""
    key_id, key = create_key(_engine(), body.role, body.label, body.authority,
                             body.provider_id, created_by=g.principal.id,
                             lead_authority=_lead_authority())
    return {"id": key_id, "api_key": key}, 201


@bp.delete("/keys/<key_id>", responses={204: None})
@require()
def revoke(path: KeyPath):
    """Revoke a key: the lead, or the key's own principal."""
    revoke_key(_engine(), path.key_id, g.principal)
    return "", 204


def register(app) -> None:
    app.register_api(registration)
    app.register_api(bp)
