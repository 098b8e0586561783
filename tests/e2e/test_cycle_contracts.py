"""Issue 13 end to end through the gateway: placements that never start, block places
that close their referral, and public award notices (RULES §7.1, §7.3, §7.6, §7.7, §10).

A commissioner of KCC reserves one place at an admitted establishment and places a
published referral's child into it: the referral is awarded to that placement and closed.
The child never arrives: the placement ends from ``pending_start`` with ``did_not_start``,
and it leaves the block's occupancy, the benchmarks and the cost shares, which are read
before, during and after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.cycle_market import Market, north_of, ok
from tests.support.infra import wait_for

CATEGORY = "RESIDENTIAL"


def financial_year(day: date) -> int:
    return day.year if day >= date(day.year, 4, 1) else day.year - 1


class World:
    def __init__(self, stack, api):
        self.market = Market(stack, api)
        self.owner = api("commissioner", authority="KCC")
        self.manager = api("contract_manager")
        self.anyone = api()
        self.home = self.market.quiet_home(10, CATEGORY)
        self.est = self.market.establishment("Q", north_of(self.home, 2), CATEGORY)
        self.today = datetime.now(UTC).date()
        self.block: dict = {}
        self.referral_id = ""
        self.placement_id = ""

    def kcc_placements(self) -> tuple[int, int]:
        """KCC's placements in the benchmarks (last 12 months) and in the cost shares of
        next financial year (based on this one)."""
        bench = ok(self.market.lead.get("/api/v1/benchmarks", params={"category": CATEGORY}))
        [kcc] = [a for a in bench["by_authority"] if a["authority"] == "KCC"] or [
            {"placements": 0}
        ]
        year = financial_year(self.today) + 1
        shares = ok(self.manager.get("/api/v1/cost-shares", params={"year": year}))
        [row] = [r for r in shares["authorities"] if r["authority"] == "KCC"]
        return kcc["placements"], row["placements_previous_year"]

    def occupancy(self) -> dict:
        view = ok(self.owner.get(f"/api/v1/block-contracts/{self.block['id']}"))
        return view["occupancy"]


@pytest.fixture(scope="module")
def world(stack, api) -> World:
    return World(stack, api)


def test_placing_a_referrals_child_into_a_free_block_place_closes_the_referral(world):
    """§7.3: the referral is awarded to the block placement and closed."""
    w = world
    w.before = w.kcc_placements()
    w.block = ok(w.owner.post("/api/v1/block-contracts", json={
        "establishment_id": w.est.id, "places": 1, "weekly_price_per_place": "2100.00",
        "start": w.today.isoformat(), "end": (w.today + timedelta(days=180)).isoformat(),
        "category": CATEGORY,
    }), 201)
    spec = {
        "category": CATEGORY, "child_reference": f"KCC-BLOCK-{w.market.tag}",
        "children": [{"age": 15}], "home_location": {"lat": w.home[0], "lon": w.home[1]},
        "radius_miles": 10,
        "deadline": (datetime.now(UTC) + timedelta(hours=30)).isoformat(),
        "desired_outcomes": ["stay in one placement"],
    }
    referral = ok(w.owner.post("/api/v1/referrals", json=spec), 201)
    w.referral_id = referral["referral_id"]
    ok(w.owner.post(f"/api/v1/referrals/{w.referral_id}/publish", json={"accept_fewer": True}))

    placed = ok(w.owner.post(f"/api/v1/block-contracts/{w.block['id']}/placements", json={
        "child_reference": spec["child_reference"], "start_date": w.today.isoformat(),
        "referral_id": w.referral_id,
    }), 201)
    w.placement_id = placed["id"]
    assert placed["status"] == "pending_start" and placed["source"] == "block_place"

    def awarded():
        view = ok(w.owner.get(f"/api/v1/referrals/{w.referral_id}"))
        return view if view["status"] == "awarded" else None

    view = wait_for(awarded, 30, "the referral to be awarded to the block place")
    assert view["placement_id"] == w.placement_id
    assert view["block_id"] == w.block["id"]
    assert view["closed_at"] is not None
    late = w.est.provider.post(f"/api/v1/referrals/{w.referral_id}/bids", json={
        "establishment_id": w.est.id, "core_costs": {}, "outcomes_statement": "late",
    })
    assert late.status_code in (409, 422)
    assert w.occupancy()["free_places"] == 0
    full = w.owner.post(f"/api/v1/block-contracts/{w.block['id']}/placements", json={
        "child_reference": "KCC-OTHER", "start_date": w.today.isoformat()})
    assert full.status_code == 409


def test_a_placement_that_never_starts_leaves_benchmarks_cost_shares_and_the_block(world):
    """§7.1: ``pending_start → ended`` with ``did_not_start``; it then counts nowhere."""
    w = world
    during = w.kcc_placements()
    assert during == (w.before[0] + 1, w.before[1] + 1)
    url = f"/api/v1/placements/{w.placement_id}"
    wrong = w.owner.post(f"{url}/end", json={"date": w.today.isoformat(), "reason": "planned"})
    assert wrong.status_code == 409  # a placement that never started ends with did_not_start
    ended = ok(w.owner.post(f"{url}/end", json={
        "date": w.today.isoformat(), "reason": "did_not_start", "note": "the child stayed home",
    }))
    assert (ended["status"], ended["end_reason"]) == ("ended", "did_not_start")
    assert w.kcc_placements() == w.before
    assert w.occupancy()["free_places"] == 1
    again = ok(w.owner.post(f"/api/v1/block-contracts/{w.block['id']}/placements", json={
        "child_reference": "KCC-NEXT", "start_date": w.today.isoformat()}), 201)
    assert again["status"] == "pending_start"


def test_award_notices_are_read_without_a_key(world):
    """§10: published award notices are public."""
    w = world
    quarter = f"{w.today.year}-Q{(w.today.month - 1) // 3 + 1}"
    sheet = w.anyone.get("/api/v1/publications/awards", params={"quarter": quarter,
                                                                 "format": "csv"})
    assert sheet.status_code == 200, sheet.text
    assert sheet.text.splitlines()[0].startswith("ocid,")
    assert f"KCC-BLOCK-{w.market.tag}" not in sheet.text  # no child data; a block place is no award
