"""Issue 14's notices on the real stack (RULES §11.4, §13, §10), over HTTP.

- Under the PCR 2015 DPS (the default market), the real flows (a provider admitted by the lead,
  a referral published and cancelled by a commissioner) raise no Procurement Act notice.
- A dynamic market's events, with the fields of the published messages
  (``services.qualification.messages``, ``services.referral.messages``), delivered to the
  contracts service's queues as qualification and the referral service send them:
  every notice is listed by ``GET /api/v1/notices`` for the lead, validates against the OCDS
  1.1 release schema merged with the UK profile's extensions (tests/support/ocds_uk.py),
  carries its ``noticeType`` and none of the child's data; the commissioner's start within
  the voluntary standstill is a 409 naming it; the due list and marking published.
- A real dynamic market through qualification, two admissions, a call-off above the
  threshold bid on, evaluated and awarded with a voluntary standstill, started and ended, a
  cancellation, a removal and the end of the market raise every notice.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import text

from services.common.runtime import make_engine
from tests.support import notices_events as ev
from tests.support.contracts_events import award_payload, publish, uid
from tests.support.fixtures import Api
from tests.support.infra import wait_for
from tests.support.ocds_uk import leaked, notice_types, validate_release
from tests.support.referral_market import CATEGORY, Market, bid_body, north_of, ok


def notices(api_client, **params) -> list[dict]:
    return ok(api_client.get("/api/v1/notices", params={"limit": 500, **params}))["items"]


def contracts_row(sql: str, **params):
    engine = make_engine(pool_size=1)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).first()
    finally:
        engine.dispose()


def test_s11_4_the_pcr_dps_flows_on_main_raise_no_procurement_act_notice(stack, api):
    market = Market(stack, api)
    home = market.quiet_home(25, strict=False)
    market.establishment("P", home, CATEGORY)  # admitted: a real membership_admitted
    owner = api("commissioner", authority="KCC")
    deadline = datetime.now(UTC) + timedelta(
        hours=market.categories[CATEGORY]["min_tender_period_hours"], minutes=10)
    draft = ok(owner.post("/api/v1/referrals", json={
        "category": CATEGORY, "child_reference": ev.CHILD["child_reference"],
        "children": [{"age": 11, "gender": "male", "legal_status": "s20",
                      "name": ev.CHILD["name"], "date_of_birth": ev.CHILD["date_of_birth"]}],
        "home_location": {"lat": home[0], "lon": home[1]}, "address": ev.CHILD["address"],
        "radius_miles": 20, "deadline": deadline.isoformat(),
        "needs": [{"code": "N1", "label": "education on site", "marks": 2}],
        "features": [], "desired_outcomes": ["attend school full time"]}), 201)
    referral_id = draft["referral_id"]
    ok(owner.post(f"/api/v1/referrals/{referral_id}/publish", json={"accept_fewer": True}))
    ok(owner.post(f"/api/v1/referrals/{referral_id}/cancel",
                  json={"reason": "placed with family instead"}))
    wait_for(lambda: (contracts_row(
        "SELECT status FROM contracts.referral_records WHERE referral_id = :r",
        r=referral_id) or (None,))[0] == "cancelled", 30, "contracts saw the cancellation")
    lead = api("lead")
    assert [n for n in notices(lead) if referral_id in n["ocid"]] == []
    dps = ok(lead.get("/api/v1/dps"))
    assert dps.get("regime") in (None, ev.PCR), "the default market is the PCR 2015 DPS"


def test_s11_4_a_dynamic_markets_notices_over_http(stack, api):
    """The events as the producers will send them, to the contracts service's queues."""
    dps_id, referral_id, cancelled = uid("mkt-"), uid("ref-"), uid("ref-")
    provider_id = uid("prov-")
    at = datetime.now(UTC)
    standstill = date.today() + timedelta(days=14)
    publish("qualification", "market_created", ev.market(dps_id))
    publish("qualification", "market_established", ev.market(dps_id))
    publish("qualification", "membership_admitted", ev.membership(dps_id,
                                                                  provider_id=provider_id))
    publish("referral", "referral_published", ev.referral_published(referral_id, dps_id))
    publish("referral", "referral_published", ev.referral_published(cancelled, dps_id))
    award = award_payload(provider_id=provider_id, referral_id=referral_id, awarded_at=at,
                          child_reference=ev.CHILD["child_reference"],
                          referral=ev.child_referral(referral_id),
                          **ev.award_fields(dps_id, standstill_ends_on=standstill, at=at))
    publish("referral", "referral_awarded", award)
    publish("referral", "referral_cancelled", ev.referral_cancelled(cancelled, dps_id))
    lead = api("lead")
    wanted = {f"UK13:{dps_id}", f"UK14:{dps_id}", f"UK4:{referral_id}", f"UK6:{referral_id}",
              f"UK12:{cancelled}"}
    wait_for(lambda: wanted <= {n["notice_id"] for n in notices(lead)}, 30, "notices raised")

    owner = api("commissioner", authority="KCC")
    placement = f"/api/v1/placements/{award['placement_id']}"
    refused = owner.post(f"{placement}/start", json={"date": standstill.isoformat()})
    assert refused.status_code == 409
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert "standstill" in refused.json()["detail"]
    ok(owner.post(f"{placement}/start",
                  json={"date": (standstill + timedelta(days=1)).isoformat()}))
    ok(owner.post(f"{placement}/end", json={
        "date": (standstill + timedelta(days=40)).isoformat(), "reason": "planned"}))

    items = {n["notice_id"]: n for n in notices(lead)}
    wanted |= {f"UK7:{award['placement_id']}", f"UK11:{award['placement_id']}"}
    assert wanted <= set(items)
    market_ocid = items[f"UK14:{dps_id}"]["ocid"]
    for key in sorted(wanted):
        release = items[key]["release"]
        assert validate_release(release) == [], key
        assert notice_types(release) == [items[key]["notice_type"]] == [key.split(":")[0]]
        assert leaked(release, ev.CHILD.values()) == [], key
        if not key.startswith(("UK13", "UK14")):
            assert release["relatedProcesses"][0]["identifier"] == market_ocid
    assert items[f"UK7:{award['placement_id']}"]["due_by"] == (
        standstill + timedelta(days=1 + 120)).isoformat()

    # the type filter, the due list, marking published (§11.4); the contract manager too
    manager = api("contract_manager")
    assert {n["notice_type"] for n in notices(manager, type="UK4")} == {"UK4"}
    due = [n["notice_id"] for n in notices(manager, due="true")]
    assert f"UK4:{referral_id}" in due
    marked = ok(manager.post(f"/api/v1/notices/UK4:{referral_id}/published",
                             json={"fts_notice_id": "054321-2026"}))
    assert marked["release"]["tender"]["documents"][0]["url"].endswith("/054321-2026")
    assert f"UK4:{referral_id}" not in [n["notice_id"] for n in notices(manager, due="true")]
    assert owner.get("/api/v1/notices").status_code == 403
    bad = manager.post(f"/api/v1/notices/UK4:{referral_id}/published",
                       json={"fts_notice_id": "no spaces allowed"})
    assert bad.status_code == 422 and "fts_notice_id" in bad.text


