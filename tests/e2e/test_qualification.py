"""Issue 3 "Qualification service", end to end through the gateway (RULES §2–§4, §10).

The whole system runs as `make run` starts it; every step is an HTTP call a provider, the
lead or a commissioner would make, and every assertion is something they would see.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import date, timedelta

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.config import nameko_config
from tests.support import qualification_samples as samples
from tests.support.fixtures import Api

V1 = "/api/v1"


def _today() -> date:
    return date.today()


@pytest.fixture(scope="module")
def lead(api):
    return api("lead")


@pytest.fixture(scope="module")
def sen(lead):
    response = lead.get(f"{V1}/categories/SEN")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def registered(stack):
    """A provider organisation that registered itself (POST /providers)."""
    response = Api(stack.url).post(
        f"{V1}/providers",
        json={
            "name": samples.unique("Downland Care Ltd"),
            "contact_email": "office@downland.example",
            "companies_house_number": "09876543",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {"id": body["id"], "api": Api(stack.url, body["api_key"])}


def _spot() -> tuple[float, float]:
    """A point somewhere in the South East, different for every establishment."""
    return round(random.uniform(50.9, 51.4), 5), round(random.uniform(-0.8, 1.0), 5)


def _create(provider: Api, name: str, lat: float, lon: float, categories=("SEN",)) -> dict:
    response = provider.post(
        f"{V1}/establishments",
        json=samples.establishment_body(samples.unique(name), lat, lon, categories),
    )
    assert response.status_code == 201, response.text
    return response.json()


def _admit(provider: Api, lead: Api, sen: dict, name: str = "Oak School") -> dict:
    lat, lon = _spot()
    est = _create(provider, name, lat, lon)
    draft = provider.post(
        f"{V1}/applications", json=samples.application_body(sen, est["id"], _today())
    )
    assert draft.status_code == 201, draft.text
    assert provider.post(f"{V1}/applications/{draft.json()['id']}/submit").status_code == 200
    decided = lead.post(
        f"{V1}/applications/{draft.json()['id']}/decision", json=samples.decision_body(sen)
    )
    assert decided.status_code == 200 and decided.json()["status"] == "admitted", decided.text
    return est


def _membership(reader: Api, est_id: str, category: str = "SEN") -> dict:
    response = reader.get(f"{V1}/establishments/{est_id}")
    assert response.status_code == 200, response.text
    return next(ms for ms in response.json()["memberships"] if ms["category"] == category)


def _eligible_ids(reader: Api, est: dict, radius: float = 3) -> set[str]:
    loc = est["location"]
    response = reader.get(
        f"{V1}/establishments/eligible",
        params={"category": "SEN", "lat": loc["lat"], "lon": loc["lon"], "radius_miles": radius},
    )
    assert response.status_code == 200, response.text
    return {e["establishment_id"] for e in response.json()["items"]}


def _rpc_eligible_ids(est: dict) -> set[str]:
    """The referral service's view: the eligibility RPC (§5)."""
    loc = est["location"]
    with ClusterRpcProxy(nameko_config()) as rpc:
        found = rpc.qualification.eligible_establishments(
            {
                "category": "SEN",
                "lat": loc["lat"],
                "lon": loc["lon"],
                "radius_miles": 3,
                "authority": "KCC",
            }
        )
    return {e["establishment_id"] for e in found}


def _locs(response) -> list[list]:
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    return [e["loc"] for e in response.json()["errors"]]


