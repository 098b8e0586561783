"""Markets under their regime (RULES §11.1, §11.2, issue 14): PCR 2015 DPS dates (SI 2024/716
reg 5 as amended by SI 2024/959), frozen conditions (s.36(7)), insurance not a condition of
membership of a dynamic market (s.36(2)) but checked at award, the exclusion check before
admission (ss.57, 62), removal only after notice (s.37(4)), PPONs, migration."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from services.common.clock import FixedClock
from services.common.errors import Conflict, InvalidInput
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers import (
    applications,
    categories,
    digest,
    establishments,
    markets,
    memberships,
)
from tests.support import qualification_samples as samples
from tests.support.fake_uow import FakeUnitOfWork
from tests.support.qualification_fakes import FakeStore

LEAD = {"id": "k-lead", "role": "lead", "authority": "WSCC", "provider_id": None}
P1 = {"id": "k-p1", "role": "provider", "authority": None, "provider_id": "p-1"}
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def uow(store):
    def make(at: datetime = NOW) -> FakeUnitOfWork:
        return FakeUnitOfWork(store=store, clock=FixedClock(at))
    return make


def market_body(**over) -> m.MarketCreate:
    body = {"title": "Children's placements dynamic market",
            "parts": [{"number": 1, "category": "SEN", "title": "Special schools"},
                      {"number": 2, "category": "RESIDENTIAL", "title": "Children's homes"}],
            "valid_from": "2026-12-01", "valid_to": "2030-11-30", "fee_percent": "1.5"}
    return m.MarketCreate.model_validate({**body, **over})


def new_market(uow, **over) -> dict:
    return markets.create_market(market_body(**over), uow(), LEAD, lead_authority="WSCC")


def established(uow) -> dict:
    mk = new_market(uow)
    return markets.establish_market(mk["dps_id"], uow(), LEAD)


# ---- §11.1 which regime applies --------------------------------------------------------------


def test_get_dps_says_the_default_market_is_the_pcr_dps_1(uow):
    view = markets.get_dps(None, uow())
    assert (view["dps_id"], view["regime"], view["status"]) == ("dps-1", "PCR2015_DPS", "open")
    assert view["expires_at_latest"] == "2029-02-23"
    assert view["valid_to"] == "2029-02-23"  # SI 2024/716 reg 5: whatever the stored period


def test_a_dynamic_market_is_announced_then_established(uow):
    u = uow()
    mk = markets.create_market(market_body(), u, LEAD, lead_authority="WSCC")
    assert mk["state"] == "planned" and mk["regime"] == "PA2023_DYNAMIC_MARKET"
    created = [e for e in u.events if e.event_type == "market_created"][0]
    assert [p.number for p in created.parts] == [1, 2] and created.fee_percent == "1.5"
    u2 = uow()
    done = markets.establish_market(mk["dps_id"], u2, LEAD)
    assert done["state"] == "established" and done["established_on"] == "2026-12-01"
    assert [e.event_type for e in u2.events] == ["market_established"]
    with pytest.raises(Conflict):
        markets.establish_market(mk["dps_id"], uow(), LEAD)


@pytest.mark.parametrize("established_on", [None, "2025-02-24", "2026-01-01"])
def test_a_pcr_dps_established_on_or_after_24_february_2025_is_refused(uow, established_on):
    with pytest.raises(Conflict) as err:
        new_market(uow, regime="PCR2015_DPS", established_on=established_on, fee_percent=None,
                   valid_from="2024-06-01", valid_to="2028-05-31")
    assert "24 February 2025" in str(err.value)


def test_a_pcr_dps_established_before_is_recorded_but_not_beyond_23_february_2029(uow):
    ok = new_market(uow, regime="PCR2015_DPS", established_on="2024-06-01", fee_percent=None,
                    valid_from="2024-06-01", valid_to="2029-02-23")
    assert ok["state"] == "established" and ok["regime"] == "PCR2015_DPS"
    with pytest.raises(InvalidInput) as err:
        new_market(uow, regime="PCR2015_DPS", established_on="2024-06-01", fee_percent=None,
                   valid_from="2024-06-01", valid_to="2029-02-24")
    assert err.value.errors[0]["loc"] == ["valid_to"]
    with pytest.raises(InvalidInput) as err:  # PCR 2015 reg 34: no fee to suppliers
        new_market(uow, regime="PCR2015_DPS", established_on="2024-06-01",
                   valid_from="2024-06-01", valid_to="2028-05-31")
    assert err.value.errors[0]["loc"] == ["fee_percent"]


def test_a_pcr_dps_period_cannot_change_after_23_february_2026(uow):
    with pytest.raises(Conflict) as err:
        markets.update_dps(m.DpsPatch(valid_to=date(2028, 1, 31)), uow(), LEAD)
    assert "23 February 2026" in str(err.value)
    # entry can still be closed and reopened (§3: not the period)
    assert markets.update_dps(m.DpsPatch(entry_open=False), uow(), LEAD)["entry_open"] is False


def test_before_the_freeze_a_pcr_dps_could_change_but_not_end_after_23_february_2029():
    mk = d.Market("dps-x", d.PCR2015, "Old DPS", (), d.DpsSettings(date(2024, 1, 1),
                  date(2028, 1, 1)), "WSCC", NOW)
    before = mk.settings
    d.check_period_change(mk, before, d.apply_dps_change(before, {"valid_to": date(2029, 2, 23)}),
                          date(2026, 2, 23))
    with pytest.raises(InvalidInput):
        d.check_period_change(mk, before, d.apply_dps_change(
            before, {"valid_to": date(2029, 2, 24)}), date(2026, 2, 23))
    with pytest.raises(Conflict):
        d.check_period_change(mk, before, d.apply_dps_change(
            before, {"valid_to": date(2027, 2, 23)}), date(2026, 2, 24))


def test_the_lead_is_warned_6_and_3_months_before_a_pcr_dps_expires_once_each():
    mk = d.Market("dps-x", d.PCR2015, "Old DPS", (), d.DpsSettings(date(2024, 1, 1),
                  date(2035, 1, 1)), "WSCC", NOW, state="established")
    assert mk.expires_on() == date(2029, 2, 23)
    assert mk.due_warnings(date(2028, 8, 22)) == []
    assert mk.due_warnings(date(2028, 8, 23)) == [6]
    mk.mark_warned(6)
    assert mk.due_warnings(date(2028, 9, 1)) == []
    assert mk.due_warnings(date(2028, 11, 23)) == [3]


def test_the_lead_digest_carries_the_expiry_warning(store, uow):
    at = datetime(2028, 8, 23, 9, 0, tzinfo=UTC)
    store.claim_digest_day = lambda day, when: True
    store.overdue_applications = store.reverifications_due = lambda day: []
    u = uow(at)
    assert digest.send_daily_digest(lambda: u, 7)
    sent = [e for e in u.events if e.event_type == "lead_digest"][0]
    assert [(w.dps_id, w.months_before) for w in sent.market_warnings] == [("dps-1", 6)]
    assert any(e.event_type == "market_expiry_warning" for e in u.events)


def test_an_ended_market_says_so_and_cannot_end_after_its_last_day(uow):
    mk = established(uow)
    with pytest.raises(InvalidInput):
        markets.end_market(m.MarketEnd(ended_on=date(2031, 1, 1)), uow(), LEAD,
                           dps_id=mk["dps_id"])
    u = uow()
    ended = markets.end_market(m.MarketEnd(), u, LEAD, dps_id=mk["dps_id"])
    assert (ended["state"], ended["status"]) == ("ended", "expired")
    assert [e.event_type for e in u.events] == ["market_ended"]


# ---- §11.2 the dynamic market ----------------------------------------------------------------


def test_conditions_of_membership_are_frozen_for_the_market_term(uow):
    sen = categories.get_category("SEN", uow())
    less = [c for c in sen["pass_fail_criteria"] if c != "COMPLIANCE"]
    new_market(uow)  # planned: not yet binding
    categories.update_category(m.CategoryPatch(min_invited=2), uow(), LEAD, code="SEN",
                               authorities={})
    established(uow)
    with pytest.raises(Conflict) as err:
        categories.update_category(m.CategoryPatch(pass_fail_criteria=less), uow(), LEAD,
                                   code="SEN", authorities={})
    assert "s.36(7)" in str(err.value) and err.value.errors[0]["loc"] == ["pass_fail_criteria"]
    with pytest.raises(Conflict):
        categories.update_category(
            m.CategoryPatch(insurance_minimums={"public_liability": "6000000.00"}), uow(), LEAD,
            code="SEN", authorities={})
    # weights, caps and tender settings are not conditions (§11.2)
    changed = categories.update_category(
        m.CategoryPatch(weighted_criteria_weights={"WORKFORCE": 40, "OUTCOMES_APPROACH": 30,
                                                   "PERFORMANCE_MONITORING": 30},
                        affordability_cap="9000.00", min_tender_period_hours=0),
        uow(), LEAD, code="SEN", authorities={})
    assert changed["min_tender_period_hours"] == 0
    # a category of no established dynamic market can change its conditions
    fc = categories.get_category("FOSTERCARE", uow())
    categories.update_category(
        m.CategoryPatch(pass_fail_criteria=fc["pass_fail_criteria"][:-1]), uow(), LEAD,
        code="FOSTERCARE", authorities={})


def _apply(uow, dps_id: str, with_insurance: bool = False) -> tuple[dict, dict]:
    est = establishments.create_establishment(
        m.EstablishmentCreate.model_validate(samples.establishment_body("Downs School")),
        uow(), P1)
    config = categories.get_category("SEN", uow())
    body = samples.application_body(config, est["id"], NOW.date())
    if not with_insurance:
        body["pass_fail"].pop("INSURANCE")
    app = applications.create_application(m.ApplicationCreate.model_validate(
        {**body, "dps_id": dps_id}), uow(), P1)
    return est, app


def _decide(uow, app_id: str) -> dict:
    config = categories.get_category("SEN", uow())
    body = samples.decision_body(config)
    body["pass_fail"].pop("INSURANCE")
    return applications.decide_application(m.Decision.model_validate(body), uow(), LEAD,
                                           application_id=app_id)


def test_insurance_is_not_asked_at_admission_but_checked_at_award(store, uow):
    mk = established(uow)
    est, app = _apply(uow, mk["dps_id"])
    assert app["dps_id"] == mk["dps_id"]
    submitted = applications.submit_application(app["id"], uow(), P1)  # no INSURANCE asked
    assert submitted["status"] == "submitted"
    with pytest.raises(Conflict) as err:  # ss.57, 62: the exclusion check first
        _decide(uow, app["id"])
    assert "debarment" in str(err.value)
    applications.record_exclusion_check(
        m.ExclusionCheck(debarment_list_checked=True), uow(), LEAD, application_id=app["id"])
    u = uow()
    config = categories.get_category("SEN", uow())
    body = samples.decision_body(config)
    body["pass_fail"].pop("INSURANCE")
    decided = applications.decide_application(m.Decision.model_validate(body), u, LEAD,
                                              application_id=app["id"])
    assert decided["status"] == "admitted" and decided["exclusion_check"]["debarred"] is False
    admitted = [e for e in u.events if e.event_type == "membership_admitted"][0]
    assert (admitted.dps_id, admitted.regime, admitted.part_number) == (
        mk["dps_id"], "PA2023_DYNAMIC_MARKET", 1)
    decided_event = [e for e in u.events if e.event_type == "application_decided"][0]
    assert decided_event.dps_id == mk["dps_id"]
    query = m.InsuranceQuery(establishment_id=est["id"], category="SEN", dps_id=mk["dps_id"])
    status = memberships.insurance_status(query, uow())
    assert status["current"] is False and "no insurance" in status["reason"]
    cover = m.Resubmission.model_validate(samples.evidence("INSURANCE", NOW.date()))
    memberships.renew_evidence(cover, uow(), P1, establishment_id=est["id"], category="SEN")
    assert memberships.insurance_status(query, uow())["current"] is True


def test_a_debarred_supplier_is_rejected_with_the_reason(uow):
    mk = established(uow)
    _, app = _apply(uow, mk["dps_id"])
    applications.submit_application(app["id"], uow(), P1)
    applications.record_exclusion_check(
        m.ExclusionCheck(debarment_list_checked=True, debarred=True), uow(), LEAD,
        application_id=app["id"])
    decided = _decide(uow, app["id"])
    assert decided["status"] == "rejected"
    assert "debarment list" in decided["decision"]["failures"][0]["reason"]


def test_under_pa2023_removal_only_after_the_supplier_was_told_the_reasons(store, uow):
    mk = established(uow)
    est, app = _apply(uow, mk["dps_id"])
    applications.submit_application(app["id"], uow(), P1)
    applications.record_exclusion_check(m.ExclusionCheck(debarment_list_checked=True), uow(),
                                        LEAD, application_id=app["id"])
    _decide(uow, app["id"])
    with pytest.raises(Conflict) as err:
        memberships.remove_membership(m.MembershipRemoval(reason="breach"), uow(), LEAD,
                                      establishment_id=est["id"], category="SEN")
    assert "s.37(4)" in str(err.value)
    u = uow()
    noticed = memberships.notify_removal(
        m.RemovalNotice(reasons="repeated safeguarding failures"), u, LEAD,
        establishment_id=est["id"], category="SEN")
    assert noticed["status"] == "suspended"  # no new referrals meanwhile (§4.5)
    assert {e.event_type for e in u.events} == {"membership_suspended",
                                                "membership_removal_notified"}
    u = uow()
    removed = memberships.remove_membership(m.MembershipRemoval(reason="removed"), u, LEAD,
                                            establishment_id=est["id"], category="SEN")
    assert removed["status"] == "removed"
    event = [e for e in u.events if e.event_type == "membership_removed"][0]
    assert event.reasons == "repeated safeguarding failures" and event.dps_id == mk["dps_id"]


def test_a_pcr_dps_membership_is_removed_without_a_notice_step(uow):
    config = categories.get_category("SEN", uow())
    est = establishments.create_establishment(
        m.EstablishmentCreate.model_validate(samples.establishment_body("Old School")), uow(), P1)
    app = applications.create_application(m.ApplicationCreate.model_validate(
        samples.application_body(config, est["id"], NOW.date())), uow(), P1)
    applications.submit_application(app["id"], uow(), P1)
    applications.decide_application(m.Decision.model_validate(samples.decision_body(config)),
                                    uow(), LEAD, application_id=app["id"])
    removed = memberships.remove_membership(m.MembershipRemoval(reason="closed"), uow(), LEAD,
                                            establishment_id=est["id"], category="SEN")
    assert removed["status"] == "removed" and removed["dps_id"] == "dps-1"


@pytest.mark.parametrize("ppon", ["PBCP-5168-ZDGP", "PDVN-2763-QYHT"])
def test_a_ppon_is_recorded(ppon):
    body = m.ProviderCreate(name="Downs Trust", contact_email="a@b.example", ppon=ppon,
                            companies_house_number="01234567")
    assert body.ppon == ppon


@pytest.mark.parametrize("ppon", ["PBCP5168ZDGP", "pbcp-5168-zdgp", "XBCP-5168-ZDGP",
                                  "PBCP-516-ZDGP", "GB-PPON-PBCP-5168-ZDGP"])
def test_a_malformed_ppon_is_refused(ppon):
    with pytest.raises(ValidationError):
        m.ProviderCreate(name="Downs Trust", contact_email="a@b.example", ppon=ppon)
    with pytest.raises(InvalidInput):
        d.check_ppon(ppon.replace("pbcp", "xbcp"))


# ---- §11.1 migration -------------------------------------------------------------------------


def test_migration_invites_each_admitted_establishment_with_a_prefilled_application(store,
                                                                                   uow):
    config = categories.get_category("SEN", uow())
    est = establishments.create_establishment(
        m.EstablishmentCreate.model_validate(samples.establishment_body("Old School")), uow(), P1)
    old = applications.create_application(m.ApplicationCreate.model_validate(
        samples.application_body(config, est["id"], NOW.date())), uow(), P1)
    applications.submit_application(old["id"], uow(), P1)
    applications.decide_application(m.Decision.model_validate(samples.decision_body(config)),
                                    uow(), LEAD, application_id=old["id"])
    u = uow()
    new = markets.migrate_market(
        m.MarketMigrate(title="Dynamic market", valid_from=date(2026, 12, 1),
                        valid_to=date(2030, 11, 30)), u, LEAD, dps_id="dps-1",
        lead_authority="WSCC")
    assert new["migrated_from"] == "dps-1" and new["state"] == "established"
    assert [p["category"] for p in new["parts"]] == list(d.CATEGORIES)
    invitation = [e for e in u.events if e.event_type == "market_invitation"]
    assert [(i.establishment_id, i.category) for i in invitation] == [(est["id"], "SEN")]
    draft = applications.get_application(invitation[0].application_id, uow(), P1)
    assert draft["status"] == "draft" and draft["dps_id"] == new["dps_id"]
    assert draft["copied_from"] == old["id"]
    assert "INSURANCE" not in draft["pass_fail"]  # s.36(2): not a condition
    assert draft["core_costs"] == old["core_costs"]
    with pytest.raises(Conflict):  # only a PCR DPS is migrated
        markets.migrate_market(
            m.MarketMigrate(title="x", valid_from=date(2026, 12, 1), valid_to=date(2027, 1, 1)),
            uow(), LEAD, dps_id=new["dps_id"], lead_authority="WSCC")


def test_the_lead_may_withdraw_an_intended_removal_after_the_supplier_answers(uow):
    mk = established(uow)
    est, app = _apply(uow, mk["dps_id"])
    applications.submit_application(app["id"], uow(), P1)
    applications.record_exclusion_check(m.ExclusionCheck(debarment_list_checked=True), uow(),
                                        LEAD, application_id=app["id"])
    _decide(uow, app["id"])
    memberships.notify_removal(m.RemovalNotice(reasons="late returns"), uow(), LEAD,
                               establishment_id=est["id"], category="SEN")
    back = memberships.reinstate_membership(None, uow(), LEAD, establishment_id=est["id"],
                                            category="SEN")
    assert back["status"] == "admitted"
    assert back["history"][-1]["reason"] == "the intended removal withdrawn (s.37(4))"
    with pytest.raises(Conflict):  # a new notice is needed before any removal
        memberships.remove_membership(m.MembershipRemoval(reason="x"), uow(), LEAD,
                                      establishment_id=est["id"], category="SEN")


def test_a_dynamic_market_membership_is_not_suspended_for_insurance(uow):
    mk = established(uow)
    est, app = _apply(uow, mk["dps_id"])
    applications.submit_application(app["id"], uow(), P1)
    applications.record_exclusion_check(m.ExclusionCheck(debarment_list_checked=True), uow(),
                                        LEAD, application_id=app["id"])
    _decide(uow, app["id"])
    with pytest.raises(InvalidInput) as err:
        memberships.suspend_membership(
            m.SuspendRequest(criterion="INSURANCE", reason="lapsed"), uow(), LEAD,
            establishment_id=est["id"], category="SEN")
    assert "s.36(2)" in str(err.value)
    cover = m.Resubmission.model_validate(samples.evidence("INSURANCE", NOW.date()))
    memberships.renew_evidence(cover, uow(), P1, establishment_id=est["id"], category="SEN")
    e = uow().store.establishments.get(est["id"])
    expires = e.membership("SEN").evidence["INSURANCE"].expires_on
    later = datetime.combine(expires, datetime.min.time(), UTC).replace(hour=12)
    exempt = {mk["dps_id"]: frozenset({"INSURANCE"})}
    assert "INSURANCE" not in {s.criterion for s in e.suspend_expired_evidence(later, exempt)}
    assert "INSURANCE" in {s.criterion for s in e.suspend_expired_evidence(later)}  # PCR: does


def test_sending_back_the_period_as_get_dps_shows_it_is_no_change():
    """GET /dps shows a PCR DPS stored as ending in 2035 as ending on 23 February 2029
    (SI 2024/716 reg 5): a form that sends that back unchanged is not refused."""
    mk = d.Market("dps-x", d.PCR2015, "Old DPS", (), d.DpsSettings(date(2024, 1, 1),
                  date(2035, 1, 1)), "WSCC", NOW, state="established")
    before = mk.settings
    shown = d.apply_dps_change(before, {"valid_to": mk.expires_on()})
    d.check_period_change(mk, before, shown, date(2026, 12, 2))
    with pytest.raises(Conflict):
        d.check_period_change(mk, before, d.apply_dps_change(
            before, {"valid_to": date(2028, 12, 31)}), date(2026, 12, 2))
