"""Quarterly publication of the DPS's awards (RULES §7.5): an OCDS 1.1 release package and a
CSV of the same awards. Neither holds any child data: an ``AwardRecord`` has no field for it.

Mapping to OCDS 1.1 (one contracting process per award; the DPS itself is the first stage):

- ``ocid`` = configured prefix + award id (the referral id, or the direct placement id);
  ``id`` = ``<ocid>-award``; ``date`` = the award time; ``tag`` = ``["award", "contract"]``;
  ``initiationType`` = ``"tender"``.
- ``parties``: the authority (``roles: ["buyer"]``) and the provider organisation
  (``roles: ["supplier"]``); ``buyer`` references the authority. Establishments are not
  published: with one or two beds at a home, establishment + date + authority comes close to
  identifying a child.
- ``tender.techniques.hasDynamicPurchasingSystem = true`` (techniques extension, listed in
  the package's ``extensions``) and ``relatedProcesses`` =
  ``[{relationship: ["framework"], scheme: "ocid", identifier: <the DPS's ocid>}]``, as the
  OCDS framework guidance models call-offs (mini-competitions are "selective" processes
  linked to the framework process).
- A mini-competition award has ``procurementMethod = "selective"`` and the extension's
  ``tender.competitive = true``. A **direct placement** (§5, business case 8.10) is a direct
  call-off: ``procurementMethod = "direct"``, ``tender.competitive = false`` and
  ``procurementMethodRationale`` naming the reason code (never the free-text justification,
  which may describe the child).
- ``awards[0].value`` and ``contracts[0].value`` = the annualised weekly price, weekly × 52
  (§4.4), in GBP.

Output is deterministic: releases sorted by (date, ocid), keys sorted, ``publishedDate`` =
the latest award time in the package (OCDS: "the date of the last change to the underlying
contents" for packages generated on demand). A frozen quarter therefore renders the same bytes.
Quarters are calendar quarters (``2026-Q3`` = 1 July to 30 September 2026, UTC dates).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.common.errors import NotFound
from services.common.money import round_pence, weekly_to_annual
from services.contracts.domain.calendar import award_day, parse_quarter
from services.contracts.domain.calendar import quarter_of as quarter_of  # re-exported
from services.contracts.domain.placements import Placement, PlacementSource

OCDS_VERSION = "1.1"
TECHNIQUES_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_techniques_extension/master/extension.json"
)
CURRENCY = "GBP"

PARTNER_AUTHORITIES: Mapping[str, str] = {
    "BHCC": "Brighton & Hove City Council",
    "ESCC": "East Sussex County Council",
    "ECC": "Essex County Council",
    "KCC": "Kent County Council",
    "MED": "Medway Council",
    "SCC": "Surrey County Council",
    "WSCC": "West Sussex County Council",
}
"""§1 partner authorities. Associates that join later are added through configuration."""

CATEGORY_TITLES: Mapping[str, str] = {
    "SEN": "Independent and non-maintained special school placement",
    "FOSTERCARE": "Independent fostering agency placement",
    "RESIDENTIAL": "Children's home placement",
    "ALT_EDUCATION": "Alternative education placement",
    "SUPPORTED_ACCOMMODATION": "Supported accommodation placement (16+)",
}
"""§2 categories, as tender titles."""

_JSON_MAX = Decimal(10) ** 13  # 2-decimal amounts below this survive a double exactly


# --- records and configuration -----------------------------------------------------------


@dataclass(frozen=True)
class AwardRecord:
    """One award to publish (§7.5). Built from a placement by ``award_record`` below.

    ``award_id`` is the referral id (mini-competition) or the direct placement id;
    ``direct_reason_code`` is set exactly for direct placements."""

    award_id: str
    placement_id: str
    authority: str
    provider_id: str
    provider_name: str
    category: str
    awarded_at: datetime
    weekly_price: Decimal
    direct_reason_code: str | None = None
    bids_count: int | None = None
    contract_start: date | None = None
    regime: str | None = None  # §11: the regime and market it was awarded under
    dps_id: str | None = None
    estimated_value: Decimal | None = None

    @property
    def direct(self) -> bool:
        return self.direct_reason_code is not None

    @property
    def annual_value(self) -> Decimal:
        """Annualised weekly price: weekly × 52 (§4.4, §7.5)."""
        return round_pence(weekly_to_annual(self.weekly_price))


@dataclass(frozen=True)
class PublicationConfig:
    """Where and by whom the package is published. ``ocid_prefix`` is the publisher's
    registered OCDS prefix including its trailing separator."""

    ocid_prefix: str = "ocds-dpsse1-"
    dps_ocid: str = "ocds-dpsse1-dps"
    dps_title: str = "South East children's placements dynamic purchasing system"
    publisher_name: str = "West Sussex County Council"
    base_uri: str = "https://dps.example.gov.uk"
    authority_names: Mapping[str, str] = field(default_factory=lambda: dict(PARTNER_AUTHORITIES))

    def ocid(self, award: AwardRecord) -> str:
        return f"{self.ocid_prefix}{award.award_id}"

    def authority_name(self, code: str) -> str:
        return self.authority_names.get(code, code)


def awards_in_quarter(awards: Iterable[AwardRecord], quarter: str) -> list[AwardRecord]:
    """The awards made in the quarter, in publication order (award time, then award id)."""
    start, end = parse_quarter(quarter)
    chosen = [a for a in awards if start <= award_day(a.awarded_at) <= end]
    return sorted(chosen, key=lambda a: (a.awarded_at, a.award_id))


# --- OCDS package ------------------------------------------------------------------------


def _timestamp(at: datetime | date) -> str:
    if not isinstance(at, datetime):
        return f"{at.isoformat()}T00:00:00Z"
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _release(award: AwardRecord, config: PublicationConfig) -> dict[str, Any]:
    ocid = config.ocid(award)
    buyer = {"id": f"authority-{award.authority}", "name": config.authority_name(award.authority)}
    supplier = {"id": f"provider-{award.provider_id}", "name": award.provider_name}
    value = {"amount": award.annual_value, "currency": CURRENCY}
    when = _timestamp(award.awarded_at)
    tender: dict[str, Any] = {
        "id": award.award_id,
        "title": CATEGORY_TITLES.get(award.category, award.category),
        "status": "complete",
        "mainProcurementCategory": "services",
        "techniques": {"hasDynamicPurchasingSystem": True},
        "competitive": not award.direct,
    }
    if award.direct:
        tender["procurementMethod"] = "direct"
        tender["procurementMethodDetails"] = (
            "Direct placement without a mini-competition (business case 8.10)"
        )
        tender["procurementMethodRationale"] = (
            f"Direct placement, reason: {award.direct_reason_code}"
        )
    else:
        tender["procurementMethod"] = "selective"
        tender["procurementMethodDetails"] = (
            "Mini-competition among establishments admitted to the dynamic purchasing system"
        )
        if award.bids_count is not None:
            tender["numberOfTenderers"] = award.bids_count
    contract: dict[str, Any] = {"id": award.placement_id, "awardID": award.award_id, "value": value}
    if award.contract_start is not None:
        contract["period"] = {"startDate": _timestamp(award.contract_start)}
    return {
        "ocid": ocid,
        "id": f"{ocid}-award",
        "date": when,
        "tag": ["award", "contract"],
        "initiationType": "tender",
        "language": "en",
        "parties": [{**buyer, "roles": ["buyer"]}, {**supplier, "roles": ["supplier"]}],
        "buyer": buyer,
        "tender": tender,
        "relatedProcesses": [
            {
                "id": "dps",
                "relationship": ["framework"],
                "title": config.dps_title,
                "scheme": "ocid",
                # §11.4: an award under a dynamic market links that market's own process,
                # the same ocid as its notices
                "identifier": f"{config.ocid_prefix}{award.dps_id}"
                if award.dps_id and award.regime == "PA2023_DYNAMIC_MARKET"
                else config.dps_ocid,
            }
        ],
        "awards": [
            {
                "id": award.award_id,
                "status": "active",
                "date": when,
                "value": value,
                "suppliers": [supplier],
            }
        ],
        "contracts": [contract],
    }


def build_package(
    awards: Iterable[AwardRecord], quarter: str, config: PublicationConfig
) -> dict[str, Any]:
    """The release package of the quarter's awards (§7.5). Amounts are Decimals (exact);
    ``render_package`` writes them as JSON numbers. ``NotFound`` when the quarter has no
    award: OCDS requires at least one release."""
    chosen = awards_in_quarter(awards, quarter)
    if not chosen:
        raise NotFound(f"no award was made under the DPS in {quarter}")
    return {
        "uri": f"{config.base_uri}/api/v1/publications/awards?quarter={quarter}&format=ocds",
        "version": OCDS_VERSION,
        "publishedDate": _timestamp(chosen[-1].awarded_at),
        "publisher": {"name": config.publisher_name},
        "extensions": [TECHNIQUES_EXTENSION],
        "releases": [_release(award, config) for award in chosen],
    }


def _json_number(value: object) -> int | float:
    if not isinstance(value, Decimal):
        raise TypeError(f"cannot write {type(value).__name__} to JSON")
    if abs(value) >= _JSON_MAX or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"amount {value} cannot be written exactly as a JSON number")
    # A 2-decimal amount below 10^13 has at most 15 significant digits, so the shortest
    # repr of its double is that same decimal: the JSON text is exact.
    return int(value) if value == value.to_integral_value() else float(value)


def render_package(package: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON with sorted keys and 2-space indentation: same package, same bytes."""
    text = json.dumps(package, sort_keys=True, indent=2, ensure_ascii=False, default=_json_number)
    return (text + "\n").encode("utf-8")


