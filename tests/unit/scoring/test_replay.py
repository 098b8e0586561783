"""Issue 15: an evaluation replayed from its recorded inputs gives the same totals, ranks and
shortlist (RULES §6.3–§6.4), and a changed input shows."""

from __future__ import annotations

from services.scoring.handlers import replay_evaluation, score_referral
from tests.support.scoring_samples import worked_example


def _recorded(reply: dict) -> dict:
    return {
        "weights": reply["weights"],
        "bids": [
            {"bid_id": r["bid_id"], "compliant": r["compliant"], "inputs": r["inputs"]}
            for r in reply["ranking"]
        ],
    }


def test_the_worked_example_replays_to_the_same_totals_ranks_and_shortlist():
    scored = score_referral(worked_example(), "SEN")
    replayed = replay_evaluation(_recorded(scored))
    assert replayed["formula_version"] == scored["formula_version"] == "1"
    assert replayed["lowest_price"] == "3500.00"
    assert replayed["shortlist"] == ["A", "B"]
    assert [(b["bid_id"], b["rank"], b["total_exact"]) for b in replayed["bids"]] == [
        (r["bid_id"], r["rank"], r["total_exact"]) for r in scored["ranking"]
    ]
    assert replayed["bids"][0]["subscores_exact"] == scored["ranking"][0]["subscores_exact"]


def test_a_changed_input_changes_the_replayed_total():
    scored = score_referral(worked_example(), "SEN")
    recorded = _recorded(scored)
    recorded["bids"][1]["inputs"]["competency"] = "100"  # B: 60 → 100
    replayed = replay_evaluation(recorded)
    b = next(x for x in replayed["bids"] if x["bid_id"] == "B")
    assert b["total_exact"] == "89" and b["rank"] == 1  # 81 + 20 × 40/100
