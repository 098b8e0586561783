"""RULES §6.1: weights are whole points out of 100, with their constraints and the P rescale."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import InvalidInput
from services.scoring.domain import (
    DEFAULT_WEIGHTS,
    Weights,
    check_weights,
    resolve_weights,
)

BOTH = {"has_needs": True, "has_desirable": True}


def w(P, C, L, O, N, F):  # noqa: E741
    return Weights(P=P, C=C, L=L, O=O, N=N, F=F)


def locs(exc_info) -> list[list]:
    return [e["loc"] for e in exc_info.value.errors]


def test_default_template_when_nothing_given():
    """§6.1: the default template is P=50, C=20, L=5, O=10, N=10, F=5."""
    assert resolve_weights(**BOTH) == w(50, 20, 5, 10, 10, 5) == DEFAULT_WEIGHTS


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (70, w(70, 20, 5, 2, 2, 1)),  # §6.1 example
        (30, w(30, 20, 5, 18, 18, 9)),  # §6.1 example
        (50, w(50, 20, 5, 10, 10, 5)),
        (60, w(60, 20, 5, 6, 6, 3)),
        # quotas 9.6, 9.6, 4.8: the 2 leftover points go to F (.8) then O (tie with N, O first)
        (51, w(51, 20, 5, 10, 9, 5)),
        # quotas 2.4, 2.4, 1.2: the leftover point goes to O (tie with N, O first)
        (69, w(69, 20, 5, 3, 2, 1)),
    ],
)
def test_price_only_keeps_c_and_l_and_rescales_o_n_f(price, expected):
    """§6.1: changing only P keeps C and L and rescales O, N, F in proportion."""
    assert resolve_weights(price_weight=price, **BOTH) == expected


@pytest.mark.parametrize(
    ("has_needs", "has_desirable", "price", "expected"),
    [
        (False, True, None, w(50, 20, 5, 17, 0, 8)),  # 25 over O:F = 10:5
        (True, False, None, w(50, 20, 5, 13, 12, 0)),  # 25 over O:N = 10:10, tie → O
        (False, False, None, w(50, 20, 5, 25, 0, 0)),
        (False, True, 70, w(70, 20, 5, 3, 0, 2)),
        (False, False, 30, w(30, 20, 5, 45, 0, 0)),
    ],
)
def test_no_needs_or_no_desirable_features_move_their_points_to_the_others(
    has_needs, has_desirable, price, expected
):
    """§6.1: N = 0 with no needs, F = 0 with no desirable features; derived weights still
    sum to 100 by sharing the freed points among the rest of O, N, F in proportion."""
    got = resolve_weights(price_weight=price, has_needs=has_needs, has_desirable=has_desirable)
    assert got == expected


@given(
    price=st.integers(30, 70),
    has_needs=st.booleans(),
    has_desirable=st.booleans(),
)
def test_every_allowed_price_weight_gives_valid_weights(price, has_needs, has_desirable):
    """§6.1: for every P in 30..70 the derived weights obey every constraint."""
    got = resolve_weights(price_weight=price, has_needs=has_needs, has_desirable=has_desirable)
    assert [got.as_dict()[c] for c in "PCL"] == [price, 20, 5]
    assert sum(got.as_dict().values()) == 100
    check_weights(got, has_needs=has_needs, has_desirable=has_desirable)


def test_a_category_template_is_used_for_the_rescale():
    """§2: each category has its own referral template; §6.1 rescales from it."""
    template = w(40, 10, 10, 20, 10, 10)
    assert resolve_weights(template=template, **BOTH) == template
    assert resolve_weights(price_weight=60, template=template, **BOTH) == w(60, 10, 10, 10, 5, 5)


def test_explicit_weights_are_used_as_given():
    """§6.1: a commissioner may give all six explicitly."""
    explicit = w(40, 15, 10, 15, 10, 10)
    assert resolve_weights(explicit, **BOTH) == explicit


@pytest.mark.parametrize(
    ("weights", "flags", "loc"),
    [
        (w(29, 20, 6, 25, 10, 10), BOTH, ["weights", "P"]),
        (w(71, 9, 5, 5, 5, 5), BOTH, ["weights", "P"]),
        (w(50, 21, 4, 10, 10, 5), BOTH, ["weights", "C"]),
        (w(50, 20, -1, 16, 10, 5), BOTH, ["weights", "L"]),
        (w(50, 20, 5, -1, 21, 5), BOTH, ["weights", "O"]),
        (w(50, 20, 5, 10, 10, 4), BOTH, ["weights"]),  # sums to 99
        (w(50, 20, 5, 10, 10, 6), BOTH, ["weights"]),  # sums to 101
        (w(50, 20, 5, 15, 5, 5), {"has_needs": False, "has_desirable": True}, ["weights", "N"]),
        (w(50, 20, 5, 10, 10, 5), {"has_needs": True, "has_desirable": False}, ["weights", "F"]),
    ],
)
def test_each_constraint_violation_names_its_field(weights, flags, loc):
    """§6.1: every constraint is enforced, with a 422 naming the field."""
    with pytest.raises(InvalidInput) as exc_info:
        resolve_weights(weights, **flags)
    assert locs(exc_info) == [loc]
    assert exc_info.value.status == 422


def test_fractional_weights_are_refused():
    """Weights are whole points (module decision, §6.1 examples are integers)."""
    with pytest.raises(InvalidInput) as exc_info:
        resolve_weights(Weights(P=50, C=20, L=5, O=10, N=9.5, F=5.5), **BOTH)
    assert locs(exc_info) == [["weights", "N"], ["weights", "F"]]


def test_every_violation_is_reported_at_once():
    with pytest.raises(InvalidInput) as exc_info:
        resolve_weights(w(80, 25, 5, 0, 0, 0), has_needs=False, has_desirable=False)
    assert locs(exc_info) == [["weights", "P"], ["weights", "C"], ["weights"]]


@pytest.mark.parametrize("price", [29, 71, 0, -50, 100])
def test_price_weight_out_of_range_names_price_weight(price):
    """§6.1: 30 ≤ P ≤ 70 (business case 8.7)."""
    with pytest.raises(InvalidInput) as exc_info:
        resolve_weights(price_weight=price, **BOTH)
    assert locs(exc_info) == [["price_weight"]]


def test_weights_and_price_weight_together_are_refused():
    with pytest.raises(InvalidInput) as exc_info:
        resolve_weights(DEFAULT_WEIGHTS, 50, **BOTH)
    assert locs(exc_info) == [["price_weight"]]


def test_an_invalid_template_names_the_template_field():
    with pytest.raises(InvalidInput) as exc_info:
        resolve_weights(template=w(50, 25, 5, 10, 5, 5), **BOTH)
    assert locs(exc_info) == [["template", "C"]]


def test_a_template_with_nothing_to_carry_the_rest_is_refused():
    """With no needs the rescale has only O and F to share; a template with O=F=0 cannot."""
    template = w(50, 20, 5, 0, 25, 0)
    with pytest.raises(InvalidInput) as exc_info:
        resolve_weights(template=template, has_needs=False, has_desirable=True)
    assert locs(exc_info) == [["template"]]
    with pytest.raises(InvalidInput) as exc_info:
        resolve_weights(price_weight=40, template=template, has_needs=False, has_desirable=True)
    assert locs(exc_info) == [["price_weight"]]


def test_a_price_weight_that_leaves_less_than_the_templates_c_and_l_is_refused():
    template = w(30, 20, 20, 10, 10, 10)  # C + L = 40, so P = 70 would leave -10
    with pytest.raises(InvalidInput) as exc_info:
        resolve_weights(price_weight=70, template=template, **BOTH)
    assert locs(exc_info) == [["price_weight"]]
