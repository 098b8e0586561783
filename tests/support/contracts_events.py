"""Events the contracts service consumes, shaped as their producers send them (the referral
service's ``referral_awarded`` etc., qualification's membership events), and a publisher
that puts them on the producer's exchange the way the outbox relay does. Shared by the
integration and e2e tests of contracts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import kombu
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services.common.config import get_settings
from services.common.crypto import KeyVault
from services.common.events import exchange_name


def sealed_child(key_id: str, authority: str, child_reference: str) -> dict[str, str]:
    """``SealedChildData`` as the referral service puts it in its events (RULES §13): the
    reference sealed under a data key created here in the key vault."""
    engine = create_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            vault = KeyVault(session)
            vault.create(key_id, authority, datetime.now(UTC))
            sealed = vault.seal(key_id, {"child_reference": child_reference})
            session.commit()
    finally:
        engine.dispose()
    return {"key_id": key_id, "sealed": sealed}


def uid(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4()}"


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def award_payload(
    *,
    authority: str = "KCC",
    category: str = "SEN",
    provider_id: str | None = None,
    establishment_id: str | None = None,
    awarded_at: datetime | None = None,
    core_costs: dict[str, str] | None = None,
    variable_costs: list[dict[str, str]] | None = None,
    child_reference: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A ``referral_awarded`` payload as services/referral/messages.py ``ReferralAwarded``
    dumps it (with what contracts ignores: contacts, the full referral with the child's
    name, winning total, parent choice)."""
    awarded_at = awarded_at or datetime.now(UTC)
    core = core_costs or {"core_staffing": "2000.00", "staff_related": "1000.00"}
    variable = (
        variable_costs
        if variable_costs is not None
        else [{"label": "Speech therapy", "weekly": "250.00"}]
    )
    core_total = sum(float(v) for v in core.values())  # test data: whole pounds only
    weekly = core_total + sum(float(v["weekly"]) for v in variable)
    child_reference = child_reference or uid(f"{authority}-CHILD-")
    payload = {
        "event_id": uid(),
        "occurred_at": iso(awarded_at),
        "request_id": uid("req-"),
        "referral_id": uid("ref-"),
        "authority": authority,
        "category": category,
        "placement_id": uid(),
        "bid_id": uid("bid-"),
        "provider_id": provider_id or uid("prov-"),
        "establishment_id": establishment_id or uid("est-"),
        "establishment_name": "Oakwood School",
        "contacts": [{"name": "Head", "email": "head@oakwood.example", "sms_opt_in": False}],
        "child_reference": child_reference,
        "price": {
            "core_costs": core,
            "children": 1,
            "variable_costs": variable,
            "discount_percent": "0",
            "discount": "0.00",
            "weekly_price": f"{weekly:.2f}",
        },
        "proposed_start": None,
        "incentive": None,
        "desired_outcomes": ["Attends school every day"],
        "published_at": iso(awarded_at - timedelta(days=9)),
        "awarded_at": iso(awarded_at),
        "bids_count": 4,
        "compliant_bids_count": 3,
        "winning_total": "84.08",
        "parent_choice": False,
        "parent_choice_reason": None,
        "referral": {
            "category": category,
            "child_reference": child_reference,
            "children": [{"age": 11, "name": "Sam Example", "date_of_birth": "2015-04-02"}],
            "home_location": {"lat": 51.1, "lon": 0.5},
            "address": "1 Example Road",
            "radius_miles": 20,
            "deadline": iso(awarded_at - timedelta(days=2)),
            "needs": [{"code": "ASD", "label": "Autism", "marks": 3}],
            "features": [],
            "desired_outcomes": ["Attends school every day"],
        },
    }
    payload.update(overrides)
    # §13: the child's data sealed, as the producer sends it; ``child_reference`` stays beside
    # it only for the tests' own assertions (contracts ignores unknown fields)
    payload.setdefault("child_data", sealed_child(
        payload["referral_id"], payload["authority"], payload["child_reference"]))
    return payload


def direct_payload(**overrides: Any) -> dict[str, Any]:
    """A ``direct_placement_recorded`` payload as the referral service sends it."""
    at = overrides.pop("occurred_at", None) or datetime.now(UTC)
    payload = {
        "event_id": uid(),
        "occurred_at": iso(at),
        "request_id": uid("req-"),
        "direct_placement_id": uid("dp-"),
        "placement_id": uid(),
        "authority": "ESCC",
        "category": "RESIDENTIAL",
        "establishment_id": uid("est-"),
        "provider_id": uid("prov-"),
        "reason_code": "emergency",
        "justification": "Sam needed a bed the same night",
        "weekly_price": "5200.00",
        "child_reference": uid("ESCC-CHILD-"),
    }
    payload.update(overrides)
    payload.setdefault("child_data", sealed_child(
        payload["placement_id"], payload["authority"], payload["child_reference"]))
    return payload


def referral_event(referral_id: str, authority: str, category: str, **fields) -> dict:
    at = fields.pop("occurred_at", None) or datetime.now(UTC)
    return {
        "event_id": uid(),
        "occurred_at": iso(at),
        "request_id": uid("req-"),
        "referral_id": referral_id,
        "authority": authority,
        "category": category,
        **fields,
    }


def membership_admitted(
    establishment_id: str, provider_id: str, category: str = "SEN", name: str = "Elm House"
) -> dict[str, Any]:
    """qualification's ``membership_admitted`` (the fields contracts keeps, and more)."""
    return {
        "event_id": uid(),
        "occurred_at": iso(datetime.now(UTC)),
        "request_id": uid("req-"),
        "establishment_id": establishment_id,
        "provider_id": provider_id,
        "establishment_name": name,
        "category": category,
        "contacts": [],
        "membership_id": uid("ms-"),
        "admitted_on": datetime.now(UTC).date().isoformat(),
        "location": {"lat": 51.0, "lon": 0.1},
        "competency": 70,
        "core_costs": {"core_staffing": "2000.00"},
        "total_weekly_core_cost": "2000.00",
        "cohort_discounts": [],
        "reverification_due_on": (datetime.now(UTC).date() + timedelta(days=365)).isoformat(),
    }


def contracts_queue(service: str, event_type: str) -> str:
    """The contracts service's queue for an event (its handler is ``on_<event_type>``)."""
    return f"evt-{service}-{event_type}--contracts.on_{event_type}"


def publish(
    service: str, event_type: str, payload: dict[str, Any], *, everyone: bool = False
) -> None:
    """Deliver an event as the outbox relay publishes it (JSON body, ``nameko.request_id``
    header). By default straight into the contracts service's queue, so that made-up events
    reach no other service (notifications would mail their contacts); with
    ``everyone=True`` to ``<service>.events`` under the event type, as the relay does:
    publishing the same payload again there is a redelivery to every consumer."""
    with kombu.Connection(get_settings().amqp_uri) as conn:
        if everyone:
            exchange = kombu.Exchange(exchange_name(service), type="topic", durable=True)
            target = {"exchange": exchange, "routing_key": event_type, "declare": [exchange]}
        else:
            target = {"exchange": "", "routing_key": contracts_queue(service, event_type)}
        conn.Producer().publish(
            json.dumps(payload),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            headers={"nameko.request_id": payload.get("request_id")},
            retry=True,
            **target,
        )
