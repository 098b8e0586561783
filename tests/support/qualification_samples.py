"""Request bodies for the qualification service, built from a category's configuration
as the API reports it (so they stay valid when the configuration changes). Used by the
integration tests and the e2e tests (tests/e2e/test_qualification.py)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

BRIGHTON = (50.8225, -0.1372)
COVER = {
    "employers_liability": "10000000.00",
    "public_liability": "5000000.00",
    "professional_liability": "2000000.00",
}


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:8]}"


def establishment_body(
    name: str,
    lat: float = BRIGHTON[0],
    lon: float = BRIGHTON[1],
    categories=("SEN",),
    postcode: str = "BN1 1AA",
    email: str = "head@school.example.org",
) -> dict:
    return {
        "name": name,
        "address": f"1 {name} Road, Brighton",
        "postcode": postcode,
        "location": {"lat": lat, "lon": lon},
        "categories": list(categories),
        "capacity": 40,
        "contacts": [
            {"name": "Ann Head", "email": email, "phone": "+44 7700 900123", "sms_opt_in": True}
        ],
    }


def answer(
    code: str,
    today: date,
    insurance_expires: date | None = None,
    grade: str = "GOOD",
    inspected: date | None = None,
) -> dict:
    body = {"answer": f"{code} answer", "evidence": f"https://evidence.example.org/{code}"}
    if code == "INSURANCE":
        body["expires_on"] = (insurance_expires or today + timedelta(days=300)).isoformat()
        body["cover"] = dict(COVER)
    if code == "INSPECTION":
        body["judgement"] = {
            "body": "OFSTED",
            "grade": grade,
            "date": (inspected or today - timedelta(days=200)).isoformat(),
        }
    return body


def evidence(code: str, today: date, **kw) -> dict:
    """A resubmission or renewal body: ``answer``'s evidence naming its criterion."""
    return {**answer(code, today, **kw), "criterion": code}


def application_content(
    config: dict, today: date, *, amount: str = "300.00", insurance_expires: date | None = None
) -> dict:
    return {
        "pass_fail": {c: answer(c, today, insurance_expires) for c in config["pass_fail_criteria"]},
        "method_statements": {
            k: f"our {k.lower()} approach"
            for k in ("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING")
        },
        "core_costs": {h: amount for h in config["cost_heads"]},
        "additional_services": [
            {
                "name": "Speech and language therapy",
                "unit": "one-hour session",
                "unit_price": "85.00",
                "weekly_price": "170.00",
            }
        ],
        "cohort_discounts": [{"min_children": 2, "percent": 5}, {"min_children": 3, "percent": 8}],
    }


def application_body(config: dict, establishment_id: str, today: date, **kw) -> dict:
    return {
        "establishment_id": establishment_id,
        "category": config["code"],
        **application_content(config, today, **kw),
    }


def decision_body(config: dict, scores=(80, 70, 90), fail: dict | None = None) -> dict:
    fail = fail or {}
    return {
        "pass_fail": {
            c: ({"result": "fail", "reason": fail[c]} if c in fail else {"result": "pass"})
            for c in config["pass_fail_criteria"]
        },
        "scores": dict(
            zip(("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING"), scores, strict=True)
        ),
    }
