"""An in-memory ``Store`` for the contracts handler unit tests (the surface of
``services.contracts.store.repository.Store``), used with
``tests.support.fake_uow.FakeUnitOfWork(store=FakeStore())``.

Objects are copied in and out, as rows would be: a handler's change reaches the store only
through the store's methods (``update_placement``, ``insert_variation``…).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from services.contracts import domain
from services.contracts.domain import notices as nb
from services.contracts.domain import publication as ocds
from tests.support.fake_vault import FakeVault


@dataclass
class FrozenRow:
    content: bytes
    sha256: str
    awards_count: int
    frozen_at: datetime


def _day(at: datetime) -> date:
    return at.astimezone(UTC).date()


class FakeStore:
    def __init__(self) -> None:
        self.vault = FakeVault()
        self.placements: dict[str, domain.Placement] = {}
        self.next_review: dict[str, date | None] = {}
        self.uplifts: dict[str, tuple[domain.Uplift, int, dict | None]] = {}
        self.uplift_set_at: dict[str, datetime] = {}
        self.blocks: dict[str, domain.BlockContract] = {}
        self.reviews: list[tuple[domain.Review, date]] = []
        self.reports: dict[tuple[str, str, date], dict[str, Any]] = {}
        self.publications: dict[tuple[str, str], FrozenRow] = {}
        self.providers: dict[str, str] = {}
        self.memberships: dict[tuple[str, str], dict[str, Any]] = {}
        self.referral_records: dict[str, dict[str, Any]] = {}
        self.declines: dict[tuple[str, str], dict[str, Any]] = {}
        self.secret: str | None = None
        self.locks: list[str] = []
        self.markets: dict[str, dict[str, Any]] = {}
        self.identifiers: dict[str, dict[str, str | None]] = {}
        self.notices: dict[str, SimpleNamespace] = {}

    # -- seeding helpers (tests) ---------------------------------------------------------------
    def add_placement(self, p: domain.Placement) -> domain.Placement:
        self.placements[p.placement_id] = copy.deepcopy(p)
        self.next_review[p.placement_id] = domain.next_review_due(p, ())
        return p

    def admit(self, establishment_id: str, category: str, provider_id: str, name: str) -> None:
        self.upsert_membership(
            establishment_id=establishment_id,
            category=category,
            provider_id=provider_id,
            name=name,
            status="admitted",
            now=None,
        )

    # -- base ----------------------------------------------------------------------------------
    def lock(self, key: str) -> None:
        self.locks.append(key)

    # -- placements ----------------------------------------------------------------------------
    def insert_placement(self, p: domain.Placement, now: datetime) -> bool:
        if p.placement_id in self.placements or self.placement_by_source_key(p.source_key):
            return False
        self.add_placement(p)
        return True

    def update_placement(self, p: domain.Placement, now: datetime, next_review) -> None:
        stored = self.placements[p.placement_id]
        for name in ("start_date", "status", "ended_on", "end_reason", "end_note", "provider_name"):
            setattr(stored, name, getattr(p, name))
        self.next_review[p.placement_id] = next_review

    def get_placement(self, placement_id: str, *, for_update: bool = False):
        p = self.placements.get(placement_id)
        return copy.deepcopy(p) if p is not None else None

    def placement_by_source_key(self, key: str) -> str | None:
        return next((p.placement_id for p in self.placements.values() if p.source_key == key), None)

    def list_placements(
        self,
        *,
        authority=None,
        provider_id=None,
        status=None,
        category=None,
        establishment_id=None,
        after=None,
        limit=50,
    ):
        wanted = {
            "authority": authority,
            "provider_id": provider_id,
            "category": category,
            "establishment_id": establishment_id,
        }
        rows = sorted(self.placements.values(), key=lambda p: (p.agreed_at, p.placement_id))
        rows = [
            p
            for p in rows
            if all(v is None or getattr(p, k) == v for k, v in wanted.items())
            and (status is None or p.status.value == status)
            and (after is None or (p.agreed_at, p.placement_id) > after)
        ]
        return [(copy.deepcopy(p), self.next_review[p.placement_id]) for p in rows[:limit]]

    def placements_for_uplift(self, category: str, cost_head: str, effective_from: date):
        return [
            copy.deepcopy(p)
            for _, p in sorted(self.placements.items())
            if p.category == category
            and _day(p.agreed_at) < effective_from
            and (p.ended_on is None or p.ended_on > effective_from)
        ]

    def insert_variation(self, placement_id: str, v: domain.Variation) -> None:
        self.placements[placement_id].variations.append(v)

    def placement_summaries(self, *, category=None, start=None, end=None):
        return [
            copy.deepcopy(p)
            for p in self.placements.values()
            if (category is None or p.category == category)
            and (start is None or _day(p.agreed_at) >= start)
            and (end is None or _day(p.agreed_at) <= end)
        ]

    def overdue(self, as_of: date, *, authority=None, after=None, limit=50):
        rows = []
        for p in self.placements.values():
            due = self.next_review[p.placement_id]
            if (
                p.status is domain.PlacementStatus.ACTIVE
                and due is not None
                and due < as_of
                and (authority is None or p.authority == authority)
            ):
                rows.append(
                    {
                        "placement_id": p.placement_id,
                        "authority": p.authority,
                        "establishment_id": p.establishment_id,
                        "establishment_name": p.establishment_name,
                        "category": p.category,
                        "due": due.isoformat(),
                        "days_overdue": (as_of - due).days,
                    }
                )
        rows.sort(key=lambda r: (r["due"], r["placement_id"]))
        if after is not None:
            date.fromisoformat(after[0])  # a bad cursor is a ValueError, as in SQL
            rows = [r for r in rows if (r["due"], r["placement_id"]) > tuple(after)]
        return rows[:limit]

    # -- uplifts -------------------------------------------------------------------------------
    def uplift_exists(self, category: str, cost_head: str, effective_from: date) -> bool:
        return any(
            (u.category, u.cost_head, u.effective_from) == (category, cost_head, effective_from)
            for u, _, _ in self.uplifts.values()
        )

    def insert_uplift(self, u: domain.Uplift, count: int, now: datetime, by) -> None:
        self.uplifts[u.uplift_id] = (u, count, by)
        self.uplift_set_at[u.uplift_id] = now

    def uplift_records(self, category: str | None = None):
        chosen = [(u, n) for u, n, _ in self.uplifts.values()
                  if category is None or u.category == category]
        chosen.sort(key=lambda r: r[0].cost_head)
        chosen.sort(key=lambda r: r[0].effective_from, reverse=True)
        return [(u, n, self.uplift_set_at[u.uplift_id]) for u, n in chosen]

    def uplifts_for(self, category: str) -> list[domain.Uplift]:
        return sorted(
            (u for u, _, _ in self.uplifts.values() if u.category == category),
            key=lambda u: u.effective_from,
        )

    # -- block contracts -----------------------------------------------------------------------
    def insert_block(self, b: domain.BlockContract, now: datetime) -> None:
        self.blocks[b.block_id] = b

    def get_block(self, block_id: str, *, for_update: bool = False):
        return self.blocks.get(block_id)

    def block_placements(self, block_id: str) -> list[domain.Placement]:
        return sorted(
            (copy.deepcopy(p) for p in self.placements.values() if p.block_id == block_id),
            key=lambda p: (p.start_date or date.min, p.placement_id),
        )

    # -- reviews and performance ---------------------------------------------------------------
    def insert_review(self, r: domain.Review, period_start: date) -> None:
        self.reviews.append((r, period_start))

    def reviews_of(self, placement_id: str) -> list[domain.Review]:
        return sorted(
            (r for r, _ in self.reviews if r.placement_id == placement_id),
            key=lambda r: (r.date, r.recorded_at),
        )

    def reviews_between(self, start, end, *, category=None, establishment_id=None):
        return [
            r
            for r, _ in self.reviews
            if start <= r.date <= end
            and (category is None or r.category == category)
            and (establishment_id is None or r.establishment_id == establishment_id)
        ]

    def due_performance_reports(self, before: date, limit: int = 100):
        due = {
            (r.establishment_id, r.category, start)
            for r, start in self.reviews
            if start < before and (r.establishment_id, r.category, start) not in self.reports
        }
        return sorted(due, key=lambda k: (k[2], k[0], k[1]))[:limit]

    def claim_performance_report(self, perf, event_id: str, now: datetime) -> bool:
        key = (perf.establishment_id, perf.category, perf.period_start)
        if key in self.reports:
            return False
        self.reports[key] = {"perf": perf, "event_id": event_id, "reported_at": now}
        return True

    def performance_reports_of(self, establishment_id: str, category=None):
        return [
            {
                "category": c,
                "period_start": s.isoformat(),
                "period_end": v["perf"].period_end.isoformat(),
                "performance_index": f"{v['perf'].performance_index:.2f}",
                "reviews_count": v["perf"].reviews_count,
                "reported_at": v["reported_at"].isoformat(),
            }
            for (e, c, s), v in sorted(self.reports.items(), key=lambda i: i[0][2])
            if e == establishment_id and (category is None or c == category)
        ]

    # -- publications --------------------------------------------------------------------------
    def frozen_publication(self, quarter: str, fmt: str):
        return self.publications.get((quarter, fmt))

    def freeze_publication(self, quarter, fmt, content, sha, count, now) -> bool:
        if (quarter, fmt) in self.publications:
            return False
        self.publications[(quarter, fmt)] = FrozenRow(content, sha, count, now)
        return True

    def award_placements(self, start: date, end: date) -> list[domain.Placement]:
        return [
            p
            for p in self.placement_summaries(start=start, end=end)
            if p.source is not domain.PlacementSource.BLOCK_PLACE
        ]

    def award_quarters_before(self, before: date) -> list[date]:
        starts = {
            ocds.parse_quarter(ocds.quarter_of(_day(p.agreed_at)))[0]
            for p in self.placements.values()
            if p.source is not domain.PlacementSource.BLOCK_PLACE and _day(p.agreed_at) < before
        }
        return sorted(starts)

    def frozen_quarters(self, fmt: str) -> set[str]:
        return {q for q, f in self.publications if f == fmt}

    # -- copies of other services' facts -------------------------------------------------------
    def upsert_provider(self, provider_id: str, name: str, now) -> None:
        self.providers[provider_id] = name
        for p in self.placements.values():
            if p.provider_id == provider_id and p.provider_name == "":
                p.provider_name = name

    def provider_names(self, ids=None) -> dict[str, str]:
        return {k: v for k, v in self.providers.items() if ids is None or k in set(ids)}

    def provider_name(self, provider_id: str) -> str:
        return self.providers.get(provider_id, "")

    def upsert_membership(self, *, establishment_id, category, provider_id, name, status, now):
        self.memberships[(establishment_id, category)] = {
            "establishment_id": establishment_id,
            "category": category,
            "provider_id": provider_id,
            "establishment_name": name,
            "status": status,
            "updated_at": now,
        }

    def memberships_of(self, establishment_id: str) -> list[dict[str, Any]]:
        return [dict(m) for (e, _), m in sorted(self.memberships.items()) if e == establishment_id]

    def upsert_referral_record(self, referral_id: str, now, **fields) -> None:
        record = self.referral_records.setdefault(referral_id, {"referral_id": referral_id})
        for name, value in fields.items():
            if name in ("authority", "category") and name in record:
                continue
            if value is not None:
                record[name] = value

    def insert_decline(
        self, *, referral_id, establishment_id, authority, category, reason_code, at
    ) -> None:
        self.declines[(referral_id, establishment_id)] = {
            "authority": authority,
            "category": category,
            "reason_code": reason_code,
            "declined_at": at,
        }

    def referral_records_between(self, category: str, start: date, end: date):
        out = []
        for r in self.referral_records.values():
            published = r.get("published_at")
            if r["category"] != category or published is None:
                continue
            if start <= _day(published) <= end:
                reasons = [
                    d["reason_code"]
                    for (ref, _), d in sorted(self.declines.items())
                    if ref == r["referral_id"]
                ]
                out.append(
                    domain.ReferralRecord(
                        r["referral_id"],
                        r["authority"],
                        r["category"],
                        published,
                        tuple(r.get("needs") or ()),
                        r.get("bids_count"),
                        r.get("compliant_bids_count"),
                        r.get("awarded_at"),
                        tuple(reasons),
                    )
                )
        return out

    def anonymisation_secret(self, name: str = "benchmarks") -> str | None:
        return self.secret

    def ensure_anonymisation_secret(self, secret: str, name: str = "benchmarks") -> str:
        self.secret = self.secret or secret
        return self.secret


    # -- §11 markets, identifiers and notices ---------------------------------------------
    def upsert_market(self, values: dict[str, Any], now) -> None:
        self.markets[values["dps_id"]] = dict(values)

    def end_market(self, dps_id, ended_on, now, **fallback) -> None:
        market = self.markets.setdefault(dps_id, {"dps_id": dps_id, "parts": [], **fallback})
        market.update(status="ended", ended_on=ended_on)

    def market(self, dps_id):
        m = self.markets.get(dps_id or "")
        if m is None or "lead_authority" not in m:
            return None
        return nb.Market(
            dps_id=m["dps_id"], regime=m["regime"], title=m["title"],
            lead_authority=m["lead_authority"], valid_from=m.get("valid_from"),
            valid_to=m.get("valid_to"), description=m.get("description"),
            parts=tuple(nb.Part(p["number"], p["category"], p["title"])
                        for p in m.get("parts") or ()),
            fee_percent=m.get("fee_percent"))

    def market_fee_percents(self):
        return {k: m["fee_percent"] for k, m in self.markets.items() if m.get("fee_percent")}

    def set_provider_identifiers(self, provider_id, now, *, name, ppon, companies_house_number):
        known = self.identifiers.setdefault(provider_id, {})
        for key, value in (("ppon", ppon), ("companies_house_number", companies_house_number)):
            if value:
                known[key] = value
        if name:
            self.providers[provider_id] = name

    def supplier(self, provider_id, name=None):
        known = self.identifiers.get(provider_id, {})
        return nb.Supplier(provider_id, name or self.providers.get(provider_id) or provider_id,
                           known.get("ppon"), known.get("companies_house_number"))

    def insert_notice(self, *, notice_id, notice_type, release, due_by, raised_at, dps_id,
                      authority, source_event_id) -> bool:
        if notice_id in self.notices:
            return False
        self.notices[notice_id] = SimpleNamespace(
            notice_id=notice_id, notice_type=notice_type, ocid=release["ocid"],
            release=copy.deepcopy(release), due_by=due_by, raised_at=raised_at, dps_id=dps_id,
            authority=authority, source_event_id=source_event_id, published_at=None,
            fts_notice_id=None, published_by=None)
        return True

    def notice(self, notice_id, for_update=False):
        return self.notices.get(notice_id)

    def notice_count(self, prefix):
        return sum(1 for k in self.notices if k.startswith(prefix))

    def list_notices(self, *, notice_type, start, end, after, limit):
        rows = sorted(self.notices.values(), key=lambda r: (r.raised_at, r.notice_id))
        rows = [r for r in rows if (notice_type is None or r.notice_type == notice_type)
                and (start is None or _day(r.raised_at) >= start)
                and (end is None or _day(r.raised_at) <= end)
                and (after is None or (r.raised_at, r.notice_id) > after)]
        return rows[:limit]

    def unpublished_notices(self, notice_type=None):
        return sorted((r for r in self.notices.values() if r.published_at is None
                       and r.due_by is not None
                       and (notice_type is None or r.notice_type == notice_type)),
                      key=lambda r: r.due_by)

    def mark_notice_published(self, notice_id, fts_notice_id, at, by) -> None:
        row = self.notices[notice_id]
        row.published_at, row.fts_notice_id, row.published_by = at, fts_notice_id, by

    def set_entered_on(self, placement_id, day) -> None:
        p = self.placements[placement_id]
        if p.entered_on is None:
            p.entered_on = day


class FakePeers:
    """qualification as the contracts handlers see it (``services.contracts.peers``)."""

    def __init__(self, cost_heads: dict[str, list[str]] | None = None):
        self.cost_heads = cost_heads or {"SEN": ["premises", "staffing", "education"]}

    def core_cost_heads(self, code: str) -> tuple[str, ...] | None:
        return tuple(self.cost_heads[code]) if code in self.cost_heads else None
