"""§4, §4.1–§4.4 applications: content validation, completeness, copying, submission,
the state machine and the lead's decision."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.common.errors import Conflict, InvalidInput
from services.qualification import messages as m
from services.qualification.domain import (
    APPLICATION_TRANSITIONS,
    AdditionalService,
    ApplicationContent,
    CohortTier,
    CriterionResult,
    Decision,
    DpsSettings,
    InspectionJudgement,
    apply_settings_change,
    copy_application,
    open_application,
)
from tests.support.qualification_builders import (
    NOW,
    TODAY,
    answer,
    complete_content,
    configs,
    decision,
    dps_open,
    draft,
    establishment,
    submitted,
)

SEN = configs()["SEN"]
FOSTER = configs()["FOSTERCARE"]


def locs(err) -> list[list]:
    return [e["loc"] for e in err.value.errors]


def invalid_locs(content: ApplicationContent, config=SEN) -> list[list]:
    with pytest.raises(InvalidInput) as err:
        content.validate(config, TODAY)
    return locs(err)


# --- content validation (§4.1, §4.2, §4.4) -------------------------------------------------


def test_complete_content_is_valid():
    complete_content(SEN).validate(SEN, TODAY)


@pytest.mark.parametrize(
    ("pass_fail", "loc"),
    [
        ({"FOO": answer("FOO")}, ["pass_fail", "FOO"]),
        (
            {"EXCLUSIONS": answer("EXCLUSIONS", evidence=" ")},
            ["pass_fail", "EXCLUSIONS", "evidence"],
        ),
        ({"EXCLUSIONS": answer("EXCLUSIONS", answer="")}, ["pass_fail", "EXCLUSIONS", "answer"]),
        (
            {"INSURANCE": answer("INSURANCE", expires_on=None)},
            ["pass_fail", "INSURANCE", "expires_on"],
        ),
        ({"INSURANCE": answer("INSURANCE", cover=None)}, ["pass_fail", "INSURANCE", "cover"]),
        (
            {
                "INSURANCE": answer(
                    "INSURANCE",
                    cover={
                        "employers_liability": Decimal("1"),
                        "public_liability": Decimal("-1"),
                        "professional_liability": Decimal("1"),
                    },
                )
            },
            ["pass_fail", "INSURANCE", "cover", "public_liability"],
        ),
        (
            {
                "INSURANCE": answer(
                    "INSURANCE",
                    cover={"employers_liability": Decimal("1"), "public_liability": Decimal("1")},
                )
            },
            ["pass_fail", "INSURANCE", "cover", "professional_liability"],
        ),
        (
            {"FINANCIAL": answer("FINANCIAL", cover={"public_liability": Decimal("1")})},
            ["pass_fail", "FINANCIAL", "cover"],
        ),
        (
            {
                "FINANCIAL": answer(
                    "FINANCIAL", judgement=InspectionJudgement("OFSTED", "GOOD", date(2025, 1, 1))
                )
            },
            ["pass_fail", "FINANCIAL", "judgement"],
        ),
        (
            {
                "INSPECTION": answer(
                    "INSPECTION", judgement=InspectionJudgement("OFSTED", "GOOD", date(2026, 3, 3))
                )
            },
            ["pass_fail", "INSPECTION", "judgement", "date"],
        ),
        (
            {
                "INSPECTION": answer(
                    "INSPECTION", judgement=InspectionJudgement("ESTYN", "GOOD", date(2025, 3, 3))
                )
            },
            ["pass_fail", "INSPECTION", "judgement", "body"],
        ),
    ],
)
def test_a_bad_pass_fail_answer_is_refused_naming_the_field(pass_fail, loc):
    assert invalid_locs(ApplicationContent(pass_fail=pass_fail)) == [loc]


def test_a_criterion_of_another_category_is_unknown():
    """§4.1: DFE_REGISTRATION only where the category requires it."""
    content = ApplicationContent(pass_fail={"DFE_REGISTRATION": answer("DFE_REGISTRATION")})
    assert invalid_locs(content, FOSTER) == [["pass_fail", "DFE_REGISTRATION"]]
    content.validate(SEN, TODAY)


@pytest.mark.parametrize(
    ("core_costs", "loc"),
    [
        ({"swimming_pool": Decimal("10.00")}, ["core_costs", "swimming_pool"]),
        ({"premises": Decimal("-0.01")}, ["core_costs", "premises"]),
        ({"premises": Decimal("1.005")}, ["core_costs", "premises"]),
        ({"premises": 12.5}, ["core_costs", "premises"]),
        ({"carer_fees": Decimal("100.00")}, ["core_costs", "carer_fees"]),
    ],
)
def test_a_bad_core_cost_is_refused_naming_the_head(core_costs, loc):
    assert invalid_locs(ApplicationContent(core_costs=core_costs)) == [loc]


def test_zero_costs_and_optional_residential_heads_are_accepted():
    ApplicationContent(
        core_costs={"vehicles": Decimal("0.00"), "residential_42_52_week": Decimal("800.00")}
    ).validate(SEN, TODAY)


@pytest.mark.parametrize(
    ("statements", "loc"),
    [
        ({"PRICE": "cheap"}, ["method_statements", "PRICE"]),
        ({"WORKFORCE": "   "}, ["method_statements", "WORKFORCE"]),
    ],
)
def test_a_bad_method_statement_is_refused(statements, loc):
    assert invalid_locs(ApplicationContent(method_statements=statements)) == [loc]


def test_additional_services_are_priced_per_unit_and_per_week():
    ok = AdditionalService(
        "Occupational therapy", "one-hour session", Decimal("65.00"), Decimal("130.00")
    )
    ApplicationContent(additional_services=(ok,)).validate(SEN, TODAY)
    bad = (
        ok,
        replace(ok, name="occupational therapy "),
        AdditionalService("", "", Decimal("-1.00"), Decimal("1.001")),
    )
    assert invalid_locs(ApplicationContent(additional_services=bad)) == [
        ["additional_services", 1, "name"],
        ["additional_services", 2, "name"],
        ["additional_services", 2, "unit"],
        ["additional_services", 2, "unit_price"],
        ["additional_services", 2, "weekly_price"],
    ]


@pytest.mark.parametrize(
    ("tiers", "loc"),
    [
        ([(1, 5)], ["cohort_discounts", 0, "min_children"]),
        ([(2, 5), (2, 8)], ["cohort_discounts", 1, "min_children"]),
        ([(3, 5), (2, 8)], ["cohort_discounts", 1, "min_children"]),
        ([(2, 0)], ["cohort_discounts", 0, "percent"]),
        ([(2, 100)], ["cohort_discounts", 0, "percent"]),
        ([(2, -5)], ["cohort_discounts", 0, "percent"]),
        ([(2, 5.5)], ["cohort_discounts", 0, "percent"]),
        ([(True, 5)], ["cohort_discounts", 0, "min_children"]),
    ],
)
def test_cohort_discount_tiers_are_validated(tiers, loc):
    """§4.4: min_children ≥ 2 and strictly increasing, percent in (0, 100)."""
    content = ApplicationContent(cohort_discounts=tuple(CohortTier(n, p) for n, p in tiers))
    assert invalid_locs(content) == [loc]


def test_valid_cohort_tiers():
    tiers = (
        CohortTier(2, Decimal("5")),
        CohortTier(3, Decimal("8")),
        CohortTier(5, Decimal("12.5")),
    )
    ApplicationContent(cohort_discounts=tiers).validate(SEN, TODAY)


def test_every_problem_is_reported_at_once():
    content = ApplicationContent(
        pass_fail={"FOO": answer("FOO")},
        core_costs={"premises": Decimal("-1")},
        method_statements={"PRICE": "x"},
    )
    assert invalid_locs(content) == [
        ["pass_fail", "FOO"],
        ["method_statements", "PRICE"],
        ["core_costs", "premises"],
    ]


def test_content_from_the_api_request_model():
    body = {
        "establishment_id": "e1",
        "category": "FOSTERCARE",
        "pass_fail": {
            "INSURANCE": {
                "answer": "yes",
                "evidence": "doc-1",
                "expires_on": "2027-01-31",
                "cover": {
                    "employers_liability": "10000000.00",
                    "public_liability": "5000000.00",
                    "professional_liability": "2000000.00",
                },
            },
            "INSPECTION": {
                "answer": "good",
                "evidence": "report",
                "judgement": {"body": "OFSTED", "grade": "GOOD", "date": "2025-06-01"},
            },
        },
        "method_statements": {"WORKFORCE": "w"},
        "core_costs": {"carer_fees": "450.00"},
        "additional_services": [
            {"name": "Therapy", "unit": "session", "unit_price": "60.00", "weekly_price": "120.00"}
        ],
        "cohort_discounts": [{"min_children": 2, "percent": 5}],
    }
    content = ApplicationContent.from_message(m.ApplicationCreate.model_validate(body))
    content.validate(FOSTER, TODAY)
    assert content.core_costs == {"carer_fees": Decimal("450.00")}
    assert content.pass_fail["INSURANCE"].cover["public_liability"] == Decimal("5000000.00")
    assert content.pass_fail["INSPECTION"].judgement == InspectionJudgement(
        "OFSTED", "GOOD", date(2025, 6, 1)
    )
    assert content.method_statements == {"WORKFORCE": "w"}
    assert content.cohort_discounts == (CohortTier(2, Decimal(5)),)


# --- completeness and submission (§3, §4.3) -------------------------------------------------


def test_an_incomplete_application_cannot_be_submitted_and_says_what_is_missing():
    app = open_application(
        establishment(),
        "SEN",
        ApplicationContent(core_costs={"premises": Decimal("100.00")}),
        SEN,
        (),
        NOW,
    )
    with pytest.raises(Conflict) as err:
        app.submit(SEN, dps_open(), NOW)
    missing = locs(err)
    assert ["pass_fail", "DFE_REGISTRATION"] in missing
    assert ["method_statements", "OUTCOMES_APPROACH"] in missing
    assert ["core_costs", "assessment"] in missing
    assert ["core_costs", "premises"] not in missing
    assert ["core_costs", "residential_42_52_week"] not in missing  # optional head
    assert len(missing) == len(SEN.pass_fail_criteria) + 3 + len(SEN.cost_heads) - 1
    assert app.status == "draft"


def test_expired_evidence_stops_submission():
    app, _ = draft(
        SEN,
        pass_fail={
            **complete_content(SEN).pass_fail,
            "INSURANCE": answer("INSURANCE", expires_on=TODAY),
        },
    )
    with pytest.raises(Conflict) as err:
        app.submit(SEN, dps_open(), NOW)
    assert locs(err) == [["pass_fail", "INSURANCE", "expires_on"]]


@pytest.mark.parametrize(
    "dps",
    [
        DpsSettings(date(2026, 1, 1), date(2029, 12, 31), entry_open=False),
        DpsSettings(date(2026, 4, 1), date(2029, 12, 31)),
        DpsSettings(date(2020, 1, 1), date(2026, 3, 1)),
    ],
)
def test_submission_needs_entry_open_within_validity(dps):
    app, _ = draft(SEN)
    with pytest.raises(Conflict):
        app.submit(SEN, dps, NOW)
    assert app.status == "draft" and app.submitted_at is None


def test_submission_records_the_configuration_version_in_force():
    v2 = apply_settings_change(SEN, {"min_invited": 4})
    app, _ = draft(v2)
    app.submit(v2, dps_open(), NOW)
    assert (app.status, app.config_version, app.submitted_at) == ("submitted", 2, NOW)


def test_a_draft_judged_against_a_changed_configuration_at_submission():
    """§2: a draft uses the configuration in force when it is submitted."""
    app, _ = draft(SEN)
    v2 = apply_settings_change(
        SEN, {"pass_fail_criteria": [c for c in SEN.pass_fail_criteria if c != "DFE_REGISTRATION"]}
    )
    with pytest.raises(InvalidInput) as err:
        app.submit(v2, dps_open(), NOW)
    assert locs(err) == [["pass_fail", "DFE_REGISTRATION"]]


def test_revise_replaces_a_draft_only():
    app, _ = draft(SEN)
    new = complete_content(SEN, core_costs={h: Decimal("250.00") for h in SEN.cost_heads})
    app.revise(new, SEN, NOW)
    assert app.content is new
    with pytest.raises(InvalidInput):
        app.revise(ApplicationContent(core_costs={"nope": Decimal(1)}), SEN, NOW)
    assert app.content is new


# --- opening and copying (§4) ---------------------------------------------------------------


def test_an_establishment_applies_only_for_a_category_it_offers():
    est = establishment(categories=("FOSTERCARE",))
    with pytest.raises(InvalidInput) as err:
        open_application(est, "SEN", ApplicationContent(), SEN, (), NOW)
    assert locs(err) == [["category"]]


def test_one_open_application_per_establishment_and_category():
    app, est = draft(SEN)
    with pytest.raises(Conflict):
        open_application(est, "SEN", ApplicationContent(), SEN, [app], NOW)
    open_application(est, "FOSTERCARE", ApplicationContent(), FOSTER, [app], NOW)
    app.submit(SEN, dps_open(), NOW)
    app.decide(decision(SEN, fail={"FINANCIAL": "high risk"}), SEN, est, NOW)
    assert app.status == "rejected"
    again = open_application(est, "SEN", ApplicationContent(), SEN, [app], NOW)
    assert again.status == "draft" and again.id != app.id


def test_no_new_application_while_a_membership_is_current():
    app, est = submitted(SEN)
    app.decide(decision(SEN), SEN, est, NOW)
    with pytest.raises(Conflict):
        open_application(est, "SEN", ApplicationContent(), SEN, [app], NOW)
    est.remove("SEN", "provider asked to leave", NOW)
    open_application(est, "SEN", ApplicationContent(), SEN, [app], NOW)


def test_copy_reuses_the_organisations_answers_only():
    """§4: INSPECTION, DFE_REGISTRATION and core costs are the establishment's own."""
    app, _ = submitted(SEN)
    other = establishment("Hill School")
    third = establishment("Vale School")
    copies = copy_application(app, [other, third], {}, SEN, NOW)
    assert [c.establishment_id for c in copies] == [other.id, third.id]
    for copy in copies:
        assert copy.status == "draft" and copy.copied_from == app.id
        assert copy.provider_id == app.provider_id and copy.category == "SEN"
        assert set(copy.content.pass_fail) == set(SEN.pass_fail_criteria) - {
            "INSPECTION",
            "DFE_REGISTRATION",
        }
        assert copy.content.pass_fail["INSURANCE"] == app.content.pass_fail["INSURANCE"]
        assert copy.content.core_costs == {}
        assert copy.content.method_statements == app.content.method_statements
        assert copy.content.cohort_discounts == app.content.cohort_discounts
    assert copies[0].id != copies[1].id


