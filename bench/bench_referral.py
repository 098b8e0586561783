"""Time from publishing a referral to all its invitations recorded, for 1,000 eligible
establishments (RULES §5: every eligible establishment is invited and snapshotted).

Run: ``python bench/bench_referral.py [--establishments N] [--runs N]``. Uses its own
database and RabbitMQ virtual host (``dps_bench`` unless ``DATABASE_URL`` / ``AMQP_URI``
are set), bootstraps them, and runs the real qualification, scoring and referral services
in nameko containers in this process. The first run seeds N admitted establishments around
a fixed point through qualification's own RPCs (register, application, submit, decision);
later runs reuse them.

Prints, as median (fastest) of the runs, in milliseconds:

- ``eligibility``: qualification's eligibility query alone (§5), as referral calls it;
- ``publish``: the publish RPC end to end: the owner check, the category settings, the
  eligibility query, the snapshot of every establishment, the invitation rows, the audit
  record and the outbox event, committed. When it returns, every invitation is recorded
  (checked by counting the rows).
"""

from __future__ import annotations

import os

os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/dps_bench")
os.environ.setdefault("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/dps_bench")
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_selector")
os.environ.setdefault("DPS_LOG_LEVEL", "WARNING")
os.environ.setdefault("DPS_REFERRAL_RPC_TIMEOUT_SECONDS", "120")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402

from nameko.containers import ServiceContainer  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from infra.bootstrap import main as bootstrap  # noqa: E402
from services.common.config import nameko_config  # noqa: E402
from services.common.runtime import make_engine  # noqa: E402
from services.qualification.service import QualificationService  # noqa: E402
from services.referral import store  # noqa: E402
from services.referral.service import ReferralService  # noqa: E402
from services.scoring.service import CATEGORY_SERVICES, ScoringService  # noqa: E402

CATEGORY = "RESIDENTIAL"
HOME = (51.05, 0.35)  # the Weald, between Tunbridge Wells and Hastings
RADIUS_MILES = 30.0
EARTH_RADIUS_MILES = 3958.8
LEAD = {"id": "bench-lead", "role": "lead", "authority": "WSCC"}
OWNER = {"id": "bench-commissioner", "role": "commissioner", "authority": "ESCC"}
WEIGHTED = ("WORKFORCE", "OUTCOMES_APPROACH", "PERFORMANCE_MONITORING")


def proxy(principal: dict | None = None) -> ClusterRpcProxy:
    context = {"principal": json.dumps(principal)} if principal else {}
    return ClusterRpcProxy(nameko_config(), context_data=context, timeout=300)


def location(i: int, n: int) -> dict:
    """Spread over a disc of radius 25 miles around HOME (a sunflower pattern)."""
    r = 25.0 * math.sqrt((i + 0.5) / n)
    theta = i * math.pi * (3 - math.sqrt(5))
    dlat = math.degrees(r * math.cos(theta) / EARTH_RADIUS_MILES)
    dlon = math.degrees(r * math.sin(theta) / EARTH_RADIUS_MILES) / math.cos(math.radians(HOME[0]))
    return {"lat": HOME[0] + dlat, "lon": HOME[1] + dlon}


def eligibility_query() -> dict:
    return {
        "category": CATEGORY,
        "lat": HOME[0],
        "lon": HOME[1],
        "radius_miles": RADIUS_MILES,
        "authority": OWNER["authority"],
    }


