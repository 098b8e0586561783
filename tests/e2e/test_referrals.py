"""Issue "Referral tendering and scoring" end to end through the gateway (RULES §5, §6, §10).

One tender runs through the module's tests in order, as a council and its providers would
run it: a commissioner of KCC creates and publishes a referral; providers ask, decline and
bid; the referral closes at its deadline by itself; the commissioner scores the outcome
statements, evaluates, records the parents' choice and awards; the bidders read their
feedback. The establishments are created through the gateway like providers and the lead
would (register, establishment, application, submit, decision), around a random point in the
South East that no other test's admitted establishment is near, and the invitations are
checked against distances computed here with our own haversine.

The deadline must be at least the category's minimum tender period after publishing (§5),
a whole number of hours of at least 1. The test does not wait for it: it restarts the
referral service with its injectable clock (``DPS_CLOCK_OFFSET_SECONDS``) moved past the
deadline and watches the service's own timer close the referral; the clock is put back
afterwards.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.support.fixtures import Api
from tests.support.infra import wait_for
from tests.support.referral_market import (
    CATEGORY,
    OTHER_CATEGORY,
    RADIUS,
    WIDER,
    Establishment,
    Market,
    bid_body,
    haversine,
    north_of,
    ok,
)
from tests.support.scoring_samples import worked_example

# --------------------------------------------------------------------------- the tender


@dataclass
class Tender:
    market: Market
    home: tuple[float, float]
    est: dict[str, Establishment]
    owner: Api
    referral_id: str = ""
    spec: dict = field(default_factory=dict)
    bids: dict[str, str] = field(default_factory=dict)
    period_hours: int = 24

    @property
    def heads(self) -> list[str]:
        return self.market.categories[CATEGORY]["cost_heads"]

    def url(self, suffix: str = "") -> str:
        return f"/api/v1/referrals/{self.referral_id}{suffix}"

    def expected_within(self, radius: float, authority: str = "KCC") -> dict[str, float]:
        """Independently of the referral service: every establishment admitted (so not
        suspended) in the category, ours and any other test's, within the radius by our own
        haversine and not above the authority's own cap (§5) → exact miles from the home.
        Members of the referral's market only (§11.3): the default DPS, ``dps-1``."""
        cap = self.market.category()["authority_caps"].get(authority)
        expected = {}
        for i, (location, total) in self.market.admitted_near(
                self.home, radius + 5, dps_id="dps-1").items():
            miles = haversine(self.home, location)
            if miles <= radius and (cap is None or Decimal(total) <= Decimal(cap)):
                expected[i] = miles
        return expected


@pytest.fixture(scope="module")
def tender(stack, api) -> Tender:
    market = Market(stack, api)
    home = market.quiet_home(WIDER + 5, strict=False)
    layout = {  # label: (miles north of home, category, admitted?)
        "A": (3.0, CATEGORY, True),
        "B": (8.0, CATEGORY, True),
        "C": (14.0, CATEGORY, True),
        "D": (26.0, CATEGORY, True),  # only within the wider radius
        "F": (45.0, CATEGORY, True),  # outside both
        "S": (6.0, CATEGORY, True),  # suspended below
        "E": (10.0, CATEGORY, False),  # submitted, never decided
        "X": (5.0, OTHER_CATEGORY, True),  # another category
    }
    est = {
        label: market.establishment(label, north_of(home, miles), category, admitted)
        for label, (miles, category, admitted) in layout.items()
    }
    market.suspend(est["S"])
    period = market.categories[CATEGORY]["min_tender_period_hours"]
    return Tender(
        market=market,
        home=home,
        est=est,
        owner=api("commissioner", authority="KCC"),
        period_hours=period,
    )


