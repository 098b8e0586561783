"""Referral handlers (RULES §5, §6.1, §9, §10) on a fake unit of work: create, read, list,
publish, widen, close (by the owner and by the deadline timer), cancel."""

from __future__ import annotations

import pytest

from services.common.clock import FixedClock
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.referral.domain import Status
from services.referral.handlers import referrals as h
from services.referral.messages import (
    CancelRequest,
    PublishRequest,
    RadiusRequest,
    ReferralQuery,
    ReferralView,
)
from tests.support.fake_uow import FakeUnitOfWork
from tests.support.referral_builders import (
    AUDITOR,
    DEADLINE,
    LATER,
    OTHER_COMMISSIONER,
    OWNER,
    draft,
    provider,
    published,
    snapshot,
    spec,
    with_bids,
)
from tests.support.referral_fakes import FakePeers, FakeStore, unit_of_work


def stored(uow, referral_id):
    return uow.store.referrals[referral_id]


def test_create_resolves_weights_against_the_category_template_and_stores_a_draft():
    uow, peers = unit_of_work(), FakePeers()
    view = h.create_referral(spec(), uow, OWNER, peers)
    assert isinstance(view, ReferralView)
    assert view.authority == "KCC" and view.status == Status.DRAFT
    assert stored(uow, view.referral_id).min_invited == 3  # the category's
    (_, request) = next(c for c in peers.calls if c[0] == "resolve_weights")
    assert request["template"] == {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5}
    assert [a["action"] for a in uow.audits] == ["referral.created"]
    assert "child_reference" not in str(uow.audits)  # §5: no child data in the trail
    assert uow.committed == 1


def test_create_is_refused_to_a_provider_and_for_an_unknown_category():
    uow = unit_of_work()
    with pytest.raises(Forbidden, match="only a commissioner creates referrals"):
        h.create_referral(spec(), uow, provider(1), FakePeers())
    with pytest.raises(InvalidInput) as exc:
        h.create_referral(spec(category="SEN"), uow, OWNER, FakePeers())
    assert exc.value.errors[0]["loc"] == ["category"]
    assert uow.store.referrals == {} and uow.committed == 0


def test_get_is_404_for_an_unknown_referral_and_another_authority():
    referral = draft()
    uow = unit_of_work(referral)
    assert h.get_referral(referral.referral_id, uow, OWNER).referral_id == referral.referral_id
    with pytest.raises(NotFound):
        h.get_referral("nope", uow, OWNER)
    with pytest.raises(NotFound):
        h.get_referral(referral.referral_id, uow, OTHER_COMMISSIONER)


def test_publish_invites_the_eligible_emits_and_audits():
    referral = draft()
    uow = unit_of_work(referral)
    peers = FakePeers(eligible=[snapshot(i) for i in (1, 2, 3)])
    result = h.publish(referral.referral_id, PublishRequest(), uow, OWNER, peers)
    assert result.invited == 3 and result.status == Status.PUBLISHED
    assert uow.event_types() == ["referral_published"]
    [audit] = uow.audits
    assert audit["action"] == "referral.published"
    assert audit["after"]["invited_establishments"] == ["E1", "E2", "E3"]
    assert stored(uow, referral.referral_id).status == Status.PUBLISHED
    assert uow.committed == 1


def test_publish_is_refused_before_anyone_is_asked():
    referral = draft()
    uow, peers = unit_of_work(referral), FakePeers(eligible=[snapshot(1)])
    with pytest.raises(NotFound):
        h.publish(referral.referral_id, PublishRequest(), uow, OTHER_COMMISSIONER, peers)
    again = published()
    uow2 = unit_of_work(again)
    with pytest.raises(Conflict, match="a published referral cannot become published"):
        h.publish(again.referral_id, PublishRequest(), uow2, OWNER, peers)
    assert peers.calls == [] and uow.committed == uow2.committed == 0


def test_publish_below_the_minimum_writes_nothing():
    referral = draft()
    uow = unit_of_work(referral)
    with pytest.raises(Conflict) as exc:
        h.publish(
            referral.referral_id, PublishRequest(), uow, OWNER, FakePeers(eligible=[snapshot(1)])
        )
    assert exc.value.errors[0]["invited"] == 1
    assert stored(uow, referral.referral_id).status == Status.DRAFT
    assert uow.events == [] and uow.audits == [] and uow.committed == 0


