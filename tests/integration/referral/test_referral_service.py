"""The referral service on the real plumbing (RULES §5, §6.4, §9, §10): store, outbox,
audit, timer, event handler and its calls to qualification and scoring."""

from __future__ import annotations

import json

import eventlet
import pytest
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook
from sqlalchemy.orm import Session

from services.common import paging
from services.common.crypto import KeyVault
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from services.contracts.messages import DirectPlacementRecorded as ContractsDirectPlacement
from services.contracts.messages import ReferralAwarded as ContractsReferralAwarded
from services.referral import store
from tests.support.infra import nameko_config, wait_for
from tests.support.referral_world import (
    CLOCK,
    ESTABLISHMENTS,
    CategoryScoringUnderTest,
    audit,
    commissioner,
    count,
    outbox,
)

OWNER = commissioner("KCC")


def published(as_, region, labels_miles: dict[str, float], **spec) -> str:
    for label, miles in labels_miles.items():
        region.add(label, miles)
    referral = as_(OWNER).create_referral(region.spec(**spec))
    as_(OWNER).publish(referral["referral_id"], {"accept_fewer": True})
    return referral["referral_id"]


def close_by_timer(services, engine, referral_id: str) -> None:
    """Move the clock past the deadline and let the timer close the referral."""
    CLOCK.advance(hours=3)
    with entrypoint_hook(services.referral, "close_due_referrals") as tick:
        tick()
    wait_for(
        lambda: count(engine, store.referrals, id=referral_id, status="closed") == 1,
        15,
        "the timer to close the referral",
    )


def test_publish_invites_exactly_the_eligible_and_child_data_stays_inside(
    services, as_, region, engine
):
    """§5: admitted, not suspended, within the radius; snapshots kept; providers see the
    anonymised profile only; widening invites newcomers only; other authorities get 404."""
    for label, miles in {"A": 5.2, "B": 12.7, "C": 24.6, "D": 40.3}.items():
        region.add(label, miles)
    region.add("S", 8.0, status="suspended")
    draft = as_(OWNER).create_referral(region.spec())
    rid = draft["referral_id"]
    assert draft["status"] == "draft" and draft["authority"] == "KCC"
    assert draft["weights"] == {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5}

    result = as_(OWNER).publish(rid, {})
    assert result == {"status": "published", "invited": 3}
    view = as_(OWNER).get_referral(rid)
    assert {i["establishment_id"]: i["distance_miles"] for i in view["invitations"]} == {
        region.ids["A"]: 5,
        region.ids["B"]: 12,
        region.ids["C"]: 24,
    }

    # the provider's view: its own invitation, no child data (§5)
    seen = as_(region.provider_of("B")).get_referral(rid)
    text = json.dumps(seen)
    for secret in (
        region.spec()["child_reference"],
        "Ann Secret",
        "2012-05-01",
        "Secret Street",
        "home_location",
    ):
        assert secret not in text
    assert [(i["establishment_id"], i["distance_miles"]) for i in seen["invitations"]] == [
        (region.ids["B"], 12)
    ]
    assert seen["children"] == [{"age": 14, "gender": "female", "legal_status": "s31"}]

    # the event for notifications: invited establishments with contacts, anonymised profile
    [event] = outbox(engine, rid, "referral_published")
    assert {i["establishment_id"] for i in event["invited"]} == {region.ids[x] for x in "ABC"}
    assert all(i["contacts"] for i in event["invited"])
    assert "Ann Secret" not in json.dumps(event) and "child_reference" not in json.dumps(event)

    # widening: only the newcomer (D at 40 miles) is invited and alerted
    widened = as_(OWNER).widen_radius(rid, {"radius_miles": 45})
    assert {k: widened[k] for k in ("radius_miles", "invited_total", "newly_invited")} == {
        "radius_miles": 45.0, "invited_total": 4, "newly_invited": 1
    }
    assert widened["deadline_moved"] is False  # the deadline leaves the newcomer enough
    [w] = outbox(engine, rid, "referral_widened")
    assert [i["establishment_id"] for i in w["invited"]] == [region.ids["D"]]
    with pytest.raises(InvalidInput) as narrower:
        as_(OWNER).widen_radius(rid, {"radius_miles": 20})
    assert narrower.value.errors[0]["loc"] == ["radius_miles"]

    # §10: another authority's commissioner and an uninvited provider learn nothing
    with pytest.raises(NotFound):
        as_(commissioner("ESCC")).get_referral(rid)
    with pytest.raises(NotFound):
        as_(region.provider_of("S")).get_referral(rid)

    # §9: audited, without child data
    records = audit(engine, rid)
    assert [r["action"] for r in records] == [
        "referral.created",
        "referral.published",
        "referral.radius_changed",
    ]
    assert "Ann Secret" not in json.dumps([r["after"] for r in records], default=str)
    assert records[1]["actor"]["authority"] == "KCC"


