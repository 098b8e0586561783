"""Properties of scoring (RULES §6.2–§6.4) over generated referrals and bids."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.scoring.domain import Bid, Feature, Need, evaluate

TIMES = [datetime(2026, 3, 2, 9, tzinfo=UTC) + timedelta(minutes=m) for m in range(3)]
# small domains mixed in, so that equal totals and full ties happen
pennies = st.integers(1, 1_000_000).map(lambda p: Decimal(p) / 100)
prices = st.sampled_from([Decimal("3000"), Decimal("3500"), Decimal("4000")]) | pennies
points_0_100 = st.sampled_from([Decimal(0), Decimal(60), Decimal(100)]) | st.decimals(
    0, 100, places=2
)
miles = st.sampled_from([Decimal(5), Decimal(10), Decimal(50)]) | st.decimals(0, 70, places=2)


def subsets(codes) -> st.SearchStrategy[frozenset]:
    return st.frozensets(st.sampled_from(sorted(codes))) if codes else st.just(frozenset())


@st.composite
def referrals(draw, max_bids=8):
    """(needs, features, bids, scoring keyword arguments)."""
    needs = [Need(f"N{i}", m) for i, m in enumerate(draw(st.lists(st.integers(1, 5), max_size=4)))]
    features = [
        Feature(f"F{i}", must, marks)
        for i, (must, marks) in enumerate(
            draw(st.lists(st.tuples(st.booleans(), st.integers(1, 5)), max_size=4))
        )
    ]
    musts = {f.code for f in features if f.must_have}
    desirable = {f.code for f in features if not f.must_have}
    bids: list[Bid] = []
    for i in range(draw(st.integers(0, max_bids))):
        if bids and draw(st.integers(0, 3)) == 0:  # a twin of the previous bid
            twin = replace(bids[-1], bid_id=f"bid-{i}", submitted_at=draw(st.sampled_from(TIMES)))
            bids.append(twin)
            continue
        bids.append(
            Bid(
                bid_id=f"bid-{i}",
                establishment_id=f"est-{i}",
                weekly_price=draw(prices),
                competency=draw(points_0_100),
                distance_miles=draw(miles),
                submitted_at=draw(st.sampled_from(TIMES)),
                admitted_at_deadline=draw(st.integers(0, 5)) > 0,
                outcome_scores=tuple(draw(st.lists(points_0_100, max_size=3))),
                needs_met=draw(subsets({n.code for n in needs})),
                features_met=(musts if draw(st.integers(0, 4)) else draw(subsets(musts)))
                | draw(subsets(desirable)),
            )
        )
    kwargs = {"price_weight": draw(st.none() | st.integers(30, 70))}
    return needs, features, bids, kwargs


def totals(evaluation) -> dict:
    return {s.bid.bid_id: s.subscores.total for s in evaluation.ranking if s.compliant}


@given(referrals())
def test_every_total_is_between_0_and_100_and_each_sub_score_within_its_weight(ref):
    """§6.1, §6.3: sub-scores are shares of their weights; the total is their sum."""
    needs, features, bids, kwargs = ref
    result = evaluate(needs, features, bids, **kwargs)
    weights = result.weights.as_dict()
    for scored in result.ranked:
        parts = scored.subscores.as_dict()
        assert all(0 <= parts[c] <= weights[c] for c in weights)
        assert 0 <= scored.subscores.total == sum(parts.values()) <= 100


@given(referrals(), st.data())
def test_lowering_a_bids_price_never_lowers_its_total(ref, data):
    """§6.3: P × lowest / price is non-increasing in price, also when the bid becomes lowest."""
    needs, features, bids, kwargs = ref
    before = totals(evaluate(needs, features, bids, **kwargs))
    if not before:
        return
    bid_id = data.draw(st.sampled_from(sorted(before)))
    i = next(i for i, b in enumerate(bids) if b.bid_id == bid_id)
    cheaper = data.draw(
        st.integers(1, int(bids[i].weekly_price * 100)).map(lambda p: Decimal(p) / 100)
    )
    bids[i] = replace(bids[i], weekly_price=cheaper)
    assert totals(evaluate(needs, features, bids, **kwargs))[bid_id] >= before[bid_id]


@given(referrals(), st.data())
def test_meeting_one_more_need_or_desirable_feature_never_lowers_the_total(ref, data):
    """§6.3: N and F grow with the marks met; a desirable feature is never must-have (§6.2)."""
    needs, features, bids, kwargs = ref
    before = totals(evaluate(needs, features, bids, **kwargs))
    if not before:
        return
    bid_id = data.draw(st.sampled_from(sorted(before)))
    i = next(i for i, b in enumerate(bids) if b.bid_id == bid_id)
    unmet_needs = sorted({n.code for n in needs} - bids[i].needs_met)
    unmet_desirable = sorted({f.code for f in features if not f.must_have} - bids[i].features_met)
    if unmet_needs and data.draw(st.booleans()):
        bids[i] = replace(
            bids[i], needs_met=bids[i].needs_met | {data.draw(st.sampled_from(unmet_needs))}
        )
    elif unmet_desirable:
        bids[i] = replace(
            bids[i],
            features_met=bids[i].features_met | {data.draw(st.sampled_from(unmet_desirable))},
        )
    else:
        return
    assert totals(evaluate(needs, features, bids, **kwargs))[bid_id] >= before[bid_id]


@given(referrals(), prices, st.booleans())
def test_adding_a_non_compliant_bid_never_changes_the_others(ref, price, missing_must_have):
    """§6.2: a non-compliant bid is excluded before the lowest price is found, so it changes
    no other bid's scores, rank, the lowest price or the shortlist, even when cheapest."""
    needs, features, bids, kwargs = ref
    musts = frozenset(f.code for f in features if f.must_have)
    lacks_must_have = missing_must_have and bool(musts)  # else: not admitted at the deadline
    intruder = Bid(
        bid_id="intruder",
        establishment_id="est-x",
        weekly_price=price,
        competency=Decimal(100),
        distance_miles=Decimal(0),
        submitted_at=TIMES[0],
        admitted_at_deadline=lacks_must_have,
        outcome_scores=(Decimal(100),),
        needs_met=frozenset(n.code for n in needs),
        features_met=frozenset(f.code for f in features if not f.must_have)
        | (frozenset() if lacks_must_have else musts),
    )
    before = evaluate(needs, features, bids, **kwargs)
    after = evaluate(needs, features, [*bids, intruder], **kwargs)
    assert after.ranked == before.ranked
    assert (after.lowest_price, after.shortlist, after.status) == (
        before.lowest_price,
        before.shortlist,
        before.status,
    )
    assert not next(s for s in after.ranking if s.bid.bid_id == "intruder").compliant


@given(referrals(max_bids=10), st.randoms(use_true_random=False))
def test_ranking_is_a_total_order_independent_of_input_order(ref, rnd):
    """§6.3: the same bids in any order give exactly the same result."""
    needs, features, bids, kwargs = ref
    shuffled = list(bids)
    rnd.shuffle(shuffled)
    before = evaluate(needs, features, bids, **kwargs)
    assert evaluate(needs, features, shuffled, **kwargs) == before
    assert [s.rank for s in before.ranked] == list(range(1, len(before.ranked) + 1))


@given(referrals())
def test_status_follows_the_shortlist(ref):
    """§6.4, §5: parent_choice with 2+ shortlisted, evaluated with 1, unsuccessful with none."""
    needs, features, bids, kwargs = ref
    result = evaluate(needs, features, bids, **kwargs)
    expected = {0: "unsuccessful", 1: "evaluated"}.get(len(result.shortlist), "parent_choice")
    assert result.status == expected
    assert list(result.shortlist) == [s.bid.bid_id for s in result.ranked[: len(result.shortlist)]]
