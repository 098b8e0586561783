"""The Procurement Act notices of a dynamic market and its call-offs (RULES §11.4), raised by
the contracts handlers from the events as the published messages name their fields, with a fake
unit of work: each is an OCDS 1.1 release valid against the UK profile, carries its
``noticeType``, links the market by ``relatedProcesses`` and holds none of the child's data;
a PCR 2015 DPS flow raises none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.clock import FixedClock
from services.common.errors import Conflict, Forbidden, NotFound
from services.contracts.config import ContractsConfig
from services.contracts.handlers import feeds, notices, placements
from services.contracts.messages import (
    MarketEndedFeed,
    MarketEstablishedFeed,
    MarketFeed,
    MembershipFeed,
    NoticeMarkPublished,
    NoticesQuery,
    PlacementEnd,
    PlacementStart,
    ReferralCancelledFeed,
    ReferralPublishedFeed,
    ReferralUnsuccessfulFeed,
)
from tests.support import notices_events as ev
from tests.support.contracts_builders import award_event, direct_event
from tests.support.contracts_fakes import FakeStore
from tests.support.fake_uow import FakeUnitOfWork
from tests.support.ocds_uk import leaked, notice_types, validate_release

CONFIG = ContractsConfig(ocds_ocid_prefix="ocds-test01-",
                         ocds_authority_ppons={"KCC": "PXKC-1111-KENT"})
LEAD = {"id": "lead-1", "role": "lead"}
MANAGER = {"id": "cm", "role": "contract_manager"}
KCC = {"id": "k1", "role": "commissioner", "authority": "KCC"}
NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
CHILD_VALUES = list(ev.CHILD.values())


def new_uow(store, at: datetime = NOW) -> FakeUnitOfWork:
    return FakeUnitOfWork(store=store, clock=FixedClock(at))


def run(store, fn, *args, at: datetime = NOW):
    uow = new_uow(store, at)
    result = fn(*args, uow)
    uow.commit()
    return result


def releases(store, code: str | None = None) -> list[dict]:
    rows = sorted(store.notices.values(), key=lambda r: (r.raised_at, r.notice_id))
    return [r.release for r in rows if code is None or r.notice_type == code]


def award(store, dps_id: str, regime: str, *, standstill: date | None = None,
          referral_id: str = "ref-1", placement_id: str = "pl-1"):
    sealed = store.vault.seal(referral_id, {"child_reference": ev.CHILD["child_reference"]})
    event = award_event(
        referral_id=referral_id, placement_id=placement_id, provider_id="prov-1",
        awarded_at=NOW.isoformat(), occurred_at=NOW.isoformat(),
        child_data={"key_id": referral_id, "sealed": sealed},
        referral=ev.child_referral(referral_id),
        **ev.award_fields(dps_id, regime, standstill_ends_on=standstill, at=NOW))
    uow = new_uow(store)
    feeds.record_award(event, uow, CONFIG)
    uow.commit()
    return event


def market_flow(store, regime: str, dps_id: str = "mkt-1") -> None:
    """Established, two members admitted (one with PPON and Companies House number), a
    referral published and awarded with a 8-working-day standstill, started and ended, a
    second published referral cancelled and a third unsuccessful, a member removed, the
    market ended."""
    uow = new_uow(store)
    feeds.record_market(MarketFeed.model_validate(ev.market(dps_id, regime, at=NOW)), uow,
                        CONFIG, "created")
    feeds.record_market(MarketEstablishedFeed.model_validate(ev.market(dps_id, regime, at=NOW)),
                        uow, CONFIG, "established")
    first = ev.membership(dps_id, regime, provider_id="prov-1")
    second = ev.membership(dps_id, regime, provider_id="prov-2", ppon=None,
                           provider_name="Harbour Homes Ltd")
    for payload in (first, second):
        feeds.record_membership(MembershipFeed.model_validate(payload), uow, "admitted",
                                CONFIG, "admitted")
    feeds.record_referral_published(
        ReferralPublishedFeed.model_validate(ev.referral_published("ref-1", dps_id, regime)),
        uow, CONFIG)
    uow.commit()
    award(store, dps_id, regime, standstill=date(2026, 4, 14))  # 8 working days incl. Easter
    with pytest.raises(Conflict, match="standstill"):
        run(store, lambda u: placements.start_placement(
            "pl-1", PlacementStart(date=date(2026, 4, 14)), u, KCC, CONFIG))
    run(store, lambda u: placements.start_placement(
        "pl-1", PlacementStart(date=date(2026, 4, 15)), u, KCC, CONFIG))
    run(store, lambda u: placements.end_placement(
        "pl-1", PlacementEnd(date=date(2026, 6, 1), reason="breakdown"), u, KCC, CONFIG))
    uow = new_uow(store)
    for referral_id in ("ref-2", "ref-3"):
        feeds.record_referral_published(ReferralPublishedFeed.model_validate(
            ev.referral_published(referral_id, dps_id, regime)), uow, CONFIG)
    feeds.record_referral_cancelled(ReferralCancelledFeed.model_validate(
        ev.referral_cancelled("ref-2", dps_id, regime)), uow, CONFIG)
    feeds.record_referral_unsuccessful(ReferralUnsuccessfulFeed.model_validate(
        ev.referral_unsuccessful("ref-3", dps_id, regime)), uow, CONFIG)
    feeds.record_membership(MembershipFeed.model_validate(
        ev.membership(dps_id, regime, provider_id="prov-2", ppon=None, removed=True)),
        uow, "removed", CONFIG, "removed")
    feeds.record_market_ended(MarketEndedFeed.model_validate(
        ev.market_ended(dps_id, regime, date(2026, 12, 31))), uow, CONFIG)
    uow.commit()


def test_s11_4_a_dynamic_market_raises_each_notice_valid_typed_and_without_child_data():
    store = FakeStore()
    market_flow(store, ev.PA)
    codes = sorted(r.notice_type for r in store.notices.values())
    assert codes == sorted(["UK13", "UK14", "UK15", "UK15", "UK15", "UK4", "UK4", "UK4",
                            "UK6", "UK7", "UK11", "UK12", "UK12", "UK16"])
    for row in store.notices.values():
        release = row.release
        assert validate_release(release) == [], row.notice_id
        assert notice_types(release) == [row.notice_type]
        assert release["ocid"].startswith("ocds-test01-")
        assert leaked(release, CHILD_VALUES) == [], row.notice_id
        if row.notice_type in ("UK4", "UK6", "UK7", "UK11", "UK12"):
            link = release["relatedProcesses"][0]
            assert (link["scheme"], link["identifier"]) == ("ocid", "ocds-test01-mkt-1")
            assert release["tender"]["techniques"]["hasDynamicPurchasingSystem"] is True


def test_s11_4_the_market_is_its_own_process_flagged_by_the_techniques_extension():
    store = FakeStore()
    market_flow(store, ev.PA)
    uk14 = releases(store, "UK14")[0]
    assert uk14["ocid"] == "ocds-test01-mkt-1"
    assert uk14["tender"]["techniques"] == {"hasDynamicPurchasingSystem": True,
                                            "dynamicPurchasingSystem": {"status": "active"}}
    assert [lot["id"] for lot in uk14["tender"]["lots"]] == ["1", "2"]
    assert "1.5% of the estimated value" in uk14["tender"]["description"]  # s.38 fee stated
    assert releases(store, "UK16")[0]["tender"]["techniques"]["dynamicPurchasingSystem"] == {
        "status": "terminated"}


def test_s11_4_uk15_names_the_admitted_or_removed_supplier_by_its_identifiers():
    store = FakeStore()
    market_flow(store, ev.PA)
    admitted, second, removed = releases(store, "UK15")
    supplier = next(p for p in admitted["parties"] if "supplier" in p["roles"])
    assert supplier["id"] == f"GB-PPON-{ev.PPON}"
    assert supplier["identifier"]["scheme"] == "GB-PPON"
    assert supplier["additionalIdentifiers"] == [{"scheme": "GB-COH", "id": ev.COMPANIES_HOUSE}]
    coh_only = next(p for p in second["parties"] if "supplier" in p["roles"])
    assert coh_only["id"] == f"GB-COH-{ev.COMPANIES_HOUSE}"
    gone = next(p for p in removed["parties"] if p["id"] != removed["buyer"]["id"])
    assert gone["roles"] == ["removedSupplier"]
    assert "Debarment" not in str(removed)  # the removal's reasons are not published
    assert len({r["id"] for r in (admitted, second, removed)}) == 3


def test_s11_4_uk6_carries_the_voluntary_standstill_and_the_summaries_date():
    store = FakeStore()
    market_flow(store, ev.PA)
    uk6 = releases(store, "UK6")[0]
    awarded = uk6["awards"][0]
    assert awarded["standstillPeriod"]["endDate"] == "2026-04-14T23:59:59Z"
    assert awarded["assessmentSummariesDateSent"] == "2026-03-30T08:55:00Z"
    assert uk6["awards"][0]["documents"][0]["documentType"] == "awardNotice"
    assert uk6["buyer"]["id"] == "GB-PPON-PXKC-1111-KENT"
    row = store.notices["UK6:ref-1"]
    assert row.due_by == date(2026, 3, 31)  # 8 working days before 14 April, Easter between


def test_s11_4_uk7_is_raised_when_a_standstilled_placement_starts_and_uk11_when_it_ends():
    store = FakeStore()
    market_flow(store, ev.PA)
    assert store.placements["pl-1"].entered_on == date(2026, 4, 15)  # entered at the start
    assert store.notices["UK7:pl-1"].due_by == date(2026, 8, 13)  # 120 days (s.53)
    assert store.notices["UK11:pl-1"].due_by == date(2026, 7, 1)  # 30 days (s.80)
    uk11 = releases(store, "UK11")[0]
    assert uk11["contracts"][0]["terminationRationaleClassifications"][0]["id"] == "endedEarly"
    assert "breakdown" not in str(uk11)  # the end reason is about the child (§13)


def test_s11_4_without_a_standstill_the_contract_is_entered_at_award_and_uk7_raised():
    store = FakeStore()
    award(store, "mkt-1", ev.PA)
    assert store.placements["pl-1"].entered_on == NOW.date()
    assert store.notices["UK7:pl-1"].due_by == NOW.date() + timedelta(days=120)
    assert store.notices["UK6:ref-1"].due_by == NOW.date()


def test_s11_4_a_pcr_2015_dps_flow_raises_no_procurement_act_notice():
    store = FakeStore()
    market_flow(store, ev.PCR, dps_id="dps-1")
    assert store.notices == {}
    # and the contract entered date is still recorded (s.53 applies to neither, §7.1 keeps it)
    assert store.placements["pl-1"].entered_on == date(2026, 4, 15)


def test_s11_4_events_without_regime_fields_are_the_pcr_dps():
    store = FakeStore()
    uow = new_uow(store)
    feeds.record_award(award_event(), uow, CONFIG)
    uow.commit()
    assert store.notices == {} and "pl-1" in store.placements


def test_s11_4_below_the_threshold_and_user_choice_need_no_call_off_notice():
    store = FakeStore()
    uow = new_uow(store)
    feeds.record_referral_published(ReferralPublishedFeed.model_validate(
        ev.referral_published("ref-9", "mkt-1", ev.PA, estimated_value="40000.00",
                              above_threshold=False)), uow, CONFIG)
    feeds.record_direct_placement(direct_event(
        reason_code="user_choice", reason="user_choice", expressed_preference="parents",
        **ev.call_off_fields("mkt-1", ev.PA)), uow, CONFIG)
    uow.commit()
    assert store.notices == {}


def test_s11_4_a_direct_award_under_the_market_has_an_award_and_a_contract_notice():
    store = FakeStore()
    uow = new_uow(store)
    feeds.record_direct_placement(direct_event(**ev.call_off_fields("mkt-1", ev.PA)), uow,
                                  CONFIG)
    uow.commit()
    assert sorted(store.notices) == ["UK6:dp-1", "UK7:pl-d1"]
    uk6 = store.notices["UK6:dp-1"].release
    assert uk6["tender"]["procurementMethod"] == "direct"
    assert validate_release(uk6) == []
    assert "Sam" not in str(uk6)  # the justification describes the child


def test_s11_4_a_redelivered_award_raises_one_notice():
    store = FakeStore()
    award(store, "mkt-1", ev.PA)
    award(store, "mkt-1", ev.PA)
    assert [k for k in store.notices if k.startswith("UK6")] == ["UK6:ref-1"]


def test_s11_4_a_cancelled_referral_that_was_never_published_has_no_uk12():
    store = FakeStore()
    uow = new_uow(store)
    feeds.record_referral_cancelled(ReferralCancelledFeed.model_validate(
        ev.referral_cancelled("ref-7", "mkt-1", ev.PA, was_published=False)), uow, CONFIG)
    uow.commit()
    assert store.notices == {}


# --- feed, due list and marking published (§11.4, §10) ----------------------------------------


def test_s11_4_the_feed_filters_by_type_and_the_due_list_drops_published_notices():
    store = FakeStore()
    market_flow(store, ev.PA)
    at = datetime(2026, 6, 3, 9, tzinfo=UTC)
    feed = notices.list_notices(NoticesQuery(type="UK15"), new_uow(store, at), LEAD, CONFIG)
    assert [i["notice_type"] for i in feed["items"]] == ["UK15"] * 3
    due = notices.list_notices(NoticesQuery(due=True), new_uow(store, at), MANAGER, CONFIG)
    due_ids = [i["notice_id"] for i in due["items"]]
    assert "UK6:ref-1" in due_ids and "UK16:mkt-1" not in due_ids  # UK16 due in December
    assert all(i["overdue"] for i in due["items"] if i["notice_id"] == "UK6:ref-1")
    uow = new_uow(store, at)
    view = notices.mark_published("UK6:ref-1", NoticeMarkPublished(fts_notice_id="012345-2026"),
                                  uow, LEAD)
    doc = view["release"]["awards"][0]["documents"][0]
    assert doc["url"].endswith("/Notice/012345-2026") and doc["datePublished"]
    assert uow.audits[-1]["action"] == "notice.published"
    due = notices.list_notices(NoticesQuery(due=True), new_uow(store, at), MANAGER, CONFIG)
    assert "UK6:ref-1" not in [i["notice_id"] for i in due["items"]]
    with pytest.raises(Conflict):
        notices.mark_published("UK6:ref-1", NoticeMarkPublished(fts_notice_id="999999-2026"),
                               new_uow(store, at), LEAD)
    one = notices.get_notice("UK6:ref-1", new_uow(store, at), MANAGER)
    assert one["fts_notice_id"] == "012345-2026" and one["release"]["ocid"] == "ocds-test01-ref-1"
    with pytest.raises(NotFound):
        notices.get_notice("UK6:nothing", new_uow(store, at), MANAGER)


def test_s10_commissioners_do_not_read_notices():
    with pytest.raises(Forbidden):
        notices.list_notices(NoticesQuery(), new_uow(FakeStore()), KCC, CONFIG)


def test_s11_4_the_quarterly_publication_links_a_market_award_to_the_markets_ocid():
    """§7.5 and §11.4 come from the same records: the award's release links the same market
    process as its notices; a PCR award still links the DPS."""
    from services.contracts import domain

    store = FakeStore()
    award(store, "mkt-1", ev.PA)
    pa = domain.award_record(store.placements["pl-1"])
    pcr = domain.award_record(store.placements["pl-1"])
    pcr = type(pcr)(**{**pcr.__dict__, "award_id": "ref-pcr", "regime": None, "dps_id": None})
    config = CONFIG.publication()
    package = domain.build_package([pa, pcr], "2026-Q1", config)
    links = {r["ocid"]: r["relatedProcesses"][0]["identifier"] for r in package["releases"]}
    assert links == {"ocds-test01-ref-1": "ocds-test01-mkt-1",
                     "ocds-test01-ref-pcr": config.dps_ocid}
    assert store.notices["UK6:ref-1"].release["relatedProcesses"][0]["identifier"] == (
        "ocds-test01-mkt-1")
