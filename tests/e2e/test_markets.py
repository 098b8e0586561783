"""Issue 14 end to end through the gateway (RULES §11.1–§11.3): a Procurement Act 2023
dynamic market beside the PCR 2015 DPS.

The lead creates and establishes a dynamic market with RESIDENTIAL as part 1; two providers
(with their PPONs) apply without any insurance answer (s.36(2)), the lead records the
debarment-list and exclusion check (s.62) and admits them. A referral under the market
invites its members only: an establishment of the PCR DPS nearer the child is not invited
(s.34). The award to a winner without current insurance cover is refused (409 with the
reason); once the provider records its cover the award goes through with a voluntary
standstill of 8 working days (s.51). A ``user_choice`` direct placement records the
preference and why a competition is not in the child's best interests (Schedule 5
paras 15–17). A removal needs the notice with reasons first (s.37(4)).

The migration of a PCR DPS (§11.1): a PCR DPS established in 2024 with admitted
establishments is migrated; each provider finds its pre-filled draft in the new market;
once admitted the establishment is a member of both until the old DPS ends.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.fixtures import Api
from tests.support.infra import wait_for
from tests.support.mail import Sink
from tests.support.referral_market import (
    CATEGORY,
    Market,
    bid_body,
    north_of,
    ok,
)

V1 = "/api/v1"
SCORES = {"WORKFORCE": 70, "OUTCOMES_APPROACH": 70, "PERFORMANCE_MONITORING": 70}


def ppon(i: int) -> str:
    letters = uuid.uuid4().hex.upper()
    alpha = "".join(c for c in letters if c.isalpha()).ljust(7, "Q")
    return f"P{alpha[:3]}-{1000 + i:04d}-{alpha[3:7]}"


def member(market: Market, dps_id: str, label: str, location, *, insurance: bool,
           exclusion_check: bool = True, decide: bool = True):
    """A provider (with a PPON) and its establishment, applying to the market ``dps_id``."""
    body = ok(Api(market.stack.url).post(f"{V1}/providers", json={
        "name": f"{label} Care Ltd {market.tag}", "contact_email":
        f"{label.lower()}-{market.tag}@provider.example", "ppon": ppon(len(label)),
        "companies_house_number": "01234567"}), 201)
    provider = Api(market.stack.url, body["api_key"])
    est = ok(provider.post(f"{V1}/establishments", json={
        "name": f"{label} House {market.tag}", "address": f"{label} Lane, Kent",
        "postcode": "ME1 1AA", "location": {"lat": location[0], "lon": location[1]},
        "categories": [CATEGORY],
        "contacts": [{"name": f"{label} Manager",
                      "email": f"{label.lower()}-{market.tag}@home.example"}]}), 201)
    config = market.categories[CATEGORY]
    answers = {}
    for code in config["pass_fail_criteria"]:
        if code == "INSURANCE" and not insurance:
            continue
        answers[code] = {"answer": f"{code} holds", "evidence": f"https://ev.example/{code}"}
        if code == "INSURANCE":
            answers[code] |= {"expires_on": (date.today() + timedelta(days=400)).isoformat(),
                              "cover": {k: "20000000.00" for k in config["insurance_minimums"]}}
    app = ok(provider.post(f"{V1}/applications", json={
        "establishment_id": est["id"], "category": CATEGORY, "dps_id": dps_id,
        "pass_fail": answers,
        "method_statements": {k: f"our {k.lower()} approach" for k in SCORES},
        "core_costs": {h: "300.00" for h in config["cost_heads"]}}), 201)
    ok(provider.post(f"{V1}/applications/{app['id']}/submit"))
    if decide:
        admit(market, app["id"], list(answers), exclusion_check)
    return {"id": est["id"], "provider": provider, "provider_id": body["id"],
            "application_id": app["id"], "label": label}


def admit(market: Market, application_id: str, criteria: list[str], check: bool = True):
    if check:
        ok(market.lead.post(f"{V1}/applications/{application_id}/exclusion-check",
                            json={"debarment_list_checked": True}))
    decided = ok(market.lead.post(f"{V1}/applications/{application_id}/decision", json={
        "pass_fail": {c: {"result": "pass"} for c in criteria}, "scores": SCORES}))
    assert decided["status"] == "admitted", decided
    return decided


@pytest.fixture(scope="module")
def dm(stack, api):
    """An established dynamic market (RESIDENTIAL as part 1) and its two members."""
    market = Market(stack, api)
    today = date.today()
    created = ok(market.lead.post(f"{V1}/markets", json={
        "title": f"Children's placements dynamic market {market.tag}",
        "parts": [{"number": 1, "category": CATEGORY, "title": "Children's homes"}],
        "valid_from": today.isoformat(), "valid_to": (today + timedelta(days=1460)).isoformat(),
        "fee_percent": "1.5"}), 201)
    home = market.quiet_home(25, strict=False)
    return {"market": market, "created": created, "home": home, "members": {}}


def test_a_dynamic_market_is_created_then_established_beside_the_pcr_dps(dm):
    lead, created = dm["market"].lead, dm["created"]
    assert (created["state"], created["regime"]) == ("planned", "PA2023_DYNAMIC_MARKET")
    established = ok(lead.post(f"{V1}/markets/{created['dps_id']}/establish"))
    assert established["state"] == "established" and established["status"] == "open"
    listed = {m["dps_id"]: m for m in ok(lead.get(f"{V1}/markets"))["items"]}
    assert listed["dps-1"]["regime"] == "PCR2015_DPS"
    assert listed[created["dps_id"]]["parts"] == [
        {"number": 1, "category": CATEGORY, "title": "Children's homes"}]
    dps = ok(lead.get(f"{V1}/dps"))
    assert (dps["dps_id"], dps["regime"]) == ("dps-1", "PCR2015_DPS")
    assert dps["expires_at_latest"] == "2029-02-23"


def test_a_new_pcr_dps_is_refused_with_the_reason(dm):
    lead = dm["market"].lead
    refused = lead.post(f"{V1}/markets", json={
        "regime": "PCR2015_DPS", "title": "A new PCR DPS", "established_on": "2025-03-01",
        "parts": [{"number": 1, "category": CATEGORY, "title": "Homes"}],
        "valid_from": "2025-03-01", "valid_to": "2028-12-31"})
    assert refused.status_code == 409 and "24 February 2025" in refused.text
    changed = lead.patch(f"{V1}/dps", json={"valid_to": "2028-12-31"})
    assert changed.status_code == 409 and "23 February 2026" in changed.text


def test_two_providers_are_admitted_without_an_insurance_condition(dm):
    market, dps_id, home = dm["market"], dm["created"]["dps_id"], dm["home"]
    first = member(market, dps_id, "Alder", north_of(home, 4.0), insurance=False,
                   decide=False)
    refused = market.lead.post(f"{V1}/applications/{first['application_id']}/decision", json={
        "pass_fail": {c: {"result": "pass"} for c in market.categories[CATEGORY][
            "pass_fail_criteria"] if c != "INSURANCE"}, "scores": SCORES})
    assert refused.status_code == 409 and "debarment" in refused.text  # s.62 first
    admit(market, first["application_id"], [c for c in market.categories[CATEGORY][
        "pass_fail_criteria"] if c != "INSURANCE"])
    dm["members"]["A"] = first
    dm["members"]["B"] = member(market, dps_id, "Birch", north_of(home, 9.0), insurance=False)
    for m in dm["members"].values():
        est = ok(m["provider"].get(f"{V1}/establishments/{m['id']}"))
        (ms,) = est["memberships"]
        assert (ms["dps_id"], ms["status"]) == (dps_id, "admitted")
        assert "INSURANCE" not in ms["evidence_expiry"]
    b = dm["members"]["B"]
    bad = b["provider"].patch(f"{V1}/providers/{b['provider_id']}", json={"ppon": "PBCP5168"})
    assert bad.status_code == 422 and "ppon" in bad.text
    changed = ok(b["provider"].patch(f"{V1}/providers/{b['provider_id']}",
                                     json={"ppon": "PBCP-5168-ZDGP"}))
    assert changed["ppon"] == "PBCP-5168-ZDGP"
    other = dm["members"]["A"]["provider"].patch(f"{V1}/providers/{b['provider_id']}",
                                                 json={"ppon": "PBCP-5168-ZDGP"})
    assert other.status_code == 404  # §10: another provider's organisation
    # a member of the PCR DPS nearer the child: never invited to the market's call-off
    dm["outsider"] = market.establishment("Cedar", north_of(home, 2.0))


def _referral(dm, owner: Api, **over) -> dict:
    market = dm["market"]
    deadline = datetime.now(UTC) + timedelta(
        hours=market.category()["min_tender_period_hours"], minutes=10)
    body = {
        "category": CATEGORY, "dps_id": dm["created"]["dps_id"],
        "title": "A home for one young person", "child_reference": f"KCC-DM-{market.tag}",
        "children": [{"age": 14, "name": "Hidden Name"}],
        "home_location": {"lat": dm["home"][0], "lon": dm["home"][1]},
        "radius_miles": 20, "deadline": deadline.isoformat(),
        "features": [{"code": "M1", "label": "single occupancy", "must_have": True}],
        "desired_outcomes": ["stay in one placement"],
        "weekly_price_ceiling": "6000.00", "expected_weeks": 52, **over}
    return ok(owner.post(f"{V1}/referrals", json=body), 201)


def test_a_call_off_invites_the_market_members_only_and_records_its_value(dm, api):
    owner = api("commissioner", authority="KCC")
    dm["owner"] = owner
    referral = _referral(dm, owner)
    proc = referral["procurement"]
    assert (proc["dps_id"], proc["regime"]) == (dm["created"]["dps_id"], "PA2023_DYNAMIC_MARKET")
    assert (proc["estimated_value"], proc["above_threshold"]) == ("312000.00", False)
    assert "ss.84-88" in proc["below_threshold_rules"]
    rid = referral["referral_id"]
    published = ok(owner.post(f"{V1}/referrals/{rid}/publish", json={"accept_fewer": True}))
    assert published["invited"] == 2
    view = ok(owner.get(f"{V1}/referrals/{rid}"))
    invited = {i["establishment_id"] for i in view["invitations"]}
    assert invited == {dm["members"]["A"]["id"], dm["members"]["B"]["id"]}
    assert dm["outsider"].id not in invited
    dm["referral_id"] = rid


def test_the_award_is_refused_without_insurance_cover_then_made_with_a_standstill(dm):
    owner, rid, heads = dm["owner"], dm["referral_id"], dm["market"].categories[CATEGORY][
        "cost_heads"]
    bids = {}
    for label, price in (("A", "150.00"), ("B", "290.00")):
        m = dm["members"][label]
        e = type("E", (), {"id": m["id"], "label": label})
        bids[label] = ok(m["provider"].post(f"{V1}/referrals/{rid}/bids", json=bid_body(
            e, heads, price, needs_met=[], features_met=["M1"])), 201)["bid_id"]
    ok(owner.post(f"{V1}/referrals/{rid}/close"))
    for bid in bids.values():
        ok(owner.post(f"{V1}/referrals/{rid}/bids/{bid}/outcome-scores",
                      json={"evaluator": "Eve", "score": 70}), 201)
    evaluation = ok(owner.post(f"{V1}/referrals/{rid}/evaluate"))
    top = next(r for r in evaluation["ranking"] if r["rank"] == 1)
    assert evaluation["status"] == "evaluated" and top["bid_id"] == bids["A"]
    refused = owner.post(f"{V1}/referrals/{rid}/award", json={"standstill_working_days": 8})
    assert refused.status_code == 409, refused.text
    assert "insurance" in refused.text and "s.36(2)" in refused.text
    assert ok(owner.get(f"{V1}/referrals/{rid}"))["status"] == "evaluated"
    a = dm["members"]["A"]
    config = dm["market"].categories[CATEGORY]
    ok(a["provider"].post(f"{V1}/establishments/{a['id']}/memberships/{CATEGORY}/evidence",
                          json={"criterion": "INSURANCE", "answer": "group policy",
                                "evidence": "https://ev.example/cover",
                                "expires_on": (date.today() + timedelta(days=300)).isoformat(),
                                "cover": {k: "20000000.00"
                                          for k in config["insurance_minimums"]}}))
    awarded = ok(owner.post(f"{V1}/referrals/{rid}/award", json={"standstill_working_days": 8}))
    view = ok(owner.get(f"{V1}/referrals/{rid}"))
    assert view["status"] == "awarded" and view["placement_id"] == awarded["placement_id"]
    proc = view["procurement"]
    ends = date.fromisoformat(proc["standstill_ends_on"])
    assert ends >= date.today() + timedelta(days=9)  # 8 working days, weekends between
    assert proc["insurance_checked_at"] and proc["summaries_released_at"]


def test_a_user_choice_direct_placement_records_the_preference(dm):
    owner, a = dm["owner"], dm["members"]["B"]
    body = {"establishment_id": a["id"], "category": CATEGORY, "reason_code": "user_choice",
            "justification": "the young person's choice", "weekly_price": "3900.00",
            "child_reference": f"KCC-UC-{dm['market'].tag}", "dps_id": dm["created"]["dps_id"]}
    missing = owner.post(f"{V1}/direct-placements", json=body)
    assert missing.status_code == 422 and "expressed_preference" in missing.text
    placed = ok(owner.post(f"{V1}/direct-placements", json=body | {
        "expressed_preference": "she asked to stay at Birch House near her school",
        "best_interests_reason": "a competition would mean a move mid-year"}), 201)
    assert placed["reason_code"] == "user_choice"
    assert placed["expressed_preference"].startswith("she asked")


def test_a_removal_needs_the_notice_with_reasons_first(dm):
    lead, b = dm["market"].lead, dm["members"]["B"]
    path = f"{V1}/establishments/{b['id']}/memberships/{CATEGORY}"
    refused = lead.post(f"{path}/removal", json={"reason": "breach"})
    assert refused.status_code == 409 and "s.37(4)" in refused.text
    noticed = ok(lead.post(f"{path}/removal-notice", json={"reasons": "a serious breach"}))
    assert noticed["status"] == "suspended"
    removed = ok(lead.post(f"{path}/removal", json={"reason": "removed after the notice"}))
    assert removed["status"] == "removed"


# --------------------------------------------------------------------------- migration (§11.1)


def test_a_pcr_dps_is_migrated_and_its_members_belong_to_both_until_it_ends(stack, api):
    market = Market(stack, api)
    lead = market.lead
    old = ok(lead.post(f"{V1}/markets", json={
        "regime": "PCR2015_DPS", "title": f"Old PCR DPS {market.tag}",
        "established_on": "2024-05-01", "valid_from": "2024-05-01", "valid_to": "2029-02-23",
        "parts": [{"number": 1, "category": CATEGORY, "title": "Children's homes"}]}), 201)
    assert old["state"] == "established" and old["regime"] == "PCR2015_DPS"
    home = market.quiet_home(25, strict=False)
    members = [member(market, old["dps_id"], label, north_of(home, miles), insurance=True,
                      exclusion_check=False)
               for label, miles in (("Oak", 3.0), ("Elm", 6.0))]
    today = date.today()
    new = ok(lead.post(f"{V1}/markets/{old['dps_id']}/migrate", json={
        "title": f"Dynamic market {market.tag}", "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=1460)).isoformat()}), 201)
    assert new["migrated_from"] == old["dps_id"] and new["state"] == "established"
    assert {i["establishment_id"] for i in new["invited"]} == {m["id"] for m in members}
    commissioner = api("commissioner", authority="KCC")
    sink = Sink(stack.mail_dir)
    for m in members:
        (draft,) = ok(m["provider"].get(f"{V1}/applications", params={
            "establishment_id": m["id"], "status": "draft", "dps_id": new["dps_id"]}))["items"]
        assert draft["copied_from"] == m["application_id"]
        assert "INSURANCE" not in draft["pass_fail"] and draft["core_costs"]
        link = f"/applications/{draft['id']}"  # the invitation links to the pre-filled draft

        def invitation(link=link):
            return [r for r in sink.emails_to_matching(market.tag)
                    if r["subject"].startswith("Invitation to join") and link in sink.text(r)]

        wait_for(invitation, 60, f"the invitation to join with {link}", interval=0.5)
        ok(m["provider"].post(f"{V1}/applications/{draft['id']}/submit"))
        admit(market, draft["id"], list(draft["pass_fail"]))
        est = ok(lead.get(f"{V1}/establishments/{m['id']}"))
        assert {(ms["dps_id"], ms["status"]) for ms in est["memberships"]} == {
            (old["dps_id"], "admitted"), (new["dps_id"], "admitted")}

    def eligible(dps_id: str) -> set[str]:
        found = ok(commissioner.get(f"{V1}/establishments/eligible", params={
            "category": CATEGORY, "lat": home[0], "lon": home[1], "radius_miles": 10,
            "dps_id": dps_id}))
        return {e["establishment_id"] for e in found["items"]}

    ours = {m["id"] for m in members}
    assert ours <= eligible(old["dps_id"]) and ours <= eligible(new["dps_id"])
    ended = ok(lead.post(f"{V1}/markets/{old['dps_id']}/end", json={}))
    assert (ended["state"], ended["status"]) == ("ended", "expired")
    assert not ours & eligible(old["dps_id"])
    assert ours <= eligible(new["dps_id"])
