"""Procurement Act 2023 notices as OCDS 1.1 releases with the UK profile (RULES §11.4).

Pure builders: each takes plain records (no child data has a field in any of them, §13) and
returns one release, JSON-ready (amounts as JSON numbers, times as UTC ``Z`` strings).
Deadlines and applicability are in ``notice_rules``; a call-off's notices (UK4, UK6, UK7,
UK11, UK12) in ``call_off_notices``, on the records and helpers here.

Mapping, following Find a Tender's own OCDS (the UK extension, ``cabinetoffice/
ocds_uk_extension``, and published releases such as ``ocds-h6vhtk-050ef2``, whose UK3 sits in
``planning.documents`` with ``documentType`` and ``noticeType``, and ``ocds-h6vhtk-0547da``,
whose parties are ``GB-PPON-…`` / ``GB-COH-…`` with a matching ``identifier``; the
"UK4: releases>tender>documents>last>noticeType" reading rule of FTS notice parsers):

- The notice is one entry of ``documents`` in the section it belongs to, with
  ``noticeType`` = the code and the OCDS/UK ``documentType``: market notices and UK4, UK12 in
  ``tender.documents`` (``tenderNotice``, ``tenderCancellationNotice``); UK6 in
  ``awards[0].documents`` (``awardNotice``); UK7 and UK11 in ``contracts[0].documents``
  (``contractNotice``, ``contractTerminationNotice``). Its ``id`` is the release id until Find
  a Tender gives the notice its own; ``with_publication`` then adds the notice id, url and
  ``datePublished``.
- ``ocid`` = configured prefix + the process id: the market's ``dps_id``, a referral's id
  (the same ocid as the §7.5 quarterly publication of its award), a direct placement's id.
  Release ``id`` = ``<ocid>-<code>`` (``-<n>`` for each UK15).
- The market is its own contracting process: ``tender.techniques.hasDynamicPurchasingSystem
  = true`` with ``dynamicPurchasingSystem.status`` (techniques extension), its parts as
  ``tender.lots`` (lots extension), its term as ``tender.tenderPeriod``. Each call-off links to
  it by ``relatedProcesses = [{relationship: ["framework"], scheme: "ocid", identifier}]``,
  as §7.5 does, and is ``procurementMethod = "selective"`` with ``tender.competitive``.
- ``tender.specialRegime = ["lightTouch"]``, ``aboveThreshold`` on tender, award and contract
  (UK extension); the estimated value is ``tender.value.amountGross`` (the threshold is
  including VAT); the award and contract value is the annualised weekly price, as §7.5.
- ``Award.standstillPeriod`` (voluntary standstill, s.51) and
  ``Award.assessmentSummariesDateSent`` (s.50(3)) from the UK extension.
- Parties: the buyer (the authority, its PPON when configured) and the supplier with
  ``GB-PPON`` and/or ``GB-COH`` identifiers (§11.2); a removed member has the UK role
  ``removedSupplier``. No establishment is named: with one or two beds, establishment, date
  and authority come close to identifying a child (§7.5, §13). No free text written by a
  commissioner (cancellation reasons, justifications, needs) is carried; a removal's reasons
  are not published either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.common.money import round_pence, weekly_to_annual
from services.contracts.domain.notice_rules import NOTICE_TITLES
from services.contracts.domain.publication import CATEGORY_TITLES, CURRENCY, PARTNER_AUTHORITIES

FIND_A_TENDER_NOTICE_URL = "https://www.find-tender.service.gov.uk/Notice/"
LIGHT_TOUCH = "lightTouch"
DOCUMENT_TYPES: Mapping[str, str] = {
    "UK4": "tenderNotice",
    "UK6": "awardNotice",
    "UK7": "contractNotice",
    "UK11": "contractTerminationNotice",
    "UK12": "tenderCancellationNotice",
    "UK13": "tenderNotice",
    "UK14": "tenderNotice",
    "UK15": "tenderNotice",
    "UK16": "tenderNotice",
}


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeConfig:
    """Who publishes and how ocids are made (``ocid_prefix`` includes its separator)."""

    ocid_prefix: str = "ocds-dpsse1-"
    authority_names: Mapping[str, str] = field(default_factory=lambda: dict(PARTNER_AUTHORITIES))
    authority_ppons: Mapping[str, str] = field(default_factory=dict)

    def ocid(self, process_id: str) -> str:
        return f"{self.ocid_prefix}{process_id}"


@dataclass(frozen=True)
class Part:
    number: int
    category: str
    title: str


@dataclass(frozen=True)
class Market:
    """A dynamic market as qualification's market events describe it (§11.2)."""

    dps_id: str
    regime: str
    title: str
    lead_authority: str
    valid_from: date | None = None
    valid_to: date | None = None
    description: str | None = None
    parts: Sequence[Part] = ()
    fee_percent: Decimal | None = None


