"""Issue 12 uploads, end to end through the gateway (RULES §4, §10): a provider uploads an
evidence file for a pass/fail criterion of its draft application; it is stored and
downloaded byte for byte by the provider and the lead; another provider gets 404; a renamed
executable or an HTML page is 422; 25 MB is 413; nothing is stored for a refused file."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta

import pytest

from tests.support.fixtures import Api

V1 = "/api/v1"
CATEGORY = "RESIDENTIAL"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + uuid.uuid4().bytes * 500 + b"\n%%EOF\n"
OCTETS = {"Content-Type": "application/octet-stream"}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    return response.json()


def provider(stack) -> tuple[Api, str]:
    tag = uuid.uuid4().hex[:8]
    registered = ok(Api(stack.url).post(f"{V1}/providers", json={
        "name": f"Docs Homes {tag}", "contact_email": f"office.{tag}@provider.example"}), 201)
    return Api(stack.url, registered["api_key"]), tag


@pytest.fixture(scope="module")
def application(stack, api):
    lead = api("lead")
    config = ok(lead.get(f"{V1}/categories/{CATEGORY}"))
    owner, tag = provider(stack)
    est = ok(owner.post(f"{V1}/establishments", json={
        "name": f"Docs House {tag}", "address": "1 Lane, Kent", "postcode": "ME1 1AA",
        "location": {"lat": 51.2, "lon": 0.6}, "categories": [CATEGORY],
        "contacts": [{"name": "Head", "email": f"head.{tag}@home.example"}]}), 201)
    answers = {}
    for code in config["pass_fail_criteria"]:
        answers[code] = {"answer": f"{code} holds", "evidence": f"https://ev.example/{code}"}
        if code == "INSURANCE":
            answers[code] |= {
                "expires_on": (date.today() + timedelta(days=400)).isoformat(),
                "cover": {k: "20000000.00" for k in config["insurance_minimums"]},
            }
    app = ok(owner.post(f"{V1}/applications", json={
        "establishment_id": est["id"], "category": CATEGORY, "pass_fail": answers,
        "method_statements": {k: "our approach" for k in
                              ("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING")},
        "core_costs": {head: "300.00" for head in config["cost_heads"]}}), 201)
    return {"id": app["id"], "owner": owner, "lead": lead,
            "criterion": config["pass_fail_criteria"][0]}


def test_an_evidence_pdf_is_stored_and_read_back_byte_for_byte_by_those_entitled(
    stack, application
):
    a = application
    url = f"{V1}/applications/{a['id']}/evidence"
    added = ok(a["owner"].post(url, params={"criterion": a["criterion"],
                                            "filename": "insurance certificate.pdf"},
                               data=PDF, headers=dict(OCTETS)), 201)
    assert added["content_type"] == "application/pdf" and added["size"] == len(PDF)
    assert added["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert added["filename"] == "insurance certificate.pdf"
    doc = f"{url}/{added['document_id']}"
    for reader in (a["owner"], a["lead"]):
        got = reader.get(doc)
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["X-Content-SHA256"] == added["sha256"]
    assert [d["document_id"] for d in ok(a["lead"].get(url))["items"]] == [added["document_id"]]
    other, _ = provider(stack)
    assert other.get(doc).status_code == 404
    assert other.get(url).status_code == 404
    assert other.post(url, params={"criterion": a["criterion"], "filename": "x.pdf"},
                      data=PDF, headers=dict(OCTETS)).status_code == 404


def test_files_outside_the_allow_list_or_over_20_mb_are_refused(application):
    a = application
    url = f"{V1}/applications/{a['id']}/evidence"
    exe = b"MZ\x90\x00\x03" + b"\x00" * 58 + b"PE\x00\x00" + b"\x00" * 200
    html = b"<!DOCTYPE html><html><body onload=alert(1)></body></html>"
    before = len(ok(a["owner"].get(url))["items"])
    for body in (exe, html):
        refused = a["owner"].post(url, params={"criterion": a["criterion"],
                                               "filename": "policy.pdf"},
                                  data=body, headers=dict(OCTETS))
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"] == ["file"]
    big = a["owner"].post(url, params={"criterion": a["criterion"], "filename": "scan.pdf"},
                          data=b"%PDF-1.4\n" + b"0" * (25 * 1024 * 1024), headers=dict(OCTETS))
    assert big.status_code == 413, big.text[:200]
    unknown = a["owner"].post(url, params={"criterion": "NOT_A_CRITERION", "filename": "a.pdf"},
                              data=PDF, headers=dict(OCTETS))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"] == ["criterion"]
    assert len(ok(a["owner"].get(url))["items"]) == before


def test_a_suspended_membership_takes_evidence_files_for_its_failed_criterion_only(
        stack, api):
    """§4.5 reinstatement: once admitted an application takes no more files, except for the
    criterion its membership is suspended for (the resubmission's evidence)."""
    from tests.support.referral_market import Market

    market = Market(stack, api)
    est = market.establishment("Docs", (51.3, 0.4))
    listed = ok(est.provider.get(f"{V1}/establishments/{est.id}"))
    app_id = listed["memberships"][0]["application_id"]
    url = f"{V1}/applications/{app_id}/evidence"
    early = est.provider.post(url, params={"criterion": "INSPECTION", "filename": "r.pdf"},
                              data=PDF, headers=dict(OCTETS))
    assert early.status_code == 409  # admitted: no more evidence
    market.suspend(est)  # for INSPECTION
    added = ok(est.provider.post(url, params={"criterion": "INSPECTION",
                                              "filename": "report.pdf"},
                                 data=PDF, headers=dict(OCTETS)), 201)
    assert added["criterion"] == "INSPECTION" and added["size"] == len(PDF)
    other = est.provider.post(url, params={"criterion": "FINANCIAL", "filename": "f.pdf"},
                              data=PDF, headers=dict(OCTETS))
    assert other.status_code == 409  # only the failed criterion's evidence (§4.5)
