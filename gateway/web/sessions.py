"""Server-side sessions (RULES §12) in ``gateway.web_sessions``.

The cookie holds a random 256-bit id; the table keys its SHA-256, so a database reader
cannot hijack a session. Idle timeout and absolute timeout end a session at the next
request (``g.session_ended`` tells the page why); signing in rotates the id (no fixation);
signing out deletes the row. The cookie is ``HttpOnly``, ``SameSite=Lax`` and ``Secure``
whenever the request came over HTTPS (directly or through a trusted proxy). API requests
(``/api/``) never get a session: they authenticate with a key.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import g
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from werkzeug.datastructures import CallbackDict

from gateway.store import web_sessions
from services.common.clock import utcnow

COOKIE = "dps_session"


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, sid: str | None = None, created_at=None):
        def on_update(_):
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.created_at = created_at
        self.modified = False
        self.rotate_requested = False

    def rotate(self) -> None:
        """A new id for the same data (on sign-in: the pre-sign-in id is worthless)."""
        self.rotate_requested = True
        self.modified = True


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class DbSessionInterface(SessionInterface):
    def __init__(self, engine, config):
        self.engine = engine
        self.config = config

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return None  # → a null session: the API is stateless
        sid = request.cookies.get(COOKIE)
        if not sid:
            return ServerSession()
        with self.engine.connect() as conn:
            row = conn.execute(select(web_sessions).where(
                web_sessions.c.id_hash == _digest(sid))).first()
        if row is None:
            return ServerSession()
        now = utcnow()
        idle = now - row.last_seen_at > timedelta(seconds=self.config.portal_idle_timeout_seconds)
        old = now - row.created_at > timedelta(seconds=self.config.portal_absolute_timeout_seconds)
        if idle or old:
            self._delete(sid)
            g.session_ended = {"reason": "idle" if idle else "absolute",
                               "user_id": row.data.get("user_id")}
            return ServerSession()
        return ServerSession(row.data, sid=sid, created_at=row.created_at)

    def _delete(self, sid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _digest(sid)))

    def save_session(self, app, session, response):
        if session is None or not isinstance(session, ServerSession):
            return
        from flask import request

        secure = request.is_secure
        if not session:  # emptied (signed out) or never used
            if session.sid:
                self._delete(session.sid)
                response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True,
                                       samesite="Lax")
            return
        now = utcnow()
        if session.rotate_requested and session.sid:
            self._delete(session.sid)
            session.sid = None
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
            session.created_at = now
            with self.engine.begin() as conn:
                conn.execute(pg_insert(web_sessions).values(
                    id_hash=_digest(session.sid), data=dict(session), created_at=now,
                    last_seen_at=now))
        else:
            values = {"last_seen_at": now}
            if session.modified:
                values["data"] = dict(session)
            with self.engine.begin() as conn:
                conn.execute(update(web_sessions).where(
                    web_sessions.c.id_hash == _digest(session.sid)).values(**values))
        response.set_cookie(COOKIE, session.sid, path="/", httponly=True, secure=secure,
                            samesite="Lax",
                            max_age=self.config.portal_absolute_timeout_seconds)
        response.vary.add("Cookie")


def end_sessions_of(engine, user_id: str) -> None:
    """Sign a user out everywhere (password reset, disabled account)."""
    with engine.begin() as conn:
        conn.execute(delete(web_sessions).where(
            web_sessions.c.data["user_id"].astext == user_id))
