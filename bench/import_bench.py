"""Loading a study: `load_study` of 5,000 native reasoning items of 6 steps, beside parsing alone.

    python bench/import_bench.py [--items 5000] [--steps 6] [--labels] [--repeat 3]
                                 [--databases postgresql sqlite] [--profile PATH]

What it does, on this machine only (127.0.0.1):

1. writes a native JSONL file of N reasoning items (a problem, 6 steps, outcome,
   answers, metadata; with --labels also an imported annotation with a label per
   step and an imported judgment with a score per step) and a spec, in a
   temporary folder;
2. for each database, in a fresh process: PostgreSQL in a scratch database
   `concordance_import_bench` (or `$BENCH_DB`, dropped first), SQLite in a
   temporary file; migrates it; then, --repeat times:
   - **baseline**: `study_check` (read the spec and the file, validate every
     record, check it against the spec: everything `load_study` does before it
     writes), in the same process;
   - **first load**: `study_load` into an empty study (the study is deleted
     before each repeat, untimed);
   - **second load**: the same file again (a no-op; it must change nothing);
   - **replace**: a file in which every item changed (every item replaced);
3. times `python manage.py load_study` end to end on a fresh study, and on a
   spec with no sources (the start-up it includes), once per database.

Figures are wall-clock seconds (median of the repeats, min in brackets), then
the CPU seconds of the loading process and (PostgreSQL) of its database
backend, read from /proc: on a shared machine the wall clock moves with the
other jobs, the CPU much less. The load average is printed before and after
each database's run. Label Studio 1.23's figure (1.0 s for
the same 5,000 items) is printed for reference; it was not measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# A scratch database on a server: settings refuse to start without a key (any will do here).
os.environ.setdefault("DJANGO_SECRET_KEY", "import-bench-scratch-key")
DB_NAME = os.environ.get("BENCH_DB", "concordance_import_bench")
SLUG = "import-bench"
PUBLISHED = ("Label Studio 1.23, 5,000 tasks", 1.0)
TARGET = 1.0  # seconds after start-up, PostgreSQL


def write_items(path: Path, n: int, steps: int, labels: bool, variant: str) -> None:
    rng = random.Random(7)
    with path.open("w") as handle:
        for i in range(n):
            a, b = rng.randint(10, 999), rng.randint(10, 999)
            obj: dict[str, Any] = {
                "id": f"item-{i}",
                "kind": "reasoning",
                "domain": "math",
                "problem": f"A shop sells {a} apples on Monday and {b} on Tuesday. "
                f"How many apples does it sell in the two days? Give $a + b$ {variant}.",
                "steps": [
                    f"Step {j + 1}: from the previous step we know $x_{j} = {a + j}$, "
                    f"so we add {b} and carry the tens, which gives ${a + b + j}$."
                    for j in range(steps)
                ],
                "outcome": i % 3 != 0,
                "reference_answer": str(a + b),
                "final_answer": str(a + b + (i % 3 == 0)),
                "metadata": {"source": "bench", "template": "apples", "n": i},
            }
            if labels:
                obj["annotations"] = [
                    {"rater": "expert-1", "steps": [1] * (steps - 1) + [-1], "first_error": steps - 1}
                ]
                obj["judgments"] = [
                    {"judge": "prm-x", "step_scores": [round(rng.random(), 3) for _ in range(steps)]}
                ]
            handle.write(json.dumps(obj) + "\n")


def write_spec(path: Path, slug: str, items: str | None) -> None:
    sources = f"sources:\n  - {{path: {items}, format: native}}\n" if items else ""
    path.write_text(f"slug: {slug}\ntitle: Import bench\ndomains: [{{name: math}}]\n{sources}")


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def server_cpu() -> float:
    """CPU seconds of this process's PostgreSQL backend so far (0 on SQLite: it runs in-process)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:  # the backend of Django's one connection in this process
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def timed(fn: Any) -> tuple[tuple[float, float, float], Any]:
    """((wall, this process's CPU, its database backend's CPU), result)."""
    server = server_cpu()
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return (wall, cpu, server_cpu() - server), result


