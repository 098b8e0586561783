"""People who sign in to the portal (RULES §12): accounts, single-use tokens, lockout, and
the audit of every sign-in event in the gateway's own hash chain (§9).

A user belongs to one principal of §1 ``{role, authority?, provider_id?}`` and acts with
exactly that principal's rights (§10), like an API key. Tokens (invitation and reset links,
emailed sign-in codes) are stored as SHA-256 hashes only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from gateway.auth import Principal
from gateway.store import audit_tables, gateway_audit, user_tokens, users
from gateway.web import passwords
from gateway.web.config import PortalConfig
from services.common import audit as chain
from services.common.uow import audit_rows, seal_audit, verify_audit

INVITATION, RESET, CODE = "invitation", "reset", "sign_in_code"
PHONE_CHECK = "phone_check"  # the code that proves a user holds a phone (§12 SMS codes)
CODES = (CODE, PHONE_CHECK)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    role: str
    authority: str | None
    provider_id: str | None
    is_admin: bool
    status: str
    has_totp: bool
    phone: str | None = None  # verified: sign-in codes go to it by SMS (§12)

    @property
    def principal(self) -> Principal:
        return Principal(id=self.id, role=self.role, authority=self.authority,
                         provider_id=self.provider_id, label=self.email)

    def actor(self) -> dict:
        return {**self.principal.as_context(), "kind": "user"}


def _user(row) -> User | None:
    if row is None:
        return None
    return User(row.id, row.email, row.name, row.role, row.authority, row.provider_id,
                row.is_admin, row.status, bool(row.totp_secret),
                row.phone if row.phone_verified_at else None)


def normalise(email: str) -> str:
    return (email or "").strip().lower()


def get(engine: Engine, user_id: str) -> User | None:
    with engine.connect() as conn:
        return _user(conn.execute(select(users).where(users.c.id == user_id)).first())


def by_email(engine: Engine, email: str) -> User | None:
    with engine.connect() as conn:
        return _user(conn.execute(select(users).where(users.c.email == normalise(email)))
                     .first())


def colleagues(engine: Engine, of: User) -> list[User]:
    """Users of the same principal (§12: an administrator manages these and nobody else)."""
    q = select(users).where(users.c.role == of.role)
    q = q.where(users.c.authority.is_(None) if of.authority is None
                else users.c.authority == of.authority)
    q = q.where(users.c.provider_id.is_(None) if of.provider_id is None
                else users.c.provider_id == of.provider_id)
    with engine.connect() as conn:
        return [_user(r) for r in conn.execute(q.order_by(users.c.email))]


def principal_has_users(engine: Engine, role: str, authority: str | None,
                        provider_id: str | None) -> bool:
    q = select(func.count()).select_from(users).where(users.c.role == role)
    if authority:
        q = q.where(users.c.authority == authority)
    if provider_id:
        q = q.where(users.c.provider_id == provider_id)
    with engine.connect() as conn:
        return conn.execute(q).scalar_one() > 0


def create(engine: Engine, now: datetime, *, email: str, name: str, role: str,
           authority: str | None = None, provider_id: str | None = None,
           is_admin: bool = False, password: str | None = None,
           invited_by: User | None = None) -> User:
    user_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(insert(users).values(
            id=user_id, email=normalise(email), name=name.strip(), role=role,
            authority=authority, provider_id=provider_id, is_admin=is_admin,
            status="active" if password else "invited",
            password_hash=passwords.hash_password(password) if password else None,
            created_at=now, invited_by=invited_by.id if invited_by else None))
        user = _user(conn.execute(select(users).where(users.c.id == user_id)).first())
        record(conn, now, invited_by.actor() if invited_by else user.actor(),
               "user.invited" if invited_by else "user.registered", user,
               {"role": role, "authority": authority, "provider_id": provider_id,
                "is_admin": is_admin})
    return user


def set_status(engine: Engine, now: datetime, user: User, status: str, by: User) -> None:
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(status=status))
        record(conn, now, by.actor(), f"user.{status}", user, {"status": status})


def set_password(engine: Engine, now: datetime, user: User, password: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            password_hash=passwords.hash_password(password), failed_attempts=0,
            locked_until=None, status="active" if user.status == "invited" else user.status))
        record(conn, now, user.actor(), "user.password_changed", user, None)


def set_totp(engine: Engine, now: datetime, user: User, secret: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(totp_secret=secret))
        record(conn, now, user.actor(), "user.totp_set" if secret else "user.totp_removed",
               user, None)


def set_phone(engine: Engine, now: datetime, user: User, phone: str | None) -> None:
    """A verified mobile (or none): sign-in codes go to it by SMS (§12). The audit keeps
    only the number's last 3 digits."""
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            phone=phone, phone_verified_at=now if phone else None))
        record(conn, now, user.actor(), "user.phone_verified" if phone else "user.phone_removed",
               user, {"phone_ending": phone[-3:]} if phone else None)


