"""Issue 13 end to end through the gateway: entry to the DPS closed for a scheduled period
that closes and reopens by itself (RULES §3, business case 7.19), and the lead's daily
digest of applications overdue for decision (§4.3, §8).

The lead schedules a closure from today until tomorrow (London dates): a provider's
submission is refused inside it. The qualification service then runs a day ahead
(``DPS_CLOCK_OFFSET_SECONDS``): the same submission is accepted, and the service's timer
records the reopening as a new, audited version of the DPS settings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.cycle_market import Market, Sink, clock_moved, north_of, ok
from tests.support.infra import wait_for

CATEGORY = "FOSTERCARE"
LONDON = ZoneInfo("Europe/London")
LEAD_EMAIL = "dps.lead@westsussex.example"  # the default DPS_LEAD_EMAIL


class World:
    def __init__(self, stack, api):
        self.stack = stack
        self.market = Market(stack, api)
        self.lead = self.market.lead
        self.home = (51.0, 0.1)

    def pending_application(self, label: str) -> tuple[str, object]:
        """A new provider's establishment with an application in draft: (id, provider)."""
        provider_id, provider = self.market.provider(label)
        est = ok(provider.post("/api/v1/establishments", json={
            "name": f"{label} Fostering {self.market.tag}", "address": f"{label} Road, Kent",
            "postcode": "ME1 1AA", "location": {"lat": north_of(self.home, 1)[0],
                                                 "lon": self.home[1]},
            "categories": [CATEGORY],
            "contacts": [{"name": "Manager",
                          "email": f"{label.lower()}-{self.market.tag}@x.example"}],
        }), 201)
        app = ok(provider.post("/api/v1/applications",
                               json=self.market.application(CATEGORY, est["id"])), 201)
        return app["id"], provider


@pytest.fixture(scope="module")
def world(stack, api) -> World:
    return World(stack, api)


def test_a_scheduled_closure_refuses_a_submission_inside_it_and_accepts_one_after(
    world, stack
):
    """§3: ``closed_from``/``closed_until`` set in advance; entry closes and reopens by
    itself, and the reopening is recorded by the timer."""
    w = world
    today = datetime.now(LONDON).date()
    app_id, provider = w.pending_application("Window")
    bad = w.lead.patch("/api/v1/dps", json={"closed_from": today.isoformat()})
    assert bad.status_code == 422 and "closed_until" in str(bad.json()["errors"])
    backwards = w.lead.patch("/api/v1/dps", json={
        "closed_from": today.isoformat(), "closed_until": today.isoformat()})
    assert backwards.status_code == 422
    tomorrow = today + timedelta(days=1)
    try:
        dps = ok(w.lead.patch("/api/v1/dps", json={
            "closed_from": today.isoformat(), "closed_until": tomorrow.isoformat()}))
        assert (dps["status"], dps["entry_open"]) == ("entry_closed", True)
        assert (dps["closed_from"], dps["closed_until"]) == (today.isoformat(),
                                                             tomorrow.isoformat())
        refused = provider.post(f"/api/v1/applications/{app_id}/submit")
        assert refused.status_code == 409 and "entry to the DPS is closed" in refused.text
        assert ok(provider.get(f"/api/v1/applications/{app_id}"))["status"] == "draft"

        # the next day, past the window (London midnight plus a margin)
        midnight = datetime.combine(tomorrow, datetime.min.time(), LONDON)
        ahead = (midnight - datetime.now(UTC)).total_seconds() + 3600
        with clock_moved(stack, "qualification", ahead):
            def reopened():
                body = ok(w.lead.get("/api/v1/dps"))
                return body if body["closed_until"] is None else None

            view = wait_for(reopened, 60, "the timer to record the reopening", interval=0.5)
            assert view["status"] == "open"
            submitted = ok(provider.post(f"/api/v1/applications/{app_id}/submit"))
            assert submitted["status"] == "submitted"
            trail = ok(w.lead.get("/api/v1/audit", params={
                "service": "qualification", "entity_type": "dps", "limit": 1000}))
            actions = [r["action"] for r in trail["items"]]
            assert "dps.entry_reopened" in actions
    finally:
        w.lead.patch("/api/v1/dps", json={"closed_from": None, "closed_until": None})


def test_the_leads_daily_digest_lists_an_overdue_application(world, stack):
    """§4.3, §8: an application left undecided past its 10 working days is in the lead's
    digest of the day; the digest carries no child data and links to the portal."""
    w = world
    app_id, provider = w.pending_application("Overdue")
    submitted = ok(provider.post(f"/api/v1/applications/{app_id}/submit"))
    due_on = datetime.fromisoformat(submitted["due_on"]).date()
    day = due_on + timedelta(days=3)
    noon = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
    sink = Sink(stack.mail_dir)
    with clock_moved(stack, "qualification", (noon - datetime.now(UTC)).total_seconds()):
        view = ok(w.lead.get(f"/api/v1/applications/{app_id}"))
        assert view["overdue"] is True

        def digest():
            found = [r for r in sink.emails_to({LEAD_EMAIL}, "DPS digest for")
                     if app_id in sink.text(r)]
            return found or None

        [mail] = wait_for(digest, 60, "the lead's digest in the mail sink", interval=0.5)
    body = sink.text(mail)
    assert f"Overdue Fostering {w.market.tag}" in body
    assert "/applications?overdue=true" in body