def child(folder: Path, repeat: int, n: int, profile: str | None) -> None:
    """Runs in a process whose DATABASE_URL names the database; prints one JSON line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from studyapp.models import Item, Study
    from studyapp.services.study_load import study_check, study_load

    call_command("migrate", verbosity=0)
    spec, changed = folder / "study.yaml", folder / "changed.yaml"
    runs: dict[str, list[tuple[float, float, float]]] = {
        "baseline": [],
        "first": [],
        "second": [],
        "replace": [],
    }
    for r in range(repeat):
        Item.objects.filter(study__slug=SLUG).delete()
        Study.objects.filter(slug=SLUG).delete()
        times, checked = timed(lambda: study_check(path=spec))
        assert sum(len(s.records) for s in checked.sources) == n
        runs["baseline"].append(times)
        if profile and r == 0:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        times, report = timed(lambda: study_load(path=spec))
        if profile and r == 0:
            profiler.disable()
            profiler.dump_stats(profile)
        assert report.items_created == n, report.as_dict()
        runs["first"].append(times)
        times, report = timed(lambda: study_load(path=spec))
        assert not report.changed and report.items_unchanged == n, report.as_dict()
        runs["second"].append(times)
        times, report = timed(lambda: study_load(path=changed))
        assert report.items_replaced == n, report.as_dict()
        runs["replace"].append(times)
    print(json.dumps(runs))


def cli_seconds(env: dict[str, str], spec: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "load_study", str(spec)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def show(runs: list[tuple[float, float, float]]) -> str:
    walls = [w for w, _, _ in runs]
    cpu = statistics.median(c for _, c, _ in runs)
    server = statistics.median(s for _, _, s in runs)
    return f"{statistics.median(walls):.3f} ({min(walls):.3f}) cpu {cpu:.2f}" + (
        f" + {server:.2f}" if server else ""
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--labels", action="store_true", help="an imported annotation and judgment per item")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--profile", help="write a cProfile of the first PostgreSQL load here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.repeat, args.items, args.profile)
        return 0

    folder = Path(tempfile.mkdtemp(prefix="import-bench-"))
    write_items(folder / "items.jsonl", args.items, args.steps, args.labels, "exactly")
    write_items(folder / "changed.jsonl", args.items, args.steps, args.labels, "as a number")
    write_spec(folder / "study.yaml", SLUG, "items.jsonl")
    write_spec(folder / "changed.yaml", SLUG, "changed.jsonl")
    write_spec(folder / "cli.yaml", "import-bench-cli", "items.jsonl")
    write_spec(folder / "empty.yaml", "import-bench-empty", None)
    size = (folder / "items.jsonl").stat().st_size
    print(
        f"{args.items:,} native reasoning items of {args.steps} steps"
        f"{', each with an imported annotation and judgment' if args.labels else ''}"
        f" ({size / 1e6:.1f} MB), {args.repeat} repeats: median wall s (min), CPU s of the process"
        " + of its PostgreSQL backend"
    )
    print(f"reference: {PUBLISHED[0]}: {PUBLISHED[1]:.1f} s (published, not measured here)")
    print(
        "| database | baseline: parse + validate | first load | second load (no-op) | replace all |"
        " load_study CLI, first load | CLI start-up (no sources) | load avg before | after |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    result = 0
    for database in args.databases:
        env = dict(os.environ, HF_HUB_OFFLINE="1")
        if database == "postgresql":
            recreate_database()
            env["DATABASE_URL"] = f"{PG}/{DB_NAME}"
        else:
            env["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
        before = loadavg()
        command = [sys.executable, __file__, "--child", str(folder), "--repeat", str(args.repeat)]
        command += ["--items", str(args.items)]
        if args.profile and database == "postgresql":
            command += ["--profile", args.profile]
        out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
        runs = json.loads(out.strip().splitlines()[-1])
        cli = cli_seconds(env, folder / "cli.yaml")
        startup = cli_seconds(env, folder / "empty.yaml")
        print(
            f"| {database} | {show(runs['baseline'])} | {show(runs['first'])} | {show(runs['second'])} | "
            f"{show(runs['replace'])} | {cli:.2f} s | {startup:.2f} s | {before} | {loadavg()} |"
        )
        first = statistics.median(w for w, _, _ in runs["first"])
        if database == "postgresql":
            met = first <= TARGET
            result |= not met
            print(
                f"  PostgreSQL first load {first:.3f} s after start-up: target {TARGET:.1f} s "
                f"{'met' if met else 'NOT met'}"
            )
    return result


if __name__ == "__main__":
    sys.exit(main())
