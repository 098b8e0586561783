"""The cost of encrypting children's personal data on the referral read path (issue 12,
RULES §13).

Run: ``python bench/bench_child_data.py [--referrals N] [--reads N]``. Uses its own database
(``dps_bench`` unless ``DATABASE_URL`` is set), bootstraps it, stores N referrals through the
referral service's ``Store`` (each with its data key, its personal data sealed), then reads
them back with ``Store.get`` in one transaction per read and prints reads per second:

- ``with encryption``: the real path: the referral's rows, its wrapped data key from the key
  vault, unwrap (AES-GCM) and open the sealed personal data (AES-GCM);
- ``without encryption``: the same reads with the key vault and decryption skipped (the
  personal data taken as already open), i.e. what the read costs without §13.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/dps_bench")
os.environ.setdefault("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/dps_bench")
os.environ.setdefault("DPS_LOG_LEVEL", "WARNING")

import argparse  # noqa: E402
import time  # noqa: E402

from sqlalchemy.orm import Session  # noqa: E402

from infra.bootstrap import main as bootstrap  # noqa: E402
from services.common.runtime import make_engine  # noqa: E402
from services.referral import store  # noqa: E402
from services.referral.store.codecs import split_personal  # noqa: E402
from tests.support.referral_builders import draft  # noqa: E402


class PlainStore(store.Store):
    """The read path without §13: the personal data is handed over already open."""

    opened: dict = {}

    def _personal(self, row):
        return self.opened[row.id]


def seed(engine, n: int) -> list[str]:
    ids = []
    with Session(engine) as session:
        repo = store.Store(session)
        for i in range(n):
            r = draft(child_reference=f"BENCH-{i:06d}")
            repo.add(r)
            repo.save(r)
            ids.append(r.referral_id)
            PlainStore.opened[r.referral_id] = split_personal(r.spec.model_dump(mode="json"))[1]
        session.commit()
    return ids


def reads_per_second(engine, cls, ids: list[str], reads: int) -> float:
    start = time.perf_counter()
    for i in range(reads):
        with Session(engine) as session:
            referral = cls(session).get(ids[i % len(ids)])
            assert referral is not None and referral.personal_data == "held"
    return reads / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=200)
    parser.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()
    bootstrap()
    engine = make_engine(pool_size=2)
    ids = seed(engine, args.referrals)
    reads_per_second(engine, store.Store, ids, 100)  # warm up
    plain = reads_per_second(engine, PlainStore, ids, args.reads)
    sealed = reads_per_second(engine, store.Store, ids, args.reads)
    print(f"referral read path, {args.reads} reads of {args.referrals} referrals:")
    print(f"  without encryption: {plain:8.0f} reads/s")
    cost = (1 - sealed / plain) * 100
    print(f"  with encryption:    {sealed:8.0f} reads/s  (cost {cost:+.1f}%)")
    engine.dispose()


if __name__ == "__main__":
    main()
