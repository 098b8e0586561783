"""Issue 13 end to end through the gateway: a referral's less than perfect day (RULES §5,
§6, §8, §11.3).

Around a quiet point of the South East, four establishments of one module (A 3 miles,
B 8, C 12 north of the child's home; D 26, reached only by widening) are admitted as
providers and the lead would admit them. On the real clock: a deadline is extended and
every invited contact hears of it; a widening that would leave a newcomer under the
minimum tender period moves the deadline and every invited establishment hears of it; a
cancellation is announced and the cancelled referral is copied and published again; a
sibling group of three is bid for. Then the referral service runs a day ahead
(``DPS_CLOCK_OFFSET_SECONDS``): a draft created with a deadline two hours away is edited
and published; the sibling referral, closed at its deadline, is evaluated; its winner,
suspended after the deadline, is refused at award and the second bid is awarded; the
preview prices the sibling group as the evaluation did; and a losing bidder's feedback
shows the winner's sub-scores but none of the winner's prices or statements.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.support.cycle_market import Market, Sink, clock_moved, north_of, ok
from tests.support.infra import wait_for

CATEGORY = "RESIDENTIAL"
RADIUS, WIDER = 20, 30
DAY = 26 * 3600  # the referral service's clock in the second part: the next day
OT = {"name": "occupational therapy", "unit": "one-hour session", "unit_price": "60.00",
      "weekly_price": "120.00"}


class World:
    def __init__(self, stack, api):
        self.stack = stack
        self.market = Market(stack, api)
        self.owner = api("commissioner", authority="KCC")
        self.home = self.market.quiet_home(WIDER + 5, CATEGORY)
        self.est = {
            label: self.market.establishment(
                label, north_of(self.home, miles), CATEGORY, additional_services=[OT]
            )
            for label, miles in (("A", 3), ("B", 8), ("C", 12), ("D", 26))
        }
        self.period = self.market.categories[CATEGORY]["min_tender_period_hours"]
        self.heads = self.market.categories[CATEGORY]["cost_heads"]
        self.refs: dict[str, str] = {}
        self.bids: dict[str, str] = {}

    def spec(self, children: int = 1, deadline: datetime | None = None, **over) -> dict:
        deadline = deadline or datetime.now(UTC) + timedelta(hours=self.period, minutes=10)
        return {
            "category": CATEGORY,
            "child_reference": f"KCC-{self.market.tag}",
            "children": [
                {"age": 9 + i, "name": f"Hidden Child {i}", "date_of_birth": "2014-02-03"}
                for i in range(children)
            ],
            "home_location": {"lat": self.home[0], "lon": self.home[1]},
            "address": "7 Private Road",
            "radius_miles": RADIUS,
            "deadline": deadline.isoformat(),
            "needs": [{"code": "N1", "label": "speech and language therapy", "marks": 3}],
            "features": [{"code": "M1", "label": "single occupancy", "must_have": True}],
            "desired_outcomes": ["attend school full time"],
            **over,
        }

    def create(self, key: str, **spec) -> str:
        body = ok(self.owner.post("/api/v1/referrals", json=self.spec(**spec)), 201)
        self.refs[key] = body["referral_id"]
        return body["referral_id"]

    def publish(self, key: str) -> dict:
        return ok(self.owner.post(f"/api/v1/referrals/{self.refs[key]}/publish",
                                  json={"accept_fewer": True}))

    def invited(self, key: str) -> set[str]:
        view = ok(self.owner.get(f"/api/v1/referrals/{self.refs[key]}"))
        return {i["establishment_id"] for i in view["invitations"]}

    def mail_of(self, labels: str) -> set[str]:
        return set().union(*(self.est[x].emails for x in labels))

    def bid(self, key: str, label: str, per_head: str, statement: str) -> str:
        e = self.est[label]
        body = ok(e.provider.post(f"/api/v1/referrals/{self.refs[key]}/bids", json={
            "establishment_id": e.id,
            "core_costs": dict.fromkeys(self.heads, per_head),
            "variable_costs": [],
            "needs_met": ["N1"],
            "features_met": ["M1"],
            "outcomes_statement": statement,
        }), 201)
        self.bids[f"{key}/{label}"] = body["bid_id"]
        return body["bid_id"]


@pytest.fixture(scope="module")
def world(stack, api) -> World:
    return World(stack, api)


@pytest.fixture(scope="module")
def sink(stack) -> Sink:
    return Sink(stack.mail_dir)


def every_contact_heard(sink: Sink, addresses: set[str], subject: str) -> list[dict]:
    def heard():
        found = sink.emails_to(addresses, subject)
        return found if {a for r in found for a in r["to"]} >= addresses else None

    return wait_for(heard, 60, f"'{subject}' to every contact")


# ----------------------------------------------------------------- on the real clock


def test_an_extension_reaches_every_invited_contact(world, sink):
    """§5 extension, §8: later only, never earlier; every invited establishment told."""
    w = world
    rid = w.create("extended")
    w.publish("extended")
    assert {w.est[x].id for x in "ABC"} <= w.invited("extended")
    view = ok(w.owner.get(f"/api/v1/referrals/{rid}"))
    old = datetime.fromisoformat(view["spec"]["deadline"])

    earlier = w.owner.post(f"/api/v1/referrals/{rid}/deadline",
                           json={"deadline": (old - timedelta(hours=1)).isoformat()})
    assert earlier.status_code == 422 and earlier.json()["errors"][0]["loc"][-1] == "deadline"

    later = old + timedelta(days=2)
    body = ok(w.owner.post(f"/api/v1/referrals/{rid}/deadline",
                           json={"deadline": later.isoformat()}))
    assert datetime.fromisoformat(body["deadline"]) == later
    assert datetime.fromisoformat(body["previous_deadline"]) == old
    assert body["told"] == len(w.invited("extended"))
    seen = ok(w.est["A"].provider.get(f"/api/v1/referrals/{rid}"))
    assert datetime.fromisoformat(seen["deadline"]) == later

    mails = every_contact_heard(sink, w.mail_of("ABC"), f"New deadline for referral {rid}")
    assert not sink.emails_to(w.est["D"].emails, rid)  # never invited
    text = sink.text(mails[0])
    assert "Hidden Child" not in text and f"KCC-{w.market.tag}" not in text


def test_a_widening_that_would_shortchange_a_newcomer_moves_the_deadline(world, sink):
    """§5: a newcomer gets at least the minimum tender period; the reply says so and
    every invited establishment hears of the new deadline. The minimum is raised for the
    moment of the widening, so that the deadline set at publishing is too near."""
    w = world
    rid = w.create("widened")
    w.publish("widened")
    before = w.invited("widened")
    assert w.est["D"].id not in before
    longer = w.period + 2
    ok(w.market.lead.patch(f"/api/v1/categories/{CATEGORY}",
                           json={"min_tender_period_hours": longer}))
    try:
        asked_at = datetime.now(UTC)
        body = ok(w.owner.post(f"/api/v1/referrals/{rid}/radius", json={"radius_miles": WIDER}))
    finally:
        ok(w.market.lead.patch(f"/api/v1/categories/{CATEGORY}",
                               json={"min_tender_period_hours": w.period}))
    assert body["deadline_moved"] is True and body["newly_invited"] >= 1
    assert "minimum tender period" in body["note"]
    moved = datetime.fromisoformat(body["deadline"])
    assert moved >= asked_at + timedelta(hours=longer)
    assert w.est["D"].id in w.invited("widened")
    every_contact_heard(sink, w.mail_of("ABCD"), f"New deadline for referral {rid}")
    [mail] = sink.emails_to({sorted(w.est["B"].emails)[0]}, f"New deadline for referral {rid}")
    assert "widened" in sink.text(mail)


def test_a_cancellation_is_announced_and_the_copy_publishes(world, sink):
    """§5 re-run, §8: invited establishments are told of the cancellation; the copy is a
    new draft with the same record that publishes."""
    w = world
    rid = w.create("cancelled")
    w.publish("cancelled")
    ok(w.owner.post(f"/api/v1/referrals/{rid}/cancel", json={"reason": "placed with family"}))
    mails = every_contact_heard(sink, w.mail_of("ABC"), f"Referral {rid} cancelled")
    assert "placed with family" in sink.text(mails[0])

    published = w.owner.post(f"/api/v1/referrals/{w.refs['extended']}/copy")
    assert published.status_code == 409  # only unsuccessful or cancelled ones
    copy = ok(w.owner.post(f"/api/v1/referrals/{rid}/copy"), 201)
    assert copy["status"] == "draft" and copy["referral_id"] != rid
    original = ok(w.owner.get(f"/api/v1/referrals/{rid}"))
    for kept in ("child_reference", "children", "needs", "features", "radius_miles"):
        assert copy["spec"][kept] == original["spec"][kept]
    w.refs["copy"] = copy["referral_id"]
    assert w.publish("copy")["status"] == "published"
    assert {w.est[x].id for x in "ABC"} <= w.invited("copy")


def test_variable_costs_are_qualified_services_at_or_below_their_price_or_free_text(world):
    """§4.4 "can reduce but not increase", §5: a bid's additional service is one the
    establishment qualified with, at most its unit price × units; a free-text item stays
    allowed and is marked as such."""
    w = world
    rid, e = w.refs["extended"], w.est["B"]
    body = {
        "establishment_id": e.id,
        "core_costs": dict.fromkeys(w.heads, "250.00"),
        "needs_met": ["N1"], "features_met": ["M1"],
        "outcomes_statement": "B: a therapy-led plan.",
    }
    dearer = {**body, "variable_costs": [
        {"service": "occupational therapy", "units": 2, "weekly": "120.01"}]}
    refused = e.provider.post(f"/api/v1/referrals/{rid}/bids", json=dearer)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["loc"][-3:] == ["variable_costs", 0, "weekly"]
    assert "120.01 exceeds the qualified 60.00" in error["msg"]
    unknown = {**body, "variable_costs": [{"service": "hydrotherapy", "units": 1}]}
    wrong = e.provider.post(f"/api/v1/referrals/{rid}/bids", json=unknown)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"][-1] == "service"
    assert ok(e.provider.get(f"/api/v1/referrals/{rid}/bids"))["items"] == []  # nothing kept

    fine = {**body, "variable_costs": [
        {"service": "occupational therapy", "units": 2, "weekly": "110.00"},
        {"service": "occupational therapy", "units": 1},
        {"label": "taxi to school", "weekly": "75.00"},
    ]}
    bid = ok(e.provider.post(f"/api/v1/referrals/{rid}/bids", json=fine), 201)
    items = bid["price"]["variable_costs"]
    assert [(i["label"], i["weekly"], i["free_text"]) for i in items] == [
        ("occupational therapy", "110.00", False),
        ("occupational therapy", "60.00", False),
        ("taxi to school", "75.00", True),
    ]
    assert items[0]["unit_price"] == "60.00" and items[0]["units"] in ("2", "2.00", 2)
    expected = Decimal("250.00") * len(w.heads) + Decimal("245.00")
    assert Decimal(bid["price"]["weekly_price"]) == expected


def test_a_sibling_group_is_bid_for_and_a_draft_waits(world):
    """Set-up of the next day: three siblings, bids from A (cheapest), B and C; a draft
    created with its deadline two hours away, which could not be published as it is."""
    w = world
    w.create("siblings", children=3)
    w.publish("siblings")
    w.bid("siblings", "A", "200.00", "A: our therapist-led plan for the three.")
    w.bid("siblings", "B", "260.00", "B: our family-centred plan for the three.")
    w.bid("siblings", "C", "300.00", "C: our education-first plan for the three.")
    rid = w.create("draft", deadline=datetime.now(UTC) + timedelta(hours=2))
    too_soon = w.owner.post(f"/api/v1/referrals/{rid}/publish", json={"accept_fewer": True})
    assert too_soon.status_code == 422 and "deadline" in too_soon.json()["errors"][0]["loc"]


# ----------------------------------------------------------------- the next day


@pytest.fixture(scope="module")
def next_day(stack, world):
    with clock_moved(stack, "referral", DAY):
        yield datetime.now(UTC) + timedelta(seconds=DAY)


def test_a_draft_edited_the_next_day_publishes_with_a_new_deadline(world, next_day):
    """§5 draft edits: edited in full, the deadline checked at publishing."""
    w = world
    rid = w.refs["draft"]
    stale = w.owner.post(f"/api/v1/referrals/{rid}/publish", json={"accept_fewer": True})
    assert stale.status_code == 422  # its deadline passed overnight
    bad = w.owner.patch(f"/api/v1/referrals/{rid}", json={"radius_miles": -1})
    assert bad.status_code == 422 and "radius_miles" in json.dumps(bad.json()["errors"])
    deadline = next_day + timedelta(hours=w.period, minutes=30)
    edited = ok(w.owner.patch(f"/api/v1/referrals/{rid}", json={
        "deadline": deadline.isoformat(), "radius_miles": 25, "address": None,
    }))
    assert edited["status"] == "draft"
    assert datetime.fromisoformat(edited["spec"]["deadline"]) == deadline
    assert edited["spec"]["radius_miles"] == 25 and edited["spec"]["address"] is None
    assert edited["spec"]["child_reference"] == f"KCC-{w.market.tag}"  # the rest stays
    assert w.publish("draft")["status"] == "published"
    view = ok(w.owner.get(f"/api/v1/referrals/{rid}"))
    assert datetime.fromisoformat(view["spec"]["deadline"]) == deadline
    again = w.owner.patch(f"/api/v1/referrals/{rid}", json={"radius_miles": 30})
    assert again.status_code == 409  # only a draft is edited


def test_a_winner_suspended_after_the_deadline_is_refused_and_the_second_is_awarded(
    world, next_day
):
    """§5: the winner's membership must still be admitted at the award; the refusal names
    the reason and changes nothing; the next bid can then be awarded."""
    w = world
    rid = w.refs["siblings"]
    url = f"/api/v1/referrals/{rid}"

    def closed():
        return ok(w.owner.get(url))["status"] == "closed"

    wait_for(closed, 60, "the deadline timer to close the sibling referral", interval=0.5)
    w.market.suspend(w.est["A"])
    for label, score in (("A", 80), ("B", 60), ("C", 40)):
        ok(w.owner.post(f"{url}/bids/{w.bids[f'siblings/{label}']}/outcome-scores",
                        json={"evaluator": "Evaluator One", "score": score}), 201)
    evaluation = ok(w.owner.post(f"{url}/evaluate"))
    assert evaluation["status"] == "evaluated", evaluation
    top = [r for r in evaluation["ranking"] if r["compliant"]]
    assert [r["bid_id"] for r in top[:2]] == [w.bids["siblings/A"], w.bids["siblings/B"]]

    refused = w.owner.post(f"{url}/award", json={})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert "suspended" in problem["detail"] and w.est["A"].name in problem["detail"]
    assert problem["next_bid_id"] == w.bids["siblings/B"]
    assert ok(w.owner.get(url))["status"] == "evaluated"  # unchanged by the refusal
    skip_b = w.owner.post(f"{url}/award", json={"bid_id": w.bids["siblings/C"]})
    assert skip_b.status_code == 422  # B is still admitted: the award goes to B

    awarded = ok(w.owner.post(f"{url}/award", json={"bid_id": w.bids["siblings/B"]}))
    assert awarded["placement_id"]
    view = ok(w.owner.get(url))
    assert view["status"] == "awarded"


def test_the_preview_of_the_sibling_group_equals_the_evaluations_price(world, next_day):
    """One pricing rule (§4.4, §6.3): 3 × core − 5 % cohort discount, as evaluated."""
    w = world
    record = ok(w.owner.get(f"/api/v1/referrals/{w.refs['siblings']}/evaluation"))
    by_bid = {b["bid_id"]: b for b in record["bids"]}
    bid_a = by_bid[w.bids["siblings/A"]]
    expected = 3 * 200 * len(w.heads) * Decimal("0.95")
    assert Decimal(bid_a["weekly_price"]) == expected
    preview = ok(w.owner.post("/api/v1/scoring/preview", json={
        "category": CATEGORY,
        "bids": [{
            "bid_id": "what-if", "establishment_id": w.est["A"].id,
            "costs": {"core_costs": dict.fromkeys(w.heads, "200.00"), "children": 3,
                      "discount_percent": "5"},
            "competency": "70", "distance_miles": "3", "admitted_at_deadline": True,
            "submitted_at": datetime.now(UTC).isoformat(),
        }],
    }))
    assert Decimal(preview["ranking"][0]["weekly_price"]) == Decimal(bid_a["weekly_price"])


def test_a_losing_bidders_feedback_shows_the_winners_subscores_and_nothing_of_its_bid(
    world, sink, next_day
):
    """§5, §11.3 assessment summary: own sub-scores with explanations, rank, compliant
    count, the winner's total and sub-scores; never the winner's prices or statements;
    released at the award for all at once."""
    w = world
    rid = w.refs["siblings"]
    record = ok(w.owner.get(f"/api/v1/referrals/{rid}/evaluation"))
    by_bid = {b["bid_id"]: b for b in record["bids"]}
    winner = by_bid[w.bids["siblings/B"]]
    [fb] = ok(w.est["C"].provider.get(f"/api/v1/referrals/{rid}/feedback"))["items"]
    assert fb["awarded"] is False and fb["rank"] == 3 and fb["compliant_bids_count"] == 3
    assert fb["winning_total"] == winner["total"]
    assert fb["winning_subscores"] == winner["subscores"]
    assert set(fb["explanation"]) == {"P", "C", "L", "O", "N", "F"}
    assert "whole miles" in fb["explanation"]["L"]
    [fa] = ok(w.est["A"].provider.get(f"/api/v1/referrals/{rid}/feedback"))["items"]
    assert fa["released_at"] == fb["released_at"]
    winners_price = winner["weekly_price"]
    lowest = record["lowest_compliant_weekly_price"]
    for text in (json.dumps(fb), json.dumps(fa)):
        assert winners_price not in text and "family-centred" not in text
        assert lowest not in text.replace(fa["weekly_price"], "")  # A's own price is A's
    mails = every_contact_heard(sink, w.est["C"].emails, f"Outcome of referral {rid}")
    body = sink.text(mails[0])
    assert "The winning bid's points by criterion" in body
    assert winners_price not in body and "family-centred" not in body
    assert "Hidden Child" not in body and f"KCC-{w.market.tag}" not in body
