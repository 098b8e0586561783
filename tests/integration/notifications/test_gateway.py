"""The gateway's notification routes (API.md "Notifications and audit") in front of the
real service: ``GET /api/v1/notifications`` and ``POST /api/v1/notify/callbacks``."""

from __future__ import annotations

import pytest

from gateway.auth import create_key
from tests.support import notifications_events as ev
from tests.support.infra import wait_for
from tests.support.notifications_db import deliveries, settled, sms_to

TOKEN = "callback-token-for-tests"  # noqa: S105


@pytest.fixture
def gateway(notifications, monkeypatch, engine):
    monkeypatch.setenv("DPS_NOTIFY_CALLBACK_TOKEN", TOKEN)
    from gateway.app import create_app
    from services.common.config import Settings

    app = create_app(Settings())
    yield app.test_client()
    app.extensions["dps.rpc"].close()
    app.extensions["dps.engine"].dispose()


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_receipts_need_the_callback_token_and_complete_the_delivery(gateway, notify_server, engine):
    token = ev.new_token()
    event = ev.referral_published(token, 1)  # contact 0 opted in to SMS
    ev.publish("referral", event)
    [request] = wait_for(lambda: sms_to(notify_server, {ev.phone_of(0)}), 30, "the SMS")
    [row] = settled(engine, f"R-{token}", 1, "sent", channel="sms")
    receipt = notify_server.receipt(request, "delivered")

    for headers in ({}, bearer("wrong"), bearer(TOKEN + "x"), {"Authorization": TOKEN}):
        response = gateway.post("/api/v1/notify/callbacks", json=receipt, headers=headers)
        assert response.status_code == 401
        assert response.content_type == "application/problem+json"
    # the token is checked before the body: a bad body without it is still 401
    assert gateway.post("/api/v1/notify/callbacks", json={}).status_code == 401
    assert deliveries(engine, id=row["id"])[0]["status"] == "sent"

    bad = gateway.post("/api/v1/notify/callbacks", json={"id": "x"}, headers=bearer(TOKEN))
    assert bad.status_code == 422
    unknown = gateway.post(
        "/api/v1/notify/callbacks",
        headers=bearer(TOKEN),
        json={**receipt, "reference": "no-such-delivery"},
    )
    assert unknown.status_code == 404

    ok = gateway.post("/api/v1/notify/callbacks", json=receipt, headers=bearer(TOKEN))
    assert ok.status_code == 204
    assert deliveries(engine, id=row["id"])[0]["status"] == "delivered"


def test_listing_is_paged_and_limited_to_providers_and_commissioners(gateway, smtp_server, engine):
    token = ev.new_token()
    provider_id = f"P-{token}"
    event = ev.referral_published(
        token, 0, invitations=ev.invited(token, 5, providers=[provider_id], sms=False)
    )
    ev.publish("referral", event)
    settled(engine, f"R-{token}", 5)
    provider = bearer(create_key(engine, "provider", "t", provider_id=provider_id)[1])

    first = gateway.get(f"/api/v1/notifications?limit=3&referral_id=R-{token}", headers=provider)
    assert first.status_code == 200
    body = first.get_json()
    assert len(body["items"]) == 3 and body["next_cursor"]
    second = gateway.get(
        f"/api/v1/notifications?limit=3&referral_id=R-{token}&cursor={body['next_cursor']}",
        headers=provider,
    ).get_json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    items = body["items"] + second["items"]
    assert sorted(i["recipient"] for i in items) == sorted(ev.email_of(token, i) for i in range(5))
    assert {(i["status"], i["message_type"], i["channel"]) for i in items} == {
        ("delivered", "referral_invitation", "email")
    }
    assert all(i["subject"].startswith("Invitation to bid") for i in items)

    commissioner = bearer(create_key(engine, "commissioner", "t", authority="KCC")[1])
    listed = gateway.get(f"/api/v1/notifications?referral_id=R-{token}", headers=commissioner)
    assert len(listed.get_json()["items"]) == 5
    lead = bearer(create_key(engine, "lead", "t")[1])  # acts for WSCC: not KCC's referral
    assert (
        gateway.get(f"/api/v1/notifications?referral_id=R-{token}", headers=lead).get_json()[
            "items"
        ]
        == []
    )

    assert gateway.get("/api/v1/notifications").status_code == 401
    auditor = bearer(create_key(engine, "auditor", "t")[1])
    assert gateway.get("/api/v1/notifications", headers=auditor).status_code == 403
    for query in ("limit=0", "status=lost", "cursor=%%%"):
        response = gateway.get(f"/api/v1/notifications?{query}", headers=provider)
        assert response.status_code == 422, query
