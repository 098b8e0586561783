"""Issue "Foundation": the system started the way `make run` starts it, over HTTP."""

from __future__ import annotations

import json
import uuid

from openapi_spec_validator import validate

from tests.support.infra import wait_for

SERVICES = {"qualification", "referral", "scoring", "contracts", "notifications"}


def test_health_reports_every_service_ok(stack):
    response = stack.health()
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "services": {s: "ok" for s in SERVICES}}


def test_stopping_a_service_makes_health_503_naming_it(stack):
    stack.stop("contracts")
    try:
        response = stack.health()
        assert response.status_code == 503
        body = response.json()
        assert body["failing"] == ["contracts"]
        assert body["services"]["contracts"] != "ok"
        assert all(body["services"][s] == "ok" for s in SERVICES - {"contracts"})
    finally:
        stack.start("contracts")
        stack.wait_healthy()


def test_provider_registration_reaches_the_qualification_service_with_one_request_id(
        stack, api):
    request_id = f"e2e-{uuid.uuid4()}"
    response = api().post("/api/v1/providers", headers={"X-Request-ID": request_id},
                          json={"name": "Oakfield Care Ltd", "contact_email": "a@oak.example",
                                "companies_house_number": "01234567"})
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == request_id
    body = response.json()
    assert body["api_key"].startswith("dps_")

    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common.config import nameko_config

    with ClusterRpcProxy(nameko_config()) as rpc:
        provider = rpc.qualification.get_provider(body["id"])
    assert provider["name"] == "Oakfield Care Ltd"

    def lines_with_id(name):
        return [json.loads(line) for line in stack.log_text(name).splitlines()
                if request_id in line and line.startswith("{")]

    assert wait_for(lambda: lines_with_id("gateway"), 5, "gateway log line")
    service_lines = wait_for(lambda: lines_with_id("qualification"), 5, "service log line")
    assert all(line["request_id"] == request_id and line["service"] == "qualification"
               for line in service_lines)

    # the key it returned authenticates as that provider
    me = api().get("/api/v1/audit", headers={"Authorization": f"Bearer {body['api_key']}"})
    assert me.status_code == 403


def test_missing_or_unknown_key_is_401(api):
    assert api().post("/api/v1/keys", json={}).status_code == 401
    unknown = api().post("/api/v1/keys", json={},
                         headers={"Authorization": "Bearer dps_not-a-real-key"})
    assert unknown.status_code == 401
    assert unknown.headers["Content-Type"] == "application/problem+json"


def test_wrong_role_is_403(api):
    response = api("commissioner", authority="KCC").post(
        "/api/v1/keys", json={"role": "lead", "label": "x"})
    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_malformed_json_is_400(api):
    response = api("lead").post("/api/v1/keys", data="{not json",
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"


def test_invalid_body_is_422_naming_the_field(api):
    response = api("lead").post("/api/v1/keys", json={"role": "lead", "label": ""})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["label"]]
    bad_role = api("lead").post("/api/v1/keys", json={"role": "wizard", "label": "x"})
    assert bad_role.status_code == 422
    assert bad_role.json()["errors"][0]["loc"] == ["role"]


def test_replayed_idempotency_key_returns_the_first_response_and_creates_nothing(api):
    anonymous = api()
    key = str(uuid.uuid4())
    body = {"name": f"Idem {key}", "contact_email": "i@idem.example"}
    first = anonymous.post("/api/v1/providers", json=body, headers={"Idempotency-Key": key})
    second = anonymous.post("/api/v1/providers", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    other = anonymous.post("/api/v1/providers", json={**body, "name": "Other"},
                           headers={"Idempotency-Key": key})
    assert other.status_code == 422


def test_lead_creates_and_revokes_keys(api):
    lead = api("lead")
    created = lead.post("/api/v1/keys", json={"role": "auditor", "label": "auditor 2"})
    assert created.status_code == 201
    auditor = created.json()
    headers = {"Authorization": f"Bearer {auditor['api_key']}"}
    assert api().get("/api/v1/audit/verify", headers=headers).status_code == 200
    assert lead.delete(f"/api/v1/keys/{auditor['id']}").status_code == 204
    assert api().get("/api/v1/audit/verify", headers=headers).status_code == 401


def test_audit_chain_verifies_through_the_gateway(api):
    response = api("auditor").get("/api/v1/audit/verify")
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_openapi_document_is_valid_openapi_3(api):
    response = api().get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/providers" in document["paths"]


def test_metrics_are_prometheus_text(api):
    api().get("/health")
    text = api().get("/metrics").text
    assert "dps_http_requests_total" in text
    assert 'dps_rpc_seconds_count{method="ping"' in text





def test_a_key_for_an_unknown_authority_is_refused_naming_the_field(api):
    response = api("lead").post("/api/v1/keys", json={"role": "commissioner",
                                                      "authority": "NOPE", "label": "x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["authority"]
