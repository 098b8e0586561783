"""Quarterly publication: OCDS 1.1 release package and CSV of the awards (RULES §7.5)."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from services.common.errors import InvalidInput, NotFound
from services.contracts import domain
from services.contracts.domain import publication as ocds
from tests.support.contracts_builders import CHILD_REFERENCE, award_event, direct_event
from tests.support.contracts_ocds import json_merge_patch, validate_package

REPO = Path(__file__).resolve().parents[3]
SCHEMA_DIR = Path(os.environ.get("DPS_OCDS_SCHEMA_DIR", REPO.parent / "shared" / "ocds" / "1.1"))
CONFIG = ocds.PublicationConfig(
    ocid_prefix="ocds-abc123-",
    dps_ocid="ocds-abc123-dps",
    base_uri="https://dps.test",
)
QUARTER = "2026-Q3"


@pytest.fixture(scope="module")
def schema_dir() -> Path:
    if not (SCHEMA_DIR / "release-package-schema.json").is_file():
        pytest.skip(
            f"OCDS 1.1 schema files not found in {SCHEMA_DIR}: set DPS_OCDS_SCHEMA_DIR "
            "to the folder holding release-package-schema.json"
        )
    return SCHEMA_DIR


def awards() -> list[ocds.AwardRecord]:
    """Two mini-competition awards and a direct placement in Q3, one award in Q2."""
    placements = [
        domain.placement_from_award(
            award_event(
                referral_id="ref-b",
                placement_id="pl-b",
                awarded_at="2026-08-14T15:30:00.123456+01:00",
            )
        ),
        domain.placement_from_award(
            award_event(
                referral_id="ref-a",
                placement_id="pl-a",
                authority="WSCC",
                provider_name="=HYPERLINK(evil)",
                awarded_at="2026-07-01T00:00:00+00:00",
            )
        ),
        domain.placement_from_direct(direct_event()),
        domain.placement_from_award(
            award_event(
                referral_id="ref-q2", placement_id="pl-q2", awarded_at="2026-06-30T23:59:59Z"
            )
        ),
    ]
    return [domain.award_record(p) for p in placements]


def test_s7_5_quarter_parsing():
    assert ocds.parse_quarter("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert ocds.parse_quarter("2026-Q3") == (date(2026, 7, 1), date(2026, 9, 30))
    assert ocds.parse_quarter("2024-Q4") == (date(2024, 10, 1), date(2024, 12, 31))
    assert ocds.quarter_of(date(2026, 9, 30)) == "2026-Q3"
    assert ocds.quarter_of(date(2026, 10, 1)) == "2026-Q4"


@pytest.mark.parametrize(
    "bad",
    [
        "2026-Q5",
        "2026-Q0",
        "2026Q3",
        "26-Q3",
        "2026-q3",
        "",
        "Q3-2026",
        "2026-Q3x",
        "0000-Q1",
        None,
        2026,
    ],
)
def test_s7_5_bad_quarter_is_invalid_input_naming_the_field(bad):
    with pytest.raises(InvalidInput) as exc:
        ocds.parse_quarter(bad)
    assert exc.value.errors[0]["loc"] == ["quarter"]


def test_s7_5_package_validates_against_ocds_1_1_and_the_techniques_extension(schema_dir):
    package = ocds.build_package(awards(), QUARTER, CONFIG)
    assert validate_package(package, schema_dir) == []
    # and so does what a reader parses back from the published bytes
    assert validate_package(json.loads(ocds.render_package(package)), schema_dir) == []


def test_s7_5_validation_reports_errors(schema_dir):
    package = ocds.build_package(awards(), QUARTER, CONFIG)
    broken = copy.deepcopy(package)
    del broken["releases"][0]["initiationType"]
    broken["releases"][1]["tender"]["techniques"]["hasDynamicPurchasingSystem"] = "yes"
    errors = validate_package(broken, schema_dir)
    assert any("initiationType" in e for e in errors)
    # only the extension knows that this must be a boolean: the stricter check
    assert any("techniques/hasDynamicPurchasingSystem" in e for e in errors)


def test_s7_5_package_content():
    package = ocds.build_package(awards(), QUARTER, CONFIG)
    assert package["version"] == "1.1"
    assert (
        package["uri"] == "https://dps.test/api/v1/publications/awards?quarter=2026-Q3&format=ocds"
    )
    assert package["publisher"] == {"name": "West Sussex County Council"}
    assert package["publishedDate"] == "2026-08-14T14:30:00Z"  # latest award, in UTC
    assert [r["ocid"] for r in package["releases"]] == [
        "ocds-abc123-ref-a",
        "ocds-abc123-dp-1",
        "ocds-abc123-ref-b",
    ]
    first, direct, last = package["releases"]
    assert first["tag"] == ["award", "contract"]
    assert first["initiationType"] == "tender"
    assert first["buyer"] == {"id": "authority-WSCC", "name": "West Sussex County Council"}
    assert {p["id"]: p["roles"] for p in last["parties"]} == {
        "authority-KCC": ["buyer"],
        "provider-prov-1": ["supplier"],
    }
    assert last["awards"][0]["suppliers"] == [{"id": "provider-prov-1", "name": "Oakwood Care Ltd"}]
    for release in package["releases"]:
        assert release["tender"]["techniques"] == {"hasDynamicPurchasingSystem": True}
        assert release["relatedProcesses"][0]["relationship"] == ["framework"]
        assert release["relatedProcesses"][0]["scheme"] == "ocid"
        assert release["relatedProcesses"][0]["identifier"] == "ocds-abc123-dps"
        assert release["awards"][0]["id"] == release["contracts"][0]["awardID"]
    # annualised weekly price: 3,250.00 × 52
    assert last["awards"][0]["value"] == {"amount": Decimal("169000.00"), "currency": "GBP"}
    assert last["contracts"][0]["value"] == last["awards"][0]["value"]
    assert last["date"] == "2026-08-14T14:30:00Z"
    assert (last["tender"]["procurementMethod"], last["tender"]["competitive"]) == (
        "selective",
        True,
    )
    assert last["tender"]["numberOfTenderers"] == 4


def test_s5_s7_5_direct_placement_is_flagged_as_a_direct_call_off():
    package = ocds.build_package(awards(), QUARTER, CONFIG)
    direct = package["releases"][1]["tender"]
    assert direct["procurementMethod"] == "direct"
    assert direct["competitive"] is False
    assert "emergency" in direct["procurementMethodRationale"]
    assert "numberOfTenderers" not in direct
    assert package["releases"][1]["awards"][0]["value"]["amount"] == Decimal("270400.00")


def test_s7_5_neither_package_nor_csv_holds_child_data():
    body = ocds.render_package(ocds.build_package(awards(), QUARTER, CONFIG))
    sheet = ocds.render_csv(awards(), QUARTER, CONFIG)
    for text in (body.decode(), sheet.decode()):
        for secret in (CHILD_REFERENCE, "ESCC-CHILD-777", "Sam", "family breakdown", "Autism"):
            assert secret not in text


def test_s7_5_rendering_is_deterministic_for_a_frozen_quarter():
    first = ocds.render_package(ocds.build_package(awards(), QUARTER, CONFIG))
    again = ocds.render_package(ocds.build_package(list(reversed(awards())), QUARTER, CONFIG))
    assert first == again
    assert ocds.render_csv(awards(), QUARTER, CONFIG) == ocds.render_csv(
        list(reversed(awards())), QUARTER, CONFIG
    )
    parsed = json.loads(first)
    assert parsed["releases"][2]["awards"][0]["value"]["amount"] == 169000
    assert b'"amount": 169000,' in first


def test_s7_5_amounts_are_written_exactly():
    award = ocds.AwardRecord(
        "ref-x",
        "pl-x",
        "KCC",
        "prov-1",
        "P",
        "SEN",
        datetime(2026, 7, 2, tzinfo=UTC),
        Decimal("1234.57"),
    )
    body = ocds.render_package(ocds.build_package([award], QUARTER, CONFIG))
    assert b'"amount": 64197.64,' in body  # 1,234.57 × 52


def test_s7_5_empty_quarter_has_no_package_but_an_empty_csv():
    with pytest.raises(NotFound):
        ocds.build_package(awards(), "2025-Q1", CONFIG)
    assert ocds.render_csv(awards(), "2025-Q1", CONFIG).decode().splitlines() == [
        ",".join(ocds.CSV_COLUMNS)
    ]


def test_s7_5_csv_has_the_same_awards_as_the_package():
    package = ocds.build_package(awards(), QUARTER, CONFIG)
    rows = list(csv.DictReader(io.StringIO(ocds.render_csv(awards(), QUARTER, CONFIG).decode())))
    assert [r["ocid"] for r in rows] == [r["ocid"] for r in package["releases"]]
    for row, release in zip(rows, package["releases"], strict=True):
        assert row["award_id"] == release["awards"][0]["id"]
        assert row["contract_id"] == release["contracts"][0]["id"]
        assert Decimal(row["annual_value"]) == release["awards"][0]["value"]["amount"]
        assert row["procurement_method"] == release["tender"]["procurementMethod"]
        assert row["buyer_code"] == release["buyer"]["id"].removeprefix("authority-")
    assert rows[0]["supplier_name"] == "'=HYPERLINK(evil)"  # formula neutralised
    assert rows[1]["direct_reason_code"] == "emergency"
    assert rows[2]["weekly_price"] == "3250.00"


def test_s7_5_json_merge_patch_follows_rfc_7386():
    target = {"a": {"b": 1, "c": 2}, "d": [1], "e": 1}
    patch = {"a": {"b": None, "x": 3}, "d": [2], "f": {"g": None}}
    assert json_merge_patch(target, patch) == {
        "a": {"c": 2, "x": 3},
        "d": [2],
        "e": 1,
        "f": {},
    }