def totp_secret(engine: Engine, user: User) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(users.c.totp_secret).where(users.c.id == user.id)
                            ).scalar_one_or_none()


# --- sign-in: password, lockout, second factor ---------------------------------------------


def check_password(engine: Engine, config: PortalConfig, now: datetime, email: str,
                   password: str) -> tuple[str, User | None]:
    """``("ok" | "bad" | "locked" | "disabled", user)``; five failures in a row lock the
    account for 15 minutes (§12). An unknown email costs the same hashing time."""
    with engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.email == normalise(email))
                           .with_for_update()).first()
        if row is None:
            passwords.verify(None, password)
            record(conn, now, {"kind": "anonymous"}, "sign_in.failed", None,
                   {"reason": "unknown email"})
            return "bad", None
        user = _user(row)
        if row.locked_until and row.locked_until > now:
            record(conn, now, user.actor(), "sign_in.refused_locked", user, None)
            return "locked", user
        if not passwords.verify(row.password_hash, password):
            _failure(conn, config, now, row, user, "wrong password")
            return ("locked" if _locked(conn, user, now) else "bad"), user
        if row.status != "active":
            record(conn, now, user.actor(), "sign_in.refused_disabled", user, None)
            return "disabled", user
        record(conn, now, user.actor(), "sign_in.password_ok", user, None)
        return "ok", user


def _locked(conn: Connection, user: User, now: datetime) -> bool:
    until = conn.execute(select(users.c.locked_until).where(users.c.id == user.id)).scalar()
    return bool(until and until > now)


def _failure(conn: Connection, config: PortalConfig, now: datetime, row, user: User,
             reason: str) -> None:
    failures = row.failed_attempts + 1
    values = {"failed_attempts": failures}
    record(conn, now, user.actor(), "sign_in.failed", user,
           {"reason": reason, "failures_in_a_row": failures})
    if failures >= config.portal_lockout_failures:
        values = {"failed_attempts": 0,
                  "locked_until": now + timedelta(seconds=config.portal_lockout_seconds)}
        record(conn, now, user.actor(), "user.locked", user,
               {"until": values["locked_until"].isoformat()})
    conn.execute(update(users).where(users.c.id == user.id).values(**values))


def second_factor_failed(engine: Engine, config: PortalConfig, now: datetime,
                         user: User) -> bool:
    """A wrong code counts as a failure in a row too; True when the account is now locked."""
    with engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.id == user.id).with_for_update()).first()
        _failure(conn, config, now, row, user, "wrong code")
        return _locked(conn, user, now)


def signed_in(engine: Engine, now: datetime, user: User, factor: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            failed_attempts=0, last_sign_in_at=now))
        record(conn, now, user.actor(), "sign_in.succeeded", user, {"second_factor": factor})


def signed_out(engine: Engine, now: datetime, user: User, reason: str) -> None:
    with engine.begin() as conn:
        record(conn, now, user.actor(), "sign_out", user, {"reason": reason})


# --- single-use tokens -----------------------------------------------------------------------


def _digest(token_id: str, token: str) -> str:
    return hashlib.sha256(f"{token_id}:{token}".encode()).hexdigest()


def _bound(secret: str, bound_to: str | None) -> str:
    return f"{secret}@{bound_to}" if bound_to else secret


