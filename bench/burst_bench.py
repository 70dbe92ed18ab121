"""A study launch: a burst of new participants asking for their first item at once.

    python bench/burst_bench.py [--bursts 30 100] [--items 5000] [--workers N]

What it does, on this machine only (127.0.0.1), reusing the annotation bench's
parts (`bench/annotation_bench.py`: scratch database `$BENCH_DB`, default
`concordance_burst` here, gunicorn with DEBUG off and persistent connections):

1. for each burst size N, one study of 5,000 reasoning items of 4 steps,
   overlap k = 3, and N annotator accounts with API tokens that have never
   asked for an item (no queue yet), as on Prolific when a study goes live;
   the server is warmed first (every worker has imported the app and opened
   its database connection: a burst on a small separate study, not reported),
   so the bursts measure the participants' first items, not the server's start;
2. **cold**: the N participants start at once (a barrier), each sends
   `POST /api/studies/<slug>/next/` (its first item) and then submits it;
3. **warm baseline**, in the same run at the same concurrency: the same N
   participants, queues built, do it again (their second item);
4. prints first-item latency (`next`) and the whole first cycle (next +
   submit) as p50 / p95 / p99 / max, the load average before and after each
   burst, the assignment rows written per participant, errors, and the
   invariants of the annotation bench (no item over k, no pair twice, every
   acknowledged submission stored).

No think time, no client-side timeout shorter than 120 s. The figures move
with the machine: read them beside the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("BENCH_DB", "concordance_burst")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import annotation_bench as bench


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


@dataclass
class Burst:
    next: list[float]  # seconds
    cycle: list[float]
    errors: list[str]
    acknowledged: list[int]
    seconds: float
    load_before: str
    load_after: str


def burst(port: int, slug: str, tokens: list[str], seed: int) -> Burst:
    """Every participant at once: one next + submit each; latencies in seconds."""
    clients = [bench.Client(port, token) for token in tokens]
    barrier = threading.Barrier(len(clients))
    lock = threading.Lock()
    nexts: list[float] = []
    cycles: list[float] = []
    errors: list[str] = []
    acknowledged: list[int] = []

    def participant(i: int) -> None:
        client = clients[i]
        stats = bench.Stats()
        barrier.wait()
        try:
            bench.cycle(client, slug, random.Random(seed + i), stats)
        except Exception as error:  # counted and reported
            stats.errors.append(f"{type(error).__name__}: {error}")
        with lock:
            nexts.extend(stats.latencies["next"])
            submits = stats.latencies["submit"]
            if stats.latencies["next"] and submits:
                cycles.append(stats.latencies["next"][0] + submits[0])
            errors.extend(stats.errors)
            acknowledged.extend(stats.acknowledged)

    threads = [threading.Thread(target=participant, args=(i,)) for i in range(len(clients))]
    before = load_average()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Burst(nexts, cycles, errors, acknowledged, time.perf_counter() - t0, before, load_average())


def quartet(values: list[float]) -> str:
    if not values:
        return "- / - / - / -"
    figures = [bench.pct(values, q) for q in (0.5, 0.95, 0.99)] + [1000 * max(values)]
    return " / ".join(f"{f:.0f}" for f in figures)


def assignment_rows(slug: str) -> float:
    from studyapp.models import Assignment, Rater

    raters = Rater.objects.filter(study__slug=slug, kind=Rater.Kind.HUMAN).count()
    return Assignment.objects.filter(study__slug=slug).count() / max(raters, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bursts", type=int, nargs="+", default=[30, 100])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers (2 * cores + 1)"
    )
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    args = parser.parse_args()

    print(f"# Burst bench: {args.items} items, k = {bench.K}, {bench.STEPS} steps each; bursts {args.bursts}")
    print(
        f"# {os.cpu_count()} CPUs; gunicorn {args.workers} {args.worker_class} workers"
        f" x {args.threads} threads; PostgreSQL at {bench.PG}/{bench.DB_NAME}"
    )
    bench.prepare_database()
    bench.setup_django()
    studies = {n: (f"burst-{n}", bench.load_study(f"burst-{n}", args.items, n)) for n in args.bursts}
    warmup = bench.load_study("burst-warmup", 200, 4 * args.workers * args.threads)
    bench.analyze()

    server, port = bench.start_server(args.workers, args.worker_class, args.threads)
    rows = []
    try:
        started = burst(port, "burst-warmup", warmup, seed=-1)
        print(f"# server warm-up: {len(warmup)} participants on a 200-item study in {started.seconds:.1f} s")
        for n in args.bursts:
            slug, tokens = studies[n]
            cold = burst(port, slug, tokens, seed=0)
            per_participant = assignment_rows(slug)
            warm = burst(port, slug, tokens, seed=10_000)
            checks = bench.invariants(slug, cold.acknowledged + warm.acknowledged)
            rows.append((n, cold, warm, per_participant, checks))
    finally:
        server.terminate()
        server.wait(timeout=30)

    print()
    print(
        "| participants | phase | first next p50/p95/p99/max ms | next + submit p50/p95/p99/max ms "
        "| burst s | errors | load average before → after |"
    )
    print("|---|---|---|---|---|---|---|")
    violations = 0
    for n, cold, warm, per_participant, checks in rows:
        for phase, run in (("cold (first item)", cold), ("warm (second item, baseline)", warm)):
            print(
                f"| {n} | {phase} | {quartet(run.next)} | {quartet(run.cycle)} "
                f"| {run.seconds:.1f} | {len(run.errors)} | {run.load_before} → {run.load_after} |"
            )
        print(f"  assignment rows per participant after the first item: {per_participant:.0f}")
        for run in (cold, warm):
            if run.errors:
                print(f"  errors (first 5): {run.errors[:5]}")
        for name, value in checks.items():
            if value:
                print(f"  VIOLATION {name}: {value}")
        violations += sum(checks.values())
    print(f"invariant violations: {violations}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
