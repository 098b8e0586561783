"""§2 categories: default configuration and versioned settings changes."""

from decimal import Decimal

import pytest

from services.common.errors import InvalidInput
from services.qualification.domain import (
    CATEGORIES,
    INSURANCE_COVERS,
    PASS_FAIL_CRITERIA,
    apply_settings_change,
)
from services.qualification.messages import CategoryPatch
from tests.support.qualification_builders import configs


def locs(err) -> list[list]:
    return [e["loc"] for e in err.value.errors]


def test_there_is_a_version_1_configuration_for_each_of_the_five_categories():
    cfg = configs()
    assert (
        set(cfg)
        == set(CATEGORIES)
        == {"SEN", "FOSTERCARE", "RESIDENTIAL", "ALT_EDUCATION", "SUPPORTED_ACCOMMODATION"}
    )
    for code, config in cfg.items():
        assert config.code == code and config.version == 1
        assert dict(config.weighted_criteria_weights) == {
            "WORKFORCE": 30,
            "OUTCOMES_APPROACH": 40,
            "PERFORMANCE_MONITORING": 30,
        }
        assert config.min_tender_period_hours == 24 and config.min_invited == 3
        assert set(config.insurance_minimums) == set(INSURANCE_COVERS)
        assert config.affordability_cap is None and not config.authority_caps
        assert config.competency_period_months == 6
        assert config.cost_heads and len(set(config.all_cost_heads)) == len(config.all_cost_heads)
        assert set(config.pass_fail_criteria) <= set(PASS_FAIL_CRITERIA)


def test_dfe_registration_is_only_for_sen_and_alternative_education_has_no_inspection():
    """§4.1: DFE_REGISTRATION where the category requires it (SEN); ALT_EDUCATION is often
    unregulated."""
    cfg = configs()
    assert [c for c in cfg if "DFE_REGISTRATION" in cfg[c].pass_fail_criteria] == ["SEN"]
    assert [c for c in cfg if "INSPECTION" not in cfg[c].pass_fail_criteria] == ["ALT_EDUCATION"]
    assert set(cfg["SEN"].pass_fail_criteria) == set(PASS_FAIL_CRITERIA)


def test_sen_has_the_nine_heads_of_section_4_4_and_optional_residential_offers():
    sen = configs()["SEN"]
    assert sen.cost_heads == (
        "assessment",
        "premises",
        "vehicles",
        "supplies_and_services",
        "education_classroom",
        "central_organisational",
        "core_staffing",
        "staff_related",
        "general_child_costs",
    )
    assert sen.optional_cost_heads == ("residential_weekly_termly", "residential_42_52_week")


def test_a_change_makes_a_new_version_and_leaves_the_old_one_alone():
    sen = configs()["SEN"]
    new = apply_settings_change(
        sen,
        {
            "weighted_criteria_weights": {"WORKFORCE": 20, "OUTCOMES_APPROACH": 50},
            "min_tender_period_hours": 48,
        },
    )
    assert new.version == 2
    assert dict(new.weighted_criteria_weights) == {
        "WORKFORCE": 20,
        "OUTCOMES_APPROACH": 50,
        "PERFORMANCE_MONITORING": 30,
    }
    assert new.min_tender_period_hours == 48
    assert sen.version == 1 and sen.weighted_criteria_weights["WORKFORCE"] == 30
    assert apply_settings_change(new, {"min_invited": 4}).version == 3


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"weighted_criteria_weights": {"WORKFORCE": 40}}, ["weighted_criteria_weights"]),
        (
            {"weighted_criteria_weights": {"WORKFORCE": -10, "OUTCOMES_APPROACH": 80}},
            ["weighted_criteria_weights", "WORKFORCE"],
        ),
        ({"weighted_criteria_weights": {"PRICE": 0}}, ["weighted_criteria_weights", "PRICE"]),
        (
            {"weighted_criteria_weights": {"WORKFORCE": True}},
            ["weighted_criteria_weights", "WORKFORCE"],
        ),
        ({"weighted_criteria_weights": [30, 40, 30]}, ["weighted_criteria_weights"]),
        ({"affordability_cap": "-1.00"}, ["affordability_cap"]),
        ({"affordability_cap": "0"}, ["affordability_cap"]),
        ({"affordability_cap": 3000.5}, ["affordability_cap"]),
        ({"affordability_cap": "12.345"}, ["affordability_cap"]),
        ({"authority_caps": {"XYZ": "3000.00"}}, ["authority_caps", "XYZ"]),
        ({"authority_caps": {"KCC": "lots"}}, ["authority_caps", "KCC"]),
        (
            {"insurance_minimums": {"public_liability": "-1"}},
            ["insurance_minimums", "public_liability"],
        ),
        ({"insurance_minimums": {"motor": "1000"}}, ["insurance_minimums", "motor"]),
        (
            {"insurance_minimums": {"public_liability": None}},
            ["insurance_minimums", "public_liability"],
        ),
        ({"min_tender_period_hours": -1}, ["min_tender_period_hours"]),
        ({"min_invited": "3"}, ["min_invited"]),
        ({"competency_period_months": 0}, ["competency_period_months"]),
        ({"pass_fail_criteria": ["EXCLUSIONS", "FOO"]}, ["pass_fail_criteria", "FOO"]),
        ({"pass_fail_criteria": []}, ["pass_fail_criteria"]),
        ({"pass_fail_criteria": ["EXCLUSIONS", "EXCLUSIONS"]}, ["pass_fail_criteria"]),
        ({"cost_heads": ["Premises Costs"]}, ["cost_heads", "Premises Costs"]),
        ({"cost_heads": []}, ["cost_heads"]),
        ({"optional_cost_heads": ["premises"]}, ["optional_cost_heads", "premises"]),
        (
            {"referral_weights": {"P": 75, "C": 15, "L": 0, "O": 5, "N": 5, "F": 0}},
            ["referral_weights", "P"],
        ),
        (
            {"referral_weights": {"P": 40, "C": 25, "L": 5, "O": 10, "N": 10, "F": 10}},
            ["referral_weights", "C"],
        ),
        ({"version": 7}, ["version"]),
        ({"code": "SEN2"}, ["code"]),
    ],
)
def test_an_invalid_change_is_refused_naming_the_field(patch, loc):
    with pytest.raises(InvalidInput) as err:
        apply_settings_change(configs()["SEN"], patch)
    assert locs(err) == [loc]