def referral_spec(t: Tender) -> dict:
    deadline = datetime.now(UTC) + timedelta(hours=t.period_hours, minutes=10)
    return {
        "category": CATEGORY,
        "child_reference": f"KCC-{t.market.tag}",
        "children": [
            {
                "age": 13,
                "gender": "male",
                "legal_status": "s20",
                "name": "Sam Hidden",
                "date_of_birth": "2013-02-03",
            }
        ],
        "home_location": {"lat": t.home[0], "lon": t.home[1]},
        "address": "7 Private Road",
        "radius_miles": RADIUS,
        "deadline": deadline.isoformat(),
        "needs": [
            {"code": "N1", "label": "speech and language therapy", "marks": 3},
            {"code": "N2", "label": "education on site", "marks": 2},
        ],
        "features": [
            {"code": "M1", "label": "single occupancy", "must_have": True},
            {"code": "D1", "label": "garden", "marks": 1},
        ],
        "desired_outcomes": ["attend school full time", "stay in one placement"],
    }


# --------------------------------------------------------------------------- the tests, in order


def test_a_commissioner_creates_and_publishes_and_exactly_the_eligible_are_invited(tender):
    t = tender
    t.spec = referral_spec(t)
    draft = ok(t.owner.post("/api/v1/referrals", json=t.spec), 201)
    t.referral_id = draft["referral_id"]
    assert draft["status"] == "draft" and draft["authority"] == "KCC"

    expected = t.expected_within(RADIUS)
    assert {t.est[x].id for x in "ABC"} <= set(expected)
    published = ok(t.owner.post(t.url("/publish"), json={}))
    assert published == {"status": "published", "invited": len(expected)}

    view = ok(t.owner.get(t.url()))
    invited = {i["establishment_id"]: i["distance_miles"] for i in view["invitations"]}
    assert invited == {i: math.floor(d) for i, d in expected.items()}
    for excluded in "DFSEX":  # outside, suspended, not admitted, other category
        assert t.est[excluded].id not in invited


def test_publishing_below_the_minimum_is_refused_with_the_count(tender):
    """§5: below the referral's minimum the commissioner is told how many, to widen."""
    t = tender
    spec = {**referral_spec(t), "radius_miles": 4, "min_invited": 50}
    lonely = ok(t.owner.post("/api/v1/referrals", json=spec), 201)
    expected = t.expected_within(4)
    assert t.est["A"].id in expected  # 3 miles away
    refused = t.owner.post(f"/api/v1/referrals/{lonely['referral_id']}/publish")
    assert refused.status_code == 409
    assert (refused.json()["invited"], refused.json()["min_invited"]) == (len(expected), 50)
    assert ok(t.owner.get(f"/api/v1/referrals/{lonely['referral_id']}"))["status"] == "draft"
    cancelled = ok(
        t.owner.post(
            f"/api/v1/referrals/{lonely['referral_id']}/cancel",
            json={"reason": "placed with family instead"},
        )
    )
    assert cancelled["status"] == "cancelled"


def test_widening_invites_only_the_newcomers(tender):
    t = tender
    before = {i["establishment_id"] for i in ok(t.owner.get(t.url()))["invitations"]}
    expected = t.expected_within(WIDER)
    widened = ok(t.owner.post(t.url("/radius"), json={"radius_miles": WIDER}))
    assert widened.pop("deadline") and widened.pop("note") is None
    assert widened.pop("deadline_moved") is False  # §5: a newcomer gets enough time
    assert widened == {
        "radius_miles": WIDER,
        "invited_total": len(expected),
        "newly_invited": len(set(expected) - before),
    }
    after = {i["establishment_id"] for i in ok(t.owner.get(t.url()))["invitations"]}
    assert after == set(expected) and after - before == set(expected) - before
    assert t.est["D"].id in after - before and t.est["F"].id not in after
    assert t.owner.post(t.url("/radius"), json={"radius_miles": RADIUS}).status_code == 422