@pytest.mark.parametrize(
    ("targets", "loc"),
    [
        (lambda own: [own], ["establishment_ids", 0]),
        (
            lambda own: [establishment("Hill School"), establishment("Hill School")],
            ["establishment_ids", 1],
        ),
        (
            lambda own: [
                establishment("Hill School"),
                establishment("Rival School", provider_id="provider-2"),
            ],
            ["establishment_ids", 1],
        ),
    ],
)
def test_copy_targets_must_be_the_providers_other_establishments(targets, loc):
    app, own = draft(SEN)
    with pytest.raises(InvalidInput) as err:
        copy_application(app, targets(own), {}, SEN, NOW)
    assert locs(err) == [loc]


def test_copy_is_refused_where_the_target_already_has_an_open_application():
    app, _ = draft(SEN)
    other = establishment("Hill School")
    existing, _ = draft(SEN, other)
    with pytest.raises(Conflict):
        copy_application(app, [other], {other.id: [existing]}, SEN, NOW)


# --- state machine (§4.3) --------------------------------------------------------------------


def test_the_only_legal_transitions():
    legal = {(a, b) for a, targets in APPLICATION_TRANSITIONS.items() for b in targets}
    assert legal == {("draft", "submitted"), ("submitted", "admitted"), ("submitted", "rejected")}


