"""The contracts service in a real nameko container on real RabbitMQ and PostgreSQL
(RULES §7, §9, §10): idempotent placement creation from events, benchmarking feeds, uplifts
through the outbox, block places, publication freezing and performance reports."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy import func, select

from services.common.errors import Conflict, Forbidden, NotFound
from services.common.runtime import rpc as rpc_entrypoint
from services.contracts import store
from services.contracts.service import ContractsService
from tests.support.containers import engine_fixture, rpc_fixture, service_fixture
from tests.support.contracts_events import (
    award_payload,
    direct_payload,
    membership_admitted,
    publish,
    referral_event,
    uid,
)
from tests.support.infra import wait_for

engine = engine_fixture()
contracts = service_fixture(ContractsService)
rpc = rpc_fixture("contracts")




def rows(engine, query):
    with engine.connect() as conn:
        return conn.execute(query).all()


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def placement_for(engine, referral_id: str):
    key = f"referral_award:{referral_id}"
    found = rows(engine, select(store.placements).where(store.placements.c.source_key == key))
    return found[0] if found else None


def audit_actions(engine, entity_id: str) -> list[str]:
    """The audited actions on an entity, in order. Uplifts already set with a later date
    (by other tests sharing the database) apply to new placements and are left out.

    In the order written (``id``): the sealer gives them their chain ``seq`` in that order
    shortly after commit, and rows it has not reached yet have none (RULES §9)."""
    log = store.TABLES["audit_log"]
    return [
        r.action
        for r in rows(
            engine, select(log.c.action).where(log.c.entity_id == entity_id).order_by(log.c.id)
        )
        if r.action != "placement.uplifted"
    ]


COMMISSIONER_KCC = {"id": "k1", "role": "commissioner", "authority": "KCC"}
CONTRACT_MANAGER = {"id": "cm", "role": "contract_manager"}


# --- §7.1 idempotent creation -------------------------------------------------------------


def test_s7_1_award_delivered_twice_and_copied_creates_one_placement(contracts, engine):
    event = award_payload()
    publish("referral", "referral_awarded", event)
    publish("referral", "referral_awarded", event)  # redelivery: same event id
    processed = store.TABLES["processed_events"]
    wait_for(lambda: count(engine, processed, processed.c.event_id == event["event_id"]) == 1,
             20, "the award handled")
    # a later copy under another event id, even naming another placement id: the
    # referral's source key (UNIQUE) still allows one placement only
    copy = {**event, "event_id": uid(), "placement_id": uid()}
    publish("referral", "referral_awarded", copy)
    wait_for(
        lambda: (
            count(
                engine, processed, processed.c.event_id.in_([event["event_id"], copy["event_id"]])
            )
            == 2
        ),
        20,
        "both event ids handled",
    )
    found = rows(
        engine,
        select(store.placements).where(
            store.placements.c.source_key == f"referral_award:{event['referral_id']}"
        ),
    )
    assert len(found) == 1
    assert not count(
        engine, store.placements, store.placements.c.placement_id == copy["placement_id"]
    )
    placement = found[0]
    assert placement.placement_id == event["placement_id"]
    assert (placement.authority, placement.status) == ("KCC", "pending_start")
    assert placement.awarded_weekly_price == 3250
    assert audit_actions(engine, event["placement_id"]) == ["placement.created"]
    record = rows(
        engine,
        select(store.referral_records).where(
            store.referral_records.c.referral_id == event["referral_id"]
        ),
    )[0]
    assert (record.bids_count, record.compliant_bids_count, record.needs) == (4, 3, ["ASD"])


def test_s5_direct_placement_is_a_placement_flagged_direct(contracts, engine, rpc):
    event = direct_payload(authority="KCC")
    publish("referral", "direct_placement_recorded", event)
    publish("referral", "direct_placement_recorded", event)
    wait_for(
        lambda: count(
            engine, store.placements, store.placements.c.placement_id == event["placement_id"]
        ),
        20,
        "the direct placement",
    )
    view = rpc(COMMISSIONER_KCC).get_placement(event["placement_id"])
    assert (view["source"], view["reason_code"]) == ("direct_placement", "emergency")
    assert view["awarded_weekly_price"] == "5200.00"
    assert view["justification"] == event["justification"]
    assert (
        count(
            engine,
            store.placements,
            store.placements.c.source_key == f"direct_placement:{event['direct_placement_id']}",
        )
        == 1
    )


# --- §10 access ---------------------------------------------------------------------------


def test_s10_provider_sees_own_placement_without_child_details_and_not_others(
    contracts, engine, rpc
):
    mine = award_payload()
    other = award_payload()
    for e in (mine, other):
        publish("referral", "referral_awarded", e)
    wait_for(
        lambda: (
            placement_for(engine, other["referral_id"])
            and placement_for(engine, mine["referral_id"])
        ),
        20,
        "two placements",
    )
    provider = rpc({"id": "p", "role": "provider", "provider_id": mine["provider_id"]})
    view = provider.get_placement(mine["placement_id"])
    assert "child_reference" not in view and mine["child_reference"] not in json.dumps(view)
    owner = rpc({"id": "k", "role": "commissioner", "authority": "KCC"})
    # §13: stored sealed under the referral's key, opened for the owner
    assert owner.get_placement(mine["placement_id"])["child_reference"] == mine["child_reference"]
    with pytest.raises(NotFound):
        provider.get_placement(other["placement_id"])
    with pytest.raises(NotFound):
        rpc({"id": "e", "role": "commissioner", "authority": "ESCC"}).get_placement(
            mine["placement_id"]
        )
    listed = provider.list_placements({"limit": 500})
    assert [p["id"] for p in listed["items"]] == [mine["placement_id"]]
    with pytest.raises(Forbidden):  # it may read it, but only the owner acts on it
        provider.start_placement(mine["placement_id"], {"date": "2026-01-05"})


def test_s7_1_lifecycle_and_paging_for_the_owner(contracts, engine, rpc):
    events = [award_payload(authority="MED") for _ in range(3)]
    for e in events:
        publish("referral", "referral_awarded", e)
    wait_for(lambda: all(placement_for(engine, e["referral_id"]) for e in events), 20, "3")
    med = rpc({"id": "m", "role": "commissioner", "authority": "MED"})
    seen, cursor = [], None
    while True:
        page = med.list_placements({"limit": 2, "cursor": cursor})
        seen += [p["id"] for p in page["items"]]
        assert all(p["authority"] == "MED" for p in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert {e["placement_id"] for e in events} <= set(seen)
    assert len(seen) == len(set(seen))

    pid = events[0]["placement_id"]
    started = med.start_placement(pid, {"date": "2026-01-05"})
    assert (started["status"], started["next_review_due"]) == ("active", "2026-04-05")
    with pytest.raises(Conflict):
        med.start_placement(pid, {"date": "2026-01-06"})
    ended = med.end_placement(pid, {"date": "2026-03-01", "reason": "step_down"})
    assert (ended["status"], ended["end_reason"]) == ("ended", "step_down")
    assert audit_actions(engine, pid) == [
        "placement.created",
        "placement.started",
        "placement.ended",
    ]


# --- §7.2 uplifts -------------------------------------------------------------------------


class QualificationStub:
    """qualification as contracts asks it for a category's core cost heads (§7.2)."""

    name = "qualification"
    heads: dict[str, list[str]] = {}

    @rpc_entrypoint
    def get_category(self, code: str, version: int | None = None) -> dict:
        if code not in self.heads:
            raise NotFound(f"no category {code}")
        return {"code": code, "cost_heads": self.heads[code], "optional_cost_heads": []}