def test_publishing_below_the_minimum_is_refused_with_the_count_unless_accepted(
    services, as_, region
):
    region.add("A", 3.0)
    rid = as_(OWNER).create_referral(region.spec(radius_miles=5))["referral_id"]
    with pytest.raises(Conflict) as refused:
        as_(OWNER).publish(rid, {})
    # nameko carries exception arguments as strings; the gateway turns them into numbers
    assert refused.value.errors[0]["invited"] == "1"
    assert refused.value.errors[0]["min_invited"] == "3"
    assert as_(OWNER).get_referral(rid)["status"] == "draft"
    assert as_(OWNER).publish(rid, {"accept_fewer": True}) == {"status": "published", "invited": 1}


def test_an_unknown_category_or_bad_weights_are_refused_naming_the_field(services, as_, region):
    with pytest.raises(InvalidInput) as unknown:
        as_(OWNER).create_referral(region.spec(category="KIDS"))
    assert unknown.value.errors[0]["loc"] == ["category"]
    with pytest.raises(InvalidInput) as weights:
        as_(OWNER).create_referral(region.spec(price_weight=80))
    assert weights.value.errors[0]["loc"] == ["price_weight"]


def test_bids_are_sealed_checked_against_the_snapshot_and_one_per_establishment(
    services, as_, region, engine
):
    rid = published(as_, region, {"A": 4, "B": 9})
    a, b = as_(region.provider_of("A")), as_(region.provider_of("B"))

    with pytest.raises(InvalidInput) as over:
        a.submit_bid(
            rid,
            region.bid("A", core_costs={**region.bid("A")["core_costs"], "premises": "1000.01"}),
        )
    assert over.value.errors == [
        {
            "loc": ["core_costs", "premises"],
            "msg": "1000.01 exceeds the qualified 1000.00 (reduce, never increase)",
        }
    ]
    with pytest.raises(Forbidden):  # an invited provider, someone else's establishment
        a.submit_bid(rid, region.bid("B"))
    region.add("X", 100)
    with pytest.raises(NotFound):  # not invited at all (§10)
        as_(region.provider_of("X")).submit_bid(rid, region.bid("X"))

    bid = a.submit_bid(
        rid, region.bid("A", core_costs={"premises": "900.00", "staffing": "2000.00"})
    )
    assert bid["price"]["weekly_price"] == "3050.00"
    with pytest.raises(Conflict):
        a.submit_bid(rid, region.bid("A"))
    b.submit_bid(rid, region.bid("B"))

    # sealed: the owner sees a count, each bidder its own
    assert as_(OWNER).list_bids(rid) == {"count": 2}
    assert [x["bid_id"] for x in a.list_bids(rid)["items"]] == [bid["bid_id"]]

    replaced = a.replace_bid(rid, bid["bid_id"], region.bid("A"))
    assert replaced["price"]["weekly_price"] == "3150.00"
    assert a.withdraw_bid(rid, bid["bid_id"])["status"] == "withdrawn"
    assert as_(OWNER).list_bids(rid) == {"count": 1}
    again = a.submit_bid(rid, region.bid("A"))

    # the bid's content is in no audit record (the lead and auditors read the trail)
    records = audit(engine, again["bid_id"])
    assert records[0]["action"] == "bid.submitted"
    assert "outcomes_statement" not in json.dumps(records[0]["after"])
    assert len(records[0]["after"]["terms_sha256"]) == 64
    assert [e["action"] for e in outbox(engine, rid, "bid_received")] == [
        "submitted",
        "submitted",
        "changed",
        "withdrawn",
        "submitted",
    ]

    CLOCK.advance(hours=3)
    with pytest.raises(Conflict):
        b.submit_bid(rid, region.bid("B"))


