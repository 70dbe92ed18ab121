"""The annotator cycle under load: next item + submit, against gunicorn on PostgreSQL.

    python bench/annotation_bench.py [--annotators 10 30] [--seconds 30] [--items 5000]

What it does, on this machine only (127.0.0.1):

1. creates a scratch database `concordance_bench` (or `$BENCH_DB`; dropped first), migrates it,
   and loads one study per run: 5,000 reasoning items of 4 steps, overlap k = 3;
2. makes one annotator account (with an API token) per simulated annotator;
3. starts gunicorn (2 * cores + 1 sync workers, no access log) on 127.0.0.1 with DEBUG off and persistent
   database connections;
4. for each run, after a warm-up cycle per annotator (which builds each
   annotator's queue), runs N closed-loop annotators with no think time for
   the given seconds: `POST /api/studies/<slug>/next/` then
   `POST /api/assignments/<id>/submit/` with every step labelled;
5. checks afterwards, in the database: no item has more than k annotations
   or more than k held slots, no (item, annotator) pair twice, and every
   acknowledged (201) submission is stored;
6. measures a baseline in the same run: the same server answering `/healthz`
   (one `SELECT 1`) at the same concurrency, the ceiling of this stack here.

"Simulated annotators" are separate accounts: the issue's "3 shared accounts"
is read as "each item is shared by 3 annotators" (overlap k = 3); with one
account per simulated annotator the one-annotation-per-annotator invariant
is meaningful. Figures published for other tools (Label Studio 1.23: 4.1
cycles/s at 30 annotators, 12.9 under gunicorn; Potato 2.12: 19.7) are
printed for reference; they were not measured here.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "concordance_bench")
DB_URL = f"{PG}/{DB_NAME}"
K = 3
STEPS = 4
TARGETS = {"cycles_per_s_at_30": 200.0, "p95_ms_at_10": 50.0}
PUBLISHED = [
    ("Label Studio 1.23 (30 annotators)", 4.1),
    ("Label Studio 1.23 under gunicorn", 12.9),
    ("Potato 2.12", 19.7),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=DB_URL,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only-secret-not-used-elsewhere",
        DATABASE_CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
        CONCORDANCE_VAR_DIR=str(ROOT / "var" / "bench"),
    )
    return env


def prepare_database() -> None:
    """A fresh scratch database, migrated, and the static files collected, as a deployment does."""
    recreate_database()
    for command in (["migrate"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *command, "--verbosity", "0"],
            cwd=ROOT,
            env=server_env(),
            check=True,
        )


def start_server(workers: int, worker_class: str = "sync", threads: int = 1) -> tuple[subprocess.Popen, int]:
    """gunicorn on a free port of 127.0.0.1 (no access log), answering /healthz; returns it and its port."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env(),
    )
    for _ in range(100):
        try:
            if Client(port, "x").request("GET", "/healthz")[0] == 200:
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def setup_django() -> None:
    os.environ.update({k: v for k, v in server_env().items() if k != "DJANGO_DEBUG"} | {"DJANGO_DEBUG": "1"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def analyze() -> None:
    """Fresh planner statistics after bulk loads (autovacuum would get there later)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def load_study(slug: str, n_items: int, n_annotators: int) -> list[str]:
    """One study of `n_items` reasoning items; returns the annotators' API tokens."""
    from django.conf import settings

    from studyapp.models import Domain, Item, Step, Study
    from studyapp.services import participants

    study = Study.objects.create(slug=slug, title=f"Bench {slug}", overlap=K, seed=42)
    domain = Domain.objects.create(study=study, name="math")
    items = Item.objects.bulk_create(
        [
            Item(
                study=study,
                domain=domain,
                kind="reasoning",
                external_id=f"{slug}-{i}",
                position=i,
                problem=f"Compute ${i} + {i}$ and explain.",
                content_hash=f"{i:064x}",
            )
            for i in range(n_items)
        ],
        batch_size=2000,
    )
    Step.objects.bulk_create(
        [
            Step(item=item, index=j, section="response", text=f"Step {j} of item {item.position}.")
            for item in items
            for j in range(STEPS)
        ],
        batch_size=5000,
    )
    # A cheap hasher for the throwaway accounts (the API uses tokens anyway).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    made = participants.annotator_create(study=study, count=n_annotators, prefix=f"{slug}-a")
    return [c.token for c in made]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    cycles: int = 0
    acknowledged: list[int] = field(default_factory=list)
    finished: int = 0
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0

    def merge(self, other: Stats) -> None:
        """Add one load thread's figures."""
        for k, v in other.latencies.items():
            self.latencies[k].extend(v)
        self.errors.extend(other.errors)
        self.cycles += other.cycles
        self.acknowledged.extend(other.acknowledged)
        self.finished += other.finished


class Client:
    """One keep-alive-free HTTP/1.1 client (gunicorn's sync workers close after each response)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict | None, float]:
        return self.request("POST", path, body)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None, float]:
        data = json.dumps(body or {}).encode()
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=data, headers=self.headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - t0
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, parsed, elapsed


def cycle(client: Client, slug: str, rng: random.Random, stats: Stats | None) -> bool:
    """One next + submit; False when the annotator has nothing left."""
    status, body, t_next = client.post(f"/api/studies/{slug}/next/")
    if stats is not None:
        stats.latencies["next"].append(t_next)
    if status != 200 or body is None:
        if stats is not None:
            stats.errors.append(f"next {status}")
        return status < 500
    if body["assignment"] is None:
        return False
    steps = {str(s["index"]): rng.choice((1, 1, 1, 0, -1)) for s in body["task"]["steps"]}
    aid = body["assignment"]["id"]
    status, result, t_submit = client.post(
        f"/api/assignments/{aid}/submit/", {"steps": steps, "time_on_task": 5}
    )
    if stats is not None:
        stats.latencies["submit"].append(t_submit)
        if status == 201 and result:
            stats.acknowledged.append(result["annotation"])
            stats.cycles += 1
        else:
            stats.errors.append(f"submit {status}")
    return True


def run_load(port: int, slug: str, tokens: list[str], seconds: float, server_pid: int) -> tuple[Stats, float]:
    clients = [Client(port, t) for t in tokens]
    for c in clients:  # consent and a warm-up cycle: builds each annotator's queue
        status, _, _ = c.post(f"/api/studies/{slug}/join/", {"consent": True})
        assert status == 200, status
    t_warm = time.perf_counter()
    for i, c in enumerate(clients):  # one at a time: each builds a queue of every item
        cycle(c, slug, random.Random(i), None)
    analyze()
    print(
        f"# {slug}: warm-up (queues of {len(clients)} annotators built) "
        f"in {time.perf_counter() - t_warm:.1f} s"
    )
    stats = Stats()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    start_barrier = threading.Barrier(len(clients) + 1)

    def annotator(i: int) -> None:
        local = Stats()
        rng = random.Random(i)
        start_barrier.wait()
        while time.perf_counter() < stop:
            try:
                if not cycle(clients[i], slug, rng, local):
                    local.finished += 1
                    break
            except Exception as error:  # counted, the loop goes on
                local.errors.append(f"{type(error).__name__}: {error}")
        with lock:
            stats.merge(local)

    threads = [threading.Thread(target=annotator, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    start_barrier.wait()
    t0 = time.perf_counter()
    cpu0 = server_cpu_seconds(server_pid)
    backends = database_backends()
    db0 = _cpu_seconds(backends)
    client0 = time.process_time()
    for t in threads:
        t.join()
    stats.server_cpu = server_cpu_seconds(server_pid) - cpu0
    stats.database_cpu = _cpu_seconds(backends) - db0
    stats.client_cpu = time.process_time() - client0
    return stats, time.perf_counter() - t0


def run_baseline(port: int, n: int, seconds: float, server_pid: int) -> tuple[int, float, list[float], float]:
    """`/healthz` at the same concurrency: what this stack serves with no work at all.

    Returns requests served, seconds, latencies and gunicorn CPU seconds used.
    """
    done = [0]
    lat: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def loop() -> None:
        c = Client(port, "none")
        local: list[float] = []
        while time.perf_counter() < stop:
            status, _, t = c.request("GET", "/healthz")
            if status == 200:
                local.append(t)
        with lock:
            lat.extend(local)
            done[0] += len(local)

    threads = [threading.Thread(target=loop) for _ in range(n)]
    t0 = time.perf_counter()
    cpu0 = server_cpu_seconds(server_pid)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0], time.perf_counter() - t0, lat, server_cpu_seconds(server_pid) - cpu0


def invariants(slug: str, acknowledged: list[int]) -> dict[str, int]:
    from django.db import connection

    from studyapp.models import Study

    study = Study.objects.get(slug=slug)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM (SELECT item_id FROM studyapp_annotation a "
            "JOIN studyapp_item i ON i.id = a.item_id WHERE i.study_id = %s "
            "GROUP BY item_id HAVING count(*) > %s) t",
            [study.id, study.overlap],
        )
        over_k = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM (SELECT item_id, rater_id FROM studyapp_annotation a "
            "JOIN studyapp_item i ON i.id = a.item_id WHERE i.study_id = %s "
            "GROUP BY item_id, rater_id HAVING count(*) > 1) t",
            [study.id],
        )
        duplicates = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM (SELECT s.item_id FROM studyapp_slot s "
            "JOIN studyapp_item i ON i.id = s.item_id WHERE i.study_id = %s "
            "AND s.holder_id IS NOT NULL GROUP BY s.item_id HAVING count(*) > %s) t",
            [study.id, study.overlap],
        )
        slots_over_k = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM studyapp_annotation WHERE id = ANY(%s)", [acknowledged])
        stored = cur.fetchone()[0]
    return {
        "items over k annotations": over_k,
        "(item, annotator) stored twice": duplicates,
        "items over k held slots": slots_over_k,
        "acknowledged but not stored": len(set(acknowledged)) - stored,
        "acknowledged twice": len(acknowledged) - len(set(acknowledged)),
    }


def _cpu_seconds(pids: list[str]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def server_cpu_seconds(master_pid: int) -> float:
    """CPU seconds used so far by gunicorn's workers (Linux /proc), to cost a cycle."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return float("nan")
    return _cpu_seconds([str(master_pid), *children])


def database_backends() -> list[str]:
    """PostgreSQL backend processes serving the bench database (persistent connections)."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB_NAME],
        ).fetchall()
    return [str(r[0]) for r in rows]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--annotators", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers (2 * cores + 1)",
    )
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    args = parser.parse_args()

    print(f"# Annotation bench: {args.items} items, k = {K}, {STEPS} steps each, {args.seconds:.0f} s a run")
    print("# one account per simulated annotator; '3 shared accounts' read as k = 3 annotators per item")
    print(f"# {os.cpu_count()} CPUs; gunicorn {args.workers} sync workers; PostgreSQL at {PG}")
    prepare_database()
    setup_django()
    studies = {}
    t0 = time.perf_counter()
    for n in args.annotators:
        studies[n] = (f"bench-{n}", load_study(f"bench-{n}", args.items, n))
    print(f"# loaded {len(studies)} studies in {time.perf_counter() - t0:.1f} s")
    analyze()

    server, port = start_server(args.workers)
    try:
        results = []
        for n in args.annotators:
            slug, tokens = studies[n]
            base_n, base_t, _, base_cpu = run_baseline(port, n, args.baseline_seconds, server.pid)
            stats, elapsed = run_load(port, slug, tokens, args.seconds, server.pid)
            checks = invariants(slug, stats.acknowledged)
            results.append((n, stats, elapsed, checks, base_n / base_t, 1000 * base_cpu / max(base_n, 1)))
    finally:
        server.terminate()
        server.wait(timeout=30)

    print()
    print(
        "| annotators | cycles/s | next p50/p95/p99 ms | submit p50/p95/p99 ms "
        "| all requests p95 ms | errors | invariant violations | baseline /healthz req/s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    ok: bool = True
    for n, stats, elapsed, checks, base_rate, base_cpu_ms in results:
        rate = stats.cycles / elapsed
        nxt, sub = stats.latencies["next"], stats.latencies["submit"]
        both = nxt + sub
        violations = sum(checks.values())
        print(
            f"| {n} | {rate:.1f} | {pct(nxt, 0.5):.1f} / {pct(nxt, 0.95):.1f} / {pct(nxt, 0.99):.1f} "
            f"| {pct(sub, 0.5):.1f} / {pct(sub, 0.95):.1f} / {pct(sub, 0.99):.1f} | {pct(both, 0.95):.1f} "
            f"| {len(stats.errors)} | {violations} | {base_rate:.0f} |"
        )
        if stats.errors:
            print(f"  errors (first 5): {stats.errors[:5]}")
        for name, value in checks.items():
            if value:
                print(f"  VIOLATION {name}: {value}")
        if stats.cycles:
            web = 1000 * stats.server_cpu / stats.cycles
            db = 1000 * stats.database_cpu / stats.cycles
            client = 1000 * stats.client_cpu / stats.cycles
            print(
                f"  CPU per cycle: {web:.1f} ms in gunicorn workers + {db:.1f} ms in PostgreSQL "
                f"backends; two idle cores would serve at most {2000 / (web + db):.0f} cycles/s "
                f"(the load generator itself used {client:.1f} ms per cycle on the same cores)"
            )
        print(f"  /healthz alone: {base_cpu_ms:.1f} ms CPU per request in gunicorn workers")
        if stats.finished:
            print(f"  {stats.finished} annotators ran out of items")
        ok = ok and violations == 0 and not stats.errors
        if n == 30:
            ok = ok and rate >= TARGETS["cycles_per_s_at_30"]
        if n == 10:
            ok = ok and pct(both, 0.95) < TARGETS["p95_ms_at_10"]
    print()
    print(
        "Targets: >= 200 cycles/s at 30 annotators, p95 per request < 50 ms at 10, no errors, no violations."
    )
    print("Published for other tools on this machine class (not measured here):")
    for tool, rate_published in PUBLISHED:
        print(f"  {tool}: {rate_published} cycles/s")
    print("RESULT:", "targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