def test_providers_views_hold_no_child_reference_home_location_or_name(tender):
    t = tender
    for label in "AD":
        e = t.est[label]
        view = ok(e.provider.get(t.url()))
        text = json.dumps(view)
        for secret in (
            t.spec["child_reference"],
            "Sam Hidden",
            "2013-02-03",
            "Private Road",
            str(t.home[0]),
            str(t.home[1]),
        ):
            assert secret not in text
        assert not {"child_reference", "home_location", "address", "spec"} & set(view)
        assert view["children"] == [{"age": 13, "gender": "male", "legal_status": "s20"}]
        [own] = view["invitations"]
        assert own["establishment_id"] == e.id
        assert own["distance_miles"] == math.floor(haversine(t.home, e.location))
        listed = ok(e.provider.get("/api/v1/referrals"))["items"]
        assert t.referral_id in {r["referral_id"] for r in listed}
        assert t.spec["child_reference"] not in json.dumps(listed)
    assert t.est["F"].provider.get(t.url()).status_code == 404  # never invited


def test_a_commissioner_of_another_authority_gets_404(tender, api):
    t = tender
    stranger = api("commissioner", authority="ESCC")
    for path in ("", "/bids", "/questions"):
        assert stranger.get(t.url(path)).status_code == 404
    assert stranger.post(t.url("/close")).status_code == 404
    assert t.referral_id not in {
        r["referral_id"] for r in ok(stranger.get("/api/v1/referrals"))["items"]
    }


def test_an_over_cap_core_head_is_refused_naming_the_head(tender):
    t = tender
    a = t.est["A"]
    head = t.heads[0]
    body = bid_body(a, t.heads)
    body["core_costs"][head] = "300.01"  # qualified at 300.00 (business case 7.4)
    refused = a.provider.post(t.url("/bids"), json=body)
    assert refused.status_code == 422
    assert ["core_costs", head] in [e["loc"] for e in refused.json()["errors"]]
    assert head in refused.json()["detail"]
    assert (
        a.provider.post(
            t.url("/bids"), json=bid_body(t.est["A"], t.heads) | {"establishment_id": t.est["B"].id}
        ).status_code
        == 403
    )  # not its establishment


def test_a_question_is_answered_once_and_every_invited_provider_reads_it_anonymised(tender):
    t = tender
    a = t.est["A"]
    asked = ok(
        a.provider.post(
            t.url("/questions"),
            json={"establishment_id": a.id, "question": "Does the child need a waking night?"},
        ),
        201,
    )
    qid = asked["question_id"]
    assert ok(t.est["B"].provider.get(t.url("/questions")))["items"] == []
    ok(t.owner.post(t.url(f"/questions/{qid}/answer"), json={"answer": "Yes, every night."}))
    assert (
        t.owner.post(t.url(f"/questions/{qid}/answer"), json={"answer": "Again"}).status_code == 409
    )
    for label in "BCD":
        [seen] = ok(t.est[label].provider.get(t.url("/questions")))["items"]
        assert seen["question"] == "Does the child need a waking night?"
        assert seen["answer"] == "Yes, every night."
        assert seen.get("establishment_id") is None and a.id not in json.dumps(seen)
    [own] = ok(a.provider.get(t.url("/questions")))["items"]
    assert own["establishment_id"] == a.id


def test_a_decline_is_recorded_and_counted(tender):
    t = tender
    d = t.est["D"]
    declined = ok(
        d.provider.post(
            t.url("/declines"), json={"establishment_id": d.id, "reason_code": "no_capacity"}
        ),
        201,
    )
    assert declined["reason_code"] == "no_capacity"
    assert ok(t.owner.get(t.url()))["declines_count"] == 1
    again = d.provider.post(
        t.url("/declines"), json={"establishment_id": d.id, "reason_code": "location"}
    )
    assert again.status_code == 409
    summary = [
        r
        for r in ok(t.owner.get("/api/v1/referrals", params={"status": "published"}))["items"]
        if r["referral_id"] == t.referral_id
    ]
    assert summary[0]["declines_count"] == 1