def test_the_timer_closes_a_due_referral_once_and_records_standings(services, as_, region, engine):
    """§5 deadline, DESIGN rule 4: several ticks at once close it exactly once."""
    rid = published(as_, region, {"A": 4, "B": 9, "C": 14})
    for label in "AB":
        as_(region.provider_of(label)).submit_bid(rid, region.bid(label))
    ESTABLISHMENTS[region.ids["B"]]["status"] = "suspended"  # not admitted at the deadline
    CLOCK.advance(hours=3)

    def tick():
        with entrypoint_hook(services.referral, "close_due_referrals") as hook:
            hook()

    pile = eventlet.GreenPile()
    for _ in range(4):
        pile.spawn(tick)
    list(pile)
    wait_for(
        lambda: count(engine, store.referrals, id=rid, status="closed") == 1,
        15,
        "the referral to close",
    )
    tick()
    assert len(outbox(engine, rid, "referral_closed")) == 1
    assert outbox(engine, rid, "referral_closed")[0]["bids_count"] == 2
    assert len(audit(engine, rid, "referral.closed")) == 1
    opened = as_(OWNER).list_bids(rid)
    assert opened["count"] == 2 and len(opened["items"]) == 2

    # the standing recorded at the deadline decides compliance (§6.2): B was not admitted
    a_bid = next(b for b in opened["items"] if b["establishment_id"] == region.ids["A"])
    as_(OWNER).score_outcomes(rid, a_bid["bid_id"], {"evaluator": "eva", "score": 50})
    ESTABLISHMENTS[region.ids["B"]]["status"] = "admitted"  # too late to count
    ranking = {r["establishment_id"]: r for r in as_(OWNER).evaluate(rid)["ranking"]}
    assert ranking[region.ids["A"]]["compliant"] is True
    assert ranking[region.ids["B"]]["compliant"] is False
    assert "not admitted" in ranking[region.ids["B"]]["reason"]


def test_evaluation_parent_choice_award_feedback_and_the_award_event(services, as_, region, engine):
    """§5, §6.3, §6.4: A and B close enough for parent choice, C non-compliant."""
    rid = published(as_, region, {"A": 4, "B": 9, "C": 14})
    bids = {
        "A": as_(region.provider_of("A")).submit_bid(rid, region.bid("A")),
        "B": as_(region.provider_of("B")).submit_bid(
            rid, region.bid("B", variable_costs=[], needs_met=["N1"])
        ),
        "C": as_(region.provider_of("C")).submit_bid(rid, region.bid("C", features_met=["D1"])),
    }
    ids = {k: v["bid_id"] for k, v in bids.items()}
    close_by_timer(services, engine, rid)

    with pytest.raises(Conflict):  # outcome statements first
        as_(OWNER).evaluate(rid)
    with pytest.raises(Conflict):  # a non-compliant bid is not scored (§6.2)
        as_(OWNER).score_outcomes(rid, ids["C"], {"evaluator": "eva", "score": 50})
    for label, score in (("A", 80), ("B", 70)):
        as_(OWNER).score_outcomes(rid, ids[label], {"evaluator": "eva", "score": score})
    scored = as_(OWNER).score_outcomes(rid, ids["A"], {"evaluator": "bob", "score": 60})
    assert scored == {"bid_id": ids["A"], "outcome_scores": {"eva": 80, "bob": 60}, "mean": "70.00"}

    evaluation = as_(OWNER).evaluate(rid)
    assert evaluation["status"] == "parent_choice"
    ranking = {r["bid_id"]: r for r in evaluation["ranking"]}
    assert ranking[ids["C"]]["compliant"] is False and ranking[ids["C"]]["reason"]
    # A: 50×3000/3150 + 15 + 5 + 7 + 10 + 5 = 89.62; B: 50 + 15 + 5 + 7 + 6 + 5 = 88.00
    assert (ranking[ids["A"]]["total"], ranking[ids["B"]]["total"]) == ("89.62", "88.00")
    assert evaluation["shortlist"] == [ids["A"], ids["B"]]
    assert outbox(engine, rid, "parent_choice_required")

    with pytest.raises(Conflict):  # the parents choose first
        as_(OWNER).award(rid, {})
    with pytest.raises(InvalidInput):
        as_(OWNER).record_parent_choice(rid, {"bid_id": ids["C"]})
    as_(OWNER).record_parent_choice(rid, {"bid_id": ids["B"], "reason": "closer to gran"})
    placement = as_(OWNER).award(rid, {})
    assert set(placement) == {"placement_id"}

    # contracts can build the placement agreement from the event (§7.1)
    [awarded] = outbox(engine, rid, "referral_awarded")
    event = ContractsReferralAwarded.model_validate(awarded)
    assert event.placement_id == placement["placement_id"]
    assert event.establishment_id == region.ids["B"]
    # §13: the child's data travels sealed under the referral's key, never in clear
    assert region.spec()["child_reference"] not in json.dumps(awarded)
    assert event.child_data is not None and event.child_data.key_id == rid
    with Session(engine) as session:
        opened = KeyVault(session).open(event.child_data.key_id, event.child_data.sealed)
    assert opened["child_reference"] == region.spec()["child_reference"]
    assert str(event.price.weekly_price) == "3000.00"
    assert event.establishment_name == "Home B"

    # feedback to each other bidder, its own only (§5)
    feedback = outbox(engine, rid, "bid_feedback")
    assert sorted(f["feedback"]["bid_id"] for f in feedback) == sorted([ids["A"], ids["C"]])
    [mine] = as_(region.provider_of("A")).feedback(rid)["items"]
    assert mine["bid_id"] == ids["A"] and mine["awarded"] is False
    assert (mine["rank"], mine["total"], mine["compliant_bids_count"]) == (1, "89.62", 2)
    assert mine["winning_total"] == "88.00"
    with pytest.raises(NotFound):
        as_(commissioner("ESCC")).feedback(rid)
    assert as_(OWNER).get_referral(rid)["status"] == "awarded"