@dataclass(frozen=True)
class Supplier:
    """A provider organisation and its identifiers (§11.2: PPON, Companies House)."""

    provider_id: str
    name: str
    ppon: str | None = None
    companies_house_number: str | None = None


@dataclass(frozen=True)
class CallOff:
    """A referral (or a direct placement) as a call-off under a market (§11.3). ``title`` is
    the referral's title when it has one, else the category's."""

    process_id: str
    authority: str
    category: str
    dps_id: str
    market_title: str | None = None
    title: str | None = None
    estimated_value: Decimal | None = None
    above_threshold: bool = True
    deadline: datetime | None = None
    direct: bool = False


# --- helpers ------------------------------------------------------------------------------------


def timestamp(at: datetime | date) -> str:
    if not isinstance(at, datetime):
        return f"{at.isoformat()}T00:00:00Z"
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def end_of_day(day: date) -> str:
    return f"{day.isoformat()}T23:59:59Z"


def amount(value: Decimal) -> int | float:
    """A 2-decimal amount as an exact JSON number (below 10^13, as §7.5)."""
    value = round_pence(Decimal(value))
    return int(value) if value == value.to_integral_value() else float(value)


def annual_value(weekly: Decimal) -> dict[str, Any]:
    """The annualised weekly price (weekly × 52, §4.4), as §7.5 publishes it."""
    return {"amount": amount(weekly_to_annual(weekly)), "currency": CURRENCY}


def buyer_party(code: str, config: NoticeConfig) -> dict[str, Any]:
    name = config.authority_names.get(code, code)
    ppon = config.authority_ppons.get(code)
    if ppon:
        return {"id": f"GB-PPON-{ppon}", "name": name,
                "identifier": {"scheme": "GB-PPON", "id": ppon, "legalName": name}}
    return {"id": f"authority-{code}", "name": name}


def supplier_party(s: Supplier) -> dict[str, Any]:
    """``GB-PPON-<ppon>`` (with Companies House as an additional identifier), else
    ``GB-COH-<number>``, else the platform's own provider id (§11.2)."""
    party: dict[str, Any] = {"name": s.name}
    coh = {"scheme": "GB-COH", "id": s.companies_house_number} if s.companies_house_number else None
    if s.ppon:
        party["id"] = f"GB-PPON-{s.ppon}"
        party["identifier"] = {"scheme": "GB-PPON", "id": s.ppon, "legalName": s.name}
        if coh:
            party["additionalIdentifiers"] = [coh]
    elif coh:
        party["id"] = f"GB-COH-{s.companies_house_number}"
        party["identifier"] = {**coh, "legalName": s.name}
    else:
        party["id"] = f"provider-{s.provider_id}"
    return party


def party_ref(party: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": party["id"], "name": party["name"]}


def notice_document(code: str, release_id: str) -> dict[str, Any]:
    return {
        "id": release_id,
        "documentType": DOCUMENT_TYPES[code],
        "noticeType": code,
        "title": NOTICE_TITLES[code],
        "description": f"{NOTICE_TITLES[code]} on Find a Tender",
        "format": "text/html",
        "language": "en",
    }


def base_release(ocid: str, release_id: str, at: datetime, tags: list[str],
             parties: list[dict[str, Any]], buyer: dict[str, Any]) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "id": release_id,
        "date": timestamp(at),
        "tag": tags,
        "initiationType": "tender",
        "language": "en",
        "parties": parties,
        "buyer": party_ref(buyer),
    }


def notice_type(release: Mapping[str, Any]) -> str | None:
    """The ``noticeType`` of the release's notice document, wherever it sits."""
    for doc in notice_documents(release):
        return doc.get("noticeType")
    return None


def notice_documents(release: Mapping[str, Any]) -> list[dict[str, Any]]:
    sections: list[Any] = [release.get("tender") or {}]
    sections += list(release.get("awards") or []) + list(release.get("contracts") or [])
    return [d for s in sections for d in s.get("documents") or [] if d.get("noticeType")]


