"""Issue "Contract management" (RULES §7, §9, §10): the whole system over HTTP.

Placements come from the real flows where they are needed end to end: a provider registers,
its establishment is admitted by the lead (qualification), a commissioner runs a referral to
award (referral), and the ``referral_awarded`` event creates the placement (contracts). A
redelivery is simulated by publishing copies of the real event (read from the referral
service's outbox) to the ``referral.events`` exchange, and a copy under a new event id to
the contracts service's queue. Where only the placement matters (publication, benchmarks),
realistic ``referral_awarded`` events are delivered straight to the contracts service's
queue (no other service sees them), which is quicker and lets the award time fall in a
past quarter.

The OCDS schema folder is ``DPS_OCDS_SCHEMA_DIR`` (default ``<repo>/../shared/ocds/1.1``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from services.common.runtime import make_engine
from tests.support.contracts_events import award_payload, publish, uid
from tests.support.contracts_ocds import validate_package
from tests.support.fixtures import Api
from tests.support.infra import wait_for

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = Path(os.environ.get("DPS_OCDS_SCHEMA_DIR", ROOT.parent / "shared" / "ocds" / "1.1"))
PENNY = Decimal("0.01")
HEAD_COST = "100.00"
"""Weekly amount of every core head: low, so that no authority's cap keeps it out (§4.4)."""


# --- helpers: the real qualification and referral flows -----------------------------------


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 201)), (
        f"{response.request.method} {response.request.url} → {response.status_code}: "
        f"{response.text[:800]}"
    )
    return response.json() if response.content else None


def register_provider(stack, api, name: str) -> tuple[str, Api]:
    body = ok(
        api().post(
            "/api/v1/providers", json={"name": name, "contact_email": "ops@provider.example"}
        )
    )
    return body["id"], Api(stack.url, body["api_key"])


def remote_location() -> dict:
    """A spot far from every other test's establishments (a 0.2-mile radius finds it alone)."""
    return {
        "lat": round(random.uniform(55.0, 58.0), 5),
        "lon": round(random.uniform(-5.5, -2.5), 5),
    }


def admitted_establishment(api, provider: Api, category: str = "SEN") -> dict:
    """Create an establishment, apply, submit, and have the lead admit it (§4.3)."""
    config = ok(api("lead").get(f"/api/v1/categories/{category}"))
    today = datetime.now(UTC).date()
    location = remote_location()
    name = f"Contracts e2e {uuid.uuid4().hex[:8]}"
    est = ok(
        provider.post(
            "/api/v1/establishments",
            json={
                "name": name,
                "address": f"1 {name} Road",
                "postcode": "IV1 1AA",
                "location": location,
                "categories": [category],
                "capacity": 20,
                "contacts": [{"name": "Ann Head", "email": "head@school.example.org"}],
            },
        )
    )
    answers = {}
    for code in config["pass_fail_criteria"]:
        answer = {"answer": f"{code} answer", "evidence": f"https://evidence.example.org/{code}"}
        if code == "INSURANCE":
            answer["expires_on"] = (today + timedelta(days=300)).isoformat()
            answer["cover"] = {
                "employers_liability": "10000000.00",
                "public_liability": "10000000.00",
                "professional_liability": "10000000.00",
            }
        if code == "INSPECTION":
            answer["judgement"] = {
                "body": "OFSTED",
                "grade": "GOOD",
                "date": (today - timedelta(days=200)).isoformat(),
            }
        answers[code] = answer
    application = ok(
        provider.post(
            "/api/v1/applications",
            json={
                "establishment_id": est["id"],
                "category": category,
                "pass_fail": answers,
                "method_statements": {
                    k: f"our {k.lower()} approach"
                    for k in ("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING")
                },
                "core_costs": dict.fromkeys(config["cost_heads"], HEAD_COST),
            },
        )
    )
    application_id = application.get("id") or application.get("application_id")
    ok(provider.post(f"/api/v1/applications/{application_id}/submit"))
    decided = ok(
        api("lead").post(
            f"/api/v1/applications/{application_id}/decision",
            json={
                "pass_fail": {c: {"result": "pass"} for c in config["pass_fail_criteria"]},
                "scores": {"WORKFORCE": 80, "OUTCOMES_APPROACH": 70, "PERFORMANCE_MONITORING": 90},
            },
        )
    )
    assert decided["status"] == "admitted", decided
    return {
        "id": est["id"],
        "location": location,
        "heads": config["cost_heads"],
        "tender_hours": config["min_tender_period_hours"],
        "category": category,
    }