def _in_state(state: str):
    app, est = draft(SEN)
    if state != "draft":
        app.submit(SEN, dps_open(), NOW)
    if state == "admitted":
        app.decide(decision(SEN), SEN, est, NOW)
    elif state == "rejected":
        app.decide(decision(SEN, fail={"FINANCIAL": "risk"}), SEN, est, NOW)
    assert app.status == state
    return app, est


OPERATIONS = {
    "revise": lambda app, est: app.revise(complete_content(SEN), SEN, NOW),
    "submit": lambda app, est: app.submit(SEN, dps_open(), NOW),
    "admit": lambda app, est: app.decide(decision(SEN), SEN, est, NOW),
    "reject": lambda app, est: app.decide(decision(SEN, fail={"FINANCIAL": "r"}), SEN, est, NOW),
    "extend": lambda app, est: app.extend_evaluation("more time"),
}
LEGAL = {
    ("draft", "revise"): "draft",
    ("draft", "submit"): "submitted",
    ("submitted", "admit"): "admitted",
    ("submitted", "reject"): "rejected",
    ("submitted", "extend"): "submitted",
}


@pytest.mark.parametrize("state", ["draft", "submitted", "admitted", "rejected"])
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_illegal_transition_is_refused(state, operation):
    app, est = _in_state(state)
    if (state, operation) in LEGAL:
        OPERATIONS[operation](app, est)
        assert app.status == LEGAL[state, operation]
    else:
        with pytest.raises(Conflict):
            OPERATIONS[operation](app, est)
        assert app.status == state