def test_s11_4_notices_are_in_the_openapi_document(stack, api):
    paths = ok(api().get("/openapi.json"))["paths"]
    assert "get" in paths["/api/v1/notices"]
    assert "post" in paths["/api/v1/notices/{notice_id}/published"]


def test_s11_4_the_real_producer_raises_the_market_notices(stack, api):
    """The lead creates, establishes and ends a dynamic market through qualification; its
    UK13, UK14 and UK16 follow."""
    lead = api("lead")
    start = date.today() + timedelta(days=1)
    created = ok(lead.post("/api/v1/markets", json={
        "regime": ev.PA, "title": f"Dynamic market {uid()[:8]}",
        "parts": [{"number": 1, "category": CATEGORY, "title": "Children's homes"}],
        "valid_from": start.isoformat(), "valid_to": (start + timedelta(days=1400)).isoformat(),
        "fee_percent": "1.5"}), 201)
    dps_id = created["dps_id"]
    ok(lead.post(f"/api/v1/markets/{dps_id}/establish", json={}))
    ok(lead.post(f"/api/v1/markets/{dps_id}/end", json={}))
    wanted = {f"UK13:{dps_id}", f"UK14:{dps_id}", f"UK16:{dps_id}"}
    wait_for(lambda: wanted <= {n["notice_id"] for n in notices(lead)}, 30,
             "market notices from the real producer")
    for n in notices(lead):
        if n["notice_id"] in wanted:
            assert validate_release(n["release"]) == [], n["notice_id"]
            assert "1.5%" in n["release"]["tender"]["description"]  # s.38 fee stated


V1 = "/api/v1"
SCORES = {"WORKFORCE": 70, "OUTCOMES_APPROACH": 70, "PERFORMANCE_MONITORING": 70}


def _ppon() -> str:
    alpha = "".join(c for c in uuid.uuid4().hex.upper() if c.isalpha()).ljust(7, "Q")
    return f"P{alpha[:3]}-{random.randint(1000, 9999)}-{alpha[3:7]}"


