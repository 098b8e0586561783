"""A market of providers and admitted establishments made through the gateway, and bids on
it: shared by the referral e2e tests and the scoring-outage reliability test (RULES §4, §5,
§6.3 great-circle distance)."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from tests.support.fixtures import Api
from tests.support.places import near, random_home

CATEGORY = "RESIDENTIAL"
OTHER_CATEGORY = "FOSTERCARE"
EARTH_RADIUS_MILES = 3958.8  # the mean Earth radius (RULES §6.3 great-circle distance)
RADIUS, WIDER = 20, 30


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle miles, computed here independently of the platform."""
    (la1, lo1), (la2, lo2) = [(math.radians(p[0]), math.radians(p[1])) for p in (a, b)]
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def north_of(home: tuple[float, float], miles: float) -> tuple[float, float]:
    return (home[0] + math.degrees(miles / EARTH_RADIUS_MILES), home[1])


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


# --------------------------------------------------------------------------- the market


@dataclass
class Establishment:
    id: str
    label: str
    provider_id: str
    provider: Api
    location: tuple[float, float]
    category: str


class Market:
    """Providers and establishments created through the gateway, as providers and the lead
    would create them (API.md "DPS settings and qualification")."""

    def __init__(self, stack, api):
        self.stack = stack
        self.lead = api("lead")
        self.tag = uuid.uuid4().hex[:8]
        self.categories = {c["code"]: c for c in self._categories()}

    def _categories(self) -> list[dict]:
        body = ok(self.lead.get("/api/v1/categories"))
        return body["items"] if isinstance(body, dict) else body

    def provider(self, label: str) -> tuple[str, Api]:
        body = ok(
            Api(self.stack.url).post(
                "/api/v1/providers",
                json={
                    "name": f"{label} Care Ltd {self.tag}",
                    "contact_email": f"{label.lower()}-{self.tag}@provider.example",
                },
            ),
            201,
        )
        return body["id"], Api(self.stack.url, body["api_key"])

    def establishment(
        self,
        label: str,
        location: tuple[float, float],
        category: str = CATEGORY,
        decide: bool = True,
        competency_scores: tuple[int, int, int] = (70, 70, 70),
    ) -> Establishment:
        """A new provider's establishment, admitted in ``category`` (or only submitted)."""
        provider_id, provider = self.provider(label)
        est = ok(
            provider.post(
                "/api/v1/establishments",
                json={
                    "name": f"{label} House {self.tag}",
                    "address": f"{label} Lane, Kent",
                    "postcode": "ME1 1AA",
                    "location": {"lat": location[0], "lon": location[1]},
                    "categories": [category],
                    "contacts": [
                        {
                            "name": f"{label} Manager",
                            "email": f"{label.lower()}-{self.tag}@home.example",
                        }
                    ],
                },
            ),
            201,
        )
        config = self.categories[category]
        answers = {}
        for code in config["pass_fail_criteria"]:
            answers[code] = {"answer": f"{code} holds", "evidence": f"https://ev.example/{code}"}
            if code == "INSURANCE":
                answers[code] |= {
                    "expires_on": (date.today() + timedelta(days=400)).isoformat(),
                    "cover": {k: "20000000.00" for k in config["insurance_minimums"]},
                }
        application = ok(
            provider.post(
                "/api/v1/applications",
                json={
                    "establishment_id": est["id"],
                    "category": category,
                    "pass_fail": answers,
                    "method_statements": {
                        k: f"our {k.lower()} approach"
                        for k in ("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING")
                    },
                    "core_costs": {head: "300.00" for head in config["cost_heads"]},
                    "cohort_discounts": [{"min_children": 2, "percent": 5}],
                },
            ),
            201,
        )
        ok(provider.post(f"/api/v1/applications/{application['id']}/submit"))
        if decide:
            decision = ok(
                self.lead.post(
                    f"/api/v1/applications/{application['id']}/decision",
                    json={
                        "pass_fail": {c: {"result": "pass"} for c in answers},
                        "scores": dict(
                            zip(
                                ("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING"),
                                competency_scores,
                                strict=True,
                            )
                        ),
                    },
                )
            )
            assert decision["status"] == "admitted", decision
        return Establishment(est["id"], label, provider_id, provider, location, category)

    def suspend(self, e: Establishment) -> None:
        ok(
            self.lead.post(
                f"/api/v1/establishments/{e.id}/memberships/{e.category}/suspend",
                json={"criterion": "INSPECTION", "reason": "an INADEQUATE judgement"},
            )
        )

    def category(self, code: str = CATEGORY) -> dict:
        """The category's settings now (another test may have changed them)."""
        return ok(self.lead.get(f"/api/v1/categories/{code}"))

    def admitted_near(
        self, home: tuple[float, float], radius: float, category: str = CATEGORY,
        dps_id: str | None = None,
    ) -> dict[str, tuple[tuple[float, float], str]]:
        """Every establishment admitted in the category that the lead can see near
        ``home`` (other tests' too), in the market ``dps_id`` (any market when ``None``):
        id → ((lat, lon), total weekly core cost)."""
        found, cursor = {}, None
        while True:
            params = {
                "category": category,
                "status": "admitted",
                "near": near(home),
                "radius_miles": radius,
                "limit": 500,
            }
            if cursor:
                params["cursor"] = cursor
            page = ok(self.lead.get("/api/v1/establishments", params=params))
            for e in page["items"]:
                for m in e["memberships"]:
                    if m["category"] == category and m["status"] == "admitted" and (
                            dps_id is None or m["dps_id"] == dps_id):
                        location = (e["location"]["lat"], e["location"]["lon"])
                        found[e["id"]] = (location, m["total_weekly_core_cost"])
            cursor = page.get("next_cursor")
            if not cursor:
                return found

    def quiet_home(self, radius: float, strict: bool = True) -> tuple[float, float]:
        """A random point in the South East with no admitted establishment of the category
        within ``radius`` miles, so that a test's invitations are its own; if ``strict`` is
        off, the quietest of the points tried."""
        rng = random.Random()
        tried = []
        for _ in range(40 if strict else 8):
            home = random_home(rng)
            near = len(self.admitted_near(home, radius))
            if not near:
                return home
            tried.append((near, home))
        if strict:
            raise AssertionError(f"no point in the South East is {radius} miles from others")
        return min(tried)[1]


def bid_body(e: Establishment, heads: list[str], per_head: str = "280.00", **over) -> dict:
    body = {
        "establishment_id": e.id,
        "core_costs": {h: per_head for h in heads},
        "variable_costs": [],
        "needs_met": ["N1", "N2"],
        "features_met": ["M1", "D1"],
        "outcomes_statement": f"{e.label}: a full-time school place within a term.",
    }
    return {**body, **over}
