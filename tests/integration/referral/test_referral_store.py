"""The referral store on PostgreSQL: an aggregate in any state reads back exactly as it was
saved, ``save`` writes only what changed, and the database refuses a second live bid for
one establishment (RULES §5) even if the domain were bypassed."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.runtime import make_engine
from services.referral import store
from services.referral.messages import AwardRequest, ParentChoice
from tests.support.referral_builders import LATER, NOW, OWNER, evaluated


@pytest.fixture(scope="module")
def engine():
    from tests.support.infra import bootstrap_once

    bootstrap_once()
    eng = make_engine(pool_size=2)
    yield eng
    eng.dispose()


def _store(engine, referral) -> None:
    """Insert the aggregate as a new referral, committed."""
    with Session(engine) as session:
        repo = store.Referrals(session)
        repo.add(referral)
        repo.save(referral)
        session.commit()


def test_an_awarded_referral_reads_back_as_it_was_saved(engine):
    referral, ids = evaluated("parent_choice")
    referral.record_parent_choice(OWNER, ParentChoice(bid_id=ids[2], reason="near family"))
    referral.award(OWNER, AwardRequest(), LATER)
    _store(engine, referral)
    with Session(engine) as session:
        loaded = store.Referrals(session).get(referral.referral_id)
    assert store.rows_of(loaded) == store.rows_of(referral)
    assert loaded.status == "awarded" and loaded.placement_id == referral.placement_id
    assert loaded.bids[ids[1]].standing == referral.bids[ids[1]].standing
    assert loaded.evaluation == referral.evaluation
    assert loaded.spec == referral.spec  # the full record, child data included, kept inside


def test_save_writes_only_the_rows_that_changed(engine):
    referral, ids = evaluated("evaluated")
    _store(engine, referral)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with Session(engine) as session:
        repo = store.Referrals(session)
        loaded = repo.get(referral.referral_id, lock=True)
        event.listen(engine, "before_cursor_execute", record)
        try:
            repo.save(loaded)  # nothing changed
            loaded.award(OWNER, AwardRequest(), LATER)
            repo.save(loaded)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        session.commit()
    tables = [s.split()[2] for s in statements if s.startswith("INSERT")]
    assert sorted(tables) == ["referral.awards", "referral.referrals"]


def test_the_database_refuses_a_second_live_bid_for_one_establishment(engine):
    referral, ids = evaluated("evaluated")
    _store(engine, referral)
    live = referral.bids[ids[1]]
    with Session(engine) as session, pytest.raises(IntegrityError, match="uq_bids_one_live"):
        session.execute(
            insert(store.bids).values(
                id=str(uuid.uuid4()),
                referral_id=referral.referral_id,
                establishment_id=live.establishment_id,
                provider_id=live.provider_id,
                status="submitted",
                terms={},
                price={},
                weekly_price=1,
                submitted_at=NOW,
            )
        )
        session.flush()