def with_publication(release: Mapping[str, Any], fts_notice_id: str | None,
                     published_at: datetime) -> dict[str, Any]:
    """The release as published on Find a Tender: its notice document gets the notice's
    ``datePublished`` and, given the FTS notice id, its url (the FTS notice page)."""
    import copy

    out = copy.deepcopy(dict(release))
    for doc in notice_documents(out):
        doc["datePublished"] = timestamp(published_at)
        if fts_notice_id:
            doc["url"] = f"{FIND_A_TENDER_NOTICE_URL}{fts_notice_id}"
    return out


# --- the market's notices: UK13, UK14, UK15, UK16 (s.39, reg 25(6)) ----------------------------

_MARKET_STATUS = {"UK13": ("planned", "pending"), "UK14": ("active", "active"),
                  "UK15": ("active", "active"), "UK16": ("complete", "terminated")}
_MARKET_TAGS = {"UK13": ["tender"], "UK14": ["tender"], "UK15": ["tenderAmendment"],
                "UK16": ["tenderUpdate"]}


def market_notice(
    code: str,
    market: Market,
    at: datetime,
    config: NoticeConfig,
    *,
    sequence: str | None = None,
    member: Supplier | None = None,
    change: str | None = None,
    part_number: int | None = None,
    ended_on: date | None = None,
) -> dict[str, Any]:
    """UK13 intention (s.39(2)), UK14 establishment (s.39(3)), UK15 modification — each
    admission (``change="admitted"``) and removal (``"removed"``) of ``member`` (reg 25(6)) —
    and UK16 cessation (s.39(5)) of a dynamic market, its own contracting process."""
    if code not in _MARKET_STATUS:
        raise ValueError(f"{code} is not a dynamic market notice")
    ocid = config.ocid(market.dps_id)
    release_id = f"{ocid}-{code}" + (f"-{sequence}" if sequence else "")
    buyer = buyer_party(market.lead_authority, config)
    parties = [{**buyer, "roles": ["buyer"]}]
    status, dps_status = _MARKET_STATUS[code]
    description = market.description or market.title
    if market.fee_percent:
        description += (
            f" Fee (Procurement Act 2023 s.38): {format(market.fee_percent.normalize(), 'f')}% "
            "of the estimated value of each contract awarded under the market, charged only "
            "to the awarded supplier."
        )
    tender: dict[str, Any] = {
        "id": market.dps_id,
        "title": market.title,
        "description": description,
        "status": status,
        "mainProcurementCategory": "services",
        "specialRegime": [LIGHT_TOUCH],
        "techniques": {"hasDynamicPurchasingSystem": True,
                       "dynamicPurchasingSystem": {"status": dps_status}},
        "documents": [notice_document(code, release_id)],
    }
    if market.valid_from or market.valid_to:
        period: dict[str, str] = {}
        if market.valid_from:
            period["startDate"] = timestamp(market.valid_from)
        if market.valid_to:
            period["endDate"] = end_of_day(market.valid_to)
        tender["tenderPeriod"] = period
    if market.parts:
        tender["lots"] = [
            {"id": str(p.number), "title": p.title,
             "description": CATEGORY_TITLES.get(p.category, p.category)}
            for p in sorted(market.parts, key=lambda p: p.number)
        ]
    if code == "UK15":
        if member is None or change not in ("admitted", "removed"):
            raise ValueError("a UK15 names the member admitted or removed")
        party = supplier_party(member)
        parties.append({**party, "roles": ["supplier" if change == "admitted" else
                                           "removedSupplier"]})
        where = f" to part {part_number}" if change == "admitted" and part_number else (
            f" from part {part_number}" if part_number else "")
        verb = "admitted" if change == "admitted" else "removed"
        tender["amendments"] = [{
            "id": release_id,
            "date": timestamp(at),
            "description": f"Supplier {party['name']} {verb}{where} (Procurement Regulations "
                           "2024 reg 25(6)).",
        }]
    if code == "UK16":
        tender["statusDetails"] = "Dynamic market ceased"
        if ended_on:
            tender["tenderPeriod"] = {**tender.get("tenderPeriod", {}),
                                      "endDate": end_of_day(ended_on)}
    release = base_release(ocid, release_id, at, _MARKET_TAGS[code], parties, buyer)
    release["tender"] = tender
    return release