qualification = service_fixture(QualificationStub)


def test_s7_2_uplift_changes_the_head_from_its_date_and_emits_uplift_set(
        contracts, qualification, engine, rpc):
    category = "SUPPORTED_ACCOMMODATION"
    head = uid("head_")[:40].replace("-", "_")
    QualificationStub.heads[category] = [head, "premises"]
    event = award_payload(
        authority="KCC",
        category=category,
        core_costs={head: "1000.00", "premises": "500.00"},
        awarded_at=datetime(2025, 1, 10, 12, tzinfo=UTC),
    )
    publish("referral", "referral_awarded", event)
    wait_for(lambda: placement_for(engine, event["referral_id"]), 20, "the placement")
    kcc = rpc(COMMISSIONER_KCC)
    kcc.start_placement(event["placement_id"], {"date": "2025-01-13"})

    uplift = rpc(CONTRACT_MANAGER).set_uplift(
        {"category": category, "cost_head": head, "percent": "3.1", "effective_from": "2025-04-01"}
    )
    assert uplift["placements_uplifted"] == 1
    before = kcc.get_placement(event["placement_id"], {"on": "2025-03-31"})
    after = kcc.get_placement(event["placement_id"], {"on": "2025-04-01"})
    assert before["weekly_cost"] == "1750.00"
    assert after["current_price"]["core_costs"][head] == "1031.00"
    assert after["weekly_cost"] == "1781.00"  # 1031 + 500 core + 250 variable, unchanged
    assert after["current_price"]["variable_costs"] == before["current_price"]["variable_costs"]

    outbox = store.TABLES["outbox"]
    sent = rows(
        engine,
        select(outbox.c.payload).where(
            outbox.c.event_type == "uplift_set",
            outbox.c.payload["uplift_id"].astext == uplift["id"],
        ),
    )
    assert [r.payload["percent"] for r in sent] == ["3.1"]
    assert sent[0].payload["cost_head"] == head
    with pytest.raises(Conflict):
        rpc(CONTRACT_MANAGER).set_uplift(
            {
                "category": category,
                "cost_head": head,
                "percent": "2",
                "effective_from": "2025-04-01",
            }
        )
    with pytest.raises(Forbidden):
        kcc.set_uplift(
            {
                "category": category,
                "cost_head": head,
                "percent": "2",
                "effective_from": "2025-05-01",
            }
        )


