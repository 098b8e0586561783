"""A call-off's Procurement Act 2023 notices (RULES §11.3, §11.4): UK4 tender (s.21), UK6
contract award (s.50, with the voluntary standstill of s.51), UK7 contract details (s.53),
UK11 contract termination (s.80) and UK12 procurement termination (s.55), as OCDS 1.1
releases with the UK profile, each linked to its market by ``relatedProcesses``. Pure
builders on the records and helpers of ``notices`` (the market's own notices are there)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.contracts.domain.notices import (
    LIGHT_TOUCH,
    CallOff,
    NoticeConfig,
    Supplier,
    amount,
    annual_value,
    base_release,
    buyer_party,
    end_of_day,
    notice_document,
    party_ref,
    supplier_party,
    timestamp,
)
from services.contracts.domain.publication import CATEGORY_TITLES, CURRENCY


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
    release = base_release(ocid, f"{ocid}-{code}", at, tags, parties, buyer)
    release["relatedProcesses"] = _related(c, config)
    return release, buyer, sparty


def tender_notice(c: CallOff, published_at: datetime, config: NoticeConfig) -> dict[str, Any]:
    """UK4 (s.21): the referral's tender notice at publishing, with its closing time."""
    release, _, _ = _call_off_release("UK4", c, published_at, config, ["tender"])
    tender = _call_off_tender(c, "active")
    if c.deadline is not None:
        tender["tenderPeriod"] = {"startDate": timestamp(published_at),
                                  "endDate": timestamp(c.deadline)}
    tender["documents"] = [notice_document("UK4", release["id"])]
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
        "suppliers": [party_ref(sparty)],
        "aboveThreshold": c.above_threshold,
        "mainProcurementCategory": "services",
        "documents": [notice_document("UK6", release["id"])],
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
        "documents": [notice_document(code, release_id)],
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
    release["awards"] = [{"id": c.process_id, "status": "active", "suppliers": [party_ref(sparty)]}]
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
    release["awards"] = [{"id": c.process_id, "status": "active", "suppliers": [party_ref(sparty)]}]
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
    tender["documents"] = [notice_document("UK12", release["id"])]
    release["tender"] = tender
    return release
