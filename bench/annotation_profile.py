"""One annotator's next + submit cycle in process: queries and CPU per request.

    python bench/annotation_profile.py [--cycles 300] [--profile cumulative|tottime]

Uses the annotation bench's scratch database (`$BENCH_DB`, default
`concordance_bench`, recreated) with 1,000 items, and Django's test client
(the full middleware and URL stack, no HTTP server), so it shows what the
web workers spend per cycle without the load generator on the same cores.
With --profile it prints the top functions by that order (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import annotation_bench as bench


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--profile", choices=["cumulative", "tottime"], help="print a cProfile by this order")
    args = parser.parse_args()
    bench.recreate_database()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=bench.ROOT,
        env=bench.server_env(),
        check=True,
    )
    bench.setup_django()
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client

    (token,) = bench.load_study("profile", args.items, 1)
    bench.analyze()
    settings.DEBUG = True  # to record queries
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    assert client.post("/api/studies/profile/join/", {"consent": True}, "application/json").status_code == 200
    rng = random.Random(0)

    def one_cycle(record: list[int] | None = None) -> None:
        reset_queries()
        body = client.post("/api/studies/profile/next/").json()
        n_next = len(connection.queries)
        steps = {str(s["index"]): rng.choice((1, 0, -1)) for s in body["task"]["steps"]}
        reset_queries()
        r = client.post(
            f"/api/assignments/{body['assignment']['id']}/submit/",
            {"steps": steps, "time_on_task": 5},
            "application/json",
        )
        assert r.status_code == 201, r.content
        if record is not None:
            record[:] = [n_next, len(connection.queries)]

    counts: list[int] = []
    one_cycle(counts)  # builds the queue
    one_cycle(counts)
    print(f"round trips: next {counts[0]}, submit {counts[1]}")
    for q in connection.queries:
        print("  submit:", (q["sql"] or "(a prepared statement: psycopg logs no text)")[:160])
    settings.DEBUG = False
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.cycles):
        one_cycle()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"{args.cycles} cycles: {1000 * cpu / args.cycles:.2f} ms CPU per cycle in this process, "
        f"{1000 * wall / args.cycles:.2f} ms wall (incl. PostgreSQL)"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.cycles):
            one_cycle()
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.profile).print_stats(45)
    return 0


if __name__ == "__main__":
    sys.exit(main())
