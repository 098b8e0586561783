"""API keys and principals (RULES §1, API.md "Registration and keys").

A key is 256 random bits; only its SHA-256 is stored (a fast hash is right for a
high-entropy secret: there is nothing to brute-force). A key maps to one principal
``{role, authority?, provider_id?}``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import uuid
from dataclasses import asdict, dataclass

from cachetools import TTLCache
from flask import g, request
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from gateway.store import api_keys
from services.common.clock import utcnow
from services.common.config import get_settings
from services.common.errors import Forbidden, InvalidInput, NotFound

ROLES = ("lead", "commissioner", "provider", "contract_manager", "auditor")
KEY_PREFIX = "dps_"


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    authority: str | None = None
    provider_id: str | None = None
    label: str = ""

    def as_context(self) -> dict:
        """What services see of the caller (used for §10 checks and §9 audit 'who')."""
        return {k: v for k, v in asdict(self).items() if k != "label"}


class Unauthenticated(Exception):
    """Missing or unknown key (HTTP 401)."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def validate_principal(role: str, authority: str | None, provider_id: str | None,
                       lead_authority: str) -> tuple[str | None, str | None]:
    """Check the role's required attributes; the lead acts for the lead authority (§10)."""
    if role not in ROLES:
        raise InvalidInput.at("role", f"must be one of {', '.join(ROLES)}")
    if role == "commissioner" and not authority:
        raise InvalidInput.at("authority", "a commissioner belongs to one authority")
    if authority and authority not in get_settings().authorities:
        raise InvalidInput.at("authority", "not a partner or associate authority (RULES §1)")
    if role == "provider" and not provider_id:
        raise InvalidInput.at("provider_id", "a provider key belongs to one organisation")
    if role == "lead":
        authority = authority or lead_authority
    if role not in ("commissioner", "lead"):
        authority = None
    if role != "provider":
        provider_id = None
    return authority, provider_id


def create_key(engine: Engine, role: str, label: str, authority: str | None = None,
               provider_id: str | None = None, created_by: str | None = None,
               lead_authority: str = "WSCC") -> tuple[str, str]:
    """Create a key; returns ``(key_id, api_key)``. The key itself is never stored."""
    if not label or not label.strip():
        raise InvalidInput.at("label", "a label is required")
    authority, provider_id = validate_principal(role, authority, provider_id, lead_authority)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(insert(api_keys).values(
            id=key_id, key_hash=hash_key(key), prefix=key[:12], role=role,
            authority=authority, provider_id=provider_id, label=label.strip(),
            created_at=utcnow(), created_by=created_by,
        ))
    return key_id, key


def revoke_key(engine: Engine, key_id: str, by: Principal) -> None:
    with engine.begin() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id,
                                                  api_keys.c.revoked_at.is_(None))).first()
        if row is None or (by.role != "lead" and by.id != key_id):
            raise NotFound("no such key")
        conn.execute(update(api_keys).where(api_keys.c.id == key_id)
                     .values(revoked_at=utcnow()))
    with _key_cache_lock:  # at once here; other gateway instances within KEY_CACHE_SECONDS
        for digest, principal in list(_key_cache.items()):
            if principal and principal.id == key_id:
                del _key_cache[digest]


KEY_CACHE_SECONDS = 1.0
"""How long a key lookup is remembered: a revocation takes effect within this time, and
a burst of requests with one key costs one database round trip a second."""

_key_cache: TTLCache = TTLCache(maxsize=10_000, ttl=KEY_CACHE_SECONDS)
_key_cache_lock = threading.Lock()


def authenticate(engine: Engine, header: str | None) -> Principal:
    if not header or not header.startswith("Bearer "):
        raise Unauthenticated("send Authorization: Bearer <api key>")
    digest = hash_key(header[len("Bearer "):].strip())
    with _key_cache_lock:
        principal = _key_cache.get(digest)
    if principal is None:
        principal = _lookup(engine, digest)
        with _key_cache_lock:
            _key_cache[digest] = principal
    if principal is False:
        raise Unauthenticated("unknown or revoked API key")
    return principal


def _lookup(engine: Engine, digest: str) -> Principal | bool:
    """The key's principal, or False for an unknown or revoked key (cached too, briefly)."""
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(
            api_keys.c.key_hash == digest, api_keys.c.revoked_at.is_(None))).first()
    if row is None:
        return False
    return Principal(id=row.id, role=row.role, authority=row.authority,
                     provider_id=row.provider_id, label=row.label)


def require(*roles: str, public: bool = False):
    """Mark a view with the roles allowed to call it (none given: any role).

    The check itself runs in ``app.before_request`` (``check_access``), before the body is
    validated, so a caller without rights learns nothing from validation errors.
    """

    def decorator(view):
        view.__dps_roles__ = roles
        view.__dps_public__ = public
        return view

    return decorator


def check_access(engine: Engine, view) -> None:
    """Authenticate (401) and authorise by role (403) the current request."""
    if getattr(view, "__dps_public__", False):
        g.principal = None
        return
    g.principal = authenticate(engine, request.headers.get("Authorization"))
    roles = getattr(view, "__dps_roles__", ())
    if roles and g.principal.role not in roles:
        raise Forbidden(f"the {g.principal.role} role may not do this")