# --- §7.3 block contracts -----------------------------------------------------------------


def test_s7_3_block_places_voids_and_the_last_place(contracts, engine, rpc):
    establishment, provider = uid("est-"), uid("prov-")
    publish("qualification", "membership_admitted", membership_admitted(establishment, provider))
    wait_for(
        lambda: count(
            engine, store.memberships, store.memberships.c.establishment_id == establishment
        ),
        20,
        "member",
    )
    kcc = rpc(COMMISSIONER_KCC)
    block = kcc.create_block_contract(
        {
            "establishment_id": establishment,
            "places": 2,
            "weekly_price_per_place": "3000.00",
            "start": "2025-03-03",
            "end": "2025-03-30",
        }
    )
    assert (block["category"], block["provider_id"]) == ("SEN", provider)
    kcc.place_in_block(block["id"], {"child_reference": "KCC-B1", "start_date": "2025-03-03"})
    kcc.place_in_block(block["id"], {"child_reference": "KCC-B2", "start_date": "2025-03-17"})
    with pytest.raises(Conflict):
        kcc.place_in_block(block["id"], {"child_reference": "KCC-B3", "start_date": "2025-03-20"})
    view = kcc.get_block_contract(block["id"], {"as_of": "2025-03-30"})
    # 2 places × 4 weeks = 8 place-weeks; used 4 + 2 = 6; void 2
    assert view["occupancy"]["void_place_weeks"] == "2.00"
    assert view["occupancy"]["used_place_weeks"] == "6.00"
    with pytest.raises(NotFound):
        rpc({"id": "e", "role": "commissioner", "authority": "ESCC"}).get_block_contract(
            block["id"]
        )
    assert rpc(CONTRACT_MANAGER).get_block_contract(block["id"])["places"] == 2


# --- §7.5 publication ---------------------------------------------------------------------


def _free_past_quarter(engine) -> tuple[str, datetime]:
    """A quarter long past with no award yet (tests share the database across runs)."""
    import random

    taken = {
        f"{r.agreed_at.year}-Q{(r.agreed_at.month - 1) // 3 + 1}"
        for r in rows(engine, select(store.placements.c.agreed_at))
    }
    while True:
        year, q = random.randint(1990, 2019), random.randint(1, 4)
        if f"{year}-Q{q}" not in taken:
            return f"{year}-Q{q}", datetime(year, 3 * q - 1, 15, 10, tzinfo=UTC)


