"""Radius-query latency of the eligibility query (RULES §5) at 10,000 and 100,000
establishments.

Run: ``python bench/bench_eligibility.py [--queries N] [--radius MILES]``. Uses its own
database (``BENCH_DATABASE_URL``, default ``dps_bench_eligibility`` on the server of
``DATABASE_URL``), migrates the qualification schema into it, and bulk-loads establishments
(``COPY``) spread over England and Wales, each with one membership
(90 % admitted, 10 % suspended) in one of the five categories, its qualified core costs and
a contact. It then times ``Store.eligible_establishments`` — what the service's
``eligible_establishments`` handler calls on ``uow.store`` — for random points in the
South East: bounding box in SQL on the partial index, exact great-circle check and the
authority's cap in the domain. Prints p50 and p95 in milliseconds and the mean number of
establishments found.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from services.common.migrations import upgrade
from services.common.runtime import make_engine
from services.qualification import domain as d
from services.qualification.store import Store

SIZES = (10_000, 100_000)
NOW = datetime.now(UTC)
TODAY = d.london_date(NOW)
CONFIGS = d.default_category_configs()
WEEKLY = {
    "SEN": (3200, 6200),
    "FOSTERCARE": (780, 1250),
    "RESIDENTIAL": (4200, 7800),
    "ALT_EDUCATION": (650, 1300),
    "SUPPORTED_ACCOMMODATION": (950, 2600),
}


def bench_url() -> str:
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = make_url(
        os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/dps")
    )
    return base.set(database="dps_bench_eligibility").render_as_string(hide_password=False)


def libpq(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def prepare(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(libpq(url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    upgrade("qualification", url)
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            "TRUNCATE qualification.establishments, qualification.applications, "
            "qualification.memberships, qualification.membership_costs, "
            "qualification.establishment_contacts CASCADE"
        )


def location(rng: random.Random) -> tuple[float, float]:
    """Anywhere in England and Wales (100,000 is about ten times the real number of
    children's homes, fostering agencies and special schools there)."""
    return rng.uniform(50.0, 55.8), rng.uniform(-5.7, 1.8)


def load(url: str, n: int, rng: random.Random) -> None:
    """Add ``n`` establishments with one membership each, by COPY."""
    est_rows, app_rows, ms_rows, cost_rows, contact_rows = [], [], [], [], []
    for i in range(n):
        est_id, app_id, ms_id = (str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(3))
        category = rng.choice(d.CATEGORIES)
        lat, lon = location(rng)
        est_rows.append(
            (
                est_id,
                f"prov-{i % 5000}",
                f"Establishment {est_id[:8]}",
                "1 High Street",
                "BN1 1AA",
                lat,
                lon,
                [category],
                20,
                NOW,
                NOW,
            )
        )
        contact_rows.append((est_id, 0, "Referrals", f"r{i}@example.org", None, False))
        app_rows.append(
            (app_id, est_id, f"prov-{i % 5000}", category, "admitted", Jsonb({}), NOW, NOW)
        )
        ms_rows.append(
            (
                ms_id,
                est_id,
                category,
                app_id,
                "admitted" if rng.random() < 0.9 else "suspended",
                TODAY,
                rng.randint(4000, 9500) / 100,
                Jsonb({}),
                date(TODAY.year + 1, 1, 1),
                Jsonb([{"min_children": 2, "percent": "5"}]),
                Jsonb([]),
                Jsonb({}),
                lat,
                lon,
                NOW,
                NOW,
            )
        )
        heads = CONFIGS[category].cost_heads
        share = rng.randint(*WEEKLY[category]) // len(heads)
        cost_rows += [(ms_id, k, head, share, TODAY, "qualified") for k, head in enumerate(heads)]
    with psycopg.connect(libpq(url)) as conn, conn.cursor() as cur:
        for table, columns, rows in (
            (
                "establishments",
                "id, provider_id, name, address, postcode, lat, lon, categories,"
                " capacity, created_at, updated_at",
                est_rows,
            ),
            (
                "establishment_contacts",
                "establishment_id, seq, name, email, phone, sms_opt_in",
                contact_rows,
            ),
            (
                "applications",
                "id, establishment_id, provider_id, category, status, content,"
                " created_at, updated_at",
                app_rows,
            ),
            (
                "memberships",
                "id, establishment_id, category, application_id, state, admitted_on,"
                " competency, scores, reverification_due_on, cohort_discounts,"
                " additional_services, reminded, lat, lon, created_at, updated_at",
                ms_rows,
            ),
            (
                "membership_costs",
                "membership_id, seq, head, amount, effective_from, reason",
                cost_rows,
            ),
        ):
            with cur.copy(f"COPY qualification.{table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.commit()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("ANALYZE qualification.memberships")
        conn.execute("ANALYZE qualification.establishments")
        conn.execute("ANALYZE qualification.membership_costs")


def measure(engine, queries: int, radius: float, rng: random.Random) -> tuple[list[float], float]:
    timings, found = [], []
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        repo = Store(session)
        for _ in range(queries):
            category = rng.choice(d.CATEGORIES)
            point = d.GeoPoint(rng.uniform(50.8, 51.8), rng.uniform(-0.9, 1.3))
            started = time.perf_counter()
            result = repo.eligible_establishments(CONFIGS[category], point, radius, "KCC", TODAY)
            timings.append((time.perf_counter() - started) * 1000)
            found.append(len(result))
            session.rollback()
    return timings, statistics.mean(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--radius", type=float, nargs="+", default=[10.0, 25.0])
    args = parser.parse_args()
    url = bench_url()
    prepare(url)
    engine = make_engine(url, pool_size=1)
    rng = random.Random(7)
    loaded = 0
    print(
        f"eligibility radius query (Store.eligible_establishments): {args.queries} random "
        "points in the South East, one category each"
    )
    try:
        for size in SIZES:
            started = time.perf_counter()
            load(url, size - loaded, rng)
            loaded = size
            print(f"  {size:>7,} establishments (loaded in {time.perf_counter() - started:.1f} s)")
            for radius in args.radius:
                measure(engine, 10, radius, random.Random(1))  # warm the caches
                timings, found = measure(engine, args.queries, radius, random.Random(2))
                q = statistics.quantiles(timings, n=20)
                print(
                    f"    radius {radius:4g} miles: p50 {statistics.median(timings):6.1f} ms"
                    f"   p95 {q[18]:6.1f} ms   {found:6.1f} found on average"
                )
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
