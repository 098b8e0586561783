"""``Idempotency-Key`` on creating POSTs (API.md conventions).

The first request with a key reserves it (unique per principal) before the work runs; the
response is stored when it completes. A replay returns the stored response; a concurrent
replay of a request still running gets 409; a replay with another body gets 422.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import current_app, g, json, make_response, request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from gateway.store import idempotency
from services.common.clock import utcnow
from services.common.errors import Conflict, InvalidInput

HEADER = "Idempotency-Key"


def idempotent(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if not key:
            return view(*args, **kwargs)
        if len(key) > 200:
            raise InvalidInput.at(["header", HEADER], "at most 200 characters")
        engine = current_app.extensions["dps.engine"]
        principal_id = g.principal.id if g.get("principal") else f"anon:{request.remote_addr}"
        body_hash = hashlib.sha256(request.get_data()).hexdigest()
        where = (idempotency.c.principal_id == principal_id, idempotency.c.key == key)
        try:
            with engine.begin() as conn:
                conn.execute(insert(idempotency).values(
                    principal_id=principal_id, key=key, method=request.method,
                    path=request.path, body_hash=body_hash, created_at=utcnow()))
        except IntegrityError:
            with engine.connect() as conn:
                row = conn.execute(select(idempotency).where(*where)).first()
            if row.path != request.path or row.body_hash != body_hash:
                raise InvalidInput.at(["header", HEADER],
                                      "this key was used for a different request") from None
            if row.status is None:
                raise Conflict("a request with this Idempotency-Key is still running") \
                    from None
            response = make_response(json.dumps(row.response), row.status)
            response.mimetype = "application/json"
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = make_response(view(*args, **kwargs))
        except Exception:
            with engine.begin() as conn:  # failed: the key may be used again
                conn.execute(delete(idempotency).where(*where))
            raise
        with engine.begin() as conn:
            if response.status_code < 500 and response.is_json:
                conn.execute(update(idempotency).where(*where).values(
                    status=response.status_code, response=response.get_json()))
            else:
                conn.execute(delete(idempotency).where(*where))
        return response

    return wrapper
