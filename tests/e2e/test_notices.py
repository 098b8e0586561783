"""Issue 14's notices on the real stack (RULES §11.4, §13, §10), over HTTP.

- Under the PCR 2015 DPS that exists on main, the real flows (a provider admitted by the lead,
  a referral published and cancelled by a commissioner) raise no Procurement Act notice.
- A dynamic market's events, shaped as /work/wt/ISSUE14.md names their fields, delivered to
  the contracts service's queues as qualification and the referral service will send them:
  every notice is listed by ``GET /api/v1/notices`` for the lead, validates against the OCDS
  1.1 release schema merged with the UK profile's extensions (tests/support/ocds_uk.py),
  carries its ``noticeType`` and none of the child's data; the commissioner's start within
  the voluntary standstill is a 409 naming it; the due list and marking published.
- The producer side (``market``'s half of issue 14: ``/api/v1/markets`` and the event fields)
  is not on main yet: the asserts that need it are skipped with that reason when it is
  absent, and run as they stand once it has landed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from services.common.runtime import make_engine
from tests.support import notices_events as ev
from tests.support.contracts_events import award_payload, publish, uid
from tests.support.infra import wait_for
from tests.support.ocds_uk import leaked, notice_types, validate_release
from tests.support.referral_market import CATEGORY, Market, ok

PRODUCER_MISSING = (
    "needs the producer half of issue 14 (helper 'market', branch f-market): "
    "/api/v1/markets and the ISSUE14 event fields are not on this stack; unskip after merging"
)


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
    if dps.get("regime") not in (None, ev.PCR):
        pytest.skip("the default market on this stack is not the PCR 2015 DPS")


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
    """Needs ``market``'s half of issue 14: the lead creates, establishes and ends a dynamic
    market through qualification; its UK13, UK14 and UK16 follow."""
    lead = api("lead")
    if lead.get("/api/v1/markets").status_code != 200:
        pytest.skip(PRODUCER_MISSING)
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


def test_s11_4_a_real_call_off_on_a_dynamic_market_raises_uk4(stack, api):
    """Needs ``market``'s half of issue 14 (referrals on a dynamic market carry dps_id,
    regime, estimated_value and above_threshold). The lead developer completes the real
    call-off flow here after merging: publish (UK4), award with summaries (UK6), start (UK7),
    end (UK11)."""
    if api("lead").get("/api/v1/markets").status_code != 200:
        pytest.skip(PRODUCER_MISSING)
    pytest.skip("the referral service's call-off API for a dynamic market is to be driven "
                "here once f-market is merged (its request shape is not on main)")
