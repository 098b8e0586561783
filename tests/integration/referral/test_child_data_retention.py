"""RULES §13 on PostgreSQL: the child's personal data is stored sealed under the referral's
key; the retention timer erases it 6 months (per authority configurable) after a referral
ended without award, or a referral's or a direct placement's placement ended, leaves a
newer one and one under a legal hold, and audits each."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from services.common.clock import FixedClock
from services.common.runtime import make_engine
from services.common.uow import UnitOfWork
from services.contracts.messages import PlacementEnded
from services.referral import store
from services.referral.config import ReferralConfig
from services.referral.domain import DirectPlacement
from services.referral.handlers import personal_data
from services.referral.messages import (
    AwardRequest,
    CancelRequest,
    DirectPlacementCreate,
    LegalHoldRequest,
    ParentChoice,
)
from tests.support.referral_builders import LATER, NOW, OWNER, draft, evaluated


@pytest.fixture(scope="module")
def engine():
    from tests.support.infra import bootstrap_once

    bootstrap_once()
    eng = make_engine(pool_size=2)
    yield eng
    eng.dispose()


def cancelled(engine, at, authority="KCC", hold=None) -> tuple[str, str]:
    reference = f"{authority}-RET-{uuid.uuid4().hex[:10]}"
    referral = draft(child_reference=reference)
    referral.authority = authority
    referral.cancel({**OWNER, "authority": authority}, CancelRequest(reason="placed elsewhere"),
                    at)
    referral.legal_hold = hold
    with Session(engine) as session:
        repo = store.Store(session)
        repo.add(referral)
        repo.save(referral)
        session.commit()
    return referral.referral_id, reference


def timer(engine, now, **config):
    tables = store.TABLES
    factory = sessionmaker(engine)

    def new_uow():
        uow = UnitOfWork(factory(), tables, "referral", FixedClock(now),
                         actor={"role": "system", "service": "referral"})
        uow.store = store.Store(uow.session)
        return uow

    return personal_data.erase_expired(new_uow, ReferralConfig(**config), ["KCC", "ESCC"])


def read(engine, referral_id):
    with Session(engine) as session:
        return store.Store(session).get(referral_id)


def test_the_reference_is_stored_sealed_and_found_by_its_blind_index(engine):
    rid, reference = cancelled(engine, NOW)
    with Session(engine) as session:
        row = session.execute(
            select(store.referrals).where(store.referrals.c.id == rid)).mappings().one()
        clear = session.execute(text(
            "SELECT count(*) FROM referral.referrals WHERE position(:v in referrals::text) > 0"
        ), {"v": reference}).scalar()
    assert clear == 0 and row["child_data"].startswith("v1.")
    assert "child_reference" not in row["spec"] and len(row["child_index"]) == 64
    assert read(engine, rid).spec.child_reference == reference


def test_retention_erases_a_referral_ended_over_6_months_ago_and_leaves_newer_and_held(engine):
    now = NOW + timedelta(days=400)
    old, _ = cancelled(engine, now - timedelta(days=190))
    newer, newer_ref = cancelled(engine, now - timedelta(days=170))
    held, held_ref = cancelled(engine, now - timedelta(days=300), hold="tribunal appeal")
    assert timer(engine, now) >= 1
    gone = read(engine, old)
    assert gone.personal_data == "erased" and gone.spec.child_reference == "erased"
    assert gone.status == "cancelled" and gone.cancel_reason == "placed elsewhere"  # kept
    assert read(engine, newer).spec.child_reference == newer_ref
    assert read(engine, held).spec.child_reference == held_ref
    with Session(engine) as session:
        audits = session.execute(text(
            "SELECT action, after FROM referral.audit_log WHERE entity_id = :id "
            "AND action = 'referral.personal_data_erased'"), {"id": old}).all()
        key = session.execute(text(
            "SELECT count(*) FROM keys.data_keys WHERE key_id = :id"), {"id": old}).scalar()
    assert len(audits) == 1 and audits[0].after["reason"].startswith("retention")
    assert key == 0
    assert timer(engine, now) == 0  # nothing left to do: the erased row is not taken again


def test_an_authority_may_keep_it_longer(engine):
    now = NOW + timedelta(days=800)
    rid, reference = cancelled(engine, now - timedelta(days=200), authority="ESCC")
    timer(engine, now, child_data_retention_by_authority={"ESCC": 12})
    assert read(engine, rid).spec.child_reference == reference
    timer(engine, now + timedelta(days=200), child_data_retention_by_authority={"ESCC": 12})
    assert read(engine, rid).personal_data == "erased"


def test_an_awarded_referral_is_erased_6_months_after_its_placement_ended(engine):
    """§13: contracts' ``placement_ended`` starts the clock of an awarded referral."""
    referral, ids = evaluated("parent_choice")
    referral.record_parent_choice(OWNER, ParentChoice(bid_id=ids[2], reason="near family"))
    referral.award(OWNER, AwardRequest(), LATER)
    with Session(engine) as session:
        repo = store.Store(session)
        repo.add(referral)
        repo.save(referral)
        session.commit()
    rid, now = referral.referral_id, NOW + timedelta(days=1200)
    timer(engine, now)
    assert read(engine, rid).personal_data == "held"  # placement still running
    with Session(engine) as session:
        repo = store.Store(session)
        assert repo.placement_ended(rid, (now - timedelta(days=200)).date())
        session.commit()
    for hold in ("check before erasing", None):  # later saves keep the end date
        with Session(engine) as session:
            repo = store.Store(session)
            again = repo.get(rid, lock=True)
            again.legal_hold = hold
            repo.save(again)
            session.commit()
        if hold:
            timer(engine, now)
            assert read(engine, rid).personal_data == "held"  # the hold blocks it
    timer(engine, now)
    assert read(engine, rid).personal_data == "erased"


