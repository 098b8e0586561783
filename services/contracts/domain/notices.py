"""Procurement Act 2023 notices as OCDS 1.1 releases with the UK profile (RULES §11.4).

Pure builders: each takes plain records (no child data has a field in any of them, §13) and
returns one release, JSON-ready (amounts as JSON numbers, times as UTC ``Z`` strings).
Deadlines and applicability are in ``notice_rules``.

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


def _ref(party: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": party["id"], "name": party["name"]}


def _document(code: str, release_id: str) -> dict[str, Any]:
    return {
        "id": release_id,
        "documentType": DOCUMENT_TYPES[code],
        "noticeType": code,
        "title": NOTICE_TITLES[code],
        "description": f"{NOTICE_TITLES[code]} on Find a Tender",
        "format": "text/html",
        "language": "en",
    }


def _release(ocid: str, release_id: str, at: datetime, tags: list[str],
             parties: list[dict[str, Any]], buyer: dict[str, Any]) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "id": release_id,
        "date": timestamp(at),
        "tag": tags,
        "initiationType": "tender",
        "language": "en",
        "parties": parties,
        "buyer": _ref(buyer),
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
        "documents": [_document(code, release_id)],
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
    release = _release(ocid, release_id, at, _MARKET_TAGS[code], parties, buyer)
    release["tender"] = tender
    return release


# --- a call-off's notices: UK4, UK6, UK7, UK11, UK12 -------------------------------------------


def _call_off_tender(c: CallOff, status: str) -> dict[str, Any]:
    tender: dict[str, Any] = {
        "id": c.process_id,
        "title": c.title or CATEGORY_TITLES.get(c.category, c.category),
        "status": status,
        "mainProcurementCategory": "services",
        "specialRegime": [LIGHT_TOUCH],
        "aboveThreshold": c.above_threshold,
        "techniques": {"hasDynamicPurchasingSystem": True},
        "competitive": not c.direct,
    }
    if c.direct:
        tender["procurementMethod"] = "direct"
        tender["procurementMethodDetails"] = "Direct award under the dynamic market"
    else:
        tender["procurementMethod"] = "selective"
        tender["procurementMethodDetails"] = (
            "Competitive flexible procedure: a call-off under the dynamic market, open to its "
            "members only (Procurement Act 2023 s.34)"
        )
    if c.estimated_value is not None:
        tender["value"] = {"amountGross": amount(c.estimated_value), "currency": CURRENCY}
    return tender


def _related(c: CallOff, config: NoticeConfig) -> list[dict[str, Any]]:
    link: dict[str, Any] = {"id": "market", "relationship": ["framework"], "scheme": "ocid",
                            "identifier": config.ocid(c.dps_id)}
    if c.market_title:
        link["title"] = c.market_title
    return [link]


def _call_off_release(code: str, c: CallOff, at: datetime, config: NoticeConfig, tags: list[str],
                      supplier: Supplier | None = None) -> tuple[dict[str, Any], dict, dict | None]:
    ocid = config.ocid(c.process_id)
    buyer = buyer_party(c.authority, config)
    parties = [{**buyer, "roles": ["buyer"]}]
    sparty = None
    if supplier is not None:
        sparty = supplier_party(supplier)
        parties.append({**sparty, "roles": ["supplier"]})
    release = _release(ocid, f"{ocid}-{code}", at, tags, parties, buyer)
    release["relatedProcesses"] = _related(c, config)
    return release, buyer, sparty


def tender_notice(c: CallOff, published_at: datetime, config: NoticeConfig) -> dict[str, Any]:
    """UK4 (s.21): the referral's tender notice at publishing, with its closing time."""
    release, _, _ = _call_off_release("UK4", c, published_at, config, ["tender"])
    tender = _call_off_tender(c, "active")
    if c.deadline is not None:
        tender["tenderPeriod"] = {"startDate": timestamp(published_at),
                                  "endDate": timestamp(c.deadline)}
    tender["documents"] = [_document("UK4", release["id"])]
    release["tender"] = tender
    return release


