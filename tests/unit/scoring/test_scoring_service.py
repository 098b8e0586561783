"""The scoring RPC surface (RULES §6): JSON in and out, typed 422s, per-category services."""

import json

import pytest
from nameko.cli.run import import_service
from nameko.exceptions import serialize

from services.common.errors import Forbidden, InvalidInput
from services.scoring import service
from services.scoring.config import hosted_categories
from services.scoring.messages import CATEGORIES, ScoringResult, scoring_service_name
from services.scoring.service import ScoringService, category_service
from tests.support.scoring_samples import OWNER, error_locs, worked_example, worker_factory

SEN = category_service("SEN")


def test_ping():
    assert worker_factory(ScoringService).ping() == "ok"
    assert worker_factory(SEN).ping() == "ok"


def test_score_replies_with_the_worked_example_as_json():
    """§6.5 over the wire: the gateway's evaluate shape (API.md) plus the explanation."""
    reply = worker_factory(SEN).score(worked_example())
    assert json.loads(json.dumps(reply)) == reply
    assert ScoringResult.model_validate(reply).model_dump(mode="json") == reply
    assert reply["status"] == "parent_choice"
    assert reply["shortlist"] == ["A", "B"]
    assert reply["lowest_price"] == "3500.00"
    assert reply["weights"] == {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5}
    a, b, d, c = reply["ranking"]
    assert [x["bid_id"] for x in (a, b, d, c)] == ["A", "B", "D", "C"]
    assert a == {
        "bid_id": "A",
        "establishment_id": "est-A",
        "compliant": True,
        "reason": None,
        "rank": 1,
        "total": "84.08",
        "total_exact": "1009/12",
        "quality_total": "40.33",
        "subscores": {"P": "43.75", "C": "16.00", "L": "4.00", "O": "7.00", "N": "10.00",
                      "F": "3.33"},
        "explanation": a["explanation"],
        "weekly_price": "4000.00",
        "inputs": {"weekly_price": "4000.00", "competency": "80", "distance_miles": "12",
                   "outcome_scores": ["70"], "needs_marks_met": 5, "needs_marks_total": 5,
                   "desirable_marks_met": 2, "desirable_marks_total": 3,
                   "final_submission_at": "2026-03-02T09:00:00Z"},
        "subscores_exact": {"P": "175/4", "C": "16", "L": "4", "O": "7", "N": "10",
                            "F": "10/3"},
    }  # fmt: skip
    assert reply["formula_version"] == "1"
    assert set(a["explanation"]) == {"P", "C", "L", "O", "N", "F"}
    assert (b["total"], d["total"]) == ("81.00", "75.00")
    assert c["compliant"] is False and c["rank"] is None and c["subscores"] is None
    assert c["reason"] == "does not offer must-have feature M1 (wheelchair access)"
    assert c["weekly_price"] == "3000.00"


def test_a_price_breakdown_is_priced_after_the_cohort_discount():
    """§4.4, §6.3: core costs less the discount, plus variable costs."""
    request = worked_example()
    del request["bids"][0]["weekly_price"]
    request["bids"][0]["costs"] = {
        "core_costs": {"premises": "1500.00", "core_staffing": "2500.00"},
        "variable_costs": [{"label": "speech therapy", "weekly": "120.00"}],
        "discount_percent": "5",
    }
    reply = worker_factory(SEN).score(request)
    a = next(r for r in reply["ranking"] if r["bid_id"] == "A")
    assert a["weekly_price"] == "3920.00"  # 4000 − 200 + 120


def test_price_weight_is_applied():
    request = worked_example() | {"price_weight": 70}
    reply = worker_factory(SEN).score(request)
    assert reply["weights"] == {"P": 70, "C": 20, "L": 5, "O": 2, "N": 2, "F": 1}


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda r: r["bids"][0].update(weekly_price=4000.0), ["bids", 0, "weekly_price"]),
        (lambda r: r["bids"][0].update(weekly_price="4000.001"), ["bids", 0, "weekly_price"]),
        (lambda r: r["bids"][0].update(costs={"core_costs": {}}), ["bids", 0]),
        (lambda r: r["bids"][0].pop("weekly_price"), ["bids", 0]),
        (lambda r: r["bids"][0].update(submitted_at="2026-03-02T09:00:00"),
         ["bids", 0, "submitted_at"]),
        (lambda r: r["bids"][0].update(competency="lots"), ["bids", 0, "competency"]),
        (lambda r: r["bids"][0].update(surprise=1), ["bids", 0, "surprise"]),
        (lambda r: r.update(category="NOPE"), ["category"]),
        (lambda r: r.update(weights={"P": 50}), ["weights", "C"]),
        (lambda r: r.update(price_weight=75), ["price_weight"]),
        (lambda r: r["bids"][1].update(competency=101), ["bids", 1, "competency"]),
    ],
)  # fmt: skip
def test_invalid_requests_raise_invalid_input_naming_the_field(change, loc):
    request = worked_example()
    change(request)
    with pytest.raises(InvalidInput) as exc_info:
        worker_factory(SEN).score(request)
    assert loc in error_locs(exc_info)


