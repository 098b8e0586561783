"""In-memory stand-ins for the referral handlers' collaborators, for handler unit tests
with ``tests.support.fake_uow.FakeUnitOfWork``:

- ``FakeStore``: the surface of ``services.referral.store.Store`` over dicts. ``get`` hands
  out a copy and ``save`` keeps one, so a change the handler did not save is not stored
  (as a rolled-back transaction).
- ``FakePeers``: the surface of ``services.referral.peers.Peers`` (qualification and
  scoring), answering from what the test set up, and recording what was asked.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal

from services.common.errors import InvalidInput, Unavailable
from services.qualification.messages import CategoryView, EligibilityQuery, EstablishmentView
from services.referral.domain import DirectPlacement, Referral, Status
from services.referral.messages import EstablishmentSnapshot, ReferralQuery, ReferralSummary
from services.referral.store.codecs import split_personal
from services.scoring.messages import ScoringRequest, ScoringResult, WeightsMsg
from tests.support.fake_vault import FakeVault

Cursor = tuple[datetime, str] | None


class FakeStore:
    def __init__(self, *referrals: Referral):
        self.referrals: dict[str, Referral] = {}
        self.direct_placements: list[DirectPlacement] = []
        self.direct_state: dict[str, dict] = {}  # direct_placement_id: hold, end (§13)
        self.placements_ended: dict[str, date] = {}  # referral id: its placement's end
        self.vault = FakeVault()
        self.saves = 0
        for r in referrals:
            self.put(r)

    def put(self, referral: Referral) -> None:
        """Store a referral built by a test (its pending events are not kept)."""
        stored = copy.deepcopy(referral)
        stored.events.clear()
        self.referrals[referral.referral_id] = stored

    # ----------------------------------------------------------------- Store's surface

    def get(self, referral_id: str, lock: bool = False) -> Referral | None:
        referral = self.referrals.get(referral_id)
        return copy.deepcopy(referral) if referral is not None else None

    def add(self, referral: Referral) -> None:
        pass

    def save(self, referral: Referral) -> None:
        self.saves += 1
        self.put(referral)

    def due_referral_ids(self, now: datetime, limit: int) -> list[str]:
        due = sorted(
            (r.deadline, r.referral_id)
            for r in self.referrals.values()
            if r.status == Status.PUBLISHED and r.deadline <= now
        )
        return [rid for _, rid in due[:limit]]

    def open_referral_ids_inviting(self, establishment_id: str, category: str) -> list[str]:
        return sorted(
            r.referral_id
            for r in self.referrals.values()
            if r.status == Status.PUBLISHED
            and r.category == category
            and establishment_id in r.invitations
        )

    def _page(self, referrals, f: ReferralQuery, cursor: Cursor, limit: int) -> list[Referral]:
        out = [
            r
            for r in referrals
            if (not f.status or r.status == f.status)
            and (not f.category or r.category == f.category)
            and (cursor is None or (r.created_at, r.referral_id) < cursor)
        ]
        out.sort(key=lambda r: (r.created_at, r.referral_id), reverse=True)
        return out[: limit + 1]

    def authority_page(
        self, authority: str, f: ReferralQuery, cursor: Cursor, limit: int
    ) -> list[ReferralSummary]:
        mine = [r for r in self.referrals.values() if r.authority == authority]
        return [
            ReferralSummary(
                referral_id=r.referral_id,
                authority=r.authority,
                category=r.category,
                status=r.status,
                child_reference=r.spec.child_reference,
                radius_miles=r.spec.radius_miles,
                deadline=r.deadline,
                created_at=r.created_at,
                published_at=r.published_at,
                closed_at=r.closed_at,
                invited_count=len(r.invitations),
                bids_count=len(r.live_bidders()),
                declines_count=len(r.declines),
            )
            for r in self._page(mine, f, cursor, limit)
        ]

    def provider_page(
        self, provider_id: str, f: ReferralQuery, cursor: Cursor, limit: int
    ) -> list[Referral]:
        invited = [
            r
            for r in self.referrals.values()
            if any(i.provider_id == provider_id for i in r.invitations.values())
        ]
        out = []
        for r in self._page(invited, f, cursor, limit):
            partial = copy.deepcopy(r)
            partial.invitations = {
                k: i for k, i in partial.invitations.items() if i.provider_id == provider_id
            }
            out.append(partial)
        return out

    def add_direct_placement(self, placement: DirectPlacement) -> dict:
        self.direct_placements.append(placement)
        child = {"child_reference": placement.request.child_reference}
        return {"key_id": placement.placement_id,
                "sealed": self.vault.seal(placement.placement_id, child)}

    # ----------------------------------------------------------------- §13 retention, holds

    def placement_ended(self, referral_id: str, ended_on: date) -> bool:
        if referral_id not in self.referrals:
            return False
        self.placements_ended[referral_id] = ended_on
        return True

    def ended_referral_ids(self, authority: str, cutoff: datetime, limit: int) -> list[str]:
        def due(r: Referral) -> bool:
            if r.status in (Status.CANCELLED, Status.UNSUCCESSFUL):
                ended = r.cancelled_at or r.evaluated_at or r.closed_at
                return ended is not None and ended <= cutoff
            ended_on = self.placements_ended.get(r.referral_id)
            return r.status == Status.AWARDED and ended_on is not None \
                and ended_on <= cutoff.date()

        return sorted(
            r.referral_id for r in self.referrals.values()
            if r.authority == authority and r.personal_data == "held"
            and r.legal_hold is None and due(r)
        )[:limit]

    def _direct(self, p: DirectPlacement) -> dict:
        state = self.direct_state.setdefault(
            p.direct_placement_id, {"legal_hold": None, "placement_ended_on": None})
        held = self.vault.get(p.placement_id) is not None
        return {
            "direct_placement_id": p.direct_placement_id, "placement_id": p.placement_id,
            "authority": p.authority, "category": p.request.category,
            "recorded_at": p.recorded_at, "personal_data": "held" if held else "erased",
            "child_reference": p.request.child_reference if held else "erased", **state,
        }

    def direct_placement_child(self, direct_placement_id: str, lock: bool = False) -> dict | None:
        found = [p for p in self.direct_placements
                 if p.direct_placement_id == direct_placement_id]
        return self._direct(found[0]) if found else None

    def set_direct_placement_hold(self, direct_placement_id: str, reason: str | None) -> None:
        self.direct_state[direct_placement_id]["legal_hold"] = reason

    def direct_placement_ended(self, placement_id: str, ended_on: date) -> str | None:
        for p in self.direct_placements:
            if p.placement_id == placement_id:
                self._direct(p)  # its state, created on first use
                self.direct_state[p.direct_placement_id]["placement_ended_on"] = ended_on
                return p.direct_placement_id
        return None

    def ended_direct_placement_ids(self, authority: str, cutoff: datetime,
                                   limit: int) -> list[str]:
        return sorted(
            d["direct_placement_id"] for d in map(self._direct, self.direct_placements)
            if d["authority"] == authority and d["personal_data"] == "held"
            and d["legal_hold"] is None and d["placement_ended_on"] is not None
            and d["placement_ended_on"] <= cutoff.date()
        )[:limit]

    def child_index(self, authority: str, child_reference: str) -> str:
        return f"{authority}:{child_reference}"

    def referral_ids_of_child(self, authority: str, index: str) -> list[str]:
        return sorted(
            r.referral_id for r in self.referrals.values()
            if self.child_index(r.authority, r.spec.child_reference) == index
            and r.authority == authority
        )

    def direct_placements_of_child(self, authority: str, index: str) -> list[dict]:
        return [
            {k: v for k, v in self._direct(p).items()
             if k not in ("authority", "personal_data", "placement_ended_on")}
            for p in self.direct_placements
            if p.authority == authority
            and self.child_index(p.authority, p.request.child_reference) == index
        ]

    def sealed_child_data(self, referral: Referral) -> dict | None:
        if referral.personal_data == "erased":
            return None
        personal = split_personal(referral.spec.model_dump(mode="json"))[1]
        return {"key_id": referral.referral_id,
                "sealed": self.vault.seal(referral.referral_id, personal)}


def category_view(code: str = "RESIDENTIAL", **over) -> CategoryView:
    data = {
        "code": code,
        "name": code.title(),
        "version": 1,
        "pass_fail_criteria": ["EXCLUSIONS"],
        "weighted_criteria_weights": {
            "WORKFORCE": 30,
            "OUTCOMES_APPROACH": 40,
            "PERFORMANCE_MONITORING": 30,
        },
        "cost_heads": ["premises", "staffing"],
        "optional_cost_heads": [],
        "insurance_minimums": {
            "employers_liability": "10000000.00",
            "public_liability": "5000000.00",
            "professional_liability": "2000000.00",
        },
        "min_tender_period_hours": 24,
        "min_invited": 3,
        "affordability_cap": None,
        "authority_caps": {},
        "competency_period_months": 6,
        "referral_weights": {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5},
    }
    return CategoryView.model_validate(data | over)


def establishment_view(
    establishment_id: str = "E1",
    provider_id: str = "P1",
    category: str = "RESIDENTIAL",
    status: str = "admitted",
) -> EstablishmentView:
    membership = {
        "id": f"m-{establishment_id}",
        "category": category,
        "status": status,
        "application_id": f"a-{establishment_id}",
        "admitted_on": "2026-01-05",
        "competency": "80",
        "scores": {"WORKFORCE": 70, "OUTCOMES_APPROACH": 70, "PERFORMANCE_MONITORING": 70},
        "core_costs": {"premises": "1000.00", "staffing": "2000.00"},
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
    return EstablishmentView.model_validate(
        {
            "id": establishment_id,
            "provider_id": provider_id,
            "name": f"Home {establishment_id}",
            "urn": None,
            "address": "1 Test Road",
            "postcode": "ME1 1AA",
            "location": {"lat": 51.3, "lon": 0.5},
            "categories": [category],
            "capacity": None,
            "contacts": [{"name": "Manager", "email": "manager@example.org"}],
            "inspections": [],
            "memberships": [membership],
        }
    )


class FakePeers:
    """qualification and scoring as the handlers see them. ``down`` names services that
    do not answer (``Unavailable``, as ``peers.remote`` raises on a timeout)."""

    def __init__(
        self,
        categories: dict[str, CategoryView] | None = None,
        eligible: list[EstablishmentSnapshot] | None = None,
        standings: dict[str, dict] | None = None,
        establishments: dict[str, EstablishmentView] | None = None,
        weights: WeightsMsg | None = None,
        scoring: ScoringResult | None = None,
    ):
        self.categories = categories if categories is not None else {"RESIDENTIAL": category_view()}
        self.eligible_list = list(eligible or [])
        self.standings_map = standings
        self.establishments = establishments or {}
        self.weights = weights or WeightsMsg(P=50, C=20, L=5, O=10, N=10, F=5)
        self.scoring = scoring
        self.down: set[str] = set()
        self.calls: list[tuple] = []
        self.markets: dict[str, dict] = {
            "dps-1": {"dps_id": "dps-1", "regime": "PCR2015_DPS", "status": "open",
                      "valid_from": "2025-04-01", "valid_to": "2029-02-23",
                      "entry_open": True}}
        self.insurance_map: dict[str, dict] = {}

    def _up(self, service: str) -> None:
        if service in self.down:
            raise Unavailable(f"the {service} service is not running", [{"service": service}])

    def category(self, code: str) -> CategoryView:
        self.calls.append(("category", code))
        self._up("qualification")
        if code not in self.categories:
            raise InvalidInput.at(["category"], f"unknown category {code!r}")
        return self.categories[code]

    def eligible(self, query: EligibilityQuery) -> list[EstablishmentSnapshot]:
        self.calls.append(("eligible", query.radius_miles))
        self._up("qualification")
        return [e for e in self.eligible_list if e.distance_miles <= Decimal(query.radius_miles)]

    def market(self, dps_id: str | None):
        from services.qualification.messages import DpsView

        self.calls.append(("market", dps_id))
        self._up("qualification")
        found = self.markets.get(dps_id or "dps-1")
        if found is None:
            raise InvalidInput.at(["dps_id"], f"no market {dps_id!r}")
        return DpsView.model_validate(found)

    def insurance(self, establishment_id: str, category: str, dps_id: str | None):
        from services.qualification.messages import InsuranceStatus

        self.calls.append(("insurance", establishment_id))
        self._up("qualification")
        return InsuranceStatus.model_validate(self.insurance_map.get(
            establishment_id, {"current": True, "expires_on": "2030-01-01"}))

    def standings(self, category: str, establishment_ids: list[str],
                  dps_id: str | None = None) -> dict:
        self.calls.append(("standings", tuple(establishment_ids)))
        self._up("qualification")
        if self.standings_map is not None:
            return self.standings_map
        return {e: {"admitted": True, "competency": Decimal("75")} for e in establishment_ids}

    def establishment(self, establishment_id: str) -> EstablishmentView | None:
        self.calls.append(("establishment", establishment_id))
        self._up("qualification")
        return self.establishments.get(establishment_id)

    def resolve_weights(self, request: dict) -> WeightsMsg:
        self.calls.append(("resolve_weights", request))
        self._up("scoring")
        return self.weights

    def score(self, request: ScoringRequest) -> ScoringResult:
        self.calls.append(("score", request.category, tuple(b.bid_id for b in request.bids)))
        self._up("scoring")
        assert self.scoring is not None, "set FakePeers.scoring to the result to return"
        return self.scoring


def unit_of_work(*referrals: Referral, at: datetime | None = None, store: FakeStore | None = None):
    """A ``FakeUnitOfWork`` on a ``FakeStore`` holding ``referrals``, its clock at ``at``
    (the builders' ``NOW`` by default)."""
    from services.common.clock import FixedClock
    from tests.support.fake_uow import FakeUnitOfWork
    from tests.support.referral_builders import NOW

    return FakeUnitOfWork(store=store or FakeStore(*referrals), clock=FixedClock(at or NOW))