def _member(market: Market, dps_id: str, label: str, location) -> dict:
    """A provider with its PPON and Companies House number, its establishment applying to
    the dynamic market without an insurance answer (s.36(2)), checked (s.62) and admitted,
    then its insurance cover recorded for the award (§11.2)."""
    body = ok(Api(market.stack.url).post(f"{V1}/providers", json={
        "name": f"{label} Care Ltd {market.tag}", "ppon": _ppon(),
        "companies_house_number": f"{random.randint(10**7, 10**8 - 1)}",
        "contact_email": f"{label.lower()}-{market.tag}@provider.example"}), 201)
    provider = Api(market.stack.url, body["api_key"])
    est = ok(provider.post(f"{V1}/establishments", json={
        "name": f"{label} House {market.tag}", "address": f"{label} Lane, Kent",
        "postcode": "ME1 1AA", "location": {"lat": location[0], "lon": location[1]},
        "categories": [CATEGORY], "contacts": [
            {"name": f"{label} Manager", "email": f"{label.lower()}-{market.tag}@home.example"}]}),
        201)
    config = market.categories[CATEGORY]
    criteria = [c for c in config["pass_fail_criteria"] if c != "INSURANCE"]
    app = ok(provider.post(f"{V1}/applications", json={
        "establishment_id": est["id"], "category": CATEGORY, "dps_id": dps_id,
        "pass_fail": {c: {"answer": f"{c} holds", "evidence": f"https://ev.example/{c}"}
                      for c in criteria},
        "method_statements": {k: f"our {k.lower()} approach" for k in SCORES},
        "core_costs": {h: "300.00" for h in config["cost_heads"]}}), 201)
    ok(provider.post(f"{V1}/applications/{app['id']}/submit"))
    ok(market.lead.post(f"{V1}/applications/{app['id']}/exclusion-check",
                        json={"debarment_list_checked": True}))
    ok(market.lead.post(f"{V1}/applications/{app['id']}/decision", json={
        "pass_fail": {c: {"result": "pass"} for c in criteria}, "scores": SCORES}))
    ok(provider.post(f"{V1}/establishments/{est['id']}/memberships/{CATEGORY}/evidence", json={
        "criterion": "INSURANCE", "answer": "group policy", "evidence": "https://ev.example/i",
        "expires_on": (date.today() + timedelta(days=300)).isoformat(),
        "cover": {k: "20000000.00" for k in config["insurance_minimums"]}}))
    return {"id": est["id"], "label": label, "provider": provider, "provider_id": body["id"]}


