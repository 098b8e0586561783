"""RULES §13 for direct placements (issue 12): contracts' ``placement_ended`` for the
placement's key starts its retention clock; the retention timer erases its child data 6
months (per authority configurable) after the placement ended, never under a legal hold,
audited; the owning authority places and lifts a hold, and erasure on request is refused
under it like a held referral's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.common.clock import FixedClock
from services.common.errors import Conflict, NotFound
from services.contracts.messages import PlacementEnded
from services.referral.config import ReferralConfig
from services.referral.handlers import direct_placements, personal_data
from services.referral.messages import (
    ChildReferenceRequest,
    DirectPlacementCreate,
    LegalHoldRequest,
)
from tests.support.fake_uow import FakeUnitOfWork
from tests.support.referral_builders import NOW, OWNER
from tests.support.referral_fakes import FakePeers, FakeStore, establishment_view

TODAY = NOW + timedelta(days=1000)


def record(store: FakeStore, child_reference: str, principal=OWNER):
    request = DirectPlacementCreate.model_validate({
        "category": "RESIDENTIAL", "establishment_id": "E1", "reason_code": "emergency",
        "justification": "placed out of hours", "weekly_price": "4200.00",
        "child_reference": child_reference,
    })
    peers = FakePeers(establishments={"E1": establishment_view("E1", "P1")})
    return direct_placements.record_direct_placement(
        request, FakeUnitOfWork(store=store, clock=FixedClock(NOW)), principal, peers)


def ended(store: FakeStore, view, days_ago: int) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(store=store, clock=FixedClock(TODAY))
    personal_data.placement_ended(PlacementEnded(
        occurred_at=TODAY, placement_id=view.placement_id, authority=view.authority,
        child_key_id=view.placement_id, ended_on=(TODAY - timedelta(days=days_ago)).date(),
    ), uow)
    uow.commit()
    return uow


def timer(store: FakeStore, at=TODAY, **config) -> tuple[int, list[dict]]:
    uows: list[FakeUnitOfWork] = []

    def new_uow():
        uows.append(FakeUnitOfWork(store=store, clock=FixedClock(at)))
        return uows[-1]

    count = personal_data.erase_expired(new_uow, ReferralConfig(**config), ["KCC", "ESCC"])
    return count, [a for u in uows for a in u.audits]


def read(store: FakeStore, view) -> dict:
    return store.direct_placement_child(view.direct_placement_id)


def test_placement_ended_for_a_direct_placements_key_records_its_end_and_audits_it():
    store = FakeStore()
    view = record(store, "KCC-DP-1")
    uow = ended(store, view, 10)
    assert read(store, view)["placement_ended_on"] == (TODAY - timedelta(days=10)).date()
    assert [a["action"] for a in uow.audits] == ["direct_placement.placement_ended"]
    assert "KCC-DP-1" not in str(uow.audits)  # §9: the audit never holds the reference


def test_the_timer_erases_a_direct_placement_ended_over_6_months_ago_not_newer_nor_held():
    store = FakeStore()
    old, newer, held, running = (record(store, f"KCC-DP-{n}") for n in range(4))
    ended(store, old, 190)
    ended(store, newer, 170)
    ended(store, held, 300)
    personal_data.place_direct_placement_hold(
        held.direct_placement_id, LegalHoldRequest(reason="tribunal appeal"),
        FakeUnitOfWork(store=store, clock=FixedClock(TODAY)), OWNER)

    count, audits = timer(store)

    assert count == 1
    gone = read(store, old)
    assert gone["personal_data"] == "erased" and gone["child_reference"] == "erased"
    assert store.vault.get(old.placement_id) is None  # contracts' copy unreadable too
    shown = personal_data.direct_placement_child(old.direct_placement_id,
                                                 FakeUnitOfWork(store=store), OWNER)
    assert (shown.personal_data, shown.child_reference) == ("erased", None)
    assert [(a["action"], a["entity_id"]) for a in audits] == [
        ("direct_placement.personal_data_erased", old.placement_id)]
    assert audits[0]["after"]["reason"].startswith("retention: ended before")
    assert read(store, newer)["child_reference"] == "KCC-DP-1"
    assert read(store, held)["child_reference"] == "KCC-DP-2"
    assert read(store, running)["child_reference"] == "KCC-DP-3"  # placement still running
    assert timer(store)[0] == 0  # the erased one is not taken again


def test_an_authority_may_keep_a_direct_placements_child_data_longer():
    store = FakeStore()
    escc = {"role": "commissioner", "authority": "ESCC"}
    view = record(store, "ESCC-DP-1", escc)
    ended(store, view, 200)
    timer(store, child_data_retention_by_authority={"ESCC": 12})
    assert read(store, view)["personal_data"] == "held"
    timer(store, TODAY + timedelta(days=200), child_data_retention_by_authority={"ESCC": 12})
    assert read(store, view)["personal_data"] == "erased"


def test_a_legal_hold_on_a_direct_placement_blocks_erasure_on_request_until_lifted():
    store = FakeStore()
    view = record(store, "KCC-DP-HOLD")
    uow = FakeUnitOfWork(store=store, clock=FixedClock(TODAY))
    shown = personal_data.place_direct_placement_hold(
        view.direct_placement_id, LegalHoldRequest(reason="care proceedings"), uow, OWNER)
    assert shown.legal_hold == "care proceedings" and shown.child_reference == "KCC-DP-HOLD"
    request = ChildReferenceRequest(child_reference="KCC-DP-HOLD", reason="parent asked")
    with pytest.raises(Conflict, match="a legal hold blocks erasure of direct placements"):
        personal_data.erase_child(request, FakeUnitOfWork(store=store), OWNER)
    assert read(store, view)["personal_data"] == "held"
    with pytest.raises(Conflict, match="a legal hold blocks erasure: care proceedings"):
        personal_data.erase_direct_placement(FakeUnitOfWork(store=store), read(store, view),
                                             "retention")

    lifted = personal_data.lift_direct_placement_hold(view.direct_placement_id, uow, OWNER)
    assert lifted.legal_hold is None
    assert [a["action"] for a in uow.audits] == [
        "direct_placement.legal_hold_placed", "direct_placement.legal_hold_lifted"]
    done = personal_data.erase_child(request, FakeUnitOfWork(store=store), OWNER)
    assert done.erased_direct_placements == [view.placement_id]
    assert read(store, view)["personal_data"] == "erased"


def test_another_authority_cannot_place_or_lift_a_hold_on_a_direct_placement():
    store = FakeStore()
    view = record(store, "KCC-DP-OTHER")
    other = {"role": "commissioner", "authority": "ESCC"}
    uow = FakeUnitOfWork(store=store)
    with pytest.raises(NotFound):
        personal_data.place_direct_placement_hold(
            view.direct_placement_id, LegalHoldRequest(reason="x"), uow, other)
    with pytest.raises(NotFound):
        personal_data.lift_direct_placement_hold(view.direct_placement_id, uow, other)
    with pytest.raises(NotFound):
        personal_data.lift_direct_placement_hold("no-such-placement", uow, OWNER)
    assert read(store, view)["legal_hold"] is None and uow.audits == []


def test_a_placement_ended_for_no_known_key_changes_nothing():
    store = FakeStore()
    uow = FakeUnitOfWork(store=store)
    personal_data.placement_ended(PlacementEnded(
        occurred_at=TODAY, placement_id="p-x", authority="KCC", child_key_id="k-x",
        ended_on=date(2026, 1, 1)), uow)
    uow.commit()
    assert uow.audits == []
