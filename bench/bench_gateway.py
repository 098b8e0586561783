"""Reads and writes through the gateway, side by side with their floors (issue 10).

Run: ``python bench/bench_gateway.py [--reads N] [--seconds S] [--rounds N]``. Starts the
whole system the way `make run` does (infra/Procfile) on its own database and vhost
(``dps_test_bench`` unless ``DATABASE_URL`` / ``AMQP_URI`` are set; dropped and
recreated), registers a provider, then prints:

- authenticated read ``GET /api/v1/establishments/{id}`` through the gateway, p50/p95 ms,
  beside the same read by raw RPC to the qualification service (what the gateway adds);
- establishment-create writes per second (``POST /api/v1/establishments``) with 1 and 8
  concurrent clients (steady state: the writes completed while every client is at work),
  beside a plain-INSERT floor of the same rows on the same database
  with 1 and 8 connections (what the service adds).

The machine is shared (a VM whose speed varies by tens of per cent from minute to
minute), so each figure is the median of several interleaved rounds, printed beside every
round's own figure and the CPU share the hypervisor took while it ran.

Targets on the 2-core machine: writes ≥ 100/s per service instance, 8 clients ≥ 2× one
client, gateway read p95 ≤ 15 ms with one client.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL",
                      "postgresql+psycopg://postgres@127.0.0.1:5432/dps_test_bench")
os.environ.setdefault("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/dps_test_bench")
os.environ.setdefault("DPS_LOG_LEVEL", "WARNING")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from http.client import HTTPConnection  # noqa: E402
from operator import itemgetter  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import psycopg  # noqa: E402
import requests  # noqa: E402

from services.common.relay import libpq_url  # noqa: E402
from tests.support.qualification_samples import establishment_body  # noqa: E402
from tests.support.stack import start_stack  # noqa: E402

V1 = "/api/v1"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(call, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def register(url: str) -> tuple[str, str]:
    reply = requests.post(f"{url}{V1}/providers", timeout=30, json={
        "name": f"Bench Care {uuid.uuid4().hex[:6]}", "contact_email": "bench@care.example"})
    reply.raise_for_status()
    return reply.json()["id"], reply.json()["api_key"]


def writes_per_second(url: str, key: str, seconds: float, clients: int,
                      settle: float = 0.25) -> tuple[float, int]:
    """(steady-state writes per second, writes made) of ``clients`` concurrent writers.

    Each client is a thread with its own kept-alive HTTP connection (as a partner's
    integration holds one) posting establishments one after another until ``seconds``
    have passed. The rate counts the writes completed between ``settle`` seconds after
    the start and the deadline, while every client is at work: a fixed number of writes
    per client would end in a ragged tail with fewer clients left, and measure less than
    the concurrency asked for. The client is the standard library's ``http.client``, the
    lightest load generator at hand: on a 2-core machine every millisecond the client
    spends is taken from the system under test."""
    parts = urlsplit(url)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    started = time.perf_counter()
    deadline = started + seconds

    def client(_: int) -> list[float]:
        done = []
        http = HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            while time.perf_counter() < deadline:
                body = json.dumps(establishment_body(f"Bench {uuid.uuid4().hex[:8]}"))
                http.request("POST", f"{V1}/establishments", body=body, headers=headers)
                reply = http.getresponse()
                text = reply.read()
                assert reply.status == 201, text
                done.append(time.perf_counter())
        finally:
            http.close()
        return done

    with ThreadPoolExecutor(clients) as pool:
        finished = [t for times in pool.map(client, range(clients)) for t in times]
    window = [t for t in finished if started + settle <= t <= deadline]
    return len(window) / (seconds - settle), len(finished)


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) each process has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[name] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def insert_floor(total: int, clients: int) -> float:
    """Plain INSERTs of establishment-sized rows, one transaction each: what PostgreSQL
    alone does on this machine."""
    dsn = libpq_url(os.environ["DATABASE_URL"])
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS public.bench_floor")
        conn.execute(
            "CREATE TABLE public.bench_floor (id varchar(36) PRIMARY KEY, provider_id "
            "varchar(36) NOT NULL, name varchar(200) NOT NULL, address text NOT NULL, "
            "postcode varchar(10) NOT NULL, lat double precision, lon double precision, "
            "categories text[] NOT NULL, capacity integer, contacts jsonb NOT NULL, "
            "created_at timestamptz NOT NULL)")
    sql = ("INSERT INTO public.bench_floor VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
           "now())")
    contacts = json.dumps([{"name": "Head", "email": "head@school.example.org"}])

    def worker(n: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for _ in range(n):
                conn.execute(sql, (str(uuid.uuid4()), "p1", "Bench School", "1 Road",
                                   "BN1 1AA", 50.8, -0.1, ["SEN"], 40, contacts))

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, [total // clients] * clients))
    return total / (time.perf_counter() - started)


def machine_ticks() -> tuple[int, int, int]:
    """(busy, stolen, all) CPU ticks of the whole machine so far (/proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4] - ticks[7], ticks[7], sum(ticks)