def issue(engine: Engine, now: datetime, user: User, kind: str, seconds: int,
          bound_to: str | None = None) -> str:
    """A new token of ``kind`` for the user (earlier unused ones of that kind end): a
    6-digit code for sign-in, otherwise ``<id>.<secret>`` for a link. ``bound_to`` (a phone
    number) goes into the digest: the code then proves only that number (§12)."""
    token_id = str(uuid.uuid4())
    secret = f"{secrets.randbelow(10**6):06d}" if kind in CODES else secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(update(user_tokens).where(
            user_tokens.c.user_id == user.id, user_tokens.c.kind == kind,
            user_tokens.c.used_at.is_(None)).values(used_at=now))
        conn.execute(insert(user_tokens).values(
            id=token_id, user_id=user.id, kind=kind,
            token_hash=_digest(token_id, _bound(secret, bound_to)),
            created_at=now, expires_at=now + timedelta(seconds=seconds)))
        if kind not in CODES:
            record(conn, now, user.actor(), f"{kind}.issued", user, None)
    return secret if kind in CODES else f"{token_id}.{secret}"


def use_code(engine: Engine, now: datetime, user: User, code: str, kind: str = CODE,
             bound_to: str | None = None) -> bool:
    """The user's live code of ``kind`` is this one (and was issued for ``bound_to``)."""
    code = _bound((code or "").strip().replace(" ", ""), bound_to)
    with engine.begin() as conn:
        row = conn.execute(select(user_tokens).where(
            user_tokens.c.user_id == user.id, user_tokens.c.kind == kind,
            user_tokens.c.used_at.is_(None), user_tokens.c.expires_at > now)).first()
        if row is None or not hmac.compare_digest(row.token_hash, _digest(row.id, code)):
            return False
        conn.execute(update(user_tokens).where(user_tokens.c.id == row.id).values(used_at=now))
        return True


def link_user(engine: Engine, now: datetime, kind: str, token: str) -> User | None:
    """The user an unused, unexpired link token of ``kind`` belongs to."""
    token_id, _, secret = (token or "").partition(".")
    with engine.connect() as conn:
        row = conn.execute(select(user_tokens).where(
            user_tokens.c.id == token_id[:36], user_tokens.c.kind == kind,
            user_tokens.c.used_at.is_(None), user_tokens.c.expires_at > now)).first()
        if row is None or not hmac.compare_digest(row.token_hash, _digest(row.id, secret)):
            return None
        return _user(conn.execute(select(users).where(users.c.id == row.user_id)).first())


def consume_link(engine: Engine, now: datetime, token: str) -> None:
    token_id = (token or "").partition(".")[0][:36]
    with engine.begin() as conn:
        conn.execute(update(user_tokens).where(user_tokens.c.id == token_id)
                     .values(used_at=now))


def forget_codes(engine: Engine, user: User, kind: str = CODE) -> None:
    with engine.begin() as conn:
        conn.execute(delete(user_tokens).where(user_tokens.c.user_id == user.id,
                                               user_tokens.c.kind == kind))


# --- the gateway's audit chain (§9) ----------------------------------------------------------


def record(conn: Connection, now: datetime, actor: dict, action: str, user: User | None,
           after: dict | None) -> None:
    conn.execute(insert(gateway_audit).values(
        occurred_at=now, actor=chain.canonical(actor), action=action, entity_type="user",
        entity_id=user.id if user else "unknown", before=None, after=chain.canonical(after),
        request_id=_request_id()))
    # sealed at once, under the schema's advisory lock: sign-ins are rare enough
    seal_audit(Session(bind=conn), audit_tables, "gateway", wait=True)


def _request_id() -> str | None:
    from flask import g, has_request_context

    return g.get("request_id") if has_request_context() else None


def audit_records(engine: Engine, filters: dict) -> list[dict]:
    with Session(engine) as session:
        return audit_rows(session, audit_tables, filters.get("entity_type"),
                          filters.get("entity_id"), filters.get("start"), filters.get("end"),
                          filters.get("limit", 100))


def audit_verify(engine: Engine) -> dict:
    with Session(engine) as session:
        return verify_audit(session, audit_tables).as_dict()