# --- decision (§4.2, §4.3) ---------------------------------------------------------------------


def test_all_pass_admits_with_the_weighted_competency_score():
    """§4.2: 80/70/90 at 30/40/30 → 79.0."""
    app, est = submitted(SEN)
    outcome = app.decide(decision(SEN, scores=(80, 70, 90)), SEN, est, NOW)
    assert outcome.status == "admitted" and app.status == "admitted"
    assert outcome.competency == Decimal("79.00")
    assert outcome.failures == {}
    ms = est.membership("SEN")
    assert ms.state == "admitted" and ms.competency == Decimal("79.00")
    assert ms.application_id == app.id
    (decided,) = app.events
    assert isinstance(decided, m.ApplicationDecided)
    payload = decided.model_dump(mode="json")
    assert payload["status"] == "admitted" and payload["competency"] == 79.0
    assert payload["establishment_name"] == "Downs School"
    assert payload["contacts"][0]["email"] == "ann@downs-school.org.uk"
    assert payload["total_weekly_core_cost"] == "2700.00"
    assert payload["occurred_at"].startswith("2026-03-02T10:00")


def test_a_fail_rejects_with_the_reason_of_each_failed_criterion():
    app, est = submitted(SEN)
    outcome = app.decide(
        decision(
            SEN,
            scores=(50, 50, 50),
            fail={"SAFEGUARDING": "no business continuity plan", "FINANCIAL": "accounts overdue"},
        ),
        SEN,
        est,
        NOW,
    )
    assert outcome.status == "rejected"
    assert list(outcome.failures.items()) == [
        ("FINANCIAL", "accounts overdue"),
        ("SAFEGUARDING", "no business continuity plan"),
    ]
    assert outcome.competency == Decimal("50.00")  # computed, never blocks (§4.2)
    assert est.memberships == []
    assert app.events[0].failures[1].reason == "no business continuity plan"


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (
            lambda d: Decision(
                {k: v for k, v in d.pass_fail.items() if k != "DATA_PROTECTION"}, d.scores
            ),
            ["pass_fail", "DATA_PROTECTION"],
        ),
        (
            lambda d: Decision({**d.pass_fail, "FOO": CriterionResult("pass")}, d.scores),
            ["pass_fail", "FOO"],
        ),
        (
            lambda d: Decision({**d.pass_fail, "AFFORDABILITY": CriterionResult("pass")}, d.scores),
            ["pass_fail", "AFFORDABILITY"],
        ),
        (
            lambda d: Decision({**d.pass_fail, "FINANCIAL": CriterionResult("fail")}, d.scores),
            ["pass_fail", "FINANCIAL", "reason"],
        ),
        (
            lambda d: Decision({**d.pass_fail, "FINANCIAL": CriterionResult("maybe")}, d.scores),
            ["pass_fail", "FINANCIAL", "result"],
        ),
        (lambda d: Decision(d.pass_fail, {**d.scores, "WORKFORCE": 101}), ["scores", "WORKFORCE"]),
        (lambda d: Decision(d.pass_fail, {**d.scores, "WORKFORCE": 7.5}), ["scores", "WORKFORCE"]),
        (
            lambda d: Decision(
                d.pass_fail, {k: v for k, v in d.scores.items() if k != "WORKFORCE"}
            ),
            ["scores", "WORKFORCE"],
        ),
        (lambda d: Decision(d.pass_fail, {**d.scores, "PRICE": 5}), ["scores", "PRICE"]),
    ],
)
def test_a_decision_must_cover_exactly_the_criteria_in_force(mutate, loc):
    app, est = submitted(SEN)
    with pytest.raises(InvalidInput) as err:
        app.decide(mutate(decision(SEN)), SEN, est, NOW)
    assert locs(err) == [loc]
    assert app.status == "submitted"