def test_bids_before_the_deadline_are_invisible_to_the_commissioner_except_as_a_count(tender):
    t = tender
    plans = {
        "A": bid_body(t.est["A"], t.heads, "280.00"),
        "B": bid_body(t.est["B"], t.heads, "295.00"),
        "C": bid_body(t.est["C"], t.heads, "250.00", features_met=["D1"]),  # no M1
    }
    for label, body in plans.items():
        t.bids[label] = ok(t.est[label].provider.post(t.url("/bids"), json=body), 201)["bid_id"]
    # replaced and withdrawn before the deadline (§5); one live bid per establishment
    b = t.est["B"]
    replaced = ok(
        b.provider.put(t.url(f"/bids/{t.bids['B']}"), json=bid_body(b, t.heads, "290.00"))
    )
    assert replaced["price"]["weekly_price"] == "2030.00"
    assert b.provider.post(t.url("/bids"), json=bid_body(b, t.heads)).status_code == 409
    c = t.est["C"]
    assert ok(c.provider.delete(t.url(f"/bids/{t.bids['C']}")))["status"] == "withdrawn"
    assert ok(t.owner.get(t.url("/bids"))) == {"count": 2}
    t.bids["C"] = ok(c.provider.post(t.url("/bids"), json=plans["C"]), 201)["bid_id"]
    assert t.est["A"].provider.delete(t.url(f"/bids/{t.bids['B']}")).status_code == 404

    sealed = ok(t.owner.get(t.url("/bids")))
    assert sealed == {"count": 3}
    own = ok(t.est["A"].provider.get(t.url("/bids")))["items"]
    assert [x["bid_id"] for x in own] == [t.bids["A"]]
    assert "290.00" not in json.dumps(own)  # nobody else's content


def test_scoring_preview_is_a_what_if_with_no_side_effects(tender, api):
    """RULES §6.5's worked example through POST /scoring/preview."""
    body = worked_example() | {"category": CATEGORY}
    preview = ok(tender.owner.post("/api/v1/scoring/preview", json=body))
    totals = {r["bid_id"]: r["total"] for r in preview["ranking"]}
    assert totals == {"A": "84.08", "B": "81.00", "C": None, "D": "75.00"}
    assert (preview["status"], preview["shortlist"]) == ("parent_choice", ["A", "B"])
    what_if = ok(tender.owner.post("/api/v1/scoring/preview", json=body | {"price_weight": 70}))
    assert what_if["weights"] == {"P": 70, "C": 20, "L": 5, "O": 2, "N": 2, "F": 1}
    assert ok(tender.owner.get(tender.url()))["status"] == "published"  # untouched
    assert tender.est["A"].provider.post("/api/v1/scoring/preview", json=body).status_code == 403
    bad = tender.owner.post("/api/v1/scoring/preview", json=body | {"price_weight": 80})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["price_weight"]


def test_a_direct_placement_is_recorded_for_an_admitted_establishment_only(tender):
    t = tender
    body = {
        "establishment_id": t.est["A"].id,
        "category": CATEGORY,
        "reason_code": "court_direction",
        "justification": "Directed by the family court",
        "weekly_price": "3900.00",
        "child_reference": f"KCC-DP-{t.market.tag}",
    }
    placed = ok(t.owner.post("/api/v1/direct-placements", json=body), 201)
    assert (placed["authority"], placed["provider_id"]) == ("KCC", t.est["A"].provider_id)
    assert placed["placement_id"] and placed["weekly_price"] == "3900.00"
    suspended = t.owner.post(
        "/api/v1/direct-placements", json=body | {"establishment_id": t.est["S"].id}
    )
    assert suspended.status_code == 404  # §10: a commissioner sees admitted ones only
    other = t.owner.post(
        "/api/v1/direct-placements", json=body | {"establishment_id": t.est["X"].id}
    )
    assert other.status_code == 409  # admitted, but in another category
    assert (
        t.owner.post(
            "/api/v1/direct-placements", json=body | {"reason_code": "cheaper"}
        ).status_code
        == 422
    )
    assert t.est["A"].provider.post("/api/v1/direct-placements", json=body).status_code == 403


@pytest.fixture(scope="module")
def past_the_deadline(stack, tender):
    """The referral service restarted with its clock moved past the deadline; put back
    when the module is done."""
    offset = tender.period_hours * 3600 + 20 * 60
    normal = dict(stack.env)
    stack.stop("referral")
    stack.env = {**normal, "DPS_CLOCK_OFFSET_SECONDS": str(offset)}
    try:
        stack.start("referral")
    finally:
        stack.env = normal
    stack.wait_healthy()
    yield
    stack.stop("referral")
    stack.start("referral")
    stack.wait_healthy()