def test_s7_5_an_ended_quarter_is_frozen_and_re_read_byte_for_byte(contracts, engine, rpc):
    quarter, at = _free_past_quarter(engine)
    first = award_payload(awarded_at=at)
    publish("referral", "referral_awarded", first)
    wait_for(lambda: placement_for(engine, first["referral_id"]), 20, "the award")
    reader = rpc({"id": "a", "role": "provider", "provider_id": "someone-else"})
    package = reader.award_publication({"quarter": quarter, "format": "ocds"})
    assert package["frozen"] is True
    body = json.loads(package["content"])
    assert [r["awards"][0]["id"] for r in body["releases"]] == [first["referral_id"]]
    assert first["child_reference"] not in package["content"]

    late = award_payload(awarded_at=at + timedelta(days=1))
    publish("referral", "referral_awarded", late)
    wait_for(lambda: placement_for(engine, late["referral_id"]), 20, "the late award")
    again = reader.award_publication({"quarter": quarter, "format": "ocds"})
    assert again["content"] == package["content"] and again["sha256"] == package["sha256"]
    csv_text = reader.award_publication({"quarter": quarter, "format": "csv"})["content"]
    assert csv_text.count("\r\n") == 2  # header + the one frozen award


def test_s7_5_timer_freezes_ended_quarters(contracts, engine):
    quarter, at = _free_past_quarter(engine)
    event = award_payload(awarded_at=at)
    publish("referral", "referral_awarded", event)
    frozen = store.publications
    wait_for(
        lambda: count(engine, frozen, frozen.c.quarter == quarter) == 2,
        30,
        "the timer to freeze both formats",
    )
    assert "publication.frozen" in audit_actions(engine, quarter)


# --- §7.6 benchmarking feeds --------------------------------------------------------------


def test_s7_6_declines_and_referral_facts_feed_benchmarks_with_stable_labels(
    contracts, engine, rpc
):
    category = "ALT_EDUCATION"
    day = datetime(2024, 5, 6, 9, tzinfo=UTC)
    referral_id = uid("ref-")
    publish(
        "referral",
        "invitation_declined",
        referral_event(
            referral_id,
            "MED",
            category,
            establishment_id=uid("est-"),
            provider_id="p",
            reason_code="no_capacity",
            occurred_at=day + timedelta(hours=1),
        ),
    )
    publish(
        "referral",
        "referral_published",
        referral_event(
            referral_id,
            "MED",
            category,
            occurred_at=day,
            profile={"needs": [{"code": "SEMH", "label": "SEMH", "marks": 2}]},
            invited=[],
        ),
    )
    publish(
        "referral",
        "referral_closed",
        referral_event(referral_id, "MED", category, bids_count=2, early=False),
    )
    associate = uid("ASSOC").replace("-", "")[:12]  # an associate authority of its own
    award = award_payload(authority=associate, category=category, awarded_at=day)
    publish("referral", "referral_awarded", award)
    wait_for(
        lambda: rows(
            engine,
            select(store.referral_records).where(
                store.referral_records.c.referral_id == referral_id,
                store.referral_records.c.published_at.is_not(None),
                store.referral_records.c.bids_count.is_not(None),
            ),
        ),
        20,
        "the referral facts",
    )
    wait_for(
        lambda: count(engine, store.declines, store.declines.c.referral_id == referral_id),
        20,
        "the decline",
    )
    wait_for(lambda: placement_for(engine, award["referral_id"]), 20, "the award")

    query = {"category": category, "from": "2024-05-06", "to": "2024-05-06"}
    reader = rpc({"id": "x", "role": "commissioner", "authority": associate})
    first, second = reader.benchmarks(query), reader.benchmarks(query)
    labels = [a["authority"] for a in first["by_authority"]]
    assert associate in labels and "MED" not in labels
    assert labels == [a["authority"] for a in second["by_authority"]]
    assert first["declines_by_reason"]["no_capacity"] >= 1
    assert first["demand"]["referrals_per_need"]["SEMH"] >= 1
    own = next(a for a in first["by_authority"] if a["authority"] == associate)
    assert own["transaction_fees"]["by_quarter"] == {"2024-Q2": "1690.00"}  # 1 % of 3250 × 52
    named = rpc(CONTRACT_MANAGER).benchmarks(query)
    assert {associate, "MED"} <= {a["authority"] for a in named["by_authority"]}
    with pytest.raises(Forbidden):
        rpc({"id": "p", "role": "provider", "provider_id": "x"}).benchmarks(query)


# --- §7.4 performance reports -------------------------------------------------------------