def award_through_referral(api, commissioner: Api, provider: Api, est: dict) -> dict:
    """A referral for one child, published to the one establishment in range, one bid,
    closed early, evaluated and awarded (§5, §6). Returns the award reply and referral."""
    deadline = (datetime.now(UTC) + timedelta(hours=est["tender_hours"] + 1)).isoformat()
    child_reference = uid("KCC-CHILD-")
    referral = ok(
        commissioner.post(
            "/api/v1/referrals",
            json={
                "category": est["category"],
                "child_reference": child_reference,
                "children": [{"age": 11, "name": "Sam Example"}],
                "home_location": est["location"],
                "radius_miles": 0.2,
                "deadline": deadline,
                "needs": [{"code": "ASD", "label": "Autism", "marks": 3}],
                "features": [{"code": "GARDEN", "label": "Garden", "must_have": False, "marks": 1}],
                "desired_outcomes": ["Attends school every day"],
            },
        ),
        201,
    )
    rid = referral["referral_id"]
    published = ok(
        commissioner.post(f"/api/v1/referrals/{rid}/publish", json={"accept_fewer": True})
    )
    assert published["invited"] == 1, published
    bid = ok(
        provider.post(
            f"/api/v1/referrals/{rid}/bids",
            json={
                "establishment_id": est["id"],
                "core_costs": dict.fromkeys(est["heads"], HEAD_COST),
                "variable_costs": [{"label": "Speech therapy", "weekly": "250.00"}],
                "needs_met": ["ASD"],
                "features_met": ["GARDEN"],
                "outcomes_statement": "We will work towards full attendance.",
            },
        ),
        201,
    )
    ok(commissioner.post(f"/api/v1/referrals/{rid}/close"))
    ok(
        commissioner.post(
            f"/api/v1/referrals/{rid}/bids/{bid['bid_id']}/outcome-scores",
            json={"evaluator": "Panel A", "score": 70},
        )
    )
    evaluated = ok(commissioner.post(f"/api/v1/referrals/{rid}/evaluate"))
    assert evaluated["status"] == "evaluated", evaluated
    award = ok(commissioner.post(f"/api/v1/referrals/{rid}/award", json={}))
    return {
        "referral_id": rid,
        "placement_id": award["placement_id"],
        "child_reference": child_reference,
    }


def placements_of(reader: Api, establishment_id: str) -> list[dict]:
    return ok(reader.get(f"/api/v1/placements?establishment_id={establishment_id}&limit=500"))[
        "items"
    ]


def outbox_award_event(referral_id: str) -> dict:
    """The real ``referral_awarded`` event, as the referral service wrote it."""
    engine = make_engine(pool_size=1)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT payload FROM referral.outbox WHERE event_type = 'referral_awarded' "
                    "AND payload->>'referral_id' = :r"
                ),
                {"r": referral_id},
            ).scalar_one()
    finally:
        engine.dispose()


def handled(stack, entrypoint: str, request_id: str) -> int:
    count = 0
    for line in stack.log_text("contracts").splitlines():
        if request_id in line and line.startswith("{"):
            entry = json.loads(line)
            count += entry.get("entrypoint") == entrypoint and entry.get("event") == "handled"
    return count


@pytest.fixture(scope="module")
def flow(stack, api):
    """An admitted SEN establishment of a registered provider and a KCC placement awarded
    to it through the referral flow (shared by the tests that need the real flows)."""
    provider_name = f"Oakwood Care {uid()[:8]}"
    provider_id, provider = register_provider(stack, api, provider_name)
    est = admitted_establishment(api, provider)
    kcc = api("commissioner", authority="KCC")
    award = award_through_referral(api, kcc, provider, est)
    wait_for(
        lambda: kcc.get(f"/api/v1/placements/{award['placement_id']}").status_code == 200,
        30,
        "the placement created from the award",
    )
    return {
        "provider_id": provider_id,
        "provider_name": provider_name,
        "provider": provider,
        "est": est,
        "kcc": kcc,
        **award,
    }