def test_a_provider_applies_copies_and_the_lead_admits_one_and_rejects_the_other(
    registered, lead, sen
):
    provider = registered["api"]
    first = _create(provider, "Chalk Hill School", 50.84, -0.15)
    second = _create(provider, "Flint Lane School", 50.86, -0.10)
    assert first["provider_id"] == registered["id"] and first["memberships"] == []

    draft = provider.post(
        f"{V1}/applications", json=samples.application_body(sen, first["id"], _today())
    )
    assert draft.status_code == 201 and draft.json()["status"] == "draft"
    submitted = provider.post(f"{V1}/applications/{draft.json()['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert date.fromisoformat(submitted.json()["due_on"]) >= _today() + timedelta(days=14)

    # copy to the second establishment in one call: the organisation's answers are reused
    copied = provider.post(
        f"{V1}/applications/{draft.json()['id']}/copy", json={"establishment_ids": [second["id"]]}
    )
    assert copied.status_code == 201, copied.text
    (copy,) = copied.json()["items"]
    assert (copy["establishment_id"], copy["status"], copy["copied_from"]) == (
        second["id"],
        "draft",
        draft.json()["id"],
    )
    assert copy["pass_fail"]["INSURANCE"] == draft.json()["pass_fail"]["INSURANCE"]
    assert "INSPECTION" not in copy["pass_fail"] and copy["core_costs"] == {}
    incomplete = provider.post(f"{V1}/applications/{copy['id']}/submit")
    assert incomplete.status_code == 409 and "INSPECTION" in incomplete.json()["detail"]
    own = samples.application_content(sen, _today(), amount="280.00")
    assert (
        provider.put(
            f"{V1}/applications/{copy['id']}",
            json={
                **{
                    k: copy[k]
                    for k in (
                        "pass_fail",
                        "method_statements",
                        "additional_services",
                        "cohort_discounts",
                    )
                },
                "pass_fail": {
                    **copy["pass_fail"],
                    "INSPECTION": own["pass_fail"]["INSPECTION"],
                    "DFE_REGISTRATION": own["pass_fail"]["DFE_REGISTRATION"],
                },
                "core_costs": own["core_costs"],
            },
        ).status_code
        == 200
    )
    assert provider.post(f"{V1}/applications/{copy['id']}/submit").status_code == 200

    waiting = lead.get(f"{V1}/applications", params={"status": "submitted", "limit": 500})
    assert {draft.json()["id"], copy["id"]} <= {a["id"] for a in waiting.json()["items"]}

    admitted = lead.post(
        f"{V1}/applications/{draft.json()['id']}/decision",
        json=samples.decision_body(sen, scores=(80, 70, 90)),
    )
    assert admitted.status_code == 200, admitted.text
    assert admitted.json()["status"] == "admitted"
    assert admitted.json()["decision"]["competency"] == 79.0

    reasons = {
        "FINANCIAL": "the accounts show a going-concern warning",
        "SAFEGUARDING": "no business continuity plan",
    }
    rejected = lead.post(
        f"{V1}/applications/{copy['id']}/decision", json=samples.decision_body(sen, fail=reasons)
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"

    # the provider reads the outcome and the reasons
    seen = provider.get(f"{V1}/applications/{copy['id']}").json()
    assert seen["decision"]["failures"] == [
        {"criterion": c, "reason": r} for c, r in reasons.items()
    ]
    mine = provider.get(f"{V1}/applications", params={"status": "rejected"}).json()["items"]
    assert [a["id"] for a in mine] == [copy["id"]]
    membership = _membership(provider, first["id"])
    assert (membership["status"], membership["competency"]) == ("admitted", 79.0)
    assert _membership(lead, first["id"])["history"][0]["kind"] == "admitted"
    assert provider.get(f"{V1}/establishments/{second['id']}").json()["memberships"] == []


def test_an_inadequate_inspection_suspends_and_eligibility_drops_it_until_reinstated(
    registered, lead, sen, api
):
    provider = registered["api"]
    commissioner = api("commissioner", authority="KCC")
    est = _admit(provider, lead, sen, "Beacon House")
    assert est["id"] in _eligible_ids(commissioner, est)
    assert est["id"] in _rpc_eligible_ids(est)

    today = _today().isoformat()
    recorded = lead.post(
        f"{V1}/establishments/{est['id']}/inspections",
        json={"body": "OFSTED", "grade": "INADEQUATE", "date": today},
    )
    assert recorded.status_code == 201, recorded.text
    membership = _membership(lead, est["id"])
    assert membership["status"] == "suspended"
    assert membership["open_failures"][0]["criterion"] == "INSPECTION"
    assert est["id"] not in _eligible_ids(commissioner, est)
    assert est["id"] not in _rpc_eligible_ids(est)
    assert commissioner.get(f"{V1}/establishments/{est['id']}").status_code == 404

    # only the failed criterion's evidence can be resubmitted
    other = samples.evidence("FINANCIAL", _today())
    wrong = provider.post(
        f"{V1}/establishments/{est['id']}/memberships/SEN/resubmission", json=other
    )
    assert wrong.status_code == 409
    evidence = samples.evidence("INSPECTION", _today())
    evidence["judgement"] = {"body": "OFSTED", "grade": "GOOD", "date": today}
    resubmitted = provider.post(
        f"{V1}/establishments/{est['id']}/memberships/SEN/resubmission", json=evidence
    )
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["pending_resubmissions"] == ["INSPECTION"]
    assert est["id"] not in _eligible_ids(commissioner, est)  # not until the lead accepts

    reinstated = lead.post(f"{V1}/establishments/{est['id']}/memberships/SEN/reinstate")
    assert reinstated.status_code == 200, reinstated.text
    assert reinstated.json()["status"] == "admitted"
    assert [h["kind"] for h in reinstated.json()["history"]] == [
        "admitted",
        "suspended",
        "resubmitted",
        "reinstated",
    ]
    assert est["id"] in _eligible_ids(commissioner, est)
    assert est["id"] in _rpc_eligible_ids(est)


def test_a_provider_cannot_read_or_change_another_providers_establishment(
    registered, lead, sen, api
):
    est = _admit(registered["api"], lead, sen, "Maple Lodge")
    stranger = api("provider", provider_id=str(uuid.uuid4()))
    assert stranger.get(f"{V1}/establishments/{est['id']}").status_code == 404
    patched = stranger.patch(f"{V1}/establishments/{est['id']}", json={"capacity": 1})
    assert patched.status_code == 404
    evidence = samples.evidence("INSPECTION", _today())
    resubmitted = stranger.post(
        f"{V1}/establishments/{est['id']}/memberships/SEN/resubmission", json=evidence
    )
    assert resubmitted.status_code == 404
    assert stranger.get(f"{V1}/establishments").json()["items"] == []
    applied = stranger.post(
        f"{V1}/applications", json=samples.application_body(sen, est["id"], _today())
    )
    assert _locs(applied) == [["establishment_id"]]
    theirs = lead.get(f"{V1}/applications", params={"establishment_id": est["id"]}).json()
    assert stranger.get(f"{V1}/applications/{theirs['items'][0]['id']}").status_code == 404
    # nothing changed for the owner
    assert registered["api"].get(f"{V1}/establishments/{est['id']}").json()["capacity"] == 40


def test_a_commissioner_cannot_suspend(registered, lead, sen, api):
    est = _admit(registered["api"], lead, sen, "Rowan Court")
    body = {"criterion": "FINANCIAL", "reason": "we would rather not use them"}
    path = f"{V1}/establishments/{est['id']}/memberships/SEN/suspend"
    assert api("commissioner", authority="KCC").post(path, json=body).status_code == 403
    assert api("contract_manager").post(path, json=body).status_code == 403
    assert registered["api"].post(path, json=body).status_code == 403
    assert _membership(lead, est["id"])["status"] == "admitted"
    # the lead may, for a pass/fail criterion only (§4.5)
    not_a_criterion = lead.post(path, json={"criterion": "PRICE", "reason": "too dear"})
    assert _locs(not_a_criterion) == [["criterion"]]
    assert lead.post(path, json=body).json()["status"] == "suspended"


def test_bad_input_gets_422_naming_the_field_and_stores_nothing(registered, lead, sen):
    provider = registered["api"]
    before = provider.get(f"{V1}/establishments", params={"limit": 500}).json()["items"]
    good = samples.establishment_body(samples.unique("Invalid School"))
    unknown_category = provider.post(f"{V1}/establishments", json={**good, "categories": ["NOPE"]})
    assert _locs(unknown_category) == [["categories", 0]]
    lat_200 = provider.post(
        f"{V1}/establishments", json={**good, "location": {"lat": 200, "lon": 0.1}}
    )
    assert _locs(lat_200) == [["location", "lat"]]
    after = provider.get(f"{V1}/establishments", params={"limit": 500}).json()["items"]
    assert len(after) == len(before)

    est = _create(provider, "Validation School", *_spot())
    app = samples.application_body(sen, est["id"], _today())
    negative = {**app, "core_costs": {**app["core_costs"], "premises": "-5.00"}}
    assert _locs(provider.post(f"{V1}/applications", json=negative)) == [["core_costs", "premises"]]
    unknown_criterion = {
        **app,
        "pass_fail": {**app["pass_fail"], "NOPE": app["pass_fail"]["FINANCIAL"]},
    }
    assert _locs(provider.post(f"{V1}/applications", json=unknown_criterion)) == [
        ["pass_fail", "NOPE"]
    ]
    missing = {k: v for k, v in app["pass_fail"]["EXCLUSIONS"].items() if k != "evidence"}
    no_evidence = {**app, "pass_fail": {**app["pass_fail"], "EXCLUSIONS": missing}}
    assert _locs(provider.post(f"{V1}/applications", json=no_evidence)) == [
        ["pass_fail", "EXCLUSIONS", "evidence"]
    ]
    assert _locs(provider.post(f"{V1}/applications", json={**app, "category": "NOPE"})) == [
        ["category"]
    ]
    stored = provider.get(f"{V1}/applications", params={"establishment_id": est["id"]})
    assert stored.json()["items"] == []

    # a decision naming an unknown criterion changes nothing
    draft = provider.post(f"{V1}/applications", json=app).json()
    provider.post(f"{V1}/applications/{draft['id']}/submit")
    decision = samples.decision_body(sen)
    decision["pass_fail"]["NOPE"] = {"result": "pass"}
    assert _locs(lead.post(f"{V1}/applications/{draft['id']}/decision", json=decision)) == [
        ["pass_fail", "NOPE"]
    ]
    assert provider.get(f"{V1}/applications/{draft['id']}").json()["status"] == "submitted"
    assert provider.get(f"{V1}/establishments/{est['id']}").json()["memberships"] == []


def test_submitting_while_entry_is_closed_is_409_and_the_change_is_audited(registered, lead, sen):
    provider = registered["api"]
    est = _create(provider, "Closed Window School", *_spot())
    draft = provider.post(
        f"{V1}/applications", json=samples.application_body(sen, est["id"], _today())
    ).json()
    closed = lead.patch(f"{V1}/dps", json={"entry_open": False})
    try:
        assert closed.status_code == 200 and closed.json()["status"] == "entry_closed"
        assert provider.get(f"{V1}/dps").json()["entry_open"] is False
        refused = provider.post(f"{V1}/applications/{draft['id']}/submit")
        assert refused.status_code == 409 and "entry" in refused.json()["detail"]
    finally:
        reopened = lead.patch(f"{V1}/dps", json={"entry_open": True})
    assert reopened.json()["status"] == "open"
    assert provider.post(f"{V1}/applications/{draft['id']}/submit").status_code == 200
    assert provider.patch(f"{V1}/dps", json={"entry_open": False}).status_code == 403
    trail = lead.get(
        f"{V1}/audit", params={"service": "qualification", "entity_type": "dps", "limit": 1000}
    ).json()["items"]
    # the lead's own changes (a timer of another test may have written one at a shifted time)
    changes = [(r["before"]["entry_open"], r["after"]["entry_open"]) for r in trail
               if r["actor"]["role"] == "lead"]
    assert changes[-2:] == [(True, False), (False, True)]


def test_a_category_change_makes_a_new_version(lead, api):
    before = lead.get(f"{V1}/categories/FOSTERCARE").json()
    changed = lead.patch(f"{V1}/categories/FOSTERCARE", json={"min_invited": 4})
    try:
        assert changed.status_code == 200, changed.text
        assert changed.json()["version"] == before["version"] + 1
        assert changed.json()["min_invited"] == 4
        listed = api("provider", provider_id=str(uuid.uuid4())).get(f"{V1}/categories")
        assert {c["code"]: c["version"] for c in listed.json()["items"]}["FOSTERCARE"] == before[
            "version"
        ] + 1
        old = lead.get(f"{V1}/categories/FOSTERCARE", params={"version": before["version"]})
        assert old.json()["min_invited"] == before["min_invited"]
        bad = lead.patch(
            f"{V1}/categories/FOSTERCARE", json={"weighted_criteria_weights": {"WORKFORCE": 50}}
        )
        assert _locs(bad) == [["weighted_criteria_weights"]]  # no longer sums to 100
    finally:
        lead.patch(f"{V1}/categories/FOSTERCARE", json={"min_invited": before["min_invited"]})


def test_export_of_admitted_establishments_as_csv_and_json(registered, lead, sen, api):
    est = _admit(registered["api"], lead, sen, "Export Academy")
    as_json = api("contract_manager").get(
        f"{V1}/establishments/export", params={"category": "SEN", "format": "json"}
    )
    assert as_json.status_code == 200
    item = next(i for i in as_json.json()["items"] if i["id"] == est["id"])
    assert item["memberships"][0]["competency"] == 79.0
    assert item["memberships"][0]["core_costs"]["premises"] == "300.00"
    as_csv = lead.get(f"{V1}/establishments/export", params={"category": "SEN", "format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["Content-Type"].startswith("text/csv")
    rows = {r["establishment_id"]: r for r in csv.DictReader(io.StringIO(as_csv.text))}
    row = rows[est["id"]]
    assert (row["category"], row["status"], row["competency"], row["cost_premises"]) == (
        "SEN",
        "admitted",
        "79.0",
        "300.00",
    )
    assert row["total_weekly_core_cost"] == "2700.00"
    assert registered["api"].get(f"{V1}/establishments/export").status_code == 403
    assert (
        api("commissioner", authority="KCC").get(f"{V1}/establishments/export").status_code == 403
    )