def test_the_decision_uses_the_version_in_force_at_submission():
    app, est = submitted(SEN)
    v2 = apply_settings_change(
        SEN, {"weighted_criteria_weights": {"WORKFORCE": 50, "OUTCOMES_APPROACH": 20}}
    )
    with pytest.raises(ValueError):
        app.decide(decision(v2), v2, est, NOW)
    assert app.decide(decision(SEN), SEN, est, NOW).competency == Decimal("79.00")


def test_common_affordability_cap_rejects_above_it():
    """§4.4: total weekly core cost above the common cap → AFFORDABILITY failure."""
    capped = apply_settings_change(SEN, {"affordability_cap": "2699.99"})
    app, est = submitted(capped)  # nine heads at 300.00 = 2700.00
    outcome = app.decide(decision(capped), capped, est, NOW)
    assert outcome.status == "rejected"
    assert list(outcome.failures) == ["AFFORDABILITY"]
    assert "2700.00" in outcome.failures["AFFORDABILITY"]


def test_total_at_the_cap_passes_and_optional_heads_are_not_counted():
    capped = apply_settings_change(SEN, {"affordability_cap": "2700.00"})
    costs = {**complete_content(capped).core_costs, "residential_42_52_week": Decimal("900.00")}
    app, est = submitted(capped, core_costs=costs)
    assert app.decide(decision(capped), capped, est, NOW).status == "admitted"