def test_evaluation_while_scoring_is_down_writes_nothing_and_succeeds_later(
    services, as_, region, engine
):
    rid = published(as_, region, {"A": 4})
    bid = as_(region.provider_of("A")).submit_bid(rid, region.bid("A"))
    close_by_timer(services, engine, rid)
    as_(OWNER).score_outcomes(rid, bid["bid_id"], {"evaluator": "eva", "score": 70})
    events_before, audit_before = len(outbox(engine, rid)), len(audit(engine, rid))

    services.stop(CategoryScoringUnderTest.name)
    try:
        with pytest.raises(Unavailable) as down:
            as_(OWNER).evaluate(rid)
        assert down.value.errors == [{"service": "scoring"}]
        assert as_(OWNER).get_referral(rid)["status"] == "closed"
        assert count(engine, store.evaluations, referral_id=rid) == 0
        assert (len(outbox(engine, rid)), len(audit(engine, rid))) == (events_before, audit_before)
    finally:
        services.start(CategoryScoringUnderTest)
    assert as_(OWNER).evaluate(rid)["status"] == "evaluated"
    assert count(engine, store.evaluations, referral_id=rid) == 1


def test_a_suspension_withdraws_open_bids_once_with_its_reason(services, as_, region, engine):
    """§4.5: the qualification event withdraws the establishment's live bid; redelivery
    changes nothing; the establishment cannot bid again while suspended."""
    rid = published(as_, region, {"A": 4, "B": 9})
    a = as_(region.provider_of("A"))
    bid = a.submit_bid(rid, region.bid("A"))
    e = ESTABLISHMENTS[region.ids["A"]]
    payload = {
        "event_id": f"susp-{region.tag}",
        "occurred_at": CLOCK.now().isoformat(),
        "establishment_id": e["id"],
        "provider_id": e["provider_id"],
        "establishment_name": e["name"],
        "category": e["category"],
        "contacts": e["contacts"],
        "membership_id": f"m-{e['id']}",
        "criterion": "INSPECTION",
        "reason": "INADEQUATE judgement",
        "suspended_by": "lead",
        "suspended_on": CLOCK.now().date().isoformat(),
    }
    dispatch = event_dispatcher(nameko_config())
    dispatch("qualification", "membership_suspended", payload)

    def withdrawn():
        [mine] = a.list_bids(rid)["items"]
        return mine if mine["status"] == "withdrawn" else None

    mine = wait_for(withdrawn, 15, "the bid to be withdrawn")
    assert mine["withdrawn_reason"] == "membership suspended: INSPECTION: INADEQUATE judgement"
    # redelivered: run the handler on it directly, so that it has finished when we look
    with entrypoint_hook(services.referral, "on_membership_suspended") as redeliver:
        redeliver(payload)
    receipts = [x for x in outbox(engine, rid, "bid_received") if x["bid_id"] == bid["bid_id"]]
    assert [x["action"] for x in receipts] == ["submitted", "withdrawn"]
    with pytest.raises(Conflict):
        a.submit_bid(rid, region.bid("A"))