def test_every_problem_of_a_change_is_reported_at_once():
    with pytest.raises(InvalidInput) as err:
        apply_settings_change(configs()["SEN"], {"min_invited": 0, "affordability_cap": "-1"})
    assert locs(err) == [["min_invited"], ["affordability_cap"]]


def test_an_empty_change_is_refused():
    with pytest.raises(InvalidInput):
        apply_settings_change(configs()["SEN"], {})


def test_caps_are_money_and_an_authority_cap_is_removed_by_null():
    """§4.4: a common cap and per-authority caps, exact money."""
    sen = configs()["SEN"]
    v2 = apply_settings_change(
        sen, {"affordability_cap": "4500.00", "authority_caps": {"KCC": "3000.00", "WSCC": "3500"}}
    )
    assert v2.affordability_cap == Decimal("4500.00")
    assert dict(v2.authority_caps) == {"KCC": Decimal("3000.00"), "WSCC": Decimal("3500.00")}
    v3 = apply_settings_change(v2, {"authority_caps": {"KCC": None}, "affordability_cap": None})
    assert dict(v3.authority_caps) == {"WSCC": Decimal("3500.00")}
    assert v3.affordability_cap is None


def test_an_associate_authority_can_have_a_cap_when_it_is_known():
    """§1: nothing may assume exactly seven authorities."""
    sen = configs()["SEN"]
    with pytest.raises(InvalidInput):
        apply_settings_change(sen, {"authority_caps": {"HCC": "3000.00"}})
    v2 = apply_settings_change(
        sen,
        {"authority_caps": {"HCC": "3000.00"}},
        authorities=("BHCC", "ESCC", "ECC", "KCC", "MED", "SCC", "WSCC", "HCC"),
    )
    assert v2.authority_caps["HCC"] == Decimal("3000.00")


def test_insurance_minimums_and_criteria_and_heads_can_change():
    alt = configs()["ALT_EDUCATION"]
    v2 = apply_settings_change(
        alt,
        {
            "insurance_minimums": {"professional_liability": "1000000.00"},
            "pass_fail_criteria": [*alt.pass_fail_criteria, "INSPECTION"],
            "optional_cost_heads": ["transport"],
            "referral_weights": {"P": 70, "O": 2, "N": 2, "F": 1},
        },
    )
    assert v2.insurance_minimums["professional_liability"] == Decimal("1000000.00")
    assert v2.insurance_minimums["employers_liability"] == Decimal("10000000.00")
    assert "INSPECTION" in v2.pass_fail_criteria
    assert v2.all_cost_heads[-1] == "transport"
    assert dict(v2.referral_weights) == {"P": 70, "C": 20, "L": 5, "O": 2, "N": 2, "F": 1}


def test_a_category_patch_request_dumped_with_exclude_unset_applies():
    patch = CategoryPatch.model_validate(
        {"affordability_cap": None, "authority_caps": {"KCC": "3000.00"}, "min_invited": 5}
    )
    sen = apply_settings_change(configs()["SEN"], {"affordability_cap": "5000.00"})
    v3 = apply_settings_change(sen, patch.model_dump(exclude_unset=True))
    assert v3.affordability_cap is None and v3.min_invited == 5
    assert v3.authority_caps == {"KCC": Decimal("3000.00")}


def test_the_category_view_shows_money_as_strings():
    sen = apply_settings_change(configs()["SEN"], {"authority_caps": {"KCC": "3000"}})
    view = sen.to_view().model_dump(mode="json")
    assert view["version"] == 2
    assert view["authority_caps"] == {"KCC": "3000.00"}
    assert view["insurance_minimums"]["employers_liability"] == "10000000.00"
    assert view["affordability_cap"] is None
    assert view["pass_fail_criteria"][0] == "EXCLUSIONS"