# --- §7.1: one placement per award --------------------------------------------------------


def test_award_through_the_referral_flow_creates_exactly_one_placement_even_when_redelivered(
    stack, api, flow
):
    kcc = flow["kcc"]
    placement = ok(kcc.get(f"/api/v1/placements/{flow['placement_id']}"))
    assert (placement["source"], placement["source_ref"]) == ("referral_award", flow["referral_id"])
    assert (placement["status"], placement["authority"]) == ("pending_start", "KCC")

    event = outbox_award_event(flow["referral_id"])
    # redelivery: the same event again, to every consumer of the exchange
    publish("referral", "referral_awarded", event, everyone=True)
    # and a copy under another event id (to contracts only: others would act on it)
    publish("referral", "referral_awarded", {**event, "event_id": uid()})
    wait_for(
        lambda: handled(stack, "on_referral_awarded", event["request_id"]) >= 3,
        30,
        "contracts to handle the original and both copies",
    )
    same = [
        p for p in placements_of(kcc, flow["est"]["id"]) if p["source_ref"] == flow["referral_id"]
    ]
    assert [p["id"] for p in same] == [flow["placement_id"]]


def test_a_provider_cannot_read_another_providers_placement(stack, api, flow):
    _, other = register_provider(stack, api, f"Other Homes {uid()[:8]}")
    assert other.get(f"/api/v1/placements/{flow['placement_id']}").status_code == 404
    assert flow["placement_id"] not in [
        p["id"] for p in ok(other.get("/api/v1/placements?limit=500"))["items"]
    ]
    own = ok(flow["provider"].get(f"/api/v1/placements/{flow['placement_id']}"))
    assert own["id"] == flow["placement_id"] and "child_reference" not in own
    assert (
        api("commissioner", authority="ESCC")
        .get(f"/api/v1/placements/{flow['placement_id']}")
        .status_code
        == 404
    )
    assert api("auditor").get(f"/api/v1/placements/{flow['placement_id']}").status_code == 403
    everything = api("contract_manager").get(f"/api/v1/placements/{flow['placement_id']}")
    assert everything.status_code == 200


# --- §7.2: uplift -------------------------------------------------------------------------


def _staff_related_history(api, establishment_id: str, uplift_id: str) -> list[dict]:
    est = ok(api("lead").get(f"/api/v1/establishments/{establishment_id}"))
    membership = next(m for m in est["memberships"] if m["category"] == "SEN")
    return [
        c
        for c in membership["cost_history"]
        if c["head"] == "staff_related" and c.get("uplift_id") == uplift_id
    ]


def test_an_uplift_of_3_1_percent_changes_staff_related_costs_from_its_date_only(stack, api, flow):
    kcc, pid = flow["kcc"], flow["placement_id"]
    today = datetime.now(UTC).date()
    ok(kcc.post(f"/api/v1/placements/{pid}/start", json={"date": today.isoformat()}))
    cm = api("contract_manager")
    for _ in range(5):  # one uplift per category, head and date: pick a date not used yet
        effective = today + timedelta(days=random.randint(30, 3000))
        response = cm.post(
            "/api/v1/uplifts",
            json={
                "category": "SEN",
                "cost_head": "staff_related",
                "percent": "3.1",
                "effective_from": effective.isoformat(),
            },
        )
        if response.status_code != 409:
            break
    uplift = ok(response, 201)
    assert uplift["placements_uplifted"] >= 1

    before = ok(kcc.get(f"/api/v1/placements/{pid}?on={effective - timedelta(days=1)}"))
    after = ok(kcc.get(f"/api/v1/placements/{pid}?on={effective}"))
    old_core, new_core = before["current_price"]["core_costs"], after["current_price"]["core_costs"]
    expected = (Decimal(old_core["staff_related"]) * Decimal("1.031")).quantize(
        PENNY, ROUND_HALF_UP
    )
    # (earlier runs' uplifts with earlier dates may apply too: compare day before and after)
    assert Decimal(new_core["staff_related"]) == expected
    assert {h: v for h, v in new_core.items() if h != "staff_related"} == {
        h: v for h, v in old_core.items() if h != "staff_related"
    }
    assert after["current_price"]["variable_costs"] == before["current_price"]["variable_costs"]
    assert Decimal(after["weekly_cost"]) - Decimal(before["weekly_cost"]) == expected - Decimal(
        old_core["staff_related"]
    )

    # the qualification service uplifts the establishment's qualified cost from that date
    entries = wait_for(
        lambda: _staff_related_history(api, flow["est"]["id"], uplift["id"]),
        30,
        "the qualified staff-related cost to be uplifted",
    )
    assert [(Decimal(e["amount"]), e["effective_from"]) for e in entries] == [
        (Decimal("103.10"), effective.isoformat())
    ]