def seed(wanted: int) -> int:
    """Admit establishments until ``wanted`` are eligible around HOME."""
    with proxy(LEAD) as rpc:
        have = len(rpc.qualification.eligible_establishments(eligibility_query()))
        config = rpc.qualification.get_category(CATEGORY)
    missing = wanted - have
    if missing <= 0:
        return have
    print(f"seeding {missing} admitted establishments (once) …", flush=True)
    answers = {}
    for code in config["pass_fail_criteria"]:
        answers[code] = {"answer": "holds", "evidence": f"https://ev.example/{code}"}
        if code == "INSURANCE":
            answers[code] |= {
                "expires_on": (date.today() + timedelta(days=700)).isoformat(),
                "cover": {k: "20000000.00" for k in config["insurance_minimums"]},
            }
    tag = uuid.uuid4().hex[:6]
    with proxy() as anon:
        provider = anon.qualification.create_provider(
            {"name": f"Bench Homes {tag}", "contact_email": f"bench-{tag}@homes.example"}
        )
    pool = eventlet.GreenPool(8)

    def admit(i: int) -> None:
        with proxy(
            {"id": "bench-provider", "role": "provider", "provider_id": provider["id"]}
        ) as rpc:
            est = rpc.qualification.create_establishment(
                {
                    "name": f"Bench Home {tag}-{i}",
                    "address": f"{i} Bench Road",
                    "postcode": "TN1 1AA",
                    "location": location(have + i, wanted),
                    "categories": [CATEGORY],
                    "contacts": [{"name": "Manager", "email": f"m{i}-{tag}@homes.example"}],
                }
            )
            app = rpc.qualification.create_application(
                {
                    "establishment_id": est["id"],
                    "category": CATEGORY,
                    "pass_fail": answers,
                    "method_statements": {k: "our approach" for k in WEIGHTED},
                    "core_costs": {h: "300.00" for h in config["cost_heads"]},
                }
            )
            rpc.qualification.submit_application(app["id"])
        with proxy(LEAD) as rpc:
            rpc.qualification.decide_application(
                app["id"],
                {
                    "pass_fail": {c: {"result": "pass"} for c in answers},
                    "scores": dict.fromkeys(WEIGHTED, 70),
                },
            )

    list(pool.imap(admit, range(missing)))
    with proxy(LEAD) as rpc:
        return len(rpc.qualification.eligible_establishments(eligibility_query()))


def spec(period_hours: int) -> dict:
    return {
        "category": CATEGORY,
        "child_reference": f"ESCC-BENCH-{uuid.uuid4().hex[:8]}",
        "children": [{"age": 12}],
        "home_location": {"lat": HOME[0], "lon": HOME[1]},
        "radius_miles": RADIUS_MILES,
        "deadline": (datetime.now(UTC) + timedelta(hours=period_hours + 1)).isoformat(),
        "desired_outcomes": ["a settled placement"],
    }


def median_fastest(samples: list[float]) -> str:
    return f"{statistics.median(samples):9.1f} ({min(samples):8.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--establishments", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bootstrap()
    config = nameko_config()
    containers = [
        ServiceContainer(cls, config)
        for cls in (QualificationService, ScoringService, *CATEGORY_SERVICES, ReferralService)
    ]
    for c in containers:
        c.start()
    engine = make_engine(pool_size=1)
    try:
        eligible = seed(args.establishments)
        with proxy(LEAD) as rpc:
            period = rpc.qualification.get_category(CATEGORY)["min_tender_period_hours"]
        eligibility, publish = [], []
        for _ in range(args.runs):
            with proxy(LEAD) as rpc:
                start = time.perf_counter()
                rpc.qualification.eligible_establishments(eligibility_query())
                eligibility.append((time.perf_counter() - start) * 1000)
            with proxy(OWNER) as rpc:
                referral = rpc.referral.create_referral(spec(period))
                start = time.perf_counter()
                result = rpc.referral.publish(referral["referral_id"], {})
                publish.append((time.perf_counter() - start) * 1000)
            with engine.connect() as conn:
                recorded = conn.execute(
                    select(func.count())
                    .select_from(store.invitations)
                    .where(store.invitations.c.referral_id == referral["referral_id"])
                ).scalar_one()
            if not recorded == result["invited"] == eligible:
                print(
                    f"  (!) {recorded} invitations recorded, {result['invited']} reported, "
                    f"{eligible} eligible"
                )
        print(
            f"referral publish benchmark: {eligible} eligible establishments, median "
            f"(fastest) of {args.runs} runs, in milliseconds"
        )
        print(f"  eligibility query (qualification)        {median_fastest(eligibility)}")
        print(f"  publish → all {eligible} invitations recorded {median_fastest(publish)}")
    finally:
        engine.dispose()
        for c in containers:
            c.stop()


if __name__ == "__main__":
    main()