def direct_placement(engine, recorded_at, reference: str):
    """A direct placement stored as the service stores it: its reference sealed under a
    key of its own, named by its placement id (§13)."""
    request = DirectPlacementCreate.model_validate({
        "category": "RESIDENTIAL", "establishment_id": str(uuid.uuid4()),
        "reason_code": "emergency", "justification": "placed out of hours",
        "weekly_price": "4200.00", "child_reference": reference,
    })
    placement = DirectPlacement.record(OWNER, request, str(uuid.uuid4()), recorded_at)
    with Session(engine) as session:
        store.Store(session).add_direct_placement(placement)
        session.commit()
    return placement


def placement_ended(engine, placement, ended_on, now) -> None:
    """Contracts' ``placement_ended`` for the placement's key, as the consumer handles it."""
    with timer_uow(engine, now) as uow:
        personal_data.placement_ended(PlacementEnded(
            occurred_at=now, placement_id=placement.placement_id, authority="KCC",
            child_key_id=placement.placement_id, ended_on=ended_on), uow)
        uow.commit()


def timer_uow(engine, now):
    uow = UnitOfWork(sessionmaker(engine)(), store.TABLES, "referral", FixedClock(now),
                     actor={"role": "system", "service": "referral"})
    uow.store = store.Store(uow.session)
    return uow


def child_of(engine, placement) -> dict:
    with Session(engine) as session:
        return store.Store(session).direct_placement_child(placement.direct_placement_id)


def test_a_direct_placement_is_erased_6_months_after_its_placement_ended(engine):
    """§13: contracts' ``placement_ended`` for a direct placement's key records its end;
    the timer erases it after the authority's retention, never under a legal hold."""
    now = NOW + timedelta(days=1500)
    tag = uuid.uuid4().hex[:8]
    old, newer, held, running = (
        direct_placement(engine, now - timedelta(days=400), f"KCC-DP-{tag}-{n}")
        for n in range(4))
    placement_ended(engine, old, (now - timedelta(days=190)).date(), now)
    placement_ended(engine, newer, (now - timedelta(days=170)).date(), now)
    placement_ended(engine, held, (now - timedelta(days=300)).date(), now)
    with timer_uow(engine, now) as uow:
        personal_data.place_direct_placement_hold(
            held.direct_placement_id, LegalHoldRequest(reason="tribunal appeal"), uow, OWNER)
    assert child_of(engine, old)["placement_ended_on"] == (now - timedelta(days=190)).date()

    assert timer(engine, now) >= 1

    gone = child_of(engine, old)
    assert gone["personal_data"] == "erased" and gone["child_reference"] == "erased"
    assert child_of(engine, newer)["child_reference"] == f"KCC-DP-{tag}-1"
    assert child_of(engine, held)["child_reference"] == f"KCC-DP-{tag}-2"
    assert child_of(engine, running)["child_reference"] == f"KCC-DP-{tag}-3"
    with Session(engine) as session:
        audits = session.execute(text(
            "SELECT action, after FROM referral.audit_log WHERE entity_id = :id "
            "ORDER BY id"), {"id": old.placement_id}).all()
        key = session.execute(text(
            "SELECT count(*) FROM keys.data_keys WHERE key_id = :id"),
            {"id": old.placement_id}).scalar()
        erased_by_request = store.Store(session).direct_placements_of_child(
            "KCC", store.Store(session).child_index("KCC", f"KCC-DP-{tag}-0"))
    assert [a.action for a in audits] == ["direct_placement.placement_ended",
                                          "direct_placement.personal_data_erased"]
    assert audits[1].after["reason"].startswith("retention: ended before")
    assert key == 0 and erased_by_request[0]["child_reference"] == "erased"
    assert timer(engine, now) == 0  # nothing left: the erased one is not taken again

    with timer_uow(engine, now) as uow:  # lifted, the held one goes at the next run
        personal_data.lift_direct_placement_hold(held.direct_placement_id, uow, OWNER)
    timer(engine, now)
    assert child_of(engine, held)["personal_data"] == "erased"
