"""``Idempotency-Key`` on creating POSTs (API.md conventions).

The first request with a key reserves it (unique per principal) before the work runs; the
response is stored when it completes. A replay returns the stored response; a concurrent
replay of a request still running gets 409; a replay with another body gets 422.

A first request that fails frees its key for another try only when nothing can have been
done. When a service got the request but did not answer in time (a 503 whose outcome is
unknown: it may still commit), the key stays taken and a replay gets 409 saying so: a
retry with the same key must never do the work twice (API.md: "a repeat with the same
key ... creates nothing").
"""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import current_app, g, json, make_response, request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from gateway import problems
from gateway.rpc import ServiceUnavailable
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
            response.mimetype = problems.PROBLEM if row.status >= 400 else "application/json"
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = make_response(view(*args, **kwargs))
        except Exception as exc:
            with engine.begin() as conn:
                if isinstance(exc, ServiceUnavailable) and exc.outcome_unknown:
                    # it may yet be done: the key stays taken
                    conn.execute(update(idempotency).where(*where).values(
                        status=409, response=_outcome_unknown(exc)))
                else:  # nothing was done: the key may be used again
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


def _outcome_unknown(exc: ServiceUnavailable) -> dict:
    """The problem a replay gets after a first request whose outcome is unknown."""
    return problems.body(
        409, f"The first request with this Idempotency-Key ended without an answer ({exc}) "
             "and may still have been carried out. Check whether it was (for example by "
             "listing what it would have created) before sending it again with a new key.",
        service=exc.service)
