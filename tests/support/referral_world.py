"""The referral service's integration world, shared by ``tests/integration/referral``: a
small fake qualification service (the RPCs referral calls), the services under test with
their own names (``referral_it``, ``qualification_it``, ``scoring_it``,
``scoring_it_<category>``) so that an e2e stack running in the same session (same vhost and
database) never answers these tests' calls, a clock 40 days ahead of real time so that the
stack's deadline timer never closes these referrals, callers acting as a principal, regions
of establishments at known distances, and readers of the store (outbox, audit, counts).

The fixtures that build these are in ``tests/integration/referral/conftest.py``.
"""

from __future__ import annotations

import itertools
import json
import math
import uuid
from contextlib import contextmanager
from datetime import timedelta

from nameko.containers import ServiceContainer
from nameko.rpc import RpcProxy
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select

from services.common.clock import Clock, utcnow
from services.common.errors import NotFound
from services.common.runtime import Database, rpc
from services.referral import store
from services.referral.peers import ScoringProxies
from services.referral.service import ReferralService
from services.scoring.service import category_service, resolve_referral_weights

CATEGORY = "RESIDENTIAL"
EARTH_RADIUS_MILES = 3958.8
MILES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_MILES / 180
HEADS = {"premises": "1000.00", "staffing": "2000.00"}


class MovableClock(Clock):
    """Real time shifted by ``offset``, which a test may move forward."""

    def __init__(self, offset: timedelta):
        self.offset = offset

    def now(self):
        return utcnow() + self.offset

    def advance(self, **kwargs) -> None:
        self.offset += timedelta(**kwargs)


CLOCK = MovableClock(timedelta(days=40))


# --------------------------------------------------------------------------- fake qualification


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = [(math.radians(x), math.radians(y)) for x, y in (a, b)]
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


ESTABLISHMENTS: dict[str, dict] = {}
"""The fake qualification's establishments, by id (tests add their own)."""


def category_view(code: str) -> dict:
    return {
        "code": code,
        "name": code.title(),
        "version": 1,
        "pass_fail_criteria": ["EXCLUSIONS"],
        "weighted_criteria_weights": {
            "WORKFORCE": 30,
            "OUTCOMES_APPROACH": 40,
            "PERFORMANCE_MONITORING": 30,
        },
        "cost_heads": list(HEADS),
        "optional_cost_heads": [],
        "insurance_minimums": {
            "employers_liability": "10000000.00",
            "public_liability": "5000000.00",
            "professional_liability": "2000000.00",
        },
        "min_tender_period_hours": 0,
        "min_invited": 3,
        "affordability_cap": None,
        "authority_caps": {},
        "competency_period_months": 6,
        "referral_weights": {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5},
    }


