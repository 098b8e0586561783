"""Helpers shared by the notifications integration tests: read the service's deliveries
and what the local SMTP and Notify stand-ins received."""

from __future__ import annotations

from sqlalchemy import select

from services.notifications import store
from tests.support.infra import wait_for


def deliveries(engine, **where) -> list[dict]:
    d = store.deliveries
    q = select(d)
    for key, value in where.items():
        column = d.c[key]
        q = q.where(
            column.like(value) if isinstance(value, str) and "%" in value else column == value
        )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def mine(server, token: str) -> list:
    """Messages the SMTP server received for this test's recipients."""
    return [m for m in server.received if any(token in r for r in m.rcpt_tos)]


def sms_to(notify, phones: set[str]) -> list:
    return [
        r for r in notify.sent if r.path.endswith("/sms") and r.payload["phone_number"] in phones
    ]


def settled(
    engine, referral_id: str | None, count: int, status: str = "delivered", **where
) -> list[dict]:
    """Wait until ``count`` deliveries (of the referral) have ``status``; return them."""
    if referral_id is not None:
        where["referral_id"] = referral_id

    def rows():
        found = [r for r in deliveries(engine, **where) if r["status"] == status]
        return found if len(found) == count else None

    return wait_for(rows, 20, f"{count} {status} deliveries")
