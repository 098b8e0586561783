"""Issue 15 end to end: every award reproducible by a third party (RULES §6, §9, §10).

Three providers' SEN establishments around a remote point (a 1.5-mile radius finds them
alone) bid on one KCC referral; one misses the must-have feature. The commissioner scores
the outcome statements (two evaluators for one bid), evaluates and awards. Then:

- ``GET /referrals/{id}/evaluation`` is recomputed here from its ``inputs`` and ``weights``
  with RULES §6.3 written out below (not the scoring module) and gives exactly each
  ``total_exact``; the ranks and the shortlist follow from the totals and tie-breaks (§6.4);
- a competency move (§4.5) and an uplift (§7.2) after the evaluation leave it unchanged;
- ``dps evaluation replay`` reports no difference, and exit 1 once a stored input is altered
  in the database.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import text

from services.common.runtime import make_engine
from services.contracts.messages import PerformanceReviewed
from tests.support.fixtures import Api
from tests.support.infra import wait_for
from tests.support.notifications_events import publish

CATEGORY = "SEN"
EARTH_RADIUS_MILES = 3958.8
HEAD_COST = {"A": "100.00", "B": "90.00", "C": "80.00"}
MILES_NORTH = {"A": 0.31, "B": 1.17, "C": 0.74}
COMPETENCY_SCORES = {"A": (80, 70, 90), "B": (60, 65, 70), "C": (90, 90, 90)}
NEEDS = [{"code": "N1", "label": "speech therapy", "marks": 3},
         {"code": "N2", "label": "education on site", "marks": 2}]
FEATURES = [{"code": "M1", "label": "single occupancy", "must_have": True},
            {"code": "D1", "label": "garden", "marks": 2},
            {"code": "D2", "label": "sensory room", "marks": 1}]
MET = {"A": (["N1", "N2"], ["M1", "D1"]), "B": (["N1"], ["M1", "D1", "D2"]),
       "C": (["N1", "N2"], ["D1", "D2"])}  # C misses M1: non-compliant (§6.2)
OUTCOMES = {"A": [("Panel A", 70), ("Panel B", 85)], "B": [("Panel A", 90)]}


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 201)), (
        f"{response.request.method} {response.request.url} → {response.status_code}: "
        f"{response.text[:800]}"
    )
    return response.json() if response.content else None


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    (la1, lo1), (la2, lo2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(
        (lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def north_of(home: tuple[float, float], miles: float) -> tuple[float, float]:
    return home[0] + math.degrees(miles / EARTH_RADIUS_MILES), home[1]


def admitted(stack, api, label: str, location: tuple[float, float]) -> dict:
    """A new provider's SEN establishment, applied for and admitted by the lead (§4.3)."""
    tag = random.randrange(10**8)
    body = ok(api().post("/api/v1/providers", json={
        "name": f"Replay {label} {tag}", "contact_email": f"replay{tag}@provider.example"}))
    provider = Api(stack.url, body["api_key"])
    config = ok(api("lead").get(f"/api/v1/categories/{CATEGORY}"))
    today = datetime.now(UTC).date()
    est = ok(provider.post("/api/v1/establishments", json={
        "name": f"Replay {label} House {tag}", "address": f"1 {label} Road",
        "postcode": "IV1 1AA", "location": {"lat": location[0], "lon": location[1]},
        "categories": [CATEGORY], "capacity": 10,
        "contacts": [{"name": "Head", "email": f"head{tag}@school.example.org"}]}))
    answers = {}
    for code in config["pass_fail_criteria"]:
        answers[code] = {"answer": f"{code} holds", "evidence": f"https://ev.example/{code}"}
        if code == "INSURANCE":
            answers[code] |= {"expires_on": (today + timedelta(days=300)).isoformat(),
                              "cover": {k: "20000000.00" for k in config["insurance_minimums"]}}
        if code == "INSPECTION":
            answers[code]["judgement"] = {"body": "OFSTED", "grade": "GOOD",
                                          "date": (today - timedelta(days=200)).isoformat()}
    application = ok(provider.post("/api/v1/applications", json={
        "establishment_id": est["id"], "category": CATEGORY, "pass_fail": answers,
        "method_statements": {k: f"our {k.lower()} approach" for k in
                              ("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING")},
        "core_costs": dict.fromkeys(config["cost_heads"], HEAD_COST[label])}))
    ok(provider.post(f"/api/v1/applications/{application['id']}/submit"))
    decided = ok(api("lead").post(f"/api/v1/applications/{application['id']}/decision", json={
        "pass_fail": {c: {"result": "pass"} for c in answers},
        "scores": dict(zip(("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING"),
                           COMPETENCY_SCORES[label], strict=True))}))
    assert decided["status"] == "admitted", decided
    return {"id": est["id"], "provider": provider, "location": location,
            "heads": config["cost_heads"], "hours": config["min_tender_period_hours"]}


