"""The contracts handlers with a fake unit of work and an in-memory store (RULES §7, §9, §10):
results, events emitted, audit records and stored state; a refusal for each use case."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.common.clock import FixedClock
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.contracts import domain
from services.contracts.config import ContractsConfig
from services.contracts.handlers import (
    blocks,
    feeds,
    placements,
    publication,
    reporting,
    reviews,
    uplifts,
)
from services.contracts.messages import (
    BenchmarkQuery,
    BlockContractCreate,
    BlockPlaceCreate,
    BlockQuery,
    CostShareQuery,
    MembershipFeed,
    OverdueQuery,
    PerformanceQuery,
    PlacementEnd,
    PlacementQuery,
    PlacementsQuery,
    PlacementStart,
    PublicationQuery,
    ReviewCreate,
    UpliftCreate,
    UpliftsQuery,
    VariationCreate,
)
from tests.support.contracts_builders import CHILD_REFERENCE, award_event, direct_event
from tests.support.contracts_fakes import FakePeers, FakeStore
from tests.support.fake_uow import FakeUnitOfWork

KCC = {"id": "k1", "role": "commissioner", "authority": "KCC"}
ESCC = {"id": "e1", "role": "commissioner", "authority": "ESCC"}
PROVIDER = {"id": "p1", "role": "provider", "provider_id": "prov-1"}
MANAGER = {"id": "cm", "role": "contract_manager"}
AUDITOR = {"id": "a", "role": "auditor"}
CONFIG = ContractsConfig(benchmark_secret=None)
COMPONENTS = domain.ECM_COMPONENTS


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def uow(store) -> FakeUnitOfWork:
    return FakeUnitOfWork(store=store)


def awarded(store, **overrides) -> FakeUnitOfWork:
    """A placement created from ``referral_awarded`` (``pl-1`` for KCC, provider prov-1)."""
    uow = FakeUnitOfWork(store=store)
    sealed = store.vault.seal("ref-1", {"child_reference": CHILD_REFERENCE})  # §13
    overrides.setdefault("child_data", {"key_id": "ref-1", "sealed": sealed})
    feeds.record_award(award_event(**overrides), uow)
    uow.commit()
    return uow


# --- consumed events (§5, §7.1, §7.6, §7.3) ------------------------------------------------


def test_s7_1_an_award_creates_one_placement_and_its_benchmarking_record(store):
    first = awarded(store)
    assert first.audits[0]["action"] == "placement.created"
    assert store.placements["pl-1"].status is domain.PlacementStatus.PENDING_START
    assert store.referral_records["ref-1"]["status"] == "awarded"
    assert store.referral_records["ref-1"]["needs"] == ["ASD"]
    # the same award again, even under another placement id: nothing more (§7.1)
    again = awarded(store, event_id="evt-2", placement_id="pl-other")
    assert again.audits == [] and list(store.placements) == ["pl-1"]


def test_s7_2_an_award_after_an_uplift_keeps_it_from_its_date(store):
    uplifts.set_uplift(
        UpliftCreate(
            category="SEN", cost_head="premises", percent="2", effective_from=date(2026, 4, 1)
        ),
        FakeUnitOfWork(store=store),
        MANAGER,
        FakePeers(),
    )
    created = awarded(store)
    assert [a["action"] for a in created.audits] == ["placement.created", "placement.uplifted"]
    price = store.placements["pl-1"].price_on(date(2026, 4, 1))
    assert price.core_costs["premises"] == Decimal("1020.00")


def test_s5_a_direct_placement_is_a_placement_flagged_direct(store, uow):
    feeds.record_direct_placement(direct_event(), uow)
    uow.commit()
    p = store.placements["pl-d1"]
    assert (p.source, p.reason_code) == (domain.PlacementSource.DIRECT_PLACEMENT, "emergency")
    assert uow.audits[0]["action"] == "placement.created_direct"


def test_s7_3_membership_events_record_who_runs_an_establishment(store, uow):
    event = MembershipFeed.model_validate(
        {
            "event_id": "m1",
            "occurred_at": "2026-01-01T00:00:00+00:00",
            "establishment_id": "est-7",
            "category": "SEN",
            "provider_id": "prov-7",
            "establishment_name": "Elm House",
        }
    )
    feeds.record_membership(event, uow, "suspended")
    assert store.memberships_of("est-7")[0]["status"] == "suspended"


# --- placements (§7.1, §7.2, §10) ----------------------------------------------------------


def test_s10_the_provider_reads_its_placement_without_child_details(store, uow):
    awarded(store)
    view = placements.get_placement("pl-1", PlacementQuery(), uow, PROVIDER)
    assert "child_reference" not in view and view["provider_name"] == "Oakwood Care Ltd"
    assert placements.get_placement("pl-1", PlacementQuery(), uow, KCC)["child_reference"] == (
        CHILD_REFERENCE
    )
    with pytest.raises(NotFound):
        placements.get_placement("pl-1", PlacementQuery(), uow, ESCC)


def test_s10_listing_is_scoped_to_the_reader(store, uow):
    awarded(store)
    awarded(store, referral_id="ref-2", placement_id="pl-2", authority="MED", provider_id="prov-2")
    mine = placements.list_placements(PlacementsQuery(), uow, PROVIDER)
    assert [p["id"] for p in mine["items"]] == ["pl-1"]
    assert len(placements.list_placements(PlacementsQuery(), uow, MANAGER)["items"]) == 2
    with pytest.raises(Forbidden):
        placements.list_placements(PlacementsQuery(), uow, AUDITOR)
    with pytest.raises(InvalidInput):
        placements.list_placements(PlacementsQuery(cursor="not-a-cursor"), uow, KCC)


def test_s7_1_start_then_end_by_the_owner_is_audited(store, uow):
    awarded(store)
    started = placements.start_placement("pl-1", PlacementStart(date=date(2026, 3, 9)), uow, KCC)
    assert (started["status"], started["next_review_due"]) == ("active", "2026-06-09")
    assert store.next_review["pl-1"] == date(2026, 6, 9)
    with pytest.raises(Conflict, match="it cannot start"):
        placements.start_placement("pl-1", PlacementStart(date=date(2026, 3, 10)), uow, KCC)
    ended = placements.end_placement(
        "pl-1", PlacementEnd(date=date(2026, 5, 1), reason="step_down"), uow, KCC
    )
    assert (ended["status"], ended["end_reason"]) == ("ended", "step_down")
    assert [a["action"] for a in uow.audits] == ["placement.started", "placement.ended"]
    assert uow.audits[0]["before"]["status"] == "pending_start"
    assert store.placements["pl-1"].status is domain.PlacementStatus.ENDED


def test_s10_a_reader_who_is_not_the_owner_cannot_act(store, uow):
    awarded(store)
    for principal in (PROVIDER, MANAGER):
        with pytest.raises(Forbidden):
            placements.start_placement(
                "pl-1", PlacementStart(date=date(2026, 3, 9)), uow, principal
            )
    with pytest.raises(NotFound):
        placements.start_placement("pl-1", PlacementStart(date=date(2026, 3, 9)), uow, ESCC)
    assert uow.committed == 0 and store.placements["pl-1"].status.value == "pending_start"


def test_s7_2_a_variation_is_stored_and_audited(store, uow):
    awarded(store)
    result = placements.vary_placement(
        "pl-1",
        VariationCreate(
            effective_from=date(2026, 5, 1),
            reason="more staffing",
            changes={"core_costs": {"core_staffing": "2100.00"}},
        ),
        uow,
        KCC,
    )
    assert result["current_price"]["weekly_price"] == "3350.00"
    assert len(store.placements["pl-1"].variations) == 1
    assert uow.audits[0]["action"] == "placement.varied"
    with pytest.raises(Forbidden):
        placements.vary_placement(
            "pl-1",
            VariationCreate(
                effective_from=date(2026, 5, 1), reason="x", changes={"discount_percent": "5"}
            ),
            uow,
            PROVIDER,
        )


# --- uplifts (§7.2) ------------------------------------------------------------------------


def test_s7_2_an_uplift_varies_placements_and_emits_uplift_set(store, uow):
    awarded(store)
    body = UpliftCreate(
        category="SEN", cost_head="premises", percent="3.1", effective_from=date(2026, 4, 1)
    )
    view = uplifts.set_uplift(body, uow, MANAGER, FakePeers())
    assert view["placements_uplifted"] == 1
    assert uow.event_types() == ["uplift_set"]
    assert [a["action"] for a in uow.audits] == ["placement.uplifted", "uplift.set"]
    assert store.locks == ["uplift:SEN"]
    with pytest.raises(Conflict, match="already set"):
        uplifts.set_uplift(body, FakeUnitOfWork(store=store), MANAGER, FakePeers())
    with pytest.raises(Forbidden):
        uplifts.set_uplift(body, FakeUnitOfWork(store=store), KCC, FakePeers())


def test_s7_2_the_uplifts_set_are_listed_newest_first_for_the_manager_and_the_lead(store):
    for head, day in (("premises", date(2026, 4, 1)), ("staffing", date(2027, 4, 1))):
        body = UpliftCreate(category="SEN", cost_head=head, percent="2.5", effective_from=day)
        uplifts.set_uplift(body, FakeUnitOfWork(store=store), MANAGER, FakePeers())
    listed = uplifts.list_uplifts(UpliftsQuery(), FakeUnitOfWork(store=store), MANAGER)
    assert [(u["cost_head"], u["effective_from"], u["percent"]) for u in listed["items"]] == [
        ("staffing", "2027-04-01", "2.5"), ("premises", "2026-04-01", "2.5")]
    lead = {"id": "l", "role": "lead", "authority": "WSCC"}
    other = uplifts.list_uplifts(UpliftsQuery(category="FOSTERCARE"),
                                 FakeUnitOfWork(store=store), lead)
    assert other["items"] == []
    with pytest.raises(Forbidden):
        uplifts.list_uplifts(UpliftsQuery(), FakeUnitOfWork(store=store), KCC)


@pytest.mark.parametrize(("change", "field"), [({"category": "KIDS"}, "category"),
                                               ({"cost_head": "ponies"}, "cost_head")])
def test_s7_2_an_uplift_of_an_unknown_category_or_core_head_is_422_naming_it(
        store, uow, change, field):
    body = UpliftCreate(**{"category": "SEN", "cost_head": "premises", "percent": "3.1",
                           "effective_from": date(2026, 4, 1), **change})
    with pytest.raises(InvalidInput) as refused:
        uplifts.set_uplift(body, uow, MANAGER, FakePeers())
    assert refused.value.errors[0]["loc"] == [field]
    assert uow.committed == 0 and store.locks == []


# --- reviews and performance (§7.4) --------------------------------------------------------


def test_s7_4_reviews_feed_one_performance_report_per_period(store, uow):
    awarded(store)
    placements.start_placement("pl-1", PlacementStart(date=date(2026, 3, 9)), uow, KCC)
    review = reviews.record_review(
        "pl-1",
        ReviewCreate(
            date=date(2026, 4, 1), scores=dict.fromkeys(COMPONENTS, 4), child_view="Happy"
        ),
        uow,
        KCC,
        CONFIG,
    )
    assert (review["score"], review["next_review_due"]) == ("4.00", "2026-07-01")
    assert uow.audits[-1]["action"] == "placement.reviewed"

    # the fake unit of work's clock is 2026-12-01: the first half of 2026 has ended
    timer_uows: list[FakeUnitOfWork] = []

    def new_uow():
        timer_uows.append(FakeUnitOfWork(store=store))
        return timer_uows[-1]

    assert reviews.report_performance(new_uow, CONFIG) == 1
    sent = [e for u in timer_uows for e in u.events]
    assert [e.event_type for e in sent] == ["performance_reviewed"]
    assert sent[0].performance_index == Decimal("75.00")
    assert reviews.report_performance(new_uow, CONFIG) == 0  # reported once
    perf = reviews.performance(
        PerformanceQuery(
            establishment_id="est-1", **{"from": date(2026, 1, 1)}, to=date(2026, 6, 30)
        ),
        uow,
        MANAGER,
    )
    assert perf["reports"][0]["performance_index"] == "75.00"
    with pytest.raises(Forbidden):
        reviews.performance(PerformanceQuery(establishment_id="est-1"), uow, KCC)


def test_s7_4_only_the_owner_reviews_and_only_a_started_placement(store, uow):
    awarded(store)
    body = ReviewCreate(date=date(2026, 4, 1), scores=dict.fromkeys(COMPONENTS, 3))
    with pytest.raises(Conflict, match="has not started"):
        reviews.record_review("pl-1", body, uow, KCC, CONFIG)
    with pytest.raises(Forbidden):
        reviews.record_review("pl-1", body, uow, MANAGER, CONFIG)
    assert store.reviews == []


def test_s7_4_overdue_reviews_are_scoped_to_the_authority(store, uow):
    awarded(store)
    placements.start_placement("pl-1", PlacementStart(date=date(2026, 3, 9)), uow, KCC)
    overdue = reviews.overdue_reviews(OverdueQuery(as_of=date(2026, 7, 1)), uow, KCC)
    assert [(o["placement_id"], o["due"]) for o in overdue["items"]] == [("pl-1", "2026-06-09")]
    assert reviews.overdue_reviews(OverdueQuery(as_of=date(2026, 7, 1)), uow, ESCC)["items"] == []
    with pytest.raises(Forbidden):
        reviews.overdue_reviews(OverdueQuery(), uow, PROVIDER)


# --- block contracts (§7.3) ----------------------------------------------------------------


def block_body(**overrides) -> BlockContractCreate:
    fields = {
        "establishment_id": "est-5",
        "places": 1,
        "weekly_price_per_place": "3000.00",
        "start": date(2026, 4, 6),
        "end": date(2026, 6, 28),
    }
    return BlockContractCreate(**{**fields, **overrides})


def test_s7_3_a_block_is_made_at_an_admitted_establishment_and_filled_once(store, uow):
    store.admit("est-5", "SEN", "prov-5", "Birch School")
    block = blocks.create_block_contract(block_body(), uow, KCC)
    assert (block["provider_id"], block["establishment_name"]) == ("prov-5", "Birch School")
    assert uow.audits[0]["action"] == "block_contract.created"
    placed = blocks.place_in_block(
        block["id"],
        BlockPlaceCreate(child_reference="KCC-B1", start_date=date(2026, 4, 6)),
        uow,
        KCC,
    )
    assert (placed["source"], placed["block_id"]) == ("block_place", block["id"])
    with pytest.raises(Conflict, match="no free place"):
        blocks.place_in_block(
            block["id"],
            BlockPlaceCreate(child_reference="KCC-B2", start_date=date(2026, 5, 4)),
            uow,
            KCC,
        )
    view = blocks.get_block_contract(block["id"], BlockQuery(as_of=date(2026, 4, 12)), uow, MANAGER)
    assert view["occupancy"]["occupied_places"] == 1
    assert "child_reference" not in view["placements"][0]
    with pytest.raises(NotFound):
        blocks.get_block_contract(block["id"], BlockQuery(), uow, ESCC)
    with pytest.raises(Forbidden):
        blocks.place_in_block(
            block["id"],
            BlockPlaceCreate(child_reference="X", start_date=date(2026, 4, 6)),
            uow,
            MANAGER,
        )


def test_s7_3_no_block_without_an_admitted_membership_nor_by_a_provider(store, uow):
    with pytest.raises(InvalidInput, match="not an establishment admitted"):
        blocks.create_block_contract(block_body(), uow, KCC)
    store.admit("est-5", "SEN", "prov-5", "Birch School")
    with pytest.raises(Forbidden):
        blocks.create_block_contract(block_body(), uow, PROVIDER)
    assert store.blocks == {} and uow.committed == 0


# --- publication (§7.5) --------------------------------------------------------------------


def test_s7_5_an_ended_quarter_is_frozen_once_and_re_read_byte_for_byte(store, uow):
    awarded(store)  # awarded 2026-03-02: 2026-Q1 has ended on the fake clock
    query = PublicationQuery(quarter="2026-Q1", format="ocds")
    first = publication.award_publication(query, uow, PROVIDER, CONFIG)
    assert first["frozen"] is True and CHILD_REFERENCE not in first["content"]
    assert [a["action"] for a in uow.audits] == ["publication.frozen"]
    awarded(store, referral_id="ref-late", placement_id="pl-late", event_id="evt-late")
    again = publication.award_publication(query, FakeUnitOfWork(store=store), PROVIDER, CONFIG)
    assert again["sha256"] == first["sha256"]
    assert set(store.publications) == {("2026-Q1", "ocds"), ("2026-Q1", "csv")}


def test_s7_5_the_timer_freezes_ended_quarters_and_leaves_the_current_one(store):
    awarded(store)
    awarded(
        store,
        referral_id="ref-now",
        placement_id="pl-now",
        event_id="evt-now",
        awarded_at=datetime(2026, 11, 20, tzinfo=UTC).isoformat(),
    )
    frozen = publication.freeze_ended_quarters(lambda: FakeUnitOfWork(store=store), CONFIG)
    assert frozen == 1 and store.frozen_quarters("ocds") == {"2026-Q1"}
    assert publication.freeze_ended_quarters(lambda: FakeUnitOfWork(store=store), CONFIG) == 0
    live = publication.award_publication(
        PublicationQuery(quarter="2026-Q4", format="csv"),
        FakeUnitOfWork(store=store),
        PROVIDER,
        CONFIG,
    )
    assert live["frozen"] is False and live["content"].count("\r\n") == 2


# --- benchmarks (§7.6) and cost shares (§7.7) ----------------------------------------------


def test_s7_6_benchmarks_label_other_authorities_and_store_one_secret(store, uow):
    awarded(store)
    awarded(store, referral_id="ref-2", placement_id="pl-2", authority="MED", event_id="e2")
    query = BenchmarkQuery(category="SEN", **{"from": date(2026, 1, 1)}, to=date(2026, 6, 30))
    result = reporting.benchmarks(query, uow, KCC, CONFIG)
    labels = {a["authority"] for a in result["by_authority"]}
    assert "KCC" in labels and "MED" not in labels
    assert store.secret is not None and uow.committed == 1
    assert reporting.benchmarks(query, uow, KCC, CONFIG) == result
    with pytest.raises(Forbidden):
        reporting.benchmarks(query, uow, PROVIDER, CONFIG)


def test_s7_7_cost_shares_for_the_contract_manager_and_the_lead_only(store, uow):
    awarded(store)
    shares = reporting.cost_shares(CostShareQuery(year=2026), uow, MANAGER, CONFIG)
    kcc = next(a for a in shares["authorities"] if a["authority"] == "KCC")
    assert kcc["placements_previous_year"] == 1 and kcc["running_share"] == "40000.00"
    with pytest.raises(Forbidden):
        reporting.cost_shares(CostShareQuery(year=2026), uow, KCC, CONFIG)


def test_the_fake_clock_is_the_one_handlers_use(store):
    uow = FakeUnitOfWork(store=store, clock=FixedClock(datetime(2027, 1, 5, tzinfo=UTC)))
    awarded(store)
    overdue = reviews.overdue_reviews(OverdueQuery(), uow, MANAGER)
    assert overdue["as_of"] == "2027-01-05"