# --- §7.3: block contracts ----------------------------------------------------------------


def test_a_block_of_3_places_with_one_child_for_4_weeks_reports_8_void_place_weeks(api, flow):
    kcc = flow["kcc"]
    end = datetime.now(UTC).date()
    start = end - timedelta(days=27)  # 4 weeks, both days included
    block = ok(
        kcc.post(
            "/api/v1/block-contracts",
            json={
                "establishment_id": flow["est"]["id"],
                "places": 3,
                "weekly_price_per_place": "2800.00",
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        ),
        201,
    )
    placed = ok(
        kcc.post(
            f"/api/v1/block-contracts/{block['id']}/placements",
            json={"child_reference": uid("KCC-BLOCK-"), "start_date": start.isoformat()},
        ),
        201,
    )
    assert (placed["source"], placed["block_id"]) == ("block_place", block["id"])
    view = ok(kcc.get(f"/api/v1/block-contracts/{block['id']}?as_of={end}"))
    assert view["occupancy"]["capacity_place_weeks"] == "12.00"
    assert view["occupancy"]["used_place_weeks"] == "4.00"
    assert view["occupancy"]["void_place_weeks"] == "8.00"
    assert [p["id"] for p in view["placements"]] == [placed["id"]]
    assert api("contract_manager").get(f"/api/v1/block-contracts/{block['id']}").status_code == 200
    other = api("commissioner", authority="SCC").get(f"/api/v1/block-contracts/{block['id']}")
    assert other.status_code == 404


# --- §7.5: publication --------------------------------------------------------------------


def _quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _publish_awards(api, payloads: list[dict]) -> None:
    for payload in payloads:
        publish("referral", "referral_awarded", payload)
    cm = api("contract_manager")
    for payload in payloads:
        wait_for(
            lambda p=payload: cm.get(f"/api/v1/placements/{p['placement_id']}").status_code == 200,
            30,
            "the published award's placement",
        )


def _csv_rows(content: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content)))