def share(before: tuple[int, int, int], after: tuple[int, int, int], field: int) -> float:
    return 100 * (after[field] - before[field]) / max(1, after[2] - before[2])


def write_phase(url: str, key: str, seconds: float, clients: int) -> dict:
    """One write phase: its rate, the machine's busy share while it ran and the
    machine's CPU per write (every process: service, gateway, broker, database, client)."""
    ticks = machine_ticks()
    rate, made = writes_per_second(url, key, seconds, clients)
    after = machine_ticks()
    return {"rate": rate, "made": made, "busy": share(ticks, after, 0),
            "cpu_ms": (after[0] - ticks[0]) * 1000 / os.sysconf("SC_CLK_TCK") / made}


class LockWaits:
    """Samples ``pg_stat_activity`` every 10 ms while entered: the share of samples in
    which a backend of the bench database waits on a lock (the audit-chain convoy of
    issue 10 showed as waiters in 96-99 % of samples)."""

    def __init__(self):
        self.samples = self.waiting = 0

    def _run(self) -> None:
        dsn = libpq_url(os.environ["DATABASE_URL"])
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not self._stop.wait(0.01):
                waiting = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'").fetchone()[0]
                self.samples += 1
                self.waiting += waiting > 0

    def __enter__(self) -> LockWaits:  # may be entered again: the counts add up
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=300, help="reads per round")
    parser.add_argument("--seconds", type=float, default=2.5,
                        help="length of each write phase, per round")
    parser.add_argument("--floor", type=int, default=960, help="plain INSERTs per floor run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    at_start = machine_ticks()
    stack = start_stack()
    gateway_rounds, raw_rounds, one, eight, cpu_rounds = [], [], [], [], []
    locks = LockWaits()
    try:
        _, key = register(stack.url)
        http = requests.Session()
        auth = {"Authorization": f"Bearer {key}"}
        created = http.post(f"{stack.url}{V1}/establishments", headers=auth, timeout=30,
                            json=establishment_body("Bench Read School")).json()
        path = f"{stack.url}{V1}/establishments/{created['id']}"

        from nameko.standalone.rpc import ClusterRpcProxy

        from gateway.auth import authenticate
        from services.common.config import nameko_config
        from services.common.runtime import make_engine

        engine = make_engine(pool_size=1)
        principal = authenticate(engine, f"Bearer {key}").as_context()
        engine.dispose()
        pids = {name: proc.pid for name, proc in stack.procs.items()}
        with ClusterRpcProxy(nameko_config(), context_data={
                "principal": json.dumps(principal)}) as rpc:
            timed(lambda: http.get(path, headers=auth, timeout=30), 30)  # warm up
            timed(lambda: rpc.qualification.get_establishment(created["id"]), 30)
            writes_per_second(stack.url, key, 0.5, 8)
            for _ in range(args.rounds):  # rounds interleave, so a noisy spell hits both
                gateway_rounds.append(timed(
                    lambda: http.get(path, headers=auth, timeout=30).raise_for_status(),
                    args.reads))
                raw_rounds.append(timed(
                    lambda: rpc.qualification.get_establishment(created["id"]), args.reads))
                one.append(write_phase(stack.url, key, args.seconds, 1))
                before = cpu_seconds(pids)
                with locks:
                    eight.append(write_phase(stack.url, key, args.seconds, 8))
                after = cpu_seconds(pids)
                cpu_rounds.append({n: (after[n] - before[n]) * 1000 / eight[-1]["made"]
                                   for n in pids})
        floor_one = insert_floor(args.floor, 1)
        floor_eight = insert_floor(args.floor, 8)
    finally:
        stack.stop_all()
    at_end = machine_ticks()

    def mid(rounds, measure):
        return statistics.median(measure(r) for r in rounds)

    def p95(values):
        return percentile(values, 95)

    print(f"median of {args.rounds} interleaved rounds; each round's figure in brackets")
    print(f"{'read GET /establishments/{id}':<40} {'p50 ms':>8} {'p95 ms':>8}")
    for label, rounds, note in (("  through the gateway", gateway_rounds, "target p95 <= 15"),
                                ("  raw RPC to qualification", raw_rounds, "")):
        each = " ".join(f"{p95(r):.1f}" for r in rounds)
        print(f"{label:<40} {mid(rounds, statistics.median):>8.1f} {mid(rounds, p95):>8.1f}"
              f"   [p95 {each}] {note}")
    def med(phases, field):
        return mid(phases, itemgetter(field))

    ratio = med(eight, "rate") / med(one, "rate")
    each = {n: " ".join(f"{p['rate']:.0f}" for p in phases)
            for n, phases in (("one", one), ("eight", eight))}
    print(f"{'writes per second':<40} {'1 client':>8} {'8 clients':>9}")
    print(f"{'  POST /establishments (gateway)':<40} {med(one, 'rate'):>8.0f} "
          f"{med(eight, 'rate'):>9.0f}   [{each['one']} | {each['eight']}] "
          f"(targets >= 100, 8 >= 2 x 1: {ratio:.1f} x)")
    print(f"{'  plain INSERT floor':<40} {floor_one:>8.0f} {floor_eight:>9.0f}")
    cpu = {n: statistics.median(r[n] for r in cpu_rounds) for n in pids}
    print("CPU ms per write (8 clients), by process: " + ", ".join(
        f"{n} {ms:.1f}" for n, ms in sorted(cpu.items(), key=lambda kv: -kv[1]) if ms >= 0.1))
    # rate = busy share x cores / CPU per write, so the ratio of the two phases is the
    # ratio of their busy shares times the ratio of their CPU per write: where one client
    # already keeps more than half the machine busy, 2 x needs a write to cost less CPU
    # when writes are concurrent
    print(f"machine CPU while writing (both cores, every process): busy 1 client "
          f"{med(one, 'busy'):.0f} %, 8 clients {med(eight, 'busy'):.0f} %; CPU per write "
          f"1 client {med(one, 'cpu_ms'):.1f} ms, 8 clients {med(eight, 'cpu_ms'):.1f} ms; "
          f"8 / 1 = {med(eight, 'busy') / med(one, 'busy'):.2f} (busy) x "
          f"{med(one, 'cpu_ms') / med(eight, 'cpu_ms'):.2f} (CPU per write)")
    print(f"samples with a backend waiting on a lock (8 clients): "
          f"{100 * locks.waiting / max(1, locks.samples):.1f} % of {locks.samples}")
    print(f"CPU time taken by the hypervisor (steal) during the run: "
          f"{share(at_start, at_end, 1):.1f} %")


if __name__ == "__main__":
    main()
