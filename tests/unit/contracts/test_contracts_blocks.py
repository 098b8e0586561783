"""Block contracts: placing into free places, occupancy and voids (RULES §7.3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.common.errors import Conflict, InvalidInput
from services.contracts import domain

START = date(2026, 4, 6)
END = date(2026, 5, 3)  # 4 weeks, both days included
AT = datetime(2026, 4, 1, tzinfo=UTC)


def block(places: int = 3, **overrides) -> domain.BlockContract:
    fields = {
        "block_id": "blk-1",
        "authority": "MED",
        "provider_id": "prov-2",
        "establishment_id": "est-2",
        "category": "RESIDENTIAL",
        "places": places,
        "weekly_price_per_place": Decimal("4200.00"),
        "start": START,
        "end": END,
    }
    fields.update(overrides)
    return domain.BlockContract(**fields)


def place(b, existing, n: int, start: date = START) -> domain.Placement:
    return domain.place_in_block(
        b,
        existing,
        placement_id=f"bp-{n}",
        child_reference=f"MED-CHILD-{n}",
        start_date=start,
        agreed_at=AT,
    )


def test_s7_3_three_places_one_child_for_the_whole_four_weeks_is_eight_void_weeks():
    b = block(3)
    child = place(b, [], 1)
    child.start(START)
    occupancy = domain.block_occupancy(b, [child], as_of=END)
    assert occupancy.days == 28
    assert occupancy.capacity_place_days == 84
    assert occupancy.used_place_days == 28
    assert occupancy.void_place_days == 56
    view = occupancy.to_dict()
    assert view["void_place_weeks"] == "8.00"
    assert view["used_place_weeks"] == "4.00"
    assert view["capacity_place_weeks"] == "12.00"
    assert (view["occupied_places"], view["free_places"]) == (1, 2)


def test_s7_3_voids_count_only_up_to_the_as_of_date_and_stop_at_the_block_end():
    b = block(2)
    child = place(b, [], 1)
    child.start(START)
    after_10_days = domain.block_occupancy(b, [child], as_of=START + timedelta(days=9))
    assert (after_10_days.capacity_place_days, after_10_days.void_place_days) == (20, 10)
    assert after_10_days.to_dict()["void_place_weeks"] == "1.43"  # 10/7 rounded half up
    later = domain.block_occupancy(b, [child], as_of=END + timedelta(days=30))
    assert later.days == 28
    assert (later.occupied_places, later.free_places) == (0, 0)  # block over
    before = domain.block_occupancy(b, [child], as_of=START - timedelta(days=1))
    assert (before.days, before.capacity_place_days, before.void_place_days) == (0, 0, 0)


def test_s7_3_ended_placement_frees_its_place_from_the_end_date():
    b = block(1)
    first = place(b, [], 1)
    first.start(START)
    first.end(START + timedelta(days=14), "planned")
    second = place(b, [first], 2, start=START + timedelta(days=14))
    assert second.block_id == "blk-1"
    occupancy = domain.block_occupancy(b, [first, second], as_of=END)
    assert occupancy.used_place_days == 28
    assert occupancy.void_place_days == 0


def test_s7_3_placing_into_a_full_block_is_a_conflict():
    b = block(2)
    taken = [place(b, [], 1), place(b, [], 2, start=START + timedelta(days=7))]
    with pytest.raises(Conflict) as exc:
        place(b, taken, 3, start=START + timedelta(days=20))
    assert "no free place" in exc.value.detail
    # free before the second child arrives, but the new child would stay to the end
    with pytest.raises(Conflict):
        place(b, taken, 3, start=START + timedelta(days=1))


def test_s7_3_a_place_freed_before_the_start_can_be_taken():
    b = block(1)
    first = place(b, [], 1)
    first.start(START)
    first.end(START + timedelta(days=10), "breakdown")
    assert place(b, [first], 2, start=START + timedelta(days=10))
    with pytest.raises(Conflict):
        place(b, [first], 2, start=START + timedelta(days=9))


def test_s7_3_block_place_is_a_placement_at_the_place_price():
    b = block()
    p = domain.place_in_block(
        b,
        [],
        placement_id="bp-1",
        child_reference="MED-CHILD-1",
        start_date=START,
        agreed_at=AT,
        referral_id="ref-9",
    )
    assert p.source is domain.PlacementSource.BLOCK_PLACE
    assert p.source_key == "block_place:blk-1/ref-9"
    assert (p.authority, p.category) == ("MED", "RESIDENTIAL")
    assert p.price.weekly_price == Decimal("4200.00")
    assert domain.award_record(p) is None  # not an award: not published (§7.5)


def test_s7_3_other_blocks_placements_do_not_occupy_this_one():
    b = block(1)
    elsewhere = place(block(1, block_id="blk-2"), [], 1)
    assert place(b, [elsewhere], 2)


def test_s7_3_start_must_be_within_the_block():
    with pytest.raises(InvalidInput) as exc:
        place(block(), [], 1, start=END + timedelta(days=1))
    assert exc.value.errors[0]["loc"] == ["start_date"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"places": 0},
        {"places": True},
        {"end": START - timedelta(days=1)},
        {"weekly_price_per_place": Decimal("-1")},
        {"authority": ""},
    ],
)
def test_s7_3_block_contract_validation(overrides):
    with pytest.raises(InvalidInput):
        block(**overrides)