def test_the_quarters_ocds_package_validates_has_no_child_data_and_the_csv_has_the_same_awards(
    api, flow
):
    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"OCDS schema folder {SCHEMA_DIR} is absent (set DPS_OCDS_SCHEMA_DIR)")
    now = datetime.now(UTC)
    ours = [
        award_payload(authority="MED", awarded_at=now - timedelta(minutes=5)),
        award_payload(authority="ESCC", awarded_at=now - timedelta(minutes=4)),
    ]
    _publish_awards(api, ours)
    quarter = _quarter_of(now.date())
    reader = api("provider", provider_id=uid())  # any authenticated principal reads it

    def stable_pair():
        first = reader.get(f"/api/v1/publications/awards?quarter={quarter}&format=ocds")
        sheet = reader.get(f"/api/v1/publications/awards?quarter={quarter}&format=csv")
        again = reader.get(f"/api/v1/publications/awards?quarter={quarter}&format=ocds")
        return (first, sheet) if first.content == again.content else None

    package_response, csv_response = wait_for(stable_pair, 30, "a quiet moment")
    assert package_response.status_code == 200 and csv_response.status_code == 200
    assert csv_response.headers["Content-Type"].startswith("text/csv")
    package = package_response.json()
    assert validate_package(package, SCHEMA_DIR) == []

    releases = {r["awards"][0]["id"]: r for r in package["releases"]}
    for payload in ours:
        release = releases[payload["referral_id"]]
        assert release["ocid"].endswith(payload["referral_id"])
        assert release["tender"]["techniques"]["hasDynamicPurchasingSystem"] is True
        assert release["awards"][0]["value"] == {"amount": 169000, "currency": "GBP"}
        assert [p["roles"] for p in release["parties"]] == [["buyer"], ["supplier"]]
    assert flow["referral_id"] in releases  # the award made through the referral flow
    flow_release = releases[flow["referral_id"]]
    assert flow_release["awards"][0]["suppliers"][0]["name"] == flow["provider_name"]
    assert flow_release["buyer"]["name"] == "Kent County Council"
    text_ = package_response.text
    assert flow["child_reference"] not in text_ and flow["child_reference"] not in csv_response.text
    for payload in ours:  # no child data: not the reference, name, birth date or address
        assert (
            payload["child_reference"] not in text_
            and payload["child_reference"] not in csv_response.text
        )
    for child_data in ("Sam Example", "2015-04-02", "Example Road", "child_reference"):
        assert child_data not in text_ and child_data not in csv_response.text

    rows = _csv_rows(csv_response.text)
    assert [r["award_id"] for r in rows] == [r["awards"][0]["id"] for r in package["releases"]]
    assert [r["ocid"] for r in rows] == [r["ocid"] for r in package["releases"]]
    by_id = {r["award_id"]: r for r in rows}
    assert by_id[ours[0]["referral_id"]]["annual_value"] == "169000.00"
    assert by_id[ours[0]["referral_id"]]["buyer_code"] == "MED"


def test_an_ended_quarter_is_frozen_and_re_read_returns_the_same_bytes(api):
    reader = api("commissioner", authority="ECC")
    while True:  # a long-past quarter without any award yet (the database is shared)
        year, q = random.randint(1990, 2019), random.randint(1, 4)
        quarter = f"{year}-Q{q}"
        empty = reader.get(f"/api/v1/publications/awards?quarter={quarter}&format=csv")
        if len(_csv_rows(empty.text)) == 0:
            break
    at = datetime(year, 3 * q - 1, 10, 9, tzinfo=UTC)
    first = award_payload(authority="KCC", awarded_at=at)
    _publish_awards(api, [first])
    url = f"/api/v1/publications/awards?quarter={quarter}&format=ocds"
    one, two = reader.get(url), reader.get(url)
    assert one.status_code == two.status_code == 200
    assert one.headers["X-Publication-Frozen"] == "true"
    assert one.content == two.content
    late = award_payload(authority="KCC", awarded_at=at + timedelta(days=1))
    _publish_awards(api, [late])
    three = reader.get(url)
    assert three.content == one.content  # frozen: the late award does not change it
    assert [r["awards"][0]["id"] for r in three.json()["releases"]] == [first["referral_id"]]
    sheet = reader.get(f"/api/v1/publications/awards?quarter={quarter}&format=csv")
    assert [r["award_id"] for r in _csv_rows(sheet.text)] == [first["referral_id"]]


# --- §7.6 benchmarks, §7.7 cost shares ----------------------------------------------------


def test_a_commissioners_benchmark_names_its_own_authority_and_labels_the_others_stably(api):
    now = datetime.now(UTC)
    _publish_awards(
        api,
        [
            award_payload(authority=a, category="FOSTERCARE", awarded_at=now - timedelta(days=1))
            for a in ("KCC", "MED", "SCC")
        ],
    )
    query = "/api/v1/benchmarks?category=FOSTERCARE"
    kcc = api("commissioner", authority="KCC")
    first, second = ok(kcc.get(query)), ok(kcc.get(query))
    labels = [a["authority"] for a in first["by_authority"]]
    assert "KCC" in labels
    others = [label for label in labels if label != "KCC"]
    assert len(others) >= 2
    assert all(label.startswith("Authority ") for label in others)
    assert not {"MED", "SCC", "ESCC", "BHCC", "ECC", "WSCC"} & set(labels)
    assert labels == [a["authority"] for a in second["by_authority"]]
    # another key of the same authority sees the same labels
    assert labels == [
        a["authority"] for a in ok(api("commissioner", authority="KCC").get(query))["by_authority"]
    ]
    named = ok(api("lead").get(query))
    assert {"KCC", "MED", "SCC"} <= {a["authority"] for a in named["by_authority"]}
    assert "transaction_fees" in first and "declines_by_reason" in first
    assert api("provider", provider_id=uid()).get(query).status_code == 403