def test_s7_4_one_performance_report_per_establishment_and_ended_period(contracts, engine, rpc):
    establishment = uid("est-")
    events = [
        award_payload(
            authority="KCC",
            establishment_id=establishment,
            awarded_at=datetime(2023, 1, 2, tzinfo=UTC),
        )
        for _ in range(2)
    ]
    for e in events:
        publish("referral", "referral_awarded", e)
    wait_for(lambda: all(placement_for(engine, e["referral_id"]) for e in events), 20, "two")
    kcc = rpc(COMMISSIONER_KCC)
    components = [
        "be_healthy",
        "stay_safe",
        "enjoy_and_achieve",
        "positive_contribution",
        "economic_wellbeing",
    ]
    for e, score in zip(events, (4, 5), strict=True):
        kcc.start_placement(e["placement_id"], {"date": "2023-01-09"})
        review = kcc.record_review(
            e["placement_id"],
            {
                "date": "2023-04-03",
                "scores": dict.fromkeys(components, score),
                "child_view": "I like my school",
                "parent_view": "Settled well",
            },
        )
        assert review["next_review_due"] == "2023-07-03"
    outbox = store.TABLES["outbox"]

    def reports():
        return rows(
            engine,
            select(outbox.c.payload).where(
                outbox.c.event_type == "performance_reviewed",
                outbox.c.payload["establishment_id"].astext == establishment,
            ),
        )

    sent = wait_for(reports, 30, "the timer's performance report")
    assert len(sent) == 1
    payload = sent[0].payload
    # mean review score 4.5 → (4.5 − 1) / 4 × 100 = 87.50 (§7.4)
    assert (payload["performance_index"], payload["reviews_count"]) == ("87.50", 2)
    assert (payload["period_start"], payload["period_end"]) == ("2023-01-01", "2023-06-30")
    # another review in the same (reported) period sends nothing more
    kcc.record_review(
        events[0]["placement_id"], {"date": "2023-05-01", "scores": dict.fromkeys(components, 1)}
    )
    # a positive marker instead of a fixed sleep: run the timer once, to its end, after the
    # review was recorded; had the period been reported again, it would be in the outbox now
    with entrypoint_hook(contracts, "tick") as tick:
        ran = tick()
    assert ran is not None  # the tick completed (it returns None when it failed)
    assert len(reports()) == 1
    perf = rpc(CONTRACT_MANAGER).performance(
        {"establishment_id": establishment, "from": "2023-01-01", "to": "2023-06-30"}
    )
    assert perf["reports"][0]["performance_index"] == "87.50"
    assert perf["categories"][0]["reviews_count"] == 3


def test_s7_4_overdue_reviews_are_listed_most_overdue_first(contracts, engine, rpc):
    e = award_payload(authority="BHCC", awarded_at=datetime(2022, 1, 3, tzinfo=UTC))
    publish("referral", "referral_awarded", e)
    wait_for(lambda: placement_for(engine, e["referral_id"]), 20, "the placement")
    bhcc = rpc({"id": "b", "role": "commissioner", "authority": "BHCC"})
    bhcc.start_placement(e["placement_id"], {"date": "2022-01-10"})
    overdue = bhcc.overdue_reviews({"as_of": "2022-06-01", "limit": 500})
    mine = [o for o in overdue["items"] if o["placement_id"] == e["placement_id"]]
    assert mine == [
        {
            "placement_id": e["placement_id"],
            "authority": "BHCC",
            "establishment_id": e["establishment_id"],
            "establishment_name": "Oakwood School",
            "category": "SEN",
            "due": "2022-04-10",
            "days_overdue": 52,
        }
    ]
    assert all(o["authority"] == "BHCC" for o in overdue["items"])
    assert date.fromisoformat(overdue["as_of"]) == date(2022, 6, 1)


def test_s7_5_the_ocid_prefix_and_publisher_come_from_the_environment(monkeypatch):
    from services.contracts.config import ContractsConfig

    monkeypatch.setenv("DPS_OCDS_OCID_PREFIX", "ocds-abc123-")
    monkeypatch.setenv("DPS_OCDS_PUBLISHER_NAME", "Kent County Council")
    config = ContractsConfig().publication()
    assert (config.ocid_prefix, config.dps_ocid) == ("ocds-abc123-", "ocds-abc123-dps")
    assert config.publisher_name == "Kent County Council"
