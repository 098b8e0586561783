"""Bad input gets a 4xx problem+json naming the field, and nothing is stored (issue 10;
API.md "Errors"): the gateway's guards in ``gateway/inputs.py`` on the real stack."""

from __future__ import annotations

import uuid

import pytest

PROBLEM = "application/problem+json"


def _provider_named(stack, name: str) -> int:
    from sqlalchemy import text

    from services.common.runtime import make_engine

    engine = make_engine(pool_size=1)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM qualification.providers "
                                     "WHERE name = :n"), {"n": name}).scalar_one()
    finally:
        engine.dispose()


def _registration(name: str) -> dict:
    return {"name": name, "contact_email": f"{uuid.uuid4().hex[:8]}@bad.example",
            "companies_house_number": "01234567"}


def test_json_nested_thousands_deep_is_400_naming_the_body(api):
    response = api().post("/api/v1/providers", data="[" * 5000 + "]" * 5000,
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith(PROBLEM)
    assert response.json()["errors"] == [{"loc": ["body"], "msg": "too deeply nested"}]


def test_a_body_over_the_size_limit_is_413(api):
    response = api().post("/api/v1/providers", data=b"[" + b" " * (3 << 20) + b"]",
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith(PROBLEM)


@pytest.mark.parametrize("bad", ["Oak\x00field", "Oak\x07field", "Oak\ud800field"])
def test_control_characters_in_text_are_422_naming_the_field_and_nothing_is_stored(
        stack, api, bad):
    import json

    name = f"{bad} {uuid.uuid4().hex[:6]}"
    response = api().post("/api/v1/providers", data=json.dumps(_registration(name)),
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith(PROBLEM)
    assert [e["loc"] for e in response.json()["errors"]] == [["name"]]
    clean = name.replace(bad, "Oakfield")
    assert _provider_named(stack, clean) == 0


def test_tab_and_newline_are_allowed_in_text(stack, api):
    name = f"Oakfield\tCare\nLtd {uuid.uuid4().hex[:6]}"
    response = api().post("/api/v1/providers", json=_registration(name))
    assert response.status_code == 201
    assert _provider_named(stack, name) == 1


def test_nul_in_a_query_parameter_is_422_naming_it(api):
    response = api("auditor").get("/api/v1/audit", params={"entity_type": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "entity_type"]


@pytest.mark.parametrize("bad_id", ["ab%00cd", "x" * 300, "%07"])
def test_malformed_path_ids_are_404(api, bad_id):
    response = api("contract_manager").get(f"/api/v1/placements/{bad_id}")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith(PROBLEM)


def test_the_audit_trail_filters_work(api):
    lead = api("lead")
    created = lead.post("/api/v1/keys", json={"role": "auditor", "label": "filters"})
    assert created.status_code == 201
    auditor = api("auditor")
    response = auditor.get("/api/v1/audit", params={
        "from": "2020-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z", "limit": 5})
    assert response.status_code == 200, response.text
    later = auditor.get("/api/v1/audit", params={"from": "2999-01-01T00:00:00Z"})
    assert later.status_code == 200
    assert later.json()["items"] == []


def _establishment(**change) -> dict:
    body = {"name": f"Oak School {uuid.uuid4().hex[:6]}", "address": "1 Oak Road, Brighton",
            "postcode": "BN1 1AA", "location": {"lat": 50.82, "lon": -0.14},
            "categories": ["SEN"], "capacity": 40,
            "contacts": [{"name": "Head", "email": "head@oak.example",
                          "phone": "07700 900123", "sms_opt_in": True}]}
    for key, value in change.items():
        if key == "sms_opt_in":
            body["contacts"][0]["sms_opt_in"] = value
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(("change", "loc"), [
    ({"capacity": 2**40}, ["capacity"]),           # beyond the column's range
    ({"capacity": "12abc"}, ["capacity"]),
    ({"sms_opt_in": "yes"}, ["contacts", 0, "sms_opt_in"]),  # strict booleans
    ({"sms_opt_in": 1}, ["contacts", 0, "sms_opt_in"]),
])
def test_integers_and_booleans_are_strict_and_nothing_is_stored(stack, api, change, loc):
    registered = api().post("/api/v1/providers", json=_registration("Strict Care Ltd")).json()
    provider = api()
    provider.key = registered["api_key"]
    body = _establishment(**change)
    response = provider.post("/api/v1/establishments", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    assert loc in [e["loc"] for e in response.json()["errors"]]
    assert provider.get("/api/v1/establishments").json()["items"] == []


@pytest.mark.parametrize(("change", "field"), [
    ({"weekly_price_per_place": "1e3"}, "weekly_price_per_place"),        # exponent form
    ({"weekly_price_per_place": "1" * 40}, "weekly_price_per_place"),     # very many digits
    ({"weekly_price_per_place": "99999999999.00"}, "weekly_price_per_place"),  # over the max
    ({"weekly_price_per_place": "3500.001"}, "weekly_price_per_place"),
    ({"weekly_price_per_place": 3500.5}, "weekly_price_per_place"),       # a float
    ({"start": 0}, "start"),                                              # a date of 0
    ({"start": "2026-13-01"}, "start"),
    ({"places": 2**40}, "places"),
])
def test_money_and_dates_are_strict(api, change, field):
    body = {"establishment_id": str(uuid.uuid4()), "places": 2,
            "weekly_price_per_place": "3500.00", "start": "2027-01-01", "end": "2027-12-31",
            **change}
    response = api("commissioner", authority="KCC").post("/api/v1/block-contracts", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    assert [field] in [e["loc"] for e in response.json()["errors"]]


@pytest.mark.parametrize(("change", "field"), [({"category": "KIDS"}, "category"),
                                               ({"cost_head": "ponies"}, "cost_head")])
def test_an_uplift_of_an_unknown_category_or_cost_head_is_422_naming_it(api, change, field):
    body = {"category": "SEN", "cost_head": "premises", "percent": "2.5",
            "effective_from": "2027-04-01", **change}
    response = api("contract_manager").post("/api/v1/uplifts", json=body)
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [[field]]


def test_a_query_flag_is_true_or_false_and_nothing_else(api):
    lead = api("lead")
    assert lead.get("/api/v1/applications", params={"overdue": "true"}).status_code == 200
    refused = lead.get("/api/v1/applications", params={"overdue": "yes"})
    assert refused.status_code == 422
    assert ["overdue"] in [e["loc"][-1:] for e in refused.json()["errors"]]
