"""Time scoring a referral's bids (RULES §6) for 10, 100 and 1,000 bids.

Run: ``python bench/bench_scoring.py [--runs N]``. Calls ``domain.evaluate`` directly (no
RPC, no JSON) and, for comparison, ``handlers.score_referral`` (message validation and JSON
dump included, still no broker). Prints the median and the fastest of N runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.scoring.domain import Bid, Feature, Need, evaluate
from services.scoring.handlers import score_referral

SIZES = (10, 100, 1_000)
NEEDS = [Need(f"N{i}", marks) for i, marks in enumerate((3, 2, 2, 1, 1))]
FEATURES = [Feature("M1", True), *(Feature(f"D{i}", False, i) for i in range(1, 5))]
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def make_bids(n: int, rng: random.Random) -> list[Bid]:
    return [
        Bid(
            bid_id=f"bid-{i:05d}",
            establishment_id=f"est-{i:05d}",
            weekly_price=Decimal(rng.randint(250_000, 900_000)) / 100,
            competency=Decimal(rng.randint(0, 10_000)) / 100,
            distance_miles=Decimal(rng.randint(0, 8_000)) / 100,
            submitted_at=T0 + timedelta(seconds=rng.randint(0, 86_400)),
            admitted_at_deadline=rng.random() > 0.02,
            outcome_scores=tuple(Decimal(rng.randint(0, 100)) for _ in range(rng.randint(0, 3))),
            needs_met=frozenset(n.code for n in NEEDS if rng.random() < 0.7),
            features_met=frozenset(f.code for f in FEATURES if rng.random() < 0.9),
        )
        for i in range(n)
    ]


def as_request(bids: list[Bid]) -> dict:
    return {
        "category": "SEN",
        "needs": [{"code": n.code, "marks": n.marks} for n in NEEDS],
        "features": [
            {"code": f.code, "must_have": f.must_have, "marks": f.marks} for f in FEATURES
        ],
        "bids": [
            {
                "bid_id": b.bid_id,
                "establishment_id": b.establishment_id,
                "weekly_price": str(b.weekly_price),
                "competency": str(b.competency),
                "distance_miles": str(b.distance_miles),
                "outcome_scores": [str(s) for s in b.outcome_scores],
                "needs_met": sorted(b.needs_met),
                "features_met": sorted(b.features_met),
                "admitted_at_deadline": b.admitted_at_deadline,
                "submitted_at": b.submitted_at.isoformat(),
            }
            for b in bids
        ],
    }


def timings(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, fastest) wall time in milliseconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per size (default 7)")
    runs = parser.parse_args().runs
    rng = random.Random(2026)  # same bids every time
    print(f"scoring benchmark: median (fastest) of {runs} runs, in milliseconds")
    print(f"{'bids':>6}  {'domain.evaluate':>22}  {'score_referral (+validate/JSON)':>32}")
    for n in SIZES:
        bids = make_bids(n, rng)
        request = as_request(bids)
        rules_ms = timings(lambda b=bids: evaluate(NEEDS, FEATURES, b), runs)
        service_ms = timings(lambda r=request: score_referral(r, "SEN"), runs)
        print(
            f"{n:>6}  {rules_ms[0]:>12.2f} ({rules_ms[1]:>7.2f})"
            f"  {service_ms[0]:>22.2f} ({service_ms[1]:>7.2f})"
        )


if __name__ == "__main__":
    main()
