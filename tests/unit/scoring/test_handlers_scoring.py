"""Scoring's handlers without nameko (RULES §6, §10). Scoring is stateless: a handler takes
the command and the principal, reads and writes nothing, emits no event and writes no audit,
so no unit of work is needed (nor given: a handler that reached for one would fail here)."""

import pytest

from services.common.errors import Forbidden, InvalidInput
from services.scoring.handlers import (
    resolve_referral_weights,
    resolve_weights,
    score,
    score_referral,
)
from services.scoring.messages import ResolveWeightsRequest, ScoringRequest, ScoringResult
from tests.support.scoring_samples import OWNER, error_locs, worked_example

PROVIDER = {"id": "k-p", "role": "provider", "authority": None, "provider_id": "prov-1"}
LEAD = {"id": "k-lead", "role": "lead", "authority": "WSCC", "provider_id": None}


def command(**change) -> ScoringRequest:
    return ScoringRequest.model_validate(worked_example() | change)


def test_score_ranks_the_worked_example():
    """§6.5: A, B, D ranked, C excluded (no must-have M1); A and B within 5 points."""
    result = score(command(), "SEN", OWNER)
    assert isinstance(result, ScoringResult)
    assert result.status == "parent_choice"
    assert [r.bid_id for r in result.ranking] == ["A", "B", "D", "C"]
    assert [r.rank for r in result.ranking] == [1, 2, 3, None]
    assert result.shortlist == ["A", "B"]
    assert str(result.lowest_price) == "3500.00"
    assert result.ranking[0].total_exact == "1009/12"
    assert result.ranking[3].reason == "does not offer must-have feature M1 (wheelchair access)"


def test_score_prices_a_breakdown_after_the_cohort_discount():
    request = worked_example()
    del request["bids"][0]["weekly_price"]
    request["bids"][0]["costs"] = {"core_costs": {"premises": "1000.00"},
                                   "discount_percent": "10"}
    result = score(ScoringRequest.model_validate(request), "SEN", LEAD)
    assert str(next(r for r in result.ranking if r.bid_id == "A").weekly_price) == "900.00"


def test_score_refuses_another_category():
    with pytest.raises(InvalidInput, match="this service scores FOSTERCARE referrals only") as e:
        score(command(), "FOSTERCARE", OWNER)
    assert error_locs(e) == [["category"]]


def test_score_refuses_a_provider():
    with pytest.raises(Forbidden, match="the provider role may not do this"):
        score(command(), "SEN", PROVIDER)


def test_score_names_every_faulty_field():
    request = worked_example()
    request["bids"][0]["competency"] = 101
    request["bids"][1]["needs_met"] = ["N9"]
    with pytest.raises(InvalidInput) as e:
        score(ScoringRequest.model_validate(request), "SEN", OWNER)
    assert error_locs(e) == [["bids", 0, "competency"], ["bids", 1, "needs_met"]]


def test_resolve_weights_rescales_from_the_price_weight():
    """§6.1: P=70 → O=2, N=2, F=1."""
    weights = resolve_weights(ResolveWeightsRequest(price_weight=70, has_needs=True,
                                                    has_desirable=True))
    assert weights.model_dump() == {"P": 70, "C": 20, "L": 5, "O": 2, "N": 2, "F": 1}


def test_resolve_weights_refuses_a_needs_weight_without_needs():
    request = ResolveWeightsRequest.model_validate({
        "weights": {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5},
        "has_needs": False, "has_desirable": True,
    })
    with pytest.raises(InvalidInput) as e:
        resolve_weights(request, OWNER)
    assert error_locs(e) == [["weights", "N"]]


def test_the_json_adapters_parse_and_dump():
    """What the entrypoints return: JSON-ready dicts; bad JSON is a 422 naming the field."""
    assert score_referral(worked_example(), "SEN")["shortlist"] == ["A", "B"]
    assert resolve_referral_weights({"has_needs": True, "has_desirable": True})["P"] == 50
    with pytest.raises(InvalidInput) as e:
        score_referral(worked_example() | {"surprise": 1}, "SEN")
    assert error_locs(e) == [["surprise"]]