class FakeQualification:
    """Answers the RPCs the referral service makes, from ``ESTABLISHMENTS``."""

    name = "qualification_it"

    @rpc
    def ping(self):
        return "ok"

    @rpc
    def get_category(self, code):
        if code not in (
            "SEN",
            "FOSTERCARE",
            "RESIDENTIAL",
            "ALT_EDUCATION",
            "SUPPORTED_ACCOMMODATION",
        ):
            raise NotFound(f"no category {code}")
        return category_view(code)

    @rpc
    def eligible_establishments(self, query):
        home = (query["lat"], query["lon"])
        found = []
        for e in ESTABLISHMENTS.values():
            distance = haversine(home, e["location"])
            if (
                e["category"] == query["category"]
                and e["status"] == "admitted"
                and distance <= query["radius_miles"]
            ):
                found.append(
                    {
                        "establishment_id": e["id"],
                        "provider_id": e["provider_id"],
                        "name": e["name"],
                        "category": e["category"],
                        "location": {"lat": e["location"][0], "lon": e["location"][1]},
                        "distance_miles": distance,
                        "core_costs": HEADS,
                        "total_weekly_core_cost": "3000.00",
                        "cohort_discounts": [{"min_children": 2, "percent": 5.0}],
                        "competency": e["competency"],
                        "contacts": e["contacts"],
                    }
                )
        return sorted(found, key=lambda x: x["distance_miles"])

    @rpc
    def get_dps(self):
        """The default market (RULES §11.1): a dynamic market, whose light touch
        categories may have the 0-hour minimum tender period these tests use (s.54(4),
        §11.3; under a PCR 2015 DPS the platform's 24 hours would apply)."""
        return {"dps_id": "dm-it", "regime": "PA2023_DYNAMIC_MARKET", "status": "open",
                "state": "established", "valid_from": "2025-04-01", "valid_to": "2029-02-23",
                "entry_open": True}

    @rpc
    def insurance_status(self, query):
        return {"current": True}

    @rpc
    def standings(self, category, establishment_ids, dps_id=None):
        out = {}
        for i in establishment_ids:
            e = ESTABLISHMENTS.get(i)
            if e is not None and e["category"] == category:
                out[i] = {
                    "admitted": e["status"] == "admitted",
                    "status": e["status"],
                    "competency": e["competency"],
                }
        return out

    @rpc
    def get_establishment(self, establishment_id):
        e = ESTABLISHMENTS.get(establishment_id)
        if e is None:
            raise NotFound("no such establishment")
        membership = {
            "id": f"m-{e['id']}",
            "category": e["category"],
            "dps_id": "dm-it",
            "status": e["status"],
            "application_id": f"a-{e['id']}",
            "admitted_on": "2026-01-05",
            "competency": e["competency"],
            "scores": {"WORKFORCE": 70, "OUTCOMES_APPROACH": 70, "PERFORMANCE_MONITORING": 70},
            "core_costs": HEADS,
            "total_weekly_core_cost": "3000.00",
            "cohort_discounts": [],
            "additional_services": [],
            "evidence_expiry": {},
            "reverification_due_on": "2027-01-05",
            "open_failures": [],
            "pending_resubmissions": [],
            "history": [],
            "competency_moves": [],
            "cost_history": [],
        }
        return {
            "id": e["id"],
            "provider_id": e["provider_id"],
            "name": e["name"],
            "urn": None,
            "address": "1 Test Road",
            "postcode": "ME1 1AA",
            "location": {"lat": e["location"][0], "lon": e["location"][1]},
            "categories": [e["category"]],
            "capacity": None,
            "contacts": e["contacts"],
            "inspections": [],
            "memberships": [membership],
        }


# --------------------------------------------------------------------------- services under test


class ReferralUnderTest(ReferralService):
    name = "referral_it"
    db = Database(store.metadata, clock=CLOCK, store=store.Store)
    qualification = RpcProxy("qualification_it")
    scoring = ScoringProxies("scoring_it", lambda category: f"scoring_it_{category.lower()}")


class ScoringUnderTest:
    name = "scoring_it"

    @rpc
    def ping(self):
        return "ok"

    @rpc
    def resolve_weights(self, request):
        return resolve_referral_weights(request)


class CategoryScoringUnderTest(category_service(CATEGORY)):
    name = f"scoring_it_{CATEGORY.lower()}"


class Services:
    def __init__(self, config: dict):
        self.config = config
        self.containers: dict[str, ServiceContainer] = {}

    def start(self, cls) -> ServiceContainer:
        container = ServiceContainer(cls, self.config)
        container.start()
        self.containers[cls.name] = container
        return container

    def stop(self, name: str) -> None:
        self.containers.pop(name).stop()

    @property
    def referral(self) -> ServiceContainer:
        return self.containers["referral_it"]


# --------------------------------------------------------------------------- calling as someone


class Caller:
    """RPCs to ``referral_it`` on behalf of a principal, as the gateway makes them."""

    def __init__(self, config: dict, principal: dict):
        self.config = config
        self.principal = principal

    @contextmanager
    def _proxy(self):
        context = {"principal": json.dumps(self.principal), "request_id": f"it-{uuid.uuid4()}"}
        with ClusterRpcProxy(self.config, context_data=context, timeout=30) as proxy:
            yield proxy.referral_it

    def __getattr__(self, method):
        def call(*args):
            with self._proxy() as referral:
                return getattr(referral, method)(*args)

        return call


