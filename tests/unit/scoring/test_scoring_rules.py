"""RULES §6.2–§6.5: compliance, exact sub-scores, ranking, shortlist, and the worked example."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from services.common.errors import InvalidInput
from services.scoring.domain import (
    DEFAULT_WEIGHTS,
    EVALUATED,
    PARENT_CHOICE,
    UNSUCCESSFUL,
    Bid,
    Feature,
    Need,
    display,
    evaluate,
    weekly_price,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEEDS = [Need("N1", 3, "speech and language"), Need("N2", 2, "autism")]
FEATURES = [
    Feature("M1", True, label="wheelchair access"),
    Feature("D1", False, 2, "halal diet"),
    Feature("D2", False, 1, "EAL support"),
]


def bid(bid_id, price="4000", competency=80, miles="12", scores=(70,), needs=(), features=(),
        admitted=True, at=T0, **kw):  # fmt: skip
    return Bid(
        bid_id=bid_id,
        establishment_id=f"est-{bid_id}",
        weekly_price=Decimal(price),
        competency=Decimal(competency),
        distance_miles=Decimal(miles),
        submitted_at=at,
        admitted_at_deadline=admitted,
        outcome_scores=tuple(Decimal(s) for s in scores),
        needs_met=frozenset(needs),
        features_met=frozenset(features),
        **kw,
    )


WORKED = [  # §6.5
    bid("A", "4000", 80, "12", (70,), ("N1", "N2"), ("M1", "D1"), at=T0),
    bid("B", "3500", 60, "35", (60,), ("N1",), ("M1", "D1", "D2"), at=T0 + timedelta(hours=1)),
    bid("C", "3000", 90, "5", (90,), ("N1", "N2"), ("D1", "D2"), at=T0 + timedelta(hours=2)),
    bid("D", "5000", 100, "55", (100,), ("N1", "N2"), ("M1",), at=T0 + timedelta(hours=3)),
]


def shown(scored) -> dict[str, str]:
    return {c: f"{display(v):.2f}" for c, v in scored.subscores.as_dict().items()}


def by_id(evaluation):
    return {s.bid.bid_id: s for s in evaluation.ranking}


@pytest.fixture(scope="module")
def result():
    return evaluate(NEEDS, FEATURES, WORKED)


class TestWorkedExample:
    """§6.5, with the default weights."""

    def test_uses_the_default_weights(self, result):
        assert result.weights == DEFAULT_WEIGHTS

    def test_lowest_compliant_price_is_found_after_excluding_c(self, result):
        assert result.lowest_price == Decimal("3500")

    def test_c_is_excluded_for_missing_m1(self, result):
        c = by_id(result)["C"]
        assert not c.compliant and c.rank is None and c.subscores is None
        assert c.reasons == ("does not offer must-have feature M1 (wheelchair access)",)

    def test_sub_scores_and_totals(self, result):
        s = by_id(result)
        assert shown(s["A"]) == {
            "P": "43.75", "C": "16.00", "L": "4.00", "O": "7.00", "N": "10.00", "F": "3.33",
        }  # fmt: skip
        assert shown(s["B"]) == {
            "P": "50.00", "C": "12.00", "L": "2.00", "O": "6.00", "N": "6.00", "F": "5.00",
        }  # fmt: skip
        assert shown(s["D"]) == {
            "P": "35.00", "C": "20.00", "L": "0.00", "O": "10.00", "N": "10.00", "F": "0.00",
        }  # fmt: skip
        assert s["A"].subscores.total == Fraction(1009, 12)  # exact 84.0833…
        assert [display(s[k].subscores.total) for k in "ABD"] == [
            Decimal("84.08"), Decimal("81.00"), Decimal("75.00"),
        ]  # fmt: skip

    def test_ranking_is_a_b_d_then_the_excluded_c(self, result):
        assert [(s.bid.bid_id, s.rank) for s in result.ranking] == [
            ("A", 1), ("B", 2), ("D", 3), ("C", None),
        ]  # fmt: skip

    def test_shortlist_is_a_and_b_so_parents_choose(self, result):
        """B is 3.08 below A (kept), D is 9.08 below (dropped)."""
        assert result.shortlist == ("A", "B")
        assert result.status == PARENT_CHOICE

    def test_the_result_explains_each_sub_score(self, result):
        a = by_id(result)["A"].explanation
        assert a["P"] == "50 × lowest 3500.00 / 4000.00 = 43.75"
        assert a["L"] == "5 × 4/5 (12 miles, band 10–20 miles) = 4.00"
        assert a["F"] == "5 × 2/3 marks of desirable features = 3.33"
        assert by_id(result)["D"].explanation["L"] == "5 × 0/5 (55 miles, band 50+ miles) = 0.00"


@pytest.mark.parametrize(
    ("miles", "points"),
    [("0", 5), ("9.99", 5), ("10.0", 4), ("19.99", 4), ("20", 3), ("49.99", 1), ("50", 0),
     ("55", 0), ("500", 0)],
)  # fmt: skip
def test_location_bands(miles, points):
    """§6.3: 5 − floor(d/10) points of 5, never below 0; exactly 10.0 is in the 10–20 band."""
    result = evaluate([], [], [bid("X", miles=miles)])
    assert result.ranking[0].subscores.as_dict()["L"] == points


def test_an_establishment_not_admitted_at_the_deadline_is_excluded():
    """§6.2: excluded before the lowest price is found, even when it is the cheapest."""
    result = evaluate(NEEDS, [], [bid("X", "1000", admitted=False), bid("Y", "2000")])
    x = by_id(result)["X"]
    assert x.reasons == ("establishment not admitted in the category at the deadline",)
    assert result.lowest_price == Decimal("2000")
    assert by_id(result)["Y"].subscores.P == 50


def test_every_exclusion_reason_is_given():
    result = evaluate([], FEATURES, [bid("X", admitted=False, features=("D1",))])
    assert result.status == UNSUCCESSFUL
    assert result.ranking[0].reasons == (
        "does not offer must-have feature M1 (wheelchair access)",
        "establishment not admitted in the category at the deadline",
    )


def test_no_compliant_bid_is_unsuccessful():
    """§5 lifecycle: → unsuccessful when no bid is compliant."""
    result = evaluate(NEEDS, FEATURES, [WORKED[2]])
    assert (result.status, result.lowest_price, result.shortlist) == (UNSUCCESSFUL, None, ())
    assert [s.bid.bid_id for s in result.ranking] == ["C"]
    assert evaluate(NEEDS, FEATURES, []).status == UNSUCCESSFUL


def test_outcomes_use_the_mean_of_the_evaluators_scores():
    """§5, §6.3: O × mean evaluator score / 100."""
    result = evaluate([], [], [bid("X", scores=("70", "75", "81.5"))])
    o_weight, o_points = result.weights.as_dict()["O"], result.ranking[0].subscores.as_dict()["O"]
    assert o_points == o_weight * Fraction("75.5") / 100


def test_no_evaluator_score_counts_as_zero_and_says_so():
    result = evaluate([], [], [bid("X", scores=())])
    scored = result.ranking[0]
    assert scored.subscores.O == 0
    assert "no evaluator score" in scored.explanation["O"]


def test_needs_and_features_score_by_marks_met():
    """§6.3: N × marks met / all marks; F × desirable marks met / all desirable marks."""
    result = evaluate(NEEDS, FEATURES, [bid("X", needs=("N2",), features=("M1", "D2"))])
    sub = result.ranking[0].subscores.as_dict()
    assert (sub["N"], sub["F"]) == (Fraction(10 * 2, 5), Fraction(5 * 1, 3))


def test_with_no_needs_and_no_desirable_features_n_and_f_are_zero():
    result = evaluate([], FEATURES[:1], [bid("X", features=("M1",))])
    assert (result.weights.N, result.weights.F) == (0, 0)
    assert (result.ranking[0].subscores.N, result.ranking[0].subscores.F) == (0, 0)


class TestRankingTies:
    """§6.3: total, then higher quality total, then lower price, then earlier submission."""

    def test_equal_totals_go_to_the_higher_quality_total(self):
        cheap = bid("cheap", "3500", competency=25)  # P 50 + C 5
        good = bid("good", "5000", competency=100)  # P 35 + C 20
        result = evaluate([], [], [cheap, good])
        assert result.ranking[0].subscores.total == result.ranking[1].subscores.total
        assert [s.bid.bid_id for s in result.ranking] == ["good", "cheap"]

    def test_then_the_earlier_final_submission(self):
        late = bid("a-late", at=T0 + timedelta(seconds=1))
        early = bid("z-early", at=T0)
        assert [s.bid.bid_id for s in evaluate([], [], [late, early]).ranking] == [
            "z-early", "a-late",
        ]  # fmt: skip

    def test_then_the_bid_id_so_the_order_is_total(self):
        bids = [bid("b"), bid("c"), bid("a")]
        assert [s.bid.bid_id for s in evaluate([], [], bids).ranking] == ["a", "b", "c"]
        assert [s.rank for s in evaluate([], [], bids).ranking] == [1, 2, 3]


class TestShortlist:
    """§6.4: at most 3 ranked bids, in rank order, with total strictly above T1 − 5."""

    def test_a_bid_exactly_5_points_below_is_left_out(self):
        # C = 20 × competency / 100: 25 points of competency are 5 points of total
        result = evaluate([], [], [bid("top", competency=100), bid("five", competency=75)])
        assert result.shortlist == ("top",)
        assert result.status == EVALUATED

    def test_a_bid_just_under_5_points_below_is_kept(self):
        result = evaluate([], [], [bid("top", competency=100), bid("near", competency="75.01")])
        assert result.shortlist == ("top", "near")
        assert result.status == PARENT_CHOICE

    def test_at_most_three(self):
        bids = [bid(f"b{i}", competency=100 - i) for i in range(5)]
        assert evaluate([], [], bids).shortlist == ("b0", "b1", "b2")

    def test_a_single_compliant_bid_is_evaluated_not_parent_choice(self):
        result = evaluate(NEEDS, FEATURES, WORKED[2:4])
        assert (result.status, result.shortlist) == (EVALUATED, ("D",))


class TestInvalidInput:
    def locs(self, needs, features, bids):
        with pytest.raises(InvalidInput) as exc_info:
            evaluate(needs, features, bids)
        return [e["loc"] for e in exc_info.value.errors]

    def test_bad_bids_name_every_faulty_field(self):
        bad = [
            bid("X", price="0", competency=101, miles="-1", scores=(50, 101)),
            bid("X", needs=("N9",), features=("Z",), at=datetime(2026, 1, 1)),
        ]
        assert self.locs(NEEDS, FEATURES, bad) == [
            ["bids", 0, "weekly_price"],
            ["bids", 0, "competency"],
            ["bids", 0, "distance_miles"],
            ["bids", 0, "outcome_scores", 1],
            ["bids", 1, "bid_id"],
            ["bids", 1, "needs_met"],
            ["bids", 1, "features_met"],
            ["bids", 1, "submitted_at"],
        ]

    def test_bad_spec_names_every_faulty_field(self):
        needs = [Need("N1", 0), Need("N1", 1), Need("", 2)]
        features = [Feature("M1", True, 0), Feature("D1", False, 0), Feature("M1", False, 1)]
        assert self.locs(needs, features, []) == [
            ["needs", 0, "marks"],
            ["needs", 1, "code"],
            ["needs", 2, "code"],
            ["features", 1, "marks"],
            ["features", 2, "code"],
        ]

    def test_weight_errors_are_reported_with_the_rest(self):
        with pytest.raises(InvalidInput) as exc_info:
            evaluate([], [], [bid("X", price="-1")], price_weight=80)
        assert [e["loc"] for e in exc_info.value.errors] == [
            ["price_weight"], ["bids", 0, "weekly_price"],
        ]  # fmt: skip


def test_explicit_weights_are_used():
    weights = replace(DEFAULT_WEIGHTS, P=40, O=20)
    result = evaluate(NEEDS, FEATURES, WORKED, weights=weights)
    assert result.weights == weights
    assert by_id(result)["B"].subscores.P == 40


@pytest.mark.parametrize(
    ("core", "variable", "percent", "expected"),
    [
        (["1000.00", "500.00"], ["100.00"], "5", "1525.00"),  # discount on core only
        (["10.10"], [], "5", "9.59"),  # 0.505 discount rounds half up to 0.51
        (["3500.00"], [], "0", "3500.00"),
        (["1200.00", "300.00"], ["50.00", "25.50"], "8", "1455.50"),
    ],
)
def test_weekly_price_is_after_the_cohort_discount(core, variable, percent, expected):
    """§4.4, §6.3: the weekly price is after the cohort discount."""
    got = weekly_price(map(Decimal, core), map(Decimal, variable), Decimal(percent))
    assert got == Decimal(expected)


@pytest.mark.parametrize(
    ("points", "expected"),
    [(Fraction(1009, 12), "84.08"), (Fraction(1, 200), "0.01"), (Fraction(1, 201), "0.00"),
     (Fraction(100), "100.00"), (Fraction(0), "0.00"), (Fraction(2, 3), "0.67")],
)  # fmt: skip
def test_display_rounds_half_up_to_two_decimals(points, expected):
    assert str(display(points)) == expected
