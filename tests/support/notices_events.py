"""Events of a dynamic market and its call-offs, with the fields as the published messages
name them (qualification's ``market_*`` and membership events, the referral
service's call-off fields), for the contracts notices tests (RULES §11.4). Payload dicts, as
the outbox relay publishes them; each carries a distinctive child data set where the
producer's real event would (the referral's full record, a cancellation reason) so that a
test can assert none of it reaches a notice (§13)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

PA = "PA2023_DYNAMIC_MARKET"
PCR = "PCR2015_DPS"

CHILD = {
    "name": "Zebedee Quartermaine",
    "date_of_birth": "2014-02-28",
    "child_reference": "KCC-CHILD-NOTICE-918273",
    "address": "17 Wisteria Crescent, Tunbridge Wells",
}
"""A child data set distinctive enough to find anywhere in a release's text (§13)."""

PPON = "PBCP-5168-ZDGP"
COMPANIES_HOUSE = "09121572"


def _id(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4()}"


def _iso(at: datetime | date) -> str:
    return at.isoformat() if isinstance(at, date) and not isinstance(at, datetime) \
        else at.astimezone(UTC).isoformat()


def _base(at: datetime | None = None) -> dict[str, Any]:
    return {"event_id": _id(), "occurred_at": _iso(at or datetime.now(UTC)),
            "request_id": _id("req-")}


def market(dps_id: str, regime: str = PA, *, at: datetime | None = None,
           fee_percent: str | None = "1.5", valid_from: date | None = None,
           lead_authority: str = "WSCC") -> dict[str, Any]:
    """``market_created`` / ``market_established`` (the same fields)."""
    start = valid_from or (datetime.now(UTC).date() + timedelta(days=14))
    return {
        **_base(at),
        "dps_id": dps_id,
        "regime": regime,
        "title": "South East children's placements dynamic market",
        "description": "Placements for looked-after children and children with SEND.",
        "parts": [{"number": 1, "category": "SEN", "title": "Special schools"},
                  {"number": 2, "category": "RESIDENTIAL", "title": "Children's homes"}],
        "valid_from": _iso(start),
        "valid_to": _iso(start + timedelta(days=4 * 365)),
        "fee_percent": fee_percent,
        "lead_authority": lead_authority,
    }


def market_ended(dps_id: str, regime: str = PA, ended_on: date | None = None) -> dict:
    return {**_base(), "dps_id": dps_id, "regime": regime,
            "title": "South East children's placements dynamic market",
            "ended_on": _iso(ended_on or datetime.now(UTC).date())}


def membership(dps_id: str, regime: str = PA, *, provider_id: str | None = None,
               establishment_id: str | None = None, removed: bool = False,
               ppon: str | None = PPON, companies_house_number: str | None = COMPANIES_HOUSE,
               provider_name: str = "Oakwood Care Ltd") -> dict[str, Any]:
    """``membership_admitted`` or ``membership_removed`` with the §11.2 fields."""
    payload = {
        **_base(),
        "membership_id": _id("ms-"),
        "establishment_id": establishment_id or _id("est-"),
        "provider_id": provider_id or _id("prov-"),
        "establishment_name": "Oakwood School",
        "category": "SEN",
        "contacts": [],
        "dps_id": dps_id,
        "regime": regime,
        "provider_name": provider_name,
        "ppon": ppon,
        "companies_house_number": companies_house_number,
        "part_number": 1,
    }
    if removed:
        payload.update(reason="debarred", reasons="Debarment list entry (s.62)",
                       removed_on=_iso(datetime.now(UTC).date()))
    else:
        payload.update(admitted_on=_iso(datetime.now(UTC).date()))
    return payload


def call_off_fields(dps_id: str, regime: str = PA, *, estimated_value: str | None = "780000.00",
                    above_threshold: bool | None = True) -> dict[str, Any]:
    return {"dps_id": dps_id, "regime": regime, "estimated_value": estimated_value,
            "above_threshold": above_threshold,
            "below_threshold_rules": None if above_threshold is not False else "ss.84-88"}


def referral_published(referral_id: str, dps_id: str, regime: str = PA, *,
                       authority: str = "KCC", **fields: Any) -> dict[str, Any]:
    at = datetime.now(UTC)
    return {
        **_base(at),
        "referral_id": referral_id,
        "authority": authority,
        "category": "SEN",
        "title": "Day placement at a special school",
        "deadline": _iso(at + timedelta(days=7)),
        "profile": {"referral_id": referral_id, "category": "SEN",
                    "deadline": _iso(at + timedelta(days=7)),
                    "needs": [{"code": "ASD", "label": "Autism"}]},
        "invited": [],
        **call_off_fields(dps_id, regime, **fields),
    }


def referral_cancelled(referral_id: str, dps_id: str, regime: str = PA, *,
                       was_published: bool = True, authority: str = "KCC") -> dict[str, Any]:
    return {
        **_base(), "referral_id": referral_id, "authority": authority, "category": "SEN",
        "reason": f"{CHILD['name']} moved in with an aunt at {CHILD['address']}",
        "status_before": "published", "invited": [], "was_published": was_published,
        **call_off_fields(dps_id, regime),
    }


def referral_unsuccessful(referral_id: str, dps_id: str, regime: str = PA,
                          authority: str = "KCC") -> dict[str, Any]:
    return {**_base(), "referral_id": referral_id, "authority": authority, "category": "SEN",
            "bids_count": 2, **call_off_fields(dps_id, regime)}


def award_fields(dps_id: str, regime: str = PA, *, standstill_ends_on: date | None = None,
                 at: datetime | None = None) -> dict[str, Any]:
    """The call-off fields of ``referral_awarded`` (RULES §11.3)."""
    at = at or datetime.now(UTC)
    return {
        **call_off_fields(dps_id, regime),
        "standstill_ends_on": _iso(standstill_ends_on) if standstill_ends_on else None,
        "summaries_released_at": _iso(at - timedelta(minutes=5)),
        "insurance_checked_at": _iso(at - timedelta(minutes=10)),
    }


def child_referral(referral_id: str) -> dict[str, Any]:
    """The awarded referral's full record as the winner receives it, with the child data."""
    return {
        "referral_id": referral_id, "category": "SEN",
        "child_reference": CHILD["child_reference"],
        "children": [{"age": 11, "name": CHILD["name"], "date_of_birth": CHILD["date_of_birth"]}],
        "address": CHILD["address"],
        "needs": [{"code": "ASD", "label": "Autism", "marks": 3}],
    }