def commissioner(authority: str = "KCC") -> dict:
    return {"id": f"key-{uuid.uuid4()}", "role": "commissioner", "authority": authority}


def provider(provider_id: str) -> dict:
    return {"id": f"key-{uuid.uuid4()}", "role": "provider", "provider_id": provider_id}


# --------------------------------------------------------------------------- data


_homes = itertools.count()


class Region:
    """A fresh home location, at least 69 miles from any other region's (one degree of
    latitude apart), with establishments north of it at known distances."""

    def __init__(self):
        self.tag = uuid.uuid4().hex[:8]
        self.home = (-60.0 + 1.5 * next(_homes), 0.6)
        self.ids: dict[str, str] = {}

    def add(
        self,
        label: str,
        miles: float,
        status: str = "admitted",
        competency: float = 75.0,
        category: str = CATEGORY,
    ) -> str:
        eid = f"est-{label}-{self.tag}"
        ESTABLISHMENTS[eid] = {
            "id": eid,
            "provider_id": f"prov-{label}-{self.tag}",
            "name": f"Home {label}",
            "category": category,
            "status": status,
            "competency": competency,
            "location": (self.home[0] + miles / MILES_PER_DEGREE_LAT, self.home[1]),
            "contacts": [
                {
                    "name": f"Manager {label}",
                    "email": f"{label}@{self.tag}.example",
                    "phone": None,
                    "sms_opt_in": False,
                }
            ],
        }
        self.ids[label] = eid
        return eid

    def provider_of(self, label: str) -> dict:
        return provider(ESTABLISHMENTS[self.ids[label]]["provider_id"])

    def spec(self, **over) -> dict:
        data = {
            "category": CATEGORY,
            "child_reference": f"KCC-CHILD-{self.tag}",
            "children": [
                {
                    "age": 14,
                    "gender": "female",
                    "legal_status": "s31",
                    "name": "Ann Secret",
                    "date_of_birth": "2012-05-01",
                }
            ],
            "home_location": {"lat": self.home[0], "lon": self.home[1]},
            "address": "1 Secret Street",
            "radius_miles": 30,
            "deadline": (CLOCK.now() + timedelta(hours=2)).isoformat(),
            "needs": [
                {"code": "N1", "label": "therapy", "marks": 3},
                {"code": "N2", "label": "education", "marks": 2},
            ],
            "features": [
                {"code": "M1", "label": "single occupancy", "must_have": True},
                {"code": "D1", "label": "near school", "marks": 2},
            ],
            "desired_outcomes": ["attend school full time"],
        }
        return {**data, **over}

    def bid(self, label: str, **over) -> dict:
        data = {
            "establishment_id": self.ids[label],
            "core_costs": HEADS,
            "variable_costs": [{"label": "1:1 support", "weekly": "150.00"}],
            "needs_met": ["N1", "N2"],
            "features_met": ["M1", "D1"],
            "outcomes_statement": "We will work towards full-time attendance.",
        }
        return {**data, **over}


# --------------------------------------------------------------------------- reading the store


def outbox(engine, referral_id: str, event_type: str | None = None) -> list[dict]:
    table = store.TABLES["outbox"]
    q = (
        select(table.c.event_type, table.c.payload)
        .where(table.c.payload["referral_id"].astext == referral_id)
        .order_by(table.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        r.payload | {"_type": r.event_type}
        for r in rows
        if event_type is None or r.event_type == event_type
    ]


def audit(engine, entity_id: str, action: str | None = None) -> list[dict]:
    """An entity's audit records in the order written (``id``: the order the sealer gives
    their chain ``seq``, which the rows it has not reached yet lack; RULES §9)."""
    table = store.TABLES["audit_log"]
    q = select(table).where(table.c.entity_id == entity_id).order_by(table.c.id)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    return [r for r in rows if action is None or r["action"] == action]


def count(engine, table, **where) -> int:
    from sqlalchemy import func

    q = select(func.count()).select_from(table)
    for column, value in where.items():
        q = q.where(table.c[column] == value)
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()
