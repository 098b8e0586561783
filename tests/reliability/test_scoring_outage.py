"""Issue "Referral tendering and scoring" reliability: the scoring service is stopped while a
commissioner evaluates → the gateway answers 503 naming it and nothing is half-written
(the referral stays closed, no evaluation, no audit record, no event); after a restart the
same evaluation succeeds (RULES §6, API.md "503 a service the request needs is down")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.referral_market import CATEGORY, Market, bid_body, north_of, ok


def test_scoring_down_during_evaluation_is_503_then_the_same_evaluation_succeeds(stack, api):
    market = Market(stack, api)
    home = market.quiet_home(8)
    a = market.establishment("A", north_of(home, 1.5))
    b = market.establishment("B", north_of(home, 3.0))
    owner = api("commissioner", authority="MED")
    lead = market.lead
    period = market.categories[CATEGORY]["min_tender_period_hours"]
    heads = market.categories[CATEGORY]["cost_heads"]

    rid = ok(
        owner.post(
            "/api/v1/referrals",
            json={
                "category": CATEGORY,
                "child_reference": f"MED-{market.tag}",
                "children": [{"age": 9}],
                "home_location": {"lat": home[0], "lon": home[1]},
                "radius_miles": 5,
                "deadline": (datetime.now(UTC) + timedelta(hours=period, minutes=10)).isoformat(),
                "features": [{"code": "M1", "label": "ground floor bedroom", "must_have": True}],
                "desired_outcomes": ["settled at school"],
            },
        ),
        201,
    )["referral_id"]
    url = f"/api/v1/referrals/{rid}"
    assert ok(owner.post(f"{url}/publish", json={"accept_fewer": True}))["invited"] == 2
    bids = {
        e.label: ok(
            e.provider.post(
                f"{url}/bids", json=bid_body(e, heads, needs_met=[], features_met=["M1"])
            ),
            201,
        )["bid_id"]
        for e in (a, b)
    }
    assert ok(owner.post(f"{url}/close"))["early"] is True  # everyone has bid
    for bid_id in bids.values():
        ok(
            owner.post(
                f"{url}/bids/{bid_id}/outcome-scores", json={"evaluator": "Evaluator", "score": 60}
            ),
            201,
        )

    def trail() -> list[dict]:
        return ok(lead.get("/api/v1/audit", params={"service": "referral", "entity_id": rid}))[
            "items"
        ]

    trail_before = trail()
    stack.stop("scoring")
    try:
        down = owner.post(f"{url}/evaluate")
        assert down.status_code == 503
        assert down.json()["service"] == "scoring"
        assert down.headers["Content-Type"] == "application/problem+json"
        view = ok(owner.get(url))
        assert (view["status"], view["evaluation"]) == ("closed", None)
        assert trail() == trail_before
        assert ok(owner.get(f"{url}/bids"))["count"] == 2
    finally:
        stack.start("scoring")
        stack.wait_healthy()

    evaluation = ok(owner.post(f"{url}/evaluate"))
    assert evaluation["status"] in ("evaluated", "parent_choice")
    assert {r["bid_id"] for r in evaluation["ranking"]} == set(bids.values())
    assert ok(owner.get(url))["status"] == evaluation["status"]
    assert [r["action"] for r in trail()][len(trail_before) :] == ["referral.evaluated"]
