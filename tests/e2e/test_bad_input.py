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
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "name"]]
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
