"""Time the contracts service's two heavy reads (RULES §7.5, §7.6):

- building a quarter's award publication with 10,000 awards (OCDS 1.1 release package and
  CSV; schema validation is timed on a 100-release package: jsonschema checks the
  package's ``uniqueItems`` in quadratic time, and 10,000 releases take minutes),
- a benchmark of one category over 50,000 placements (with 20,000 referrals and 10,000
  reviews in the period).

Each is timed twice: on in-memory domain objects (``domain``/``ocds`` only), and the way the
service does it, loading from PostgreSQL with ``store`` queries first. The database part
uses ``DATABASE_URL`` (default: its own database ``dps_bench_contracts``), migrates the
contracts schema and seeds 50,000 placements once (rows ``bench-…``; later runs reuse them).

Run: ``python bench/bench_contracts.py [--runs N] [--no-db]``. Prints the median and the
fastest of N runs; never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/dps_bench_contracts"
)

from services.contracts import domain  # noqa: E402
from services.contracts.domain import publication as ocds  # noqa: E402
from tests.support.contracts_ocds import validate_package  # noqa: E402

AUTHORITIES = tuple(ocds.PARTNER_AUTHORITIES)
QUARTER = "2025-Q2"
Q_START, Q_END = ocds.parse_quarter(QUARTER)
YEAR_START, YEAR_END = date(2025, 1, 1), date(2025, 12, 31)
N_PLACEMENTS, N_AWARDS_IN_QUARTER, N_REFERRALS, N_REVIEWS = 50_000, 10_000, 20_000, 10_000
SECRET = b"bench-secret"
SCHEMA_DIR = Path(os.environ.get("DPS_OCDS_SCHEMA_DIR", ROOT.parent / "shared" / "ocds" / "1.1"))


def timed(label: str, fn: Callable[[], object], runs: int) -> object:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    print(
        f"{label:<66} median {statistics.median(times) * 1000:9.1f} ms"
        f"   best {min(times) * 1000:9.1f} ms"
    )
    return result


def moment(rng: random.Random, start: date, end: date) -> datetime:
    days = (end - start).days
    return datetime.combine(
        start + timedelta(days=rng.randint(0, days)), datetime.min.time(), UTC
    ) + timedelta(seconds=rng.randint(0, 86_399))


def agreed_moments(rng: random.Random) -> list[datetime]:
    """50,000 agreement times in 2025: exactly 10,000 in 2025-Q2."""
    outside = [d for d in (YEAR_START, YEAR_END)]
    moments = [moment(rng, Q_START, Q_END) for _ in range(N_AWARDS_IN_QUARTER)]
    while len(moments) < N_PLACEMENTS:
        at = moment(rng, *outside)
        if not Q_START <= at.date() <= Q_END:
            moments.append(at)
    return moments


def weekly(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(150_000, 900_000)) / 100


# --- in memory -------------------------------------------------------------------------------


def memory_placements(rng: random.Random) -> list[domain.Placement]:
    out = []
    for i, at in enumerate(agreed_moments(rng)):
        direct = i % 25 == 0
        out.append(
            domain.Placement(
                placement_id=f"bench-{i:06d}",
                authority=rng.choice(AUTHORITIES),
                provider_id=f"prov-{i % 800:04d}",
                provider_name=f"Provider {i % 800} Ltd",
                establishment_id=f"est-{i % 3000:05d}",
                category="SEN",
                child_reference="-",
                source=domain.PlacementSource.DIRECT_PLACEMENT
                if direct
                else domain.PlacementSource.REFERRAL_AWARD,
                source_ref=f"bench-ref-{i:06d}",
                agreed_at=at,
                price=domain.PriceBreakdown(core_costs={}),
                awarded_weekly_price=weekly(rng),
                reason_code="emergency" if direct else None,
                bids_count=rng.randint(1, 8),
            )
        )
    return out


def memory_referrals(rng: random.Random) -> list[domain.ReferralRecord]:
    out = []
    for i in range(N_REFERRALS):
        published = moment(rng, YEAR_START, YEAR_END)
        bids = rng.randint(0, 8)
        out.append(
            domain.ReferralRecord(
                referral_id=f"bench-ref-{i:06d}",
                authority=rng.choice(AUTHORITIES),
                category="SEN",
                published_at=published,
                needs=tuple(rng.sample(("ASD", "SEMH", "SLCN", "PD"), 2)),
                bids_count=bids,
                compliant_bids_count=rng.randint(0, bids),
                awarded_at=published + timedelta(days=rng.randint(3, 30)) if bids else None,
                decline_reasons=tuple(
                    rng.choice(("no_capacity", "location", "cannot_meet_needs"))
                    for _ in range(rng.randint(0, 3))
                ),
            )
        )
    return out


def memory_reviews(rng: random.Random, placements: list[domain.Placement]) -> list[domain.Review]:
    components = domain.ECM_COMPONENTS
    return [
        domain.Review(
            review_id=f"bench-rv-{i:06d}",
            placement_id=p.placement_id,
            authority=p.authority,
            establishment_id=p.establishment_id,
            category="SEN",
            date=moment(rng, YEAR_START, YEAR_END).date(),
            scores={c: rng.randint(1, 5) for c in components},
            recorded_at=datetime(2025, 12, 31, tzinfo=UTC),
        )
        for i, p in enumerate(rng.sample(placements, N_REVIEWS))
    ]


def run_memory(runs: int) -> None:
    rng = random.Random(7)
    placements = memory_placements(rng)
    referrals = memory_referrals(rng)
    reviews = memory_reviews(rng, placements)
    config = ocds.PublicationConfig()
    awards = [a for a in map(domain.award_record, placements) if a is not None]
    print(
        f"in memory: {len(awards):,} awards, {len(ocds.awards_in_quarter(awards, QUARTER)):,}"
        f" in {QUARTER}"
    )
    package = timed(
        f"publication {QUARTER}: OCDS package, 10,000 awards (build+render)",
        lambda: ocds.render_package(ocds.build_package(awards, QUARTER, config)),
        runs,
    )
    print(f"{'':<66} {len(package) / 1e6:.1f} MB")
    timed(
        f"publication {QUARTER}: CSV, 10,000 awards",
        lambda: ocds.render_csv(awards, QUARTER, config),
        runs,
    )
    if SCHEMA_DIR.is_dir():
        # the package schema's uniqueItems on releases makes jsonschema quadratic: 10,000
        # releases took about 12 minutes here, so 100 of them are timed
        sample = ocds.awards_in_quarter(awards, QUARTER)[:100]
        as_json = json.loads(ocds.render_package(ocds.build_package(sample, QUARTER, config)))
        errors = timed(
            "publication: validate a 100-release package (OCDS schema, both checks)",
            lambda: validate_package(as_json, SCHEMA_DIR),
            1,
        )
        print(f"{'':<66} {len(errors)} schema errors")
    else:
        print(f"(schema folder {SCHEMA_DIR} absent: validation not timed)")
    for role, reader in (("commissioner", "KCC"), ("contract_manager", None)):
        timed(
            f"benchmark SEN 2025 over 50,000 placements ({role})",
            lambda r=role, a=reader: domain.benchmark(
                category="SEN",
                period_start=YEAR_START,
                period_end=YEAR_END,
                placements=placements,
                referrals=referrals,
                reviews=reviews,
                role=r,
                reader_authority=a,
                secret=SECRET,
            ),
            runs,
        )


# --- through the store -----------------------------------------------------------------------


def seed(engine) -> None:
    from sqlalchemy import delete, func, insert, select

    from services.contracts import store
    from services.contracts.store import codecs

    with engine.begin() as conn:
        have = conn.execute(
            select(func.count())
            .select_from(store.placements)
            .where(store.placements.c.placement_id.like("bench-%"))
        ).scalar_one()
    if have == N_PLACEMENTS:
        print(f"database: reusing {have:,} seeded placements")
        return
    started = time.perf_counter()
    rng = random.Random(7)
    placements = memory_placements(rng)
    referrals = memory_referrals(rng)
    reviews = memory_reviews(rng, placements)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(delete(store.reviews).where(store.reviews.c.review_id.like("bench-%")))
        conn.execute(
            delete(store.placements).where(store.placements.c.placement_id.like("bench-%"))
        )
        conn.execute(
            delete(store.referral_records).where(
                store.referral_records.c.referral_id.like("bench-%")
            )
        )
        rows = []
        for p in placements:
            row = codecs.placement_to_row(p)
            row.update(created_at=now, updated_at=now, next_review_due=None)
            rows.append(row)
        for i in range(0, len(rows), 5000):
            conn.execute(insert(store.placements), rows[i : i + 5000])
        conn.execute(
            insert(store.referral_records),
            [
                {
                    "referral_id": r.referral_id,
                    "authority": r.authority,
                    "category": r.category,
                    "published_at": r.published_at,
                    "needs": list(r.needs),
                    "bids_count": r.bids_count,
                    "compliant_bids_count": r.compliant_bids_count,
                    "awarded_at": r.awarded_at,
                    "status": None,
                    "updated_at": now,
                }
                for r in referrals
            ],
        )
        conn.execute(
            insert(store.reviews),
            [
                {
                    "review_id": r.review_id,
                    "placement_id": r.placement_id,
                    "authority": r.authority,
                    "establishment_id": r.establishment_id,
                    "category": r.category,
                    "date": r.date,
                    "period_start": domain.reporting_period(r.date)[0],
                    "scores": dict(r.scores),
                    "child_view": None,
                    "parent_view": None,
                    "recorded_at": r.recorded_at,
                }
                for r in reviews
            ],
        )
    print(
        f"database: seeded {len(placements):,} placements, {len(referrals):,} referrals, "
        f"{len(reviews):,} reviews in {time.perf_counter() - started:.1f} s"
    )


def run_database(runs: int) -> None:
    from sqlalchemy.orm import Session

    from infra.bootstrap import ensure_database
    from services.common.migrations import upgrade
    from services.common.runtime import make_engine
    from services.contracts import store

    ensure_database()
    upgrade("contracts")
    engine = make_engine(pool_size=2)
    seed(engine)
    config = ocds.PublicationConfig()

    def publication(fmt: str) -> bytes:
        with Session(engine) as session:
            placements = store.Store(session).award_placements(Q_START, Q_END)
        awards = [a for a in map(domain.award_record, placements) if a is not None]
        if fmt == "csv":
            return ocds.render_csv(awards, QUARTER, config)
        return ocds.render_package(ocds.build_package(awards, QUARTER, config))

    def benchmark() -> dict:
        with Session(engine) as session:
            rows = store.Store(session)
            placements = rows.placement_summaries(category="SEN", start=YEAR_START, end=YEAR_END)
            referrals = rows.referral_records_between("SEN", YEAR_START, YEAR_END)
            reviews = rows.reviews_between(YEAR_START, YEAR_END, category="SEN")
        return domain.benchmark(
            category="SEN",
            period_start=YEAR_START,
            period_end=YEAR_END,
            placements=placements,
            referrals=referrals,
            reviews=reviews,
            role="commissioner",
            reader_authority="KCC",
            secret=SECRET,
        )

    timed(
        f"store + publication {QUARTER}: OCDS, 10,000 awards (load+build+render)",
        lambda: publication("ocds"),
        runs,
    )
    timed(f"store + publication {QUARTER}: CSV, 10,000 awards", lambda: publication("csv"), runs)
    result = timed(
        "store + benchmark SEN 2025 over 50,000 placements (load+compute)", benchmark, runs
    )
    print(
        f"{'':<66} {result['placements'] + result['direct_placements']['count']:,} "
        "placements counted (other runs' rows in a shared database add to this)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-db", action="store_true", help="skip the PostgreSQL part")
    args = parser.parse_args()
    run_memory(args.runs)
    if not args.no_db:
        try:
            run_database(args.runs)
        except Exception as exc:  # a bench reports; it does not fail the build
            print(f"database part skipped: {exc!r}")


if __name__ == "__main__":
    main()