def test_questions_are_answered_once_to_everyone_without_the_asker(services, as_, region, engine):
    rid = published(as_, region, {"A": 4, "B": 9, "C": 14})
    a, b = as_(region.provider_of("A")), as_(region.provider_of("B"))
    q = a.ask_question(
        rid, {"establishment_id": region.ids["A"], "question": "Is a shared bathroom acceptable?"}
    )
    assert b.list_questions(rid)["items"] == []  # unanswered: the asker's own only
    answered = as_(OWNER).answer_question(rid, q["question_id"], {"answer": "No."})
    assert answered["answer"] == "No."
    with pytest.raises(Conflict):
        as_(OWNER).answer_question(rid, q["question_id"], {"answer": "Maybe."})
    [seen] = b.list_questions(rid)["items"]
    assert seen["answer"] == "No." and seen["establishment_id"] is None
    assert a.list_questions(rid)["items"][0]["establishment_id"] == region.ids["A"]
    [event] = outbox(engine, rid, "question_answered")
    assert len(event["recipients"]) == 3
    assert region.ids["A"] not in json.dumps({k: v for k, v in event.items() if k != "recipients"})

    declined = as_(region.provider_of("C")).decline(
        rid, {"establishment_id": region.ids["C"], "reason_code": "no_capacity"}
    )
    assert declined["reason_code"] == "no_capacity"
    with pytest.raises(InvalidInput):
        b.decline(rid, {"establishment_id": region.ids["B"], "reason_code": "bored"})
    assert as_(OWNER).get_referral(rid)["declines_count"] == 1
    assert outbox(engine, rid, "invitation_declined")[0]["reason_code"] == "no_capacity"


def test_lists_are_scoped_to_the_owner_and_the_invited(services, as_, region):
    rid = published(as_, region, {"A": 4})
    other = as_(OWNER).create_referral(region.spec())["referral_id"]
    mine = as_(OWNER).list_referrals({"limit": 500})["items"]
    assert {rid, other} <= {r["referral_id"] for r in mine}
    assert all(r["authority"] == "KCC" for r in mine)
    first = as_(OWNER).list_referrals({"limit": 1})
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = as_(OWNER).list_referrals({"limit": 1, "cursor": first["next_cursor"]})
    assert second["items"][0]["referral_id"] != first["items"][0]["referral_id"]
    for bad in ("not-base64!", paging.encode(["yesterday"]), paging.encode([])):
        with pytest.raises(InvalidInput):
            as_(OWNER).list_referrals({"cursor": bad})
    invited = as_(region.provider_of("A")).list_referrals({})["items"]
    assert [r["referral_id"] for r in invited] == [rid]
    assert "child_reference" not in json.dumps(invited)
    assert rid not in {
        r["referral_id"] for r in as_(commissioner("ESCC")).list_referrals({"limit": 500})["items"]
    }
    drafts = as_(OWNER).list_referrals({"status": "draft", "limit": 500})["items"]
    assert other in {r["referral_id"] for r in drafts} and rid not in {
        r["referral_id"] for r in drafts
    }


def test_a_direct_placement_is_recorded_for_an_admitted_establishment(
    services, as_, region, engine
):
    eid = region.add("A", 4)
    body = {
        "establishment_id": eid,
        "category": "RESIDENTIAL",
        "reason_code": "emergency",
        "justification": "Police protection overnight",
        "weekly_price": "4200.00",
        "child_reference": f"KCC-DP-{region.tag}",
    }
    placed = as_(OWNER).record_direct_placement(body)
    assert placed["authority"] == "KCC" and placed["provider_id"].startswith("prov-A")
    with engine.connect() as conn:
        rows = conn.execute(
            store.TABLES["outbox"]
            .select()
            .where(store.TABLES["outbox"].c.event_type == "direct_placement_recorded")
        ).all()
    [payload] = [
        r.payload for r in rows if r.payload["direct_placement_id"] == placed["direct_placement_id"]
    ]
    event = ContractsDirectPlacement.model_validate(payload)
    assert event.placement_id == placed["placement_id"] and event.establishment_name == "Home A"
    with pytest.raises(InvalidInput):
        as_(OWNER).record_direct_placement({**body, "reason_code": "cheaper"})
    ESTABLISHMENTS[eid]["status"] = "suspended"
    with pytest.raises(Conflict):
        as_(OWNER).record_direct_placement(body)