def test_s11_4_a_real_dynamic_market_and_call_off_raise_every_notice(stack, api):
    """Needs ``market``'s half of issue 14. The lead establishes a market; two providers are
    admitted (UK15 each); a call-off above the light touch threshold is published (UK4),
    bid on, evaluated and awarded with a voluntary standstill (UK6, assessment summaries
    released together); the placement cannot start within it (409), starts (UK7 due within
    120 days) and ends (UK11); a cancelled published referral gives UK12; a removal UK15; the
    market ends (UK16). Each validates, is typed and holds none of the referral's child
    data; the market's fee (s.38) is the awarded supplier's."""
    lead = api("lead")
    market = Market(stack, api)
    today = date.today()
    dps_id = ok(market.lead.post(f"{V1}/markets", json={
        "title": f"Children's homes dynamic market {market.tag}",
        "parts": [{"number": 1, "category": CATEGORY, "title": "Children's homes"}],
        "valid_from": today.isoformat(), "valid_to": (today + timedelta(days=1460)).isoformat(),
        "fee_percent": "1.5"}), 201)["dps_id"]
    ok(market.lead.post(f"{V1}/markets/{dps_id}/establish"))
    home = market.quiet_home(25, strict=False)
    members = {label: _member(market, dps_id, label, north_of(home, miles))
               for label, miles in (("Alder", 4.0), ("Birch", 9.0))}
    owner = api("commissioner", authority="KCC")
    child = {"child_reference": ev.CHILD["child_reference"] + market.tag,
             "children": [{"age": 14, "name": ev.CHILD["name"],
                           "date_of_birth": ev.CHILD["date_of_birth"]}],
             "address": ev.CHILD["address"]}

    def referral(title: str) -> str:
        deadline = datetime.now(UTC) + timedelta(
            hours=market.category()["min_tender_period_hours"], minutes=10)
        body = {"category": CATEGORY, "dps_id": dps_id, "title": title, **child,
                "home_location": {"lat": home[0], "lon": home[1]}, "radius_miles": 20,
                "deadline": deadline.isoformat(), "features": [],
                "desired_outcomes": ["stay in one placement"],
                # 13,000 a week for 52 weeks: above the £663,540 light touch threshold
                "weekly_price_ceiling": "13000.00", "expected_weeks": 52}
        rid = ok(owner.post(f"{V1}/referrals", json=body), 201)["referral_id"]
        ok(owner.post(f"{V1}/referrals/{rid}/publish", json={"accept_fewer": True}))
        return rid

    rid = referral("A home for one young person")
    heads = market.categories[CATEGORY]["cost_heads"]
    bids = {}
    for label, price in (("Alder", "150.00"), ("Birch", "290.00")):
        e = SimpleNamespace(id=members[label]["id"], label=label)
        bids[label] = ok(members[label]["provider"].post(
            f"{V1}/referrals/{rid}/bids", json=bid_body(e, heads, price, needs_met=[],
                                                       features_met=[])),
            201)["bid_id"]
    ok(owner.post(f"{V1}/referrals/{rid}/close"))
    for bid in bids.values():
        ok(owner.post(f"{V1}/referrals/{rid}/bids/{bid}/outcome-scores",
                      json={"evaluator": "Eve", "score": 70}), 201)
    ok(owner.post(f"{V1}/referrals/{rid}/evaluate"))
    awarded = ok(owner.post(f"{V1}/referrals/{rid}/award", json={"standstill_working_days": 8}))
    placement_id = awarded["placement_id"]
    ends = date.fromisoformat(ok(owner.get(f"{V1}/referrals/{rid}"))["procurement"][
        "standstill_ends_on"])
    wait_for(lambda: f"UK6:{rid}" in {n["notice_id"] for n in notices(lead)}, 30, "UK6")
    refused = owner.post(f"{V1}/placements/{placement_id}/start",
                         json={"date": ends.isoformat()})
    assert refused.status_code == 409 and "standstill" in refused.json()["detail"]
    ok(owner.post(f"{V1}/placements/{placement_id}/start",
                  json={"date": (ends + timedelta(days=1)).isoformat()}))
    ok(owner.post(f"{V1}/placements/{placement_id}/end", json={
        "date": (ends + timedelta(days=60)).isoformat(), "reason": "planned"}))
    cancelled = referral("Another home")
    ok(owner.post(f"{V1}/referrals/{cancelled}/cancel",
                  json={"reason": f"{ev.CHILD['name']} went home"}))
    path = f"{V1}/establishments/{members['Birch']['id']}/memberships/{CATEGORY}"
    ok(market.lead.post(f"{path}/removal-notice", json={"reasons": "a serious breach"}))
    ok(market.lead.post(f"{path}/removal", json={"reason": "removed after the notice"}))
    ok(market.lead.post(f"{V1}/markets/{dps_id}/end", json={}))

    singles = {f"UK13:{dps_id}", f"UK14:{dps_id}", f"UK16:{dps_id}", f"UK4:{rid}",
               f"UK6:{rid}", f"UK7:{placement_id}", f"UK11:{placement_id}",
               f"UK4:{cancelled}", f"UK12:{cancelled}"}

    def raised() -> dict:
        return {n["notice_id"]: n for n in notices(lead) if n["dps_id"] == dps_id
                or n["notice_id"] in singles}

    wait_for(lambda: singles <= set(raised()) and sum(
        k.startswith(f"UK15:{dps_id}:") for k in raised()) == 3, 60, "every notice")
    items = raised()
    secrets = [*ev.CHILD.values(), child["child_reference"]]
    for key, n in items.items():
        assert validate_release(n["release"]) == [], key
        assert notice_types(n["release"]) == [key.split(":")[0]]
        assert leaked(n["release"], secrets) == [], key
    uk6 = items[f"UK6:{rid}"]["release"]["awards"][0]
    assert uk6["standstillPeriod"]["endDate"].startswith(ends.isoformat())
    assert uk6["assessmentSummariesDateSent"]
    assert items[f"UK7:{placement_id}"]["due_by"] == (ends + timedelta(days=121)).isoformat()
    supplier_ids = {p["id"] for n in items.values() for p in n["release"]["parties"]
                    if "supplier" in p["roles"]}
    assert all(i.startswith("GB-PPON-") for i in supplier_ids)
    # s.38: the market's fee is charged to the awarded supplier (cost shares, §7.7)
    year = today.year if today.month >= 4 else today.year - 1
    shares = ok(api("contract_manager").get(f"{V1}/cost-shares", params={"year": year}))
    charged = {s["provider_id"]: s for s in shares["supplier_fees"]["suppliers"]}
    assert members["Alder"]["provider_id"] in charged