def test_cost_shares_sum_exactly_to_the_running_cost(api):
    year = datetime.now(UTC).year
    shares = ok(api("contract_manager").get(f"/api/v1/cost-shares?year={year}"))
    total = sum(Decimal(a["running_share"]) for a in shares["authorities"])
    assert total == Decimal(shares["running_cost"])
    assert {"BHCC", "ESCC", "ECC", "KCC", "MED", "SCC", "WSCC"} <= {
        a["authority"] for a in shares["authorities"]
    }
    assert (
        api("commissioner", authority="KCC").get(f"/api/v1/cost-shares?year={year}").status_code
        == 403
    )


# --- §7.4 reviews, §9 audit ---------------------------------------------------------------


def test_reviews_are_recorded_by_the_owner_and_every_change_is_audited(api, flow):
    kcc, pid = flow["kcc"], flow["placement_id"]
    placement = ok(kcc.get(f"/api/v1/placements/{pid}"))
    if placement["status"] == "pending_start":
        ok(
            kcc.post(
                f"/api/v1/placements/{pid}/start",
                json={"date": datetime.now(UTC).date().isoformat()},
            )
        )
    components = ok(kcc.get(f"/api/v1/placements/{pid}"))["monitored_components"]
    review = ok(
        kcc.post(
            f"/api/v1/placements/{pid}/reviews",
            json={
                "date": datetime.now(UTC).date().isoformat(),
                "scores": dict.fromkeys(components, 4),
                "child_view": "I like it here",
                "parent_view": "Much calmer",
            },
        ),
        201,
    )
    assert review["score"] == "4.00" and review["next_review_due"]
    bad = kcc.post(
        f"/api/v1/placements/{pid}/reviews",
        json={"date": datetime.now(UTC).date().isoformat(), "scores": {components[0]: 6}},
    )
    assert bad.status_code == 422
    assert (
        flow["provider"]
        .post(
            f"/api/v1/placements/{pid}/reviews",
            json={"date": "2026-01-01", "scores": {"stay_safe": 3}},
        )
        .status_code
        == 403
    )
    assert (
        api("commissioner", authority="ESCC")
        .post(
            f"/api/v1/placements/{pid}/reviews",
            json={"date": "2026-01-01", "scores": {"stay_safe": 3}},
        )
        .status_code
        == 404
    )
    provider_view = ok(flow["provider"].get(f"/api/v1/placements/{pid}"))
    assert "I like it here" not in json.dumps(provider_view)

    audit = ok(api("auditor").get(f"/api/v1/audit?service=contracts&entity_id={pid}"))
    actions = [r["action"] for r in audit["items"]]
    assert actions[0] == "placement.created"
    assert "placement.started" in actions and "placement.reviewed" in actions
    assert ok(api("auditor").get("/api/v1/audit/verify"))["services"]["contracts"]["ok"]