def award_notice(
    c: CallOff,
    supplier: Supplier,
    *,
    contract_id: str,
    awarded_at: datetime,
    weekly_price: Decimal,
    config: NoticeConfig,
    standstill_ends_on: date | None = None,
    summaries_released_at: datetime | None = None,
    bids_count: int | None = None,
) -> dict[str, Any]:
    """UK6 (s.50): after the assessment summaries (s.50(3)), before the contract is entered;
    with the voluntary standstill when the authority chose one (s.51, §11.4)."""
    release, _, sparty = _call_off_release("UK6", c, awarded_at, config, ["award"], supplier)
    tender = _call_off_tender(c, "complete")
    if bids_count is not None and not c.direct:
        tender["numberOfTenderers"] = bids_count
    award: dict[str, Any] = {
        "id": c.process_id,
        "status": "active",
        "date": timestamp(awarded_at),
        "value": annual_value(weekly_price),
        "suppliers": [_ref(sparty)],
        "aboveThreshold": c.above_threshold,
        "mainProcurementCategory": "services",
        "documents": [_document("UK6", release["id"])],
    }
    if summaries_released_at is not None:
        award["assessmentSummariesDateSent"] = timestamp(summaries_released_at)
    if standstill_ends_on is not None:
        award["standstillPeriod"] = {"startDate": timestamp(awarded_at),
                                     "endDate": end_of_day(standstill_ends_on)}
    release["tender"] = tender
    release["awards"] = [award]
    release["contracts"] = [{"id": contract_id, "awardID": c.process_id, "status": "pending"}]
    return release


def _contract(c: CallOff, contract_id: str, weekly_price: Decimal, status: str,
              start: date | None, end: date | None, code: str, release_id: str) -> dict:
    contract: dict[str, Any] = {
        "id": contract_id,
        "awardID": c.process_id,
        "status": status,
        "value": annual_value(weekly_price),
        "aboveThreshold": c.above_threshold,
        "documents": [_document(code, release_id)],
    }
    if start or end:
        contract["period"] = {k: v for k, v in (
            ("startDate", timestamp(start) if start else None),
            ("endDate", timestamp(end) if end else None)) if v}
    return contract


def contract_details_notice(
    c: CallOff,
    supplier: Supplier,
    *,
    contract_id: str,
    entered_on: date,
    weekly_price: Decimal,
    config: NoticeConfig,
    start_date: date | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """UK7 (s.53): the placement agreement as entered, within 120 days of entering it. A light
    touch contract needs no key performance indicators (§11.4)."""
    when = at or datetime.combine(entered_on, datetime.min.time(), UTC)
    release, _, sparty = _call_off_release("UK7", c, when, config, ["contract"], supplier)
    contract = _contract(c, contract_id, weekly_price, "active", start_date, None, "UK7",
                         release["id"])
    contract["dateSigned"] = timestamp(entered_on)
    contract["noAgreedMetricsRationale"] = (
        "A light touch contract: no key performance indicators are required."
    )
    release["tender"] = _call_off_tender(c, "complete")
    release["awards"] = [{"id": c.process_id, "status": "active", "suppliers": [_ref(sparty)]}]
    release["contracts"] = [contract]
    return release


def termination_notice(
    c: CallOff,
    supplier: Supplier,
    *,
    contract_id: str,
    ended_on: date,
    planned: bool,
    weekly_price: Decimal,
    config: NoticeConfig,
    start_date: date | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """UK11 (s.80): the placement ended. Only whether it ended as planned or early is said:
    the end reason (breakdown, step-down, child left care…) is about the child (§13)."""
    when = at or datetime.combine(ended_on, datetime.min.time(), UTC)
    release, _, sparty = _call_off_release("UK11", c, when, config, ["contractTermination"],
                                           supplier)
    contract = _contract(c, contract_id, weekly_price, "terminated", start_date, ended_on,
                         "UK11", release["id"])
    contract["terminationRationaleClassifications"] = [{
        "scheme": "DPS-PLACEMENT-END",
        "id": "completed" if planned else "endedEarly",
        "description": "Placement ended as planned" if planned else "Placement ended early",
    }]
    release["tender"] = _call_off_tender(c, "complete")
    release["awards"] = [{"id": c.process_id, "status": "active", "suppliers": [_ref(sparty)]}]
    release["contracts"] = [contract]
    return release


def procurement_termination_notice(c: CallOff, at: datetime, outcome: str,
                                   config: NoticeConfig) -> dict[str, Any]:
    """UK12 (s.55): a published referral ``cancelled`` or ``unsuccessful`` (no compliant
    tender). The commissioner's cancellation reason is never carried: it may describe the
    child (§13)."""
    if outcome not in ("cancelled", "unsuccessful"):
        raise ValueError("outcome is cancelled or unsuccessful")
    release, _, _ = _call_off_release("UK12", c, at, config, ["tenderCancellation"])
    tender = _call_off_tender(c, outcome)
    tender["statusDetails"] = (
        "Procurement terminated by the authority" if outcome == "cancelled"
        else "Procurement terminated: no suitable tender was received"
    )
    tender["finalStatusDate"] = timestamp(at)
    tender["documents"] = [_document("UK12", release["id"])]
    release["tender"] = tender
    return release