@pytest.fixture(scope="module")
def evaluated(stack, api) -> dict:
    home = (random.uniform(55.0, 58.0), random.uniform(-5.5, -2.5))
    est = {k: admitted(stack, api, k, north_of(home, m)) for k, m in MILES_NORTH.items()}
    kcc = api("commissioner", authority="KCC")
    deadline = datetime.now(UTC) + timedelta(hours=est["A"]["hours"] + 1)
    referral = ok(kcc.post("/api/v1/referrals", json={
        "category": CATEGORY, "child_reference": f"KCC-REPLAY-{random.randrange(10**8)}",
        "children": [{"age": 12}], "home_location": {"lat": home[0], "lon": home[1]},
        "radius_miles": 1.5, "deadline": deadline.isoformat(), "needs": NEEDS,
        "features": FEATURES, "desired_outcomes": ["attends school every day"]}), 201)
    rid = referral["referral_id"]
    url = f"/api/v1/referrals/{rid}"
    assert ok(kcc.post(f"{url}/publish", json={"accept_fewer": True}))["invited"] == 3
    bids = {}
    for label, e in est.items():
        needs, features = MET[label]
        bids[label] = ok(e["provider"].post(f"{url}/bids", json={
            "establishment_id": e["id"], "core_costs": dict.fromkeys(e["heads"], HEAD_COST[label]),
            "variable_costs": [{"label": "therapy", "weekly": "123.45"}] if label == "B" else [],
            "needs_met": needs, "features_met": features,
            "outcomes_statement": f"{label}: full attendance within a term."}), 201)["bid_id"]
    ok(kcc.post(f"{url}/close"))
    for label, scores in OUTCOMES.items():
        for evaluator, score in scores:
            ok(kcc.post(f"{url}/bids/{bids[label]}/outcome-scores",
                        json={"evaluator": evaluator, "score": score}), 201)
    reply = ok(kcc.post(f"{url}/evaluate"))
    return {"rid": rid, "url": url, "kcc": kcc, "est": est, "bids": bids, "home": home,
            "reply": reply}


# --------------------------------------------------------------------------- RULES §6.3


def total(weights: dict, lowest: str, x: dict) -> tuple[Fraction, Fraction]:
    """RULES §6.3 written out: (total, quality) in exact arithmetic."""
    w = {k: Fraction(v) for k, v in weights.items()}
    scores = [Fraction(s) for s in x["outcome_scores"]]
    quality = (
        w["C"] * Fraction(x["competency"]) / 100
        + w["L"] * max(0, 5 - math.floor(Fraction(x["distance_miles"]) / 10)) / 5
        + (w["O"] * sum(scores) / len(scores) / 100 if scores else 0)
        + (w["N"] * Fraction(x["needs_marks_met"], x["needs_marks_total"])
           if x["needs_marks_total"] else 0)
        + (w["F"] * Fraction(x["desirable_marks_met"], x["desirable_marks_total"])
           if x["desirable_marks_total"] else 0)
    )
    price = w["P"] * Fraction(Decimal(lowest)) / Fraction(Decimal(x["weekly_price"]))
    return price + quality, quality


def test_the_evaluation_replays_exactly_from_its_inputs(evaluated, api):
    ev = ok(evaluated["kcc"].get(f"{evaluated['url']}/evaluation"))
    assert ev["formula"] == "RULES §6" and ev["formula_version"]
    assert ev["referral_id"] == evaluated["rid"] and ev["evaluated_at"]
    assert sum(ev["weights"].values()) == 100
    bids = {b["bid_id"]: b for b in ev["bids"]}
    ids = evaluated["bids"]
    assert set(bids) == set(ids.values())
    c = bids[ids["C"]]
    assert c["compliant"] is False and "M1" in c["reason"] and c["total_exact"] is None

    compliant = [b for b in ev["bids"] if b["compliant"]]
    lowest = min(Decimal(b["inputs"]["weekly_price"]) for b in compliant)
    assert Decimal(ev["lowest_compliant_weekly_price"]) == lowest
    totals = {}
    for b in compliant:
        t, q = total(ev["weights"], ev["lowest_compliant_weekly_price"], b["inputs"])
        assert str(t) == b["total_exact"], b
        assert b["total"] == f"{round(Decimal(t.numerator) / t.denominator, 2):.2f}"
        totals[b["bid_id"]] = (t, q, Decimal(b["inputs"]["weekly_price"]),
                               b["inputs"]["final_submission_at"], b["bid_id"])
    order = sorted(totals, key=lambda i: (-totals[i][0], -totals[i][1], *totals[i][2:]))
    assert [b["bid_id"] for b in sorted(compliant, key=lambda b: b["rank"])] == order
    assert [b["rank"] for b in compliant] == [1, 2]  # ranked bids first, in rank order
    top = totals[order[0]][0]
    assert ev["shortlist"] == [i for i in order[:3] if totals[i][0] > top - 5]

    # the inputs are the bids' own data: price after discount, competency, exact distance
    a = bids[ids["A"]]["inputs"]
    heads = len(evaluated["est"]["A"]["heads"])
    assert Decimal(a["weekly_price"]) == Decimal(HEAD_COST["A"]) * heads
    assert sorted(Decimal(s) for s in a["outcome_scores"]) == [70, 85]
    assert (a["needs_marks_met"], a["needs_marks_total"]) == (5, 5)
    assert (a["desirable_marks_met"], a["desirable_marks_total"]) == (2, 3)
    assert Decimal(a["competency"]) == Decimal(_competency(api, evaluated["est"]["A"]["id"]))
    miles = haversine(evaluated["home"], evaluated["est"]["A"]["location"])
    assert abs(float(a["distance_miles"]) - miles) < 0.01
    assert len(a["distance_miles"].split(".")[-1]) > 2  # full precision, not rounded
    assert ev["bids"] == evaluated["reply"]["ranking"]  # as the evaluation answered

    # §10: the auditor reads it too; a provider and another authority do not
    assert ok(api("auditor").get(f"{evaluated['url']}/evaluation")) == ev
    provider = evaluated["est"]["A"]["provider"]
    assert provider.get(f"{evaluated['url']}/evaluation").status_code == 403
    assert api("commissioner", authority="ESCC").get(
        f"{evaluated['url']}/evaluation").status_code == 404
    evaluated["evaluation"] = ev