def test_a_direct_placement_is_a_placement_published_as_direct(api, flow):
    kcc = flow["kcc"]
    recorded = ok(
        kcc.post(
            "/api/v1/direct-placements",
            json={
                "establishment_id": flow["est"]["id"],
                "category": "SEN",
                "reason_code": "emergency",
                "justification": "Needed a place the same night",
                "weekly_price": "4100.00",
                "child_reference": uid("KCC-DIRECT-"),
            },
        ),
        201,
    )
    placement = wait_for(
        lambda: (
            kcc.get(f"/api/v1/placements/{recorded['placement_id']}").json()
            if kcc.get(f"/api/v1/placements/{recorded['placement_id']}").status_code == 200
            else None
        ),
        30,
        "the direct placement",
    )
    assert (placement["source"], placement["reason_code"]) == ("direct_placement", "emergency")
    assert placement["awarded_weekly_price"] == "4100.00"
    quarter = _quarter_of(datetime.now(UTC).date())
    package = ok(
        api("provider", provider_id=uid()).get(
            f"/api/v1/publications/awards?quarter={quarter}&format=ocds"
        )
    )
    release = next(
        r for r in package["releases"] if r["contracts"][0]["id"] == recorded["placement_id"]
    )
    assert release["tender"]["procurementMethod"] == "direct"
    assert release["tender"]["competitive"] is False
    assert "Needed a place" not in json.dumps(package)  # the justification is not published


def test_a_direct_placements_end_starts_its_retention_and_a_legal_hold_blocks_erasure(
    api, flow
):
    """RULES §13, issue 12: contracts' ``placement_ended`` for a direct placement reaches
    the referral service, which records the day it ended (its retention clock); the owner
    places a legal hold, under which ``/child-data/erasure`` is refused (409) as for a
    referral; once lifted the erasure goes through and the read shows ``erased``; another
    authority gets 404."""
    kcc = flow["kcc"]
    reference = uid("KCC-DP-HOLD-")
    recorded = ok(kcc.post("/api/v1/direct-placements", json={
        "establishment_id": flow["est"]["id"], "category": "SEN", "reason_code": "emergency",
        "justification": "Needed a place the same night", "weekly_price": "4100.00",
        "child_reference": reference,
    }), 201)
    placement = f"/api/v1/placements/{recorded['placement_id']}"
    child = f"/api/v1/direct-placements/{recorded['direct_placement_id']}/child"
    hold = f"/api/v1/direct-placements/{recorded['direct_placement_id']}/legal-hold"
    wait_for(lambda: kcc.get(placement).status_code == 200, 30, "the direct placement")
    today = datetime.now(UTC).date().isoformat()
    ok(kcc.post(f"{placement}/end", json={"date": today, "reason": "did_not_start"}))
    ended = wait_for(
        lambda: (lambda v: v if v["placement_ended_on"] == today else None)(ok(kcc.get(child))),
        30, "the direct placement's end recorded by the referral service",
    )
    assert (ended["personal_data"], ended["child_reference"]) == ("held", reference)
    other = api("commissioner", authority="ESCC")
    assert other.get(child).status_code == 404
    assert other.put(hold, json={"reason": "x"}).status_code == 404
    assert flow["provider"].put(hold, json={"reason": "x"}).status_code == 403

    assert ok(kcc.put(hold, json={"reason": "care proceedings"}))["legal_hold"] == (
        "care proceedings")
    body = {"child_reference": reference, "reason": "subject request"}
    refused = kcc.post("/api/v1/child-data/erasure", json=body)
    assert refused.status_code == 409 and "legal hold" in refused.json()["detail"]
    assert ok(kcc.get(child))["personal_data"] == "held"
    assert ok(kcc.delete(hold))["legal_hold"] is None
    erased = ok(kcc.post("/api/v1/child-data/erasure", json=body))
    assert erased["erased_direct_placements"] == [recorded["placement_id"]]
    gone = ok(kcc.get(child))
    assert (gone["personal_data"], gone["child_reference"]) == ("erased", None)


def test_publication_is_public_and_needs_a_well_formed_quarter(api):
    """RULES §10 (issue 13): published award notices are read without a key."""
    public = api().get("/api/v1/publications/awards?quarter=2019-Q1&format=csv")
    assert public.status_code == 200, public.text
    assert public.text.splitlines()[0].startswith("ocid")
    assert api().get("/api/v1/publications/awards?quarter=2026-Q5").status_code == 422
    bad = api("contract_manager").get("/api/v1/publications/awards?quarter=2026-Q5")
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["quarter"]
    assert (
        api("contract_manager")
        .get("/api/v1/publications/awards?quarter=2026-Q1&format=xml")
        .status_code
        == 422
    )