def test_widening_a_draft_asks_nobody_and_a_published_one_invites_newcomers_only():
    referral = draft()
    uow, peers = unit_of_work(referral), FakePeers()
    h.widen_radius(referral.referral_id, RadiusRequest(radius_miles=10), uow, OWNER, peers)
    assert peers.calls == []
    live = published(3)
    uow = unit_of_work(live)
    peers = FakePeers(eligible=[snapshot(i) for i in (1, 2, 3, 4)])
    result = h.widen_radius(live.referral_id, RadiusRequest(radius_miles=40), uow, OWNER, peers)
    assert (result.newly_invited, result.invited_total) == (1, 4)
    assert uow.event_types() == ["referral_widened"]
    assert uow.audits[0]["after"]["newly_invited"] == ["E4"]


def test_close_after_the_deadline_records_standings_and_a_refused_early_close_writes_nothing():
    referral, _ = with_bids(bidders=(1,))
    uow = unit_of_work(referral)
    with pytest.raises(Conflict, match="2 invited establishment"):
        h.close(referral.referral_id, uow, OWNER, FakePeers())
    assert uow.committed == 0
    uow = unit_of_work(referral, at=LATER)
    peers = FakePeers()
    result = h.close(referral.referral_id, uow, OWNER, peers)
    assert result.status == Status.CLOSED and not result.early and result.bids_count == 1
    assert ("standings", ("E1",)) in peers.calls
    assert uow.event_types() == ["referral_closed"]
    assert stored(uow, referral.referral_id).bids[next(iter(referral.bids))].standing.admitted


def test_the_deadline_timer_closes_each_due_referral_in_its_own_unit_of_work():
    due, _ = with_bids(bidders=(1,))
    not_yet = published(deadline=LATER)
    store = FakeStore(due, not_yet)
    opened: list[FakeUnitOfWork] = []

    def new_uow():
        opened.append(FakeUnitOfWork(store=store, clock=FixedClock(DEADLINE)))
        return opened[-1]

    assert h.close_due_referrals(new_uow, FakePeers(), batch=20) == 1
    assert store.referrals[due.referral_id].status == Status.CLOSED
    assert store.referrals[not_yet.referral_id].status == Status.PUBLISHED
    assert [u.committed for u in opened] == [1, 0]
    assert opened[0].audits[0]["after"]["by"] == "deadline"


def test_the_deadline_timer_stops_when_qualification_is_down():
    due, _ = with_bids(bidders=(1,))
    store, peers = FakeStore(due), FakePeers()
    peers.down.add("qualification")
    opened: list[FakeUnitOfWork] = []

    def new_uow():
        opened.append(FakeUnitOfWork(store=store, clock=FixedClock(DEADLINE)))
        return opened[-1]

    assert h.close_due_referrals(new_uow, peers, batch=20) == 0
    assert store.referrals[due.referral_id].status == Status.PUBLISHED
    assert [u.committed for u in opened] == [0]


def test_cancel_with_a_reason_and_only_by_the_owner():
    referral = published()
    uow = unit_of_work(referral)
    with pytest.raises(Forbidden):
        h.cancel(referral.referral_id, CancelRequest(reason="x"), uow, provider(1))
    result = h.cancel(referral.referral_id, CancelRequest(reason="child moved"), uow, OWNER)
    assert result.status == Status.CANCELLED and result.reason == "child moved"
    assert uow.event_types() == ["referral_cancelled"]
    assert [a["action"] for a in uow.audits] == ["referral.cancelled"]


def test_lists_are_scoped_by_role_and_paged():
    mine = [published() for _ in range(3)]
    uow = unit_of_work(*mine)
    page = h.list_referrals(ReferralQuery(limit=2), uow, OWNER)
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = h.list_referrals(ReferralQuery(limit=2, cursor=page["next_cursor"]), uow, OWNER)
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    as_provider = h.list_referrals(ReferralQuery(), uow, provider(1))
    assert len(as_provider["items"]) == 3
    assert "child_reference" not in str(as_provider)  # §5: anonymised
    with pytest.raises(Forbidden):
        h.list_referrals(ReferralQuery(), uow, AUDITOR)
    with pytest.raises(InvalidInput):
        h.list_referrals(ReferralQuery(cursor="bad"), uow, OWNER)