def _competency(api, establishment_id: str) -> str:
    view = ok(api("lead").get(f"/api/v1/establishments/{establishment_id}"))
    return next(m["competency"] for m in view["memberships"] if m["category"] == CATEGORY)


def test_a_competency_move_and_an_uplift_leave_the_evaluation_unchanged(evaluated, api):
    url, kcc = evaluated["url"], evaluated["kcc"]
    before = ok(kcc.get(f"{url}/evaluation"))
    if before["status"] == "parent_choice":
        ok(kcc.post(f"{url}/parent-choice", json={"bid_id": before["shortlist"][0]}))
    ok(kcc.post(f"{url}/award", json={}))

    est_a = evaluated["est"]["A"]["id"]
    old = _competency(api, est_a)
    today = date.today()
    publish("contracts", PerformanceReviewed(
        establishment_id=est_a, category=CATEGORY, period_start=today - timedelta(days=182),
        period_end=today, performance_index="0.00", reviews_count=2))
    wait_for(lambda: _competency(api, est_a) != old, 30, "the competency move (§4.5)")

    cm = api("contract_manager")
    for _ in range(5):  # one uplift per category, head and date
        response = cm.post("/api/v1/uplifts", json={
            "category": CATEGORY, "cost_head": evaluated["est"]["A"]["heads"][0],
            "percent": "2.5",
            "effective_from": (today + timedelta(days=random.randint(30, 3000))).isoformat()})
        if response.status_code != 409:
            break
    ok(response, 201)

    assert ok(kcc.get(f"{url}/evaluation")) == before
    assert ok(api("auditor").get(f"{url}/evaluation")) == before

    # the provider's own feedback carries its bid's inputs (distance in whole miles)
    b_id = evaluated["bids"]["B"]
    mine = next(b for b in before["bids"] if b["bid_id"] == b_id)
    [feedback] = ok(evaluated["est"]["B"]["provider"].get(f"{url}/feedback"))["items"]
    assert feedback["total_exact"] == mine["total_exact"]
    assert feedback["weights"] == before["weights"]
    assert feedback["inputs"] == mine["inputs"] | {
        "distance_miles": str(math.floor(Decimal(mine["inputs"]["distance_miles"])))}


def _replay(rid: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.cli", "evaluation", "replay", rid],
                          capture_output=True, text=True, env=dict(os.environ), timeout=120)


def test_dps_evaluation_replay_finds_no_difference_until_an_input_is_altered(evaluated):
    rid, bid_b = evaluated["rid"], evaluated["bids"]["B"]
    clean = _replay(rid)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no difference" in clean.stdout

    engine = make_engine(pool_size=1)
    alter = ("UPDATE referral.evaluation_inputs SET competency = competency + :d "
             "WHERE bid_id = :b")
    try:
        with engine.begin() as conn:
            conn.execute(text(alter), {"d": 7, "b": bid_b})
        altered = _replay(rid)
        assert altered.returncode == 1, altered.stdout + altered.stderr
        assert f"DIFFERENCE bid {bid_b}: total stored" in altered.stdout
        assert f"bid {bid_b}: sub-score C" in altered.stdout
    finally:
        with engine.begin() as conn:
            conn.execute(text(alter), {"d": -7, "b": bid_b})
        engine.dispose()
    assert _replay(rid).returncode == 0