def test_insurance_below_the_minimum_fails_even_if_the_lead_passes_it():
    low = answer(
        "INSURANCE",
        cover={
            "employers_liability": Decimal("5000000.00"),
            "public_liability": Decimal("5000000.00"),
            "professional_liability": Decimal("2000000.00"),
        },
    )
    app, est = submitted(SEN, pass_fail={**complete_content(SEN).pass_fail, "INSURANCE": low})
    outcome = app.decide(decision(SEN), SEN, est, NOW)
    assert outcome.status == "rejected"
    assert outcome.failures == {
        "INSURANCE": "employer's liability cover £5000000.00 is below the minimum £10000000.00"
    }


def test_an_inadequate_latest_judgement_fails_inspection():
    bad = answer(
        "INSPECTION", judgement=InspectionJudgement("OFSTED", "INADEQUATE", date(2025, 9, 1))
    )
    pass_fail = {**complete_content(SEN).pass_fail, "INSPECTION": bad}
    app, est = submitted(SEN, pass_fail=pass_fail)
    outcome = app.decide(decision(SEN, fail={"INSPECTION": "see report"}), SEN, est, NOW)
    assert outcome.status == "rejected"
    assert outcome.failures["INSPECTION"].startswith(
        "see report; the latest judgement is INADEQUATE"
    )
    # a later judgement recorded by the lead is the latest one
    app2, est2 = submitted(SEN, est=establishment("Hill School"), pass_fail=pass_fail)
    est2.inspections.append(InspectionJudgement("OFSTED", "GOOD", date(2026, 2, 1)))
    assert app2.decide(decision(SEN), SEN, est2, NOW).status == "admitted"


def test_evidence_expired_by_the_decision_date_fails_its_criterion():
    app, est = submitted(SEN)
    outcome = app.decide(decision(SEN), SEN, est, datetime(2027, 2, 1, tzinfo=UTC))
    assert outcome.status == "rejected"
    assert outcome.failures == {"INSURANCE": "the evidence expired on 2027-01-31"}


def test_admission_is_refused_when_a_membership_is_already_current():
    app, est = submitted(SEN)
    other, _ = submitted(SEN, est=est)  # a second application slipped in concurrently
    app.decide(decision(SEN), SEN, est, NOW)
    with pytest.raises(Conflict):
        other.decide(decision(SEN), SEN, est, NOW)
    assert other.status == "submitted" and other.events == []


def test_application_view():
    app, est = submitted(SEN)
    app.decide(decision(SEN), SEN, est, NOW)
    view = app.to_view(TODAY).model_dump(mode="json")
    assert view["status"] == "admitted" and view["overdue"] is False
    assert view["core_costs"]["premises"] == "300.00"
    assert view["pass_fail"]["INSURANCE"]["cover"]["employers_liability"] == "10000000.00"
    assert view["decision"]["competency"] == 79.0
    assert view["due_on"] == "2026-03-16"
    assert view["cohort_discounts"] == [
        {"min_children": 2, "percent": 5.0},
        {"min_children": 3, "percent": 8.0},
    ]
