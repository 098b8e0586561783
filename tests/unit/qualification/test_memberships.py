"""§4.5 memberships: suspension, resubmission, reinstatement, removal, inspections,
evidence expiry and yearly re-verification, with full history."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.common.errors import Conflict, InvalidInput, NotFound
from services.qualification import messages as m
from services.qualification.domain import (
    MEMBERSHIP_TRANSITIONS,
    InspectionJudgement,
)
from tests.support.qualification_builders import (
    INSURANCE_EXPIRY,
    NOW,
    TODAY,
    admitted,
    answer,
    configs,
    establishment,
)

CFG = configs()
SEN = CFG["SEN"]
LATER = NOW + timedelta(days=7)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def locs(err) -> list[list]:
    return [e["loc"] for e in err.value.errors]


def kinds(ms) -> list[str]:
    return [s.kind for s in ms.milestones]


def renewed_insurance(expires_on=date(2028, 1, 31)):
    return answer("INSURANCE", expires_on=expires_on, evidence="https://evidence.example.org/new")


# --- admission --------------------------------------------------------------------------------


def test_admission_creates_a_membership_with_everything_a_referral_needs():
    est, ms = admitted(SEN)
    assert ms.admitted_on == TODAY and ms.state == "admitted"
    assert ms.reverification_due_on == date(2027, 3, 2)
    assert ms.cost_on("premises", TODAY) == Decimal("300.00")
    assert kinds(ms) == ["admitted"]
    (event,) = est.events
    assert isinstance(event, m.MembershipAdmitted)
    payload = event.model_dump(mode="json")
    assert payload["membership_id"] == ms.id and payload["category"] == "SEN"
    assert payload["core_costs"]["premises"] == "300.00"
    assert payload["total_weekly_core_cost"] == "2700.00"
    assert payload["location"] == {"lat": 50.8225, "lon": -0.1372}
    assert payload["cohort_discounts"][1] == {"min_children": 3, "percent": 8.0}
    assert payload["contacts"][0]["sms_opt_in"] is True


def test_membership_lookup():
    est = establishment()
    with pytest.raises(NotFound):
        est.membership("SEN")
    assert est.current_membership("SEN") is None


# --- manual suspension (§4.5) -----------------------------------------------------------------


def test_the_lead_suspends_for_a_failed_pass_fail_criterion():
    est, ms = admitted(SEN)
    est.events.clear()
    event = est.suspend("SEN", "INSURANCE", "policy cancelled by insurer", SEN, LATER)
    assert ms.state == "suspended"
    assert list(ms.open_failures) == ["INSURANCE"]
    step = ms.milestones[-1]
    assert (step.kind, step.at, step.by, step.criterion, step.reason) == (
        "suspended",
        LATER,
        "lead",
        "INSURANCE",
        "policy cancelled by insurer",
    )
    assert est.events == [event]
    assert (event.criterion, event.suspended_by, event.suspended_on) == (
        "INSURANCE",
        "lead",
        date(2026, 3, 9),
    )
    assert event.contacts[0].email == "ann@downs-school.org.uk"


@pytest.mark.parametrize(
    ("criterion", "reason", "loc"),
    [
        ("LATE_PAYMENT", "invoices", ["criterion"]),
        ("AFFORDABILITY", "too dear", ["criterion"]),
        ("INSURANCE", " ", ["reason"]),
    ],
)
def test_a_suspension_for_any_other_reason_is_refused(criterion, reason, loc):
    """§4.5: an authority cannot ask for a suspension for any other reason."""
    est, ms = admitted(SEN)
    with pytest.raises(InvalidInput) as err:
        est.suspend("SEN", criterion, reason, SEN, LATER)
    assert locs(err) == [loc]
    assert ms.state == "admitted"


def test_a_criterion_of_another_category_is_refused():
    foster = CFG["FOSTERCARE"]
    est, _ = admitted(foster)
    with pytest.raises(InvalidInput) as err:
        est.suspend("FOSTERCARE", "DFE_REGISTRATION", "lapsed", foster, LATER)
    assert locs(err) == [["criterion"]]


def test_a_second_criterion_adds_a_failure_and_the_same_one_is_refused():
    est, ms = admitted(SEN)
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER)
    est.suspend("SEN", "FINANCIAL", "administration", SEN, LATER)
    assert list(ms.open_failures) == ["INSURANCE", "FINANCIAL"]
    with pytest.raises(Conflict):
        est.suspend("SEN", "INSURANCE", "again", SEN, LATER)


# --- resubmission and reinstatement (§4.5) ----------------------------------------------------


def test_resubmission_then_reinstatement_keeps_the_history():
    est, ms = admitted(SEN)
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER)
    new = renewed_insurance()
    est.resubmit("SEN", "INSURANCE", new, SEN, LATER + timedelta(days=1))
    assert list(ms.pending_resubmissions) == ["INSURANCE"]
    assert ms.state == "suspended"
    est.events.clear()
    event = est.reinstate("SEN", SEN, LATER + timedelta(days=2))
    assert ms.state == "admitted" and ms.open_failures == {}
    assert ms.evidence["INSURANCE"] == new
    assert kinds(ms) == ["admitted", "suspended", "resubmitted", "reinstated"]
    assert isinstance(event, m.MembershipReinstated) and est.events == [event]
    assert event.criteria == ["INSURANCE"] and event.total_weekly_core_cost == Decimal("2700.00")
    # a new suspension starts a new episode
    est.suspend("SEN", "INSURANCE", "cancelled again", SEN, LATER + timedelta(days=30))
    with pytest.raises(Conflict):
        est.reinstate("SEN", SEN, LATER + timedelta(days=31))


def test_resubmission_only_while_suspended_and_only_for_the_failed_criterion():
    est, ms = admitted(SEN)
    with pytest.raises(Conflict):
        est.resubmit("SEN", "INSURANCE", renewed_insurance(), SEN, LATER)
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER)
    with pytest.raises(Conflict):
        est.resubmit("SEN", "FINANCIAL", answer("FINANCIAL"), SEN, LATER)
    assert ms.pending_resubmissions == {}


@pytest.mark.parametrize(
    ("new", "loc"),
    [
        (renewed_insurance(expires_on=LATER.date()), ["expires_on"]),
        (renewed_insurance(expires_on=None), ["expires_on"]),
        (replace(renewed_insurance(), evidence=""), ["evidence"]),
        (
            replace(
                renewed_insurance(),
                cover={
                    "employers_liability": Decimal("9999999.99"),
                    "public_liability": Decimal("5000000.00"),
                    "professional_liability": Decimal("2000000.00"),
                },
            ),
            ["cover", "employers_liability"],
        ),
    ],
)
def test_resubmitted_evidence_must_hold(new, loc):
    est, ms = admitted(SEN)
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER)
    with pytest.raises(InvalidInput) as err:
        est.resubmit("SEN", "INSURANCE", new, SEN, LATER)
    assert locs(err) == [loc]


def test_reinstatement_needs_a_resubmission_for_every_failed_criterion():
    est, ms = admitted(SEN)
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER)
    est.suspend("SEN", "FINANCIAL", "administration", SEN, LATER)
    est.resubmit("SEN", "INSURANCE", renewed_insurance(), SEN, LATER)
    with pytest.raises(Conflict, match="FINANCIAL"):
        est.reinstate("SEN", SEN, LATER)
    est.resubmit("SEN", "FINANCIAL", answer("FINANCIAL", evidence="new accounts"), SEN, LATER)
    est.reinstate("SEN", SEN, LATER)
    assert ms.state == "admitted"
    assert ms.evidence["FINANCIAL"].evidence == "new accounts"


def test_reinstatement_refused_when_resubmitted_evidence_has_since_expired():
    est, _ = admitted(SEN)
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER)
    est.resubmit("SEN", "INSURANCE", renewed_insurance(date(2026, 4, 1)), SEN, LATER)
    with pytest.raises(Conflict):
        est.reinstate("SEN", SEN, at(date(2026, 4, 1)))


# --- state machine (§4.5) ---------------------------------------------------------------------


def test_the_only_legal_membership_transitions():
    legal = {(a, b) for a, targets in MEMBERSHIP_TRANSITIONS.items() for b in targets}
    assert legal == {
        ("admitted", "suspended"),
        ("suspended", "admitted"),
        ("admitted", "removed"),
        ("suspended", "removed"),
    }


def _membership_in(state):
    est, ms = admitted(SEN)
    if state in ("suspended", "removed"):
        est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER)
        est.resubmit("SEN", "INSURANCE", renewed_insurance(), SEN, LATER)
    if state == "removed":
        est.remove("SEN", "persistent failure", LATER)
    assert ms.state == state
    return est, ms


TO = {
    "suspended": lambda est: est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER),
    "admitted": lambda est: est.reinstate("SEN", SEN, LATER),
    "removed": lambda est: est.remove("SEN", "left the market", LATER),
}


@pytest.mark.parametrize("source", ["admitted", "suspended", "removed"])
@pytest.mark.parametrize("target", ["admitted", "suspended", "removed"])
def test_every_illegal_membership_transition_is_refused(source, target):
    est, ms = _membership_in(source)
    history = list(ms.milestones)
    if target in MEMBERSHIP_TRANSITIONS[source]:
        TO[target](est)
        assert ms.state == target
        assert ms.milestones[: len(history)] == history
    else:
        with pytest.raises(Conflict):
            TO[target](est)
        assert ms.state == source and ms.milestones == history


def test_removal_needs_a_reason_and_is_recorded():
    est, ms = admitted(SEN)
    with pytest.raises(InvalidInput):
        est.remove("SEN", "", LATER)
    event = est.remove("SEN", "provider closed", LATER)
    assert isinstance(event, m.MembershipRemoved) and event.reason == "provider closed"
    assert est.current_membership("SEN") is None and est.membership("SEN") is ms
    with pytest.raises(Conflict):
        est.resubmit("SEN", "INSURANCE", renewed_insurance(), SEN, LATER)


# --- inspections (§4.1, §4.5) -----------------------------------------------------------------


def test_an_inadequate_judgement_suspends_every_category_with_inspection_at_once():
    est, sen_ms = admitted(SEN)
    _, res_ms = admitted(CFG["RESIDENTIAL"], est=est)
    _, alt_ms = admitted(CFG["ALT_EDUCATION"], est=est)
    est.events.clear()
    events = est.record_inspection(
        InspectionJudgement("OFSTED", "INADEQUATE", date(2026, 3, 5)), CFG, LATER
    )
    assert [e.category for e in events] == ["SEN", "RESIDENTIAL"]
    assert sen_ms.state == res_ms.state == "suspended"
    assert alt_ms.state == "admitted"  # no INSPECTION criterion (§2: often unregulated)
    assert {e.criterion for e in events} == {"INSPECTION"}
    assert events[0].suspended_by == "system"
    assert "INADEQUATE" in events[0].reason
    assert est.events == events


@pytest.mark.parametrize("grade", ["OUTSTANDING", "GOOD", "REQUIRES_IMPROVEMENT"])
def test_other_grades_are_recorded_without_suspension(grade):
    est, ms = admitted(SEN)
    assert (
        est.record_inspection(InspectionJudgement("ISI", grade, date(2026, 3, 5)), CFG, LATER) == []
    )
    assert ms.state == "admitted" and est.inspections[-1].grade == grade


def test_an_older_inadequate_judgement_does_not_suspend():
    est, ms = admitted(SEN)
    est.record_inspection(InspectionJudgement("OFSTED", "GOOD", date(2026, 3, 1)), CFG, LATER)
    assert (
        est.record_inspection(
            InspectionJudgement("OFSTED", "INADEQUATE", date(2025, 1, 1)), CFG, LATER
        )
        == []
    )
    assert ms.state == "admitted"


@pytest.mark.parametrize(
    ("judgement", "loc"),
    [
        (InspectionJudgement("OFSTED", "GOOD", date(2026, 3, 10)), ["date"]),
        (InspectionJudgement("OFSTED", "EXCELLENT", date(2026, 3, 1)), ["grade"]),
        (InspectionJudgement("HMI", "GOOD", date(2026, 3, 1)), ["body"]),
    ],
)
def test_an_invalid_judgement_is_refused(judgement, loc):
    est, _ = admitted(SEN)
    with pytest.raises(InvalidInput) as err:
        est.record_inspection(judgement, CFG, LATER)
    assert locs(err) == [loc]
    assert est.inspections == []


def test_reinstatement_after_inadequate_needs_a_better_latest_judgement():
    est, ms = admitted(SEN)
    est.record_inspection(InspectionJudgement("OFSTED", "INADEQUATE", date(2026, 3, 5)), CFG, LATER)
    est.resubmit("SEN", "INSPECTION", answer("INSPECTION", evidence="action plan"), SEN, LATER)
    with pytest.raises(Conflict, match="INADEQUATE"):
        est.reinstate("SEN", SEN, LATER)
    with pytest.raises(InvalidInput) as err:
        est.resubmit(
            "SEN",
            "INSPECTION",
            answer(
                "INSPECTION",
                judgement=InspectionJudgement("OFSTED", "INADEQUATE", date(2026, 3, 8)),
            ),
            SEN,
            LATER,
        )
    assert locs(err) == [["judgement", "grade"]]
    monitoring = InspectionJudgement("OFSTED", "REQUIRES_IMPROVEMENT", date(2026, 3, 8))
    est.resubmit("SEN", "INSPECTION", answer("INSPECTION", judgement=monitoring), SEN, LATER)
    est.reinstate("SEN", SEN, LATER)
    assert ms.state == "admitted" and est.latest_judgement() == monitoring


# --- evidence expiry (§4.5, §8) ---------------------------------------------------------------


def test_expiry_reminder_goes_out_30_days_ahead_once_per_item_and_date():
    est, ms = admitted(SEN)  # insurance expires 2027-01-31
    est.events.clear()
    assert est.remind_expiring_evidence(at(INSURANCE_EXPIRY - timedelta(days=31))) == []
    (event,) = est.remind_expiring_evidence(at(INSURANCE_EXPIRY - timedelta(days=30)))
    assert isinstance(event, m.EvidenceExpiring)
    assert (event.criterion, event.expires_on, event.days_left) == (
        "INSURANCE",
        INSURANCE_EXPIRY,
        30,
    )
    assert event.contacts[0].phone == "+44 7700 900123"
    assert est.events == [event]
    assert est.remind_expiring_evidence(at(INSURANCE_EXPIRY - timedelta(days=29))) == []
    assert est.expiring_evidence(INSURANCE_EXPIRY - timedelta(days=1)) == []
    # renewed, then the new date gets its own reminder
    est.renew_evidence(
        "SEN", "INSURANCE", renewed_insurance(date(2028, 1, 31)), SEN, at(date(2027, 1, 10))
    )
    assert est.remind_expiring_evidence(at(date(2027, 12, 31))) == []
    assert len(est.remind_expiring_evidence(at(date(2028, 1, 1)))) == 1


def test_late_evidence_is_reminded_at_the_next_check_and_not_on_or_after_expiry():
    est, ms = admitted(SEN)
    assert [c for _, c, _ in est.expiring_evidence(INSURANCE_EXPIRY - timedelta(days=5))] == [
        "INSURANCE"
    ]
    assert est.expiring_evidence(INSURANCE_EXPIRY) == []


def test_unrenewed_evidence_suspends_on_its_expiry_date():
    est, ms = admitted(SEN)
    assert est.suspend_expired_evidence(at(INSURANCE_EXPIRY - timedelta(days=1))) == []
    assert ms.state == "admitted"
    est.events.clear()
    (event,) = est.suspend_expired_evidence(at(INSURANCE_EXPIRY))
    assert ms.state == "suspended" and list(ms.open_failures) == ["INSURANCE"]
    assert (event.criterion, event.suspended_by) == ("INSURANCE", "system")
    assert "2027-01-31" in event.reason
    assert est.suspend_expired_evidence(at(INSURANCE_EXPIRY + timedelta(days=1))) == []
    assert est.events == [event]
    # no reminder for evidence already failed
    assert est.expiring_evidence(INSURANCE_EXPIRY - timedelta(days=10)) == []


def test_renewed_evidence_does_not_suspend():
    est, ms = admitted(SEN)
    est.renew_evidence("SEN", "INSURANCE", renewed_insurance(), SEN, at(date(2027, 1, 20)))
    assert est.suspend_expired_evidence(at(INSURANCE_EXPIRY)) == []
    assert ms.state == "admitted" and kinds(ms)[-1] == "evidence_renewed"


def test_renewal_rules():
    est, ms = admitted(SEN)
    with pytest.raises(InvalidInput) as err:
        est.renew_evidence("SEN", "INSURANCE", renewed_insurance(LATER.date()), SEN, LATER)
    assert locs(err) == [["expires_on"]]
    with pytest.raises(InvalidInput):
        est.renew_evidence("SEN", "AFFORDABILITY", answer("FINANCIAL"), SEN, LATER)
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER)
    with pytest.raises(Conflict):
        est.renew_evidence("SEN", "INSURANCE", renewed_insurance(), SEN, LATER)
    est.renew_evidence(
        "SEN", "FINANCIAL", answer("FINANCIAL", evidence="2026 accounts"), SEN, LATER
    )
    assert ms.evidence["FINANCIAL"].evidence == "2026 accounts"


# --- yearly re-verification (§4.5) ------------------------------------------------------------


def test_reverification_is_due_a_year_after_admission_and_moves_forward():
    est, ms = admitted(SEN)
    assert est.due_reverifications(date(2027, 3, 1)) == []
    assert est.due_reverifications(date(2027, 3, 2)) == [ms]
    assert est.reverify("SEN", SEN, at(date(2027, 3, 10))) == []
    assert ms.reverification_due_on == date(2028, 3, 10)
    assert ms.state == "admitted" and kinds(ms)[-1] == "reverified"


def test_a_failed_reverification_suspends_for_the_criterion():
    est, ms = admitted(SEN)
    (event,) = est.reverify(
        "SEN", SEN, at(date(2027, 3, 10)), "COMPLIANCE", "enforcement notice 2026"
    )
    assert ms.state == "suspended" and event.criterion == "COMPLIANCE"
    assert ms.reverification_due_on == date(2028, 3, 10)
    with pytest.raises(InvalidInput) as err:
        est.reverify("SEN", SEN, LATER, "WEATHER", None)
    assert locs(err) == [["failed_criterion"], ["reason"]]


def test_establishment_view_lists_memberships_with_history():
    est, ms = admitted(SEN)
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, LATER)
    view = est.to_view(CFG, LATER.date()).model_dump(mode="json")
    (membership,) = view["memberships"]
    assert membership["status"] == "suspended"
    assert membership["open_failures"] == [{"criterion": "INSURANCE", "reason": "cancelled"}]
    assert [h["kind"] for h in membership["history"]] == ["admitted", "suspended"]
    assert membership["evidence_expiry"] == {"INSURANCE": "2027-01-31"}
    assert membership["total_weekly_core_cost"] == "2700.00"
    assert view["postcode"] == "BN1 1AA"