def test_invalid_input_survives_nameko_serialisation():
    """The gateway rebuilds the typed error from the RPC reply (services.common.errors)."""
    request = worked_example()
    request["bids"][2]["needs_met"] = ["N9"]
    with pytest.raises(InvalidInput) as exc_info:
        worker_factory(SEN).score(request)
    wire = json.loads(json.dumps(serialize(exc_info.value)))
    assert wire["exc_type"] == "InvalidInput"
    # nameko stringifies non-string values inside exception args: the index arrives as "2"
    assert wire["exc_args"][1] == [
        {"loc": ["bids", "2", "needs_met"], "msg": "not listed in the referral: N9"}
    ]


def test_a_category_service_scores_only_its_own_category():
    request = worked_example() | {"category": "FOSTERCARE"}
    with pytest.raises(InvalidInput) as exc_info:
        worker_factory(SEN).score(request)
    assert error_locs(exc_info) == [["category"]]
    assert worker_factory(category_service("FOSTERCARE")).score(request)["status"] == (
        "parent_choice"
    )


def test_resolve_weights_checks_a_referrals_weights():
    """§6.1, at referral creation."""
    rpc = worker_factory(ScoringService)
    assert rpc.resolve_weights({"price_weight": 30, "has_needs": True, "has_desirable": True}) == {
        "P": 30, "C": 20, "L": 5, "O": 18, "N": 18, "F": 9,
    }  # fmt: skip
    with pytest.raises(InvalidInput) as exc_info:
        rpc.resolve_weights(
            {
                "weights": {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5},
                "has_needs": False,
                "has_desirable": True,
            }
        )
    assert error_locs(exc_info) == [["weights", "N"]]


def test_service_names_per_category():
    assert scoring_service_name("SEN") == "scoring_sen"
    assert category_service("ALT_EDUCATION").name == "scoring_alt_education"
    assert category_service("ALT_EDUCATION").__name__ == "ScoringAltEducationService"
    with pytest.raises(ValueError, match="unknown category"):
        scoring_service_name("sen")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, CATEGORIES),
        ("", CATEGORIES),
        ("SEN", ("SEN",)),
        (" sen, FOSTERCARE ,sen,", ("SEN", "FOSTERCARE")),
    ],
)
def test_scoring_categories_chooses_the_hosted_category_services(value, expected):
    assert hosted_categories(value) == expected


def test_an_unknown_scoring_category_fails_at_start():
    with pytest.raises(ValueError, match="SCORING_CATEGORIES: unknown categories KIDS"):
        hosted_categories("SEN,KIDS")


def test_nameko_run_finds_the_general_and_the_category_services():
    """``nameko run services.scoring.service`` (no selection: ``services.scoring.run`` chooses)
    hosts ``scoring`` and every category service."""
    names = {cls.name for cls in import_service("services.scoring.service")}
    assert names == {"scoring"} | {cls.name for cls in service.CATEGORY_SERVICES}
    assert {cls.name for cls in service.CATEGORY_SERVICES} <= {
        scoring_service_name(c) for c in CATEGORIES
    }


def test_the_score_entrypoint_checks_the_callers_role():
    """§10: the gateway's principal travels with the call; only owners have bids scored."""
    provider = {"id": "k-p", "role": "provider", "authority": None, "provider_id": "prov-1"}
    with pytest.raises(Forbidden, match="the provider role may not do this"):
        worker_factory(SEN, principal=provider).score(worked_example())
    assert worker_factory(SEN, principal=OWNER).score(worked_example())["shortlist"] == ["A", "B"]
