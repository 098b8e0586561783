"""The qualification handlers with a fake unit of work and an in-memory store (issue 9):
results, events put in the outbox, audit records (RULES §9) and what is stored."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers import (
    applications,
    categories,
    eligibility,
    establishments,
    evidence,
    memberships,
    providers,
    reviews,
    uplifts,
)
from tests.support import qualification_samples as samples
from tests.support.fake_uow import FakeUnitOfWork
from tests.support.qualification_fakes import FakeStore

LEAD = {"id": "k-lead", "role": "lead", "authority": "WSCC", "provider_id": None}
CM = {"id": "k-cm", "role": "contract_manager", "authority": None, "provider_id": None}
KCC = {"id": "k-kcc", "role": "commissioner", "authority": "KCC", "provider_id": None}
P1 = {"id": "k-p1", "role": "provider", "authority": None, "provider_id": "p-1"}
P2 = {"id": "k-p2", "role": "provider", "authority": None, "provider_id": "p-2"}


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def uow(store):
    """``uow()``: a fresh fake unit of work on the shared store (one per call)."""
    made: list[FakeUnitOfWork] = []

    def make() -> FakeUnitOfWork:
        made.append(FakeUnitOfWork(store=store))
        return made[-1]

    make.made = made
    return make


def today(u: FakeUnitOfWork):
    return d.london_date(u.now())


def sen(uow) -> dict:
    return categories.get_category("SEN", uow())


def register(uow, principal=P1, name="Downs School", **kw) -> dict:
    body = m.EstablishmentCreate.model_validate(samples.establishment_body(name, **kw))
    return establishments.create_establishment(body, uow(), principal)


def admit(uow, principal=P1, **kw) -> tuple[dict, dict]:
    est = register(uow, principal, **kw)
    config = sen(uow)
    u = uow()
    body = m.ApplicationCreate.model_validate(samples.application_body(config, est["id"], today(u)))
    app = applications.create_application(body, u, principal)
    applications.submit_application(app["id"], uow(), principal)
    decision = m.Decision.model_validate(samples.decision_body(config))
    decided = applications.decide_application(decision, uow(), LEAD, application_id=app["id"])
    return est, decided


# ---- providers, the DPS and categories (§2, §3) ------------------------------------------


def test_a_provider_registers_openly_and_is_announced(store, uow):
    u = uow()
    body = m.ProviderCreate(name="Downs Trust", contact_email="office@downs.example.org")
    view = providers.create_provider(body, u)
    assert store.providers[view["id"]]["name"] == "Downs Trust"
    assert u.event_types() == ["provider_registered"]
    assert [a["action"] for a in u.audits] == ["provider.registered"]
    assert providers.get_provider(view["id"], uow())["name"] == "Downs Trust"
    assert providers.get_provider("nope", uow()) is None


def test_the_lead_changes_the_dps_and_a_provider_may_not(store, uow):
    u = uow()
    view = categories.update_dps(m.DpsPatch(entry_open=False), u, LEAD)
    assert view["entry_open"] is False and store.dps().entry_open is False
    assert u.audits[0]["action"] == "dps.changed" and u.audits[0]["after"]["version"] == 2
    with pytest.raises(Forbidden):
        categories.update_dps(m.DpsPatch(entry_open=True), uow(), P1)
    assert store.dps().entry_open is False


def test_a_category_change_makes_the_next_version(store, uow):
    u = uow()
    patch = m.CategoryPatch.model_validate({"min_invited": 4})
    view = categories.update_category(patch, u, LEAD, code="SEN",
                                      authorities={"WSCC": "West Sussex"})
    assert view["version"] == 2 and view["min_invited"] == 4
    assert categories.get_category("SEN", uow(), version=1)["version"] == 1
    assert u.audits[0]["action"] == "category.changed"
    with pytest.raises(NotFound):
        categories.get_category("SEN", uow(), version=9)
    with pytest.raises(Forbidden):
        categories.update_category(patch, uow(), CM, code="SEN", authorities={})


# ---- establishments (§4, §10) -----------------------------------------------------------


def test_a_provider_registers_an_establishment_and_another_cannot_see_it(store, uow):
    u = uow()
    est = register(lambda: u)
    assert est["provider_id"] == "p-1" and est["id"] in store.establishments.rows
    assert u.event_types() == []  # nobody is told before it applies (§8)
    assert u.audits[0]["action"] == "establishment.registered"
    with pytest.raises(NotFound):
        establishments.get_establishment(est["id"], uow(), P2)
    with pytest.raises(NotFound):  # a commissioner reads admitted establishments only
        establishments.get_establishment(est["id"], uow(), KCC)
    with pytest.raises(Forbidden):
        register(uow, LEAD)


def test_the_establishment_list_is_scoped_by_section_10(store, uow):
    own = register(uow, P1, name="Own")
    register(uow, P2, name="Other")
    q = m.EstablishmentQuery.model_validate({})
    assert [e["id"] for e in establishments.list_establishments(q, uow(), P1)["items"]] == [
        own["id"]]
    assert len(establishments.list_establishments(q, uow(), LEAD)["items"]) == 2
    assert establishments.list_establishments(q, uow(), KCC)["items"] == []
    suspended = m.EstablishmentQuery.model_validate({"status": "suspended"})
    assert establishments.list_establishments(suspended, uow(), KCC) == {
        "items": [], "next_cursor": None}


# ---- applications (§4, §4.3) ------------------------------------------------------------


def test_an_application_is_submitted_and_decided_into_a_membership(store, uow):
    est, decided = admit(uow)
    assert decided["status"] == "admitted"
    stored = store.establishments.rows[est["id"]]
    assert stored.membership("SEN").state == "admitted"
    assert stored.membership("SEN").competency == Decimal("79.00")
    decide = uow.made[-1]
    assert "membership_admitted" in decide.event_types()
    assert [a["action"] for a in decide.audits] == ["application.decided",
                                                    "membership.admitted"]
    assert decide.committed == 1


def test_an_application_cannot_be_decided_twice_nor_by_a_provider(store, uow):
    est, decided = admit(uow)
    decision = m.Decision.model_validate(samples.decision_body(sen(uow)))
    with pytest.raises(Conflict, match="only a submitted application can be decided"):
        applications.decide_application(decision, uow(), LEAD, application_id=decided["id"])
    with pytest.raises(Forbidden):
        applications.decide_application(decision, uow(), P1, application_id=decided["id"])
    with pytest.raises(NotFound):
        applications.get_application(decided["id"], uow(), P2)


def test_an_application_for_another_providers_establishment_is_refused(store, uow):
    est = register(uow, P2)
    u = uow()
    body = m.ApplicationCreate.model_validate(
        samples.application_body(sen(uow), est["id"], today(u)))
    with pytest.raises(InvalidInput):
        applications.create_application(body, u, P1)
    assert store.applications.rows == {} and u.committed == 0


# ---- memberships (§4.5) -----------------------------------------------------------------


def test_the_lead_suspends_a_membership_and_a_provider_may_not(store, uow):
    est, _ = admit(uow)
    u = uow()
    body = m.SuspendRequest(criterion="INSURANCE", reason="policy lapsed")
    view = memberships.suspend_membership(body, u, LEAD, establishment_id=est["id"],
                                          category="SEN")
    assert view["status"] == "suspended"
    assert store.establishments.rows[est["id"]].membership("SEN").state == "suspended"
    assert u.event_types() == ["membership_suspended"]
    assert [a["action"] for a in u.audits] == ["membership.suspended"]
    with pytest.raises(Forbidden):
        memberships.suspend_membership(body, uow(), P1, establishment_id=est["id"],
                                       category="SEN")
    with pytest.raises(NotFound):
        memberships.suspend_membership(body, uow(), LEAD, establishment_id=est["id"],
                                       category="NOPE")


# ---- eligibility and standings (§5, §6.2) --------------------------------------------------


def test_eligibility_for_the_callers_authority_and_standings(store, uow):
    est, _ = admit(uow)
    q = m.EligibleQuery.model_validate({"category": "SEN", "lat": samples.BRIGHTON[0],
                                        "lon": samples.BRIGHTON[1], "radius_miles": 5})
    found = eligibility.list_eligible(q, uow(), KCC)["items"]
    assert [e["establishment_id"] for e in found] == [est["id"]]
    with pytest.raises(Forbidden):
        eligibility.list_eligible(q, uow(), P1)
    standings = eligibility.standings(
        m.StandingsQuery(category="SEN", establishment_ids=[est["id"], "gone"]), uow())
    assert standings[est["id"]]["admitted"] is True
    assert standings["gone"]["admitted"] is False and standings["gone"]["status"] is None


# ---- uplifts (§7.2) and performance reviews (§7.4) ---------------------------------------------


def _uplift(est_today, **kw) -> m.UpliftRequest:
    return m.UpliftRequest.model_validate({
        "uplift_id": "u-1", "category": "SEN", "cost_head": "staff_related", "percent": "3.1",
        "effective_from": est_today.isoformat(), **kw})


def test_an_uplift_applies_once_by_its_id(store, uow):
    est, _ = admit(uow)
    u = uow()
    result = uplifts.apply_uplift(_uplift(today(u)), u, None)
    assert result["applied"] == [est["id"]] and result["already_applied"] is False
    assert u.event_types() == ["core_costs_changed"]
    assert [a["action"] for a in u.audits] == ["membership.core_costs_changed", "uplift.applied"]
    again = uplifts.apply_uplift(_uplift(today(u)), uow(), CM)
    assert again["already_applied"] is True and again["applied"] == [est["id"]]
    costs = store.establishments.rows[est["id"]].membership("SEN").costs_on(today(u))
    assert costs["staff_related"] == Decimal("309.30")  # 300.00 + 3.1%


def test_an_uplift_of_an_unknown_head_is_refused_and_a_provider_may_not_uplift(store, uow):
    admit(uow)
    u = uow()
    with pytest.raises(InvalidInput):
        uplifts.apply_uplift(_uplift(today(u), cost_head="nope"), u, None)
    assert store.uplifts == {} and u.events == []
    with pytest.raises(Forbidden):
        uplifts.apply_uplift(_uplift(today(u)), uow(), P1)


def test_a_refused_uplift_set_event_is_logged_not_raised(store, uow):
    admit(uow)
    u = uow()
    event = m.UpliftSet.model_validate({"uplift_id": "u-2", "category": "SEN",
                                        "cost_head": "nope", "percent": "2",
                                        "effective_from": today(u).isoformat()})
    uplifts.on_uplift_set(event, u)  # no exception: the event is acknowledged
    u.commit()
    assert u.events == [] and store.uplifts == {}


def test_a_performance_review_moves_the_competency_once_per_period(store, uow):
    est, _ = admit(uow)
    u = uow()
    day = today(u)
    event = m.PerformanceReviewed.model_validate({
        "establishment_id": est["id"], "category": "SEN",
        "period_start": (day - timedelta(days=180)).isoformat(), "period_end": day.isoformat(),
        "performance_index": "100.00", "reviews_count": 3})
    reviews.on_performance_reviewed(event, u)
    u.commit()
    assert store.establishments.rows[est["id"]].membership("SEN").competency == Decimal("89.00")
    assert u.event_types() == ["competency_changed"]
    assert [a["action"] for a in u.audits] == ["membership.competency_moved"]
    unknown = event.model_copy(update={"establishment_id": "gone"})
    u2 = uow()
    reviews.on_performance_reviewed(unknown, u2)
    assert u2._pending_events == [] and u2._pending_audits == []


# ---- the evidence timer (§4.5) ----------------------------------------------------------------


def test_the_evidence_timer_suspends_on_expiry_one_establishment_per_unit_of_work(store, uow):
    est, _ = admit(uow)
    ms = store.establishments.rows[est["id"]].membership("SEN")
    expiry = min(a.expires_on for a in ms.evidence.values() if a.expires_on)
    clock_day = expiry

    def later() -> FakeUnitOfWork:
        u = uow()
        u.clock.at = u.clock.now().replace(year=clock_day.year, month=clock_day.month,
                                           day=clock_day.day)
        return u

    counts = evidence.check_evidence(later, batch=10)
    assert counts["establishments"] == 1 and counts["suspended"] == 1
    assert store.establishments.rows[est["id"]].membership("SEN").state == "suspended"
    assert "membership_suspended" in uow.made[-2].event_types()
    assert evidence.check_evidence(later, batch=10).get("suspended", 0) == 0


# ---- more establishment and application use cases ----------------------------------------


def test_details_change_is_audited_and_another_provider_gets_404(store, uow):
    est = register(uow)
    u = uow()
    patch = m.EstablishmentUpdate.model_validate({"capacity": 55})
    view = establishments.update_establishment(patch, u, P1, establishment_id=est["id"])
    assert view["capacity"] == 55 and store.establishments.rows[est["id"]].capacity == 55
    assert u.audits[0]["action"] == "establishment.changed"
    assert (u.audits[0]["before"]["capacity"], u.audits[0]["after"]["capacity"]) == (40, 55)
    with pytest.raises(NotFound):
        establishments.update_establishment(patch, uow(), P2, establishment_id=est["id"])
    with pytest.raises(Forbidden):
        establishments.update_establishment(patch, uow(), CM, establishment_id=est["id"])


def test_an_inadequate_inspection_suspends_at_once(store, uow):
    est, _ = admit(uow)
    u = uow()
    body = m.InspectionCreate.model_validate(
        {"body": "OFSTED", "grade": "INADEQUATE", "date": today(u).isoformat()})
    view = establishments.record_inspection(body, u, LEAD, establishment_id=est["id"])
    assert view["memberships"][0]["status"] == "suspended"
    assert [a["action"] for a in u.audits] == ["establishment.inspection_recorded",
                                               "membership.suspended"]
    assert "membership_suspended" in u.event_types()
    with pytest.raises(Forbidden):
        establishments.record_inspection(body, uow(), P1, establishment_id=est["id"])


def test_a_copy_makes_drafts_for_the_providers_own_establishments_only(store, uow):
    first = register(uow, name="First")
    second = register(uow, name="Second")
    other = register(uow, P2, name="Other")
    u = uow()
    body = m.ApplicationCreate.model_validate(
        samples.application_body(sen(uow), first["id"], today(u)))
    source = applications.create_application(body, u, P1)
    u = uow()
    copied = applications.copy_application(
        m.ApplicationCopy(establishment_ids=[second["id"]]), u, P1,
        application_id=source["id"])
    assert [a["establishment_id"] for a in copied["items"]] == [second["id"]]
    assert u.audits[0]["after"]["copied_from"] == source["id"]
    with pytest.raises(InvalidInput):
        applications.copy_application(m.ApplicationCopy(establishment_ids=[other["id"]]),
                                      uow(), P1, application_id=source["id"])
    assert len(store.applications.rows) == 2


def test_the_export_is_for_the_lead_and_the_contract_manager(store, uow):
    est, _ = admit(uow)
    out = establishments.export_establishments(m.ExportQuery.model_validate({}), uow(), CM)
    assert [e["id"] for e in out["items"]] == [est["id"]]
    assert [ms["status"] for ms in out["items"][0]["memberships"]] == ["admitted"]
    with pytest.raises(Forbidden):
        establishments.export_establishments(m.ExportQuery.model_validate({}), uow(), KCC)