# --- CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = (
    "ocid",
    "award_id",
    "contract_id",
    "award_date",
    "buyer_code",
    "buyer_name",
    "supplier_id",
    "supplier_name",
    "category",
    "procurement_method",
    "direct_reason_code",
    "number_of_tenderers",
    "weekly_price",
    "annual_value",
    "currency",
    "contract_start",
)


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas in free text (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(awards: Iterable[AwardRecord], quarter: str, config: PublicationConfig) -> bytes:
    """The same awards as ``build_package``, one row each, in the same order (§7.5). An empty
    quarter gives the header alone."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for award in awards_in_quarter(awards, quarter):
        writer.writerow(
            [
                config.ocid(award),
                award.award_id,
                award.placement_id,
                _timestamp(award.awarded_at),
                award.authority,
                _cell(config.authority_name(award.authority)),
                award.provider_id,
                _cell(award.provider_name),
                award.category,
                "direct" if award.direct else "selective",
                award.direct_reason_code or "",
                "" if award.bids_count is None or award.direct else award.bids_count,
                f"{award.weekly_price:.2f}",
                f"{award.annual_value:.2f}",
                CURRENCY,
                award.contract_start.isoformat() if award.contract_start else "",
            ]
        )
    return out.getvalue().encode("utf-8")


def award_record(placement: Placement) -> AwardRecord | None:
    """What §7.5 publishes of a placement: referral awards and direct placements (flagged);
    a block place is not an award. No child data is carried over."""
    if placement.source is PlacementSource.BLOCK_PLACE:
        return None
    assert placement.awarded_weekly_price is not None  # set by __post_init__
    return AwardRecord(
        award_id=placement.source_ref,
        placement_id=placement.placement_id,
        authority=placement.authority,
        provider_id=placement.provider_id,
        provider_name=placement.provider_name or placement.provider_id,
        category=placement.category,
        awarded_at=placement.agreed_at,
        weekly_price=placement.awarded_weekly_price,
        direct_reason_code=placement.reason_code,
        bids_count=placement.bids_count,
        regime=placement.regime,
        dps_id=placement.dps_id,
        estimated_value=placement.estimated_value,
    )