def test_the_referral_closes_at_its_deadline_by_itself(tender, past_the_deadline):
    t = tender

    def closed():
        view = ok(t.owner.get(t.url()))
        return view if view["status"] == "closed" else None

    view = wait_for(closed, 30, "the deadline timer to close the referral", interval=0.5)
    assert view["closed_at"]
    late = t.est["B"].provider.put(
        t.url(f"/bids/{t.bids['B']}"), json=bid_body(t.est["B"], t.heads, "100.00")
    )
    assert late.status_code == 409
    opened = ok(t.owner.get(t.url("/bids")))
    assert opened["count"] == 3
    assert {b["bid_id"] for b in opened["items"]} == set(t.bids.values())


def test_evaluator_scores_evaluation_parent_choice_and_award(tender, past_the_deadline):
    t = tender
    for label in "AB":
        ok(
            t.owner.post(
                t.url(f"/bids/{t.bids[label]}/outcome-scores"),
                json={"evaluator": "Evaluator One", "score": 70},
            ),
            201,
        )
    refused = t.owner.post(
        t.url(f"/bids/{t.bids['C']}/outcome-scores"),
        json={"evaluator": "Evaluator One", "score": 70},
    )
    assert refused.status_code == 409  # non-compliant: no must-have M1 (§6.2)

    evaluation = ok(t.owner.post(t.url("/evaluate")))
    ranking = {r["bid_id"]: r for r in evaluation["ranking"]}
    # equal competency, bands, outcomes, needs and features: only the price differs, and
    # B is 50 × 1960/2030 = 48.28 on price against A's 50 → within 5 points (§6.4)
    assert evaluation["status"] == "parent_choice"
    assert evaluation["shortlist"] == [t.bids["A"], t.bids["B"]]
    assert ranking[t.bids["C"]]["compliant"] is False and ranking[t.bids["C"]]["reason"]
    assert ranking[t.bids["A"]]["weekly_price"] == "1960.00"
    assert set(ranking[t.bids["A"]]["subscores"]) == {"P", "C", "L", "O", "N", "F"}

    assert t.owner.post(t.url("/parent-choice"), json={"bid_id": t.bids["C"]}).status_code == 422
    ok(
        t.owner.post(
            t.url("/parent-choice"), json={"bid_id": t.bids["B"], "reason": "near the grandparents"}
        )
    )
    awarded = ok(t.owner.post(t.url("/award")))
    assert set(awarded) == {"placement_id"}
    view = ok(t.owner.get(t.url()))
    assert (view["status"], view["awarded_bid_id"], view["placement_id"]) == (
        "awarded",
        t.bids["B"],
        awarded["placement_id"],
    )


def test_each_unsuccessful_bidder_reads_its_own_feedback_and_nobody_elses(
    tender, past_the_deadline, api
):
    t = tender
    a_total = None
    for label in "AC":
        body = ok(t.est[label].provider.get(t.url("/feedback")))
        [mine] = body["items"]
        assert mine["bid_id"] == t.bids[label] and mine["awarded"] is False
        others = {t.bids[x] for x in "ABC"} - {t.bids[label]}
        assert not others & set(json.dumps(body).split('"'))
        assert mine["compliant_bids_count"] == 2
        if label == "A":
            a_total = mine["total"]
            assert mine["rank"] == 1 and mine["winning_total"] is not None
            assert mine["subscores"]["P"] == "50.00"
        else:
            assert mine["compliant"] is False and mine["reason"]
    assert a_total is not None
    assert t.est["D"].provider.get(t.url("/feedback")).status_code == 404  # declined
    assert t.est["F"].provider.get(t.url("/feedback")).status_code == 404  # not invited
    assert api("commissioner", authority="KCC").get(t.url("/feedback")).status_code == 403
