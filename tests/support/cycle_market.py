"""Shared helpers of the issue-13 e2e tests ("The commissioning cycle on a real day"):
providers and establishments made through the gateway as providers and the lead would
make them, the stack's mail sink, and one service restarted with its clock moved."""

from __future__ import annotations

import math
import random
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from tests.support.fixtures import Api
from tests.support.mail import Sink as MailSink
from tests.support.places import near, random_home

EARTH_RADIUS_MILES = 3958.8
WORKFORCE = ("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING")


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def north_of(home: tuple[float, float], miles: float) -> tuple[float, float]:
    return (home[0] + math.degrees(miles / EARTH_RADIUS_MILES), home[1])


@dataclass
class Establishment:
    id: str
    label: str
    name: str
    provider_id: str
    provider: Api
    location: tuple[float, float]
    category: str
    emails: set[str]


class Market:
    """Providers and establishments of one test module, tagged so that its mail is its own."""

    def __init__(self, stack, api):
        self.stack = stack
        self.lead = api("lead")
        self.tag = uuid.uuid4().hex[:8]
        body = ok(self.lead.get("/api/v1/categories"))
        items = body["items"] if isinstance(body, dict) else body
        self.categories = {c["code"]: c for c in items}

    def provider(self, label: str) -> tuple[str, Api]:
        body = ok(
            Api(self.stack.url).post(
                "/api/v1/providers",
                json={
                    "name": f"{label} Care Ltd {self.tag}",
                    "contact_email": f"{label.lower()}-office-{self.tag}@provider.example",
                },
            ),
            201,
        )
        return body["id"], Api(self.stack.url, body["api_key"])

    def application(self, category: str, establishment_id: str, **over) -> dict:
        config = self.categories[category]
        answers = {}
        for code in config["pass_fail_criteria"]:
            answers[code] = {"answer": f"{code} holds", "evidence": f"https://ev.example/{code}"}
            if code == "INSURANCE":
                answers[code] |= {
                    "expires_on": (date.today() + timedelta(days=400)).isoformat(),
                    "cover": {k: "20000000.00" for k in config["insurance_minimums"]},
                }
        return {
            "establishment_id": establishment_id,
            "category": category,
            "pass_fail": answers,
            "method_statements": {k: f"our {k.lower()} approach" for k in WORKFORCE},
            "core_costs": {head: "300.00" for head in config["cost_heads"]},
            "cohort_discounts": [{"min_children": 2, "percent": 5}],
            **over,
        }

    def establishment(
        self,
        label: str,
        location: tuple[float, float],
        category: str,
        decide: bool = True,
        **application,
    ) -> Establishment:
        """A new provider's establishment, admitted in ``category`` (or only submitted)."""
        provider_id, provider = self.provider(label)
        mail = {f"{label.lower()}-{self.tag}@home.example",
                f"{label.lower()}-deputy-{self.tag}@home.example"}
        name = f"{label} House {self.tag}"
        est = ok(
            provider.post(
                "/api/v1/establishments",
                json={
                    "name": name,
                    "address": f"{label} Lane, Kent",
                    "postcode": "ME1 1AA",
                    "location": {"lat": location[0], "lon": location[1]},
                    "categories": [category],
                    "contacts": [{"name": f"{label} Contact {i}", "email": e}
                                 for i, e in enumerate(sorted(mail))],
                },
            ),
            201,
        )
        body = self.application(category, est["id"], **application)
        app = ok(provider.post("/api/v1/applications", json=body), 201)
        ok(provider.post(f"/api/v1/applications/{app['id']}/submit"))
        if decide:
            decision = ok(
                self.lead.post(
                    f"/api/v1/applications/{app['id']}/decision",
                    json={
                        "pass_fail": {c: {"result": "pass"} for c in body["pass_fail"]},
                        "scores": dict.fromkeys(WORKFORCE, 70),
                    },
                )
            )
            assert decision["status"] == "admitted", decision
        return Establishment(est["id"], label, name, provider_id, provider, location, category,
                             mail)

    def suspend(self, e: Establishment) -> dict:
        return ok(
            self.lead.post(
                f"/api/v1/establishments/{e.id}/memberships/{e.category}/suspend",
                json={"criterion": "INSPECTION", "reason": "an INADEQUATE judgement"},
            )
        )

    def admitted_count_near(self, home, radius: float, category: str) -> int:
        page = ok(self.lead.get("/api/v1/establishments", params={
            "category": category, "status": "admitted", "near": near(home),
            "radius_miles": radius, "limit": 10}))
        return len(page["items"])

    def quiet_home(self, radius: float, category: str) -> tuple[float, float]:
        """A random point of the South East with no admitted establishment of the
        category within ``radius`` miles (or the quietest of those tried)."""
        rng = random.Random()
        tried = []
        for _ in range(30):
            home = random_home(rng)
            near = self.admitted_count_near(home, radius, category)
            if not near:
                return home
            tried.append((near, home))
        return min(tried)[1]


class Sink(MailSink):
    """The stack's mail sink (``tests.support.mail``), its emails also by subject."""

    def emails_to(self, addresses: set[str], subject_has: str = "") -> list[dict]:
        return [r for r in super().emails_to(addresses) if subject_has in r["subject"]]


@contextmanager
def clock_moved(stack, service: str, seconds: float):
    """``service`` restarted with its injectable clock ``seconds`` ahead
    (``DPS_CLOCK_OFFSET_SECONDS``); put back on exit."""
    normal = dict(stack.env)
    stack.stop(service)
    stack.env = {**normal, "DPS_CLOCK_OFFSET_SECONDS": str(int(seconds))}
    try:
        stack.start(service)
    finally:
        stack.env = normal
    stack.wait_healthy()
    try:
        yield
    finally:
        stack.stop(service)
        stack.start(service)
        stack.wait_healthy()
