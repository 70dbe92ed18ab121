"""The concordance report's build time beside the CSV export of the same study, in one run.

    CONCORDANCE_SHARED_DATA=/path/to/shared/data python bench/report_bench.py [--rounds 2] [--keep]

What it does, on this machine only:

1. creates a scratch PostgreSQL database ``concordance_bench_report`` (or
   ``$BENCH_DB``; dropped first; ``BENCH_PG`` names the server), migrates it and
   loads issue 9's study, ``docs/results/studies/hanna_bbm.yaml`` (HANNA with
   its three human slots and 20 LLM judges, plus two BIG-Bench Mistake tasks:
   1,656 items, 149,062 ratings), read from the shared data folder;
2. in each round, in this order: ``manage.py report SLUG --format csv`` (the
   baseline: every rating streamed to a file), then ``--format json`` and
   ``--format html`` (1,000-resample CIs, every statistic, the
   alternative-annotator test, competence), each in-process through
   ``call_command`` and timed wall-clock and CPU;
3. prints each figure, the ratio report / CSV (target: at most 2), the HTML
   size (target: at most 3 MB) and the load average before and after (the
   machine is shared: compare ratios, not seconds, across runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "concordance_bench_report")
SPEC = ROOT / "docs" / "results" / "studies" / "hanna_bbm.yaml"
SLUG = "hanna-bbm"


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
    os.environ.setdefault("CONCORDANCE_VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # A scratch database on a server: the settings want a key; nothing is signed here.
    os.environ.setdefault("DJANGO_SECRET_KEY", "report-bench-scratch-key")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def timed(fmt: str, out: Path) -> tuple[float, float]:
    from django.core.management import call_command

    wall, cpu = time.perf_counter(), time.process_time()
    call_command("report", SLUG, format=fmt, out=str(out), stdout=open(os.devnull, "w"))  # noqa: SIM115
    return time.perf_counter() - wall, time.process_time() - cpu


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "report")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database of a previous run (skip the load)"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"# load average before: {load()}  ({os.cpu_count()} cores)")
    if not args.reuse:
        recreate_database()
    setup_django()
    from django.core.management import call_command

    if not args.reuse:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        call_command("load_study", str(SPEC), stdout=open(os.devnull, "w"))  # noqa: SIM115
        print(f"# load_study: {time.perf_counter() - started:.1f} s")
    from studyapp.models import Annotation, Item, Judgment, Study

    study = Study.objects.get(slug=SLUG)
    n_items = Item.objects.filter(study=study).count()
    n_annotations = Annotation.objects.filter(item__study=study).count()
    n_judgments = Judgment.objects.filter(item__study=study).count()
    print(f"# study {SLUG}: {n_items} items, {n_annotations} annotations, {n_judgments} judgments")
    figures: dict[str, list[float]] = {"csv": [], "json": [], "html": []}
    for r in range(args.rounds):
        for fmt in ("csv", "json", "html"):
            wall, cpu = timed(fmt, args.out / f"report.{fmt}")
            figures[fmt].append(wall)
            size = (args.out / f"report.{fmt}").stat().st_size / 1e6
            print(
                f"round {r + 1} {fmt:>4}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, {size:6.2f} MB, load {load()}"
            )
    csv_s = statistics.median(figures["csv"])
    for fmt in ("json", "html"):
        ratios = [a / b for a, b in zip(figures[fmt], figures["csv"], strict=True)]
        median = statistics.median(figures[fmt])
        per_round = ", ".join(f"{x:.2f}" for x in ratios)
        print(
            f"{fmt} report / CSV export: median {median:.2f} s / {csv_s:.2f} s = {median / csv_s:.2f}x "
            f"(per round: {per_round}; target <= 2)"
        )
    html_mb = (args.out / "report.html").stat().st_size / 1e6
    print(f"html size: {html_mb:.2f} MB (target <= 3 MB)")
    print(f"# load average after: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
