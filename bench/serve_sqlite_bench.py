"""The annotator cycle on the embedded default: `manage.py serve` (gunicorn) on SQLite.

    python bench/serve_sqlite_bench.py [--shapes 1x1 2x4 4x8] [--annotators 30] [--seconds 20]

For each gunicorn shape (processes x threads), on this machine only (127.0.0.1):

1. loads a fresh study (1,000 reasoning items of 4 steps, k = 3) and one account per
   simulated annotator into `var/bench-sqlite/concordance.sqlite3` (emptied first);
2. starts `manage.py serve --no-worker` with that shape and nothing else configured
   (DEBUG off, WAL, IMMEDIATE transactions, a 30 s busy timeout);
3. after a warm-up cycle per annotator, runs N closed-loop annotators with no think time:
   `POST /api/studies/<slug>/next/` then `POST /api/assignments/<id>/submit/`;
4. counts errors (a "database is locked" would be a 500), and checks in the database
   that no item has more than k annotations and every acknowledged submission is stored;
5. measures a baseline on the same server in the same run: `/healthz` (one `SELECT 1`)
   at the same concurrency.

Printed beside the load average: the machine is shared, figures move with it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable

from annotation_bench import ROOT, Client, K, Stats, cycle, free_port, load_study, pct

VAR_DIR = ROOT / "var" / "bench-sqlite"


def embedded_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "CONCORDANCE_"))
    }
    return {**env, "CONCORDANCE_VAR_DIR": str(VAR_DIR), "LOG_LEVEL": "WARNING"}


def setup_django() -> None:
    os.environ.clear()
    os.environ.update(embedded_env())
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def start_serve(port: int, processes: int, threads: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            *(sys.executable, "manage.py", "serve", f"127.0.0.1:{port}", "--no-worker"),
            *(f"--web-workers={processes}", f"--threads={threads}"),
        ],
        cwd=ROOT,
        env=embedded_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("serve did not come up") from None
            time.sleep(0.5)


def closed_loop(n: int, seconds: float, work: Callable[[int, Stats], bool]) -> tuple[Stats, float]:
    """`n` threads calling `work(i, stats)` until the time is up (or it returns False)."""
    stats = Stats()
    lock = threading.Lock()
    barrier = threading.Barrier(n + 1)
    stop = [0.0]

    def run(i: int) -> None:
        local = Stats()
        barrier.wait()
        while time.perf_counter() < stop[0]:
            try:
                if not work(i, local):
                    break
            except Exception as error:  # counted, the loop goes on
                local.errors.append(f"{type(error).__name__}: {error}")
        with lock:
            stats.merge(local)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in workers:
        t.start()
    stop[0] = time.perf_counter() + seconds
    barrier.wait()
    t0 = time.perf_counter()
    for t in workers:
        t.join()
    return stats, time.perf_counter() - t0


def invariants(slug: str, acknowledged: list[int]) -> dict[str, int]:
    from django.db.models import Count

    from studyapp.models import Annotation

    annotations = Annotation.objects.filter(item__study__slug=slug)
    over_k = annotations.values("item").annotate(n=Count("id")).filter(n__gt=K).count()
    stored = Annotation.objects.filter(id__in=acknowledged).count()
    return {
        "items over k annotations": over_k,
        "acknowledged but not stored": len(set(acknowledged)) - stored,
    }


def run_shape(shape: str, args: argparse.Namespace) -> bool:
    """One shape's row; False on an error or a broken invariant."""
    processes, threads = (int(x) for x in shape.split("x"))
    slug = f"sqlite-{shape}"
    tokens = load_study(slug, args.items, args.annotators)
    port = free_port()
    server = start_serve(port, processes, threads)
    try:
        clients = [Client(port, t) for t in tokens]
        for i, c in enumerate(clients):  # consent and a warm-up cycle (builds the queue)
            assert c.post(f"/api/studies/{slug}/join/", {"consent": True})[0] == 200
            cycle(c, slug, random.Random(i), None)
        rngs = [random.Random(i) for i in range(len(clients))]
        stats, elapsed = closed_loop(
            len(clients), args.seconds, lambda i, s: cycle(clients[i], slug, rngs[i], s)
        )

        def healthz(i: int, s: Stats) -> bool:
            status, _, t = clients[i].request("GET", "/healthz")
            s.latencies["healthz"].append(t)
            if status != 200:
                s.errors.append(f"healthz {status}")
            return True

        base, base_elapsed = closed_loop(len(clients), 5.0, healthz)
        checks = invariants(slug, stats.acknowledged)
    finally:
        server.send_signal(signal.SIGTERM)  # serve stops gunicorn
        server.wait(timeout=60)
    nxt, sub = stats.latencies["next"], stats.latencies["submit"]
    broken = sum(checks.values())
    print(
        f"{shape:<6} {stats.cycles / elapsed:8.1f}  {len(base.latencies['healthz']) / base_elapsed:9.1f}"
        f"  {len(stats.errors):6d}  {pct(nxt, 0.5):5.0f}/{pct(nxt, 0.95):5.0f}/{pct(nxt, 0.99):5.0f}"
        f"        {pct(sub, 0.5):5.0f}/{pct(sub, 0.95):5.0f}/{pct(sub, 0.99):5.0f}"
        f"          {'ok' if broken == 0 else checks}  {os.getloadavg()[0]:.2f}"
    )
    if stats.errors:
        print(f"#   errors: {sorted(set(stats.errors))[:5]}")
    return not stats.errors and broken == 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", nargs="+", default=["1x1", "2x4", "4x8"], help="processes x threads")
    parser.add_argument("--annotators", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    shutil.rmtree(VAR_DIR, ignore_errors=True)
    VAR_DIR.mkdir(parents=True)
    setup_django()
    print(
        f"# serve on SQLite: {args.items} items, k = {K}, {args.annotators} annotators, {args.seconds:.0f} s"
    )
    print(f"# {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
    print("shape  cycles/s  healthz/s  errors  next p50/p95/p99 ms  submit p50/p95/p99 ms  invariants  load")
    failed = False
    for shape in args.shapes:
        failed |= not run_shape(shape, args)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
