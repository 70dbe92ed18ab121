import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from studyapp.models import JudgeRun, Rater, Study
from studyapp.selectors.judge_runs import judge_run_progress
from studyapp.services.judge_runs import JudgeRunError, judge_run_start


class Command(BaseCommand):
    help = (
        "Start judge runs for a study's active AI judges (or one, --judge); --wait shows progress. "
        "A judge that cannot start is named with the reason and the command exits with status 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--judge", help="judge name (default: every active critic and SPRM)")
        parser.add_argument("--mode", choices=["sync", "batch"], default="sync")
        parser.add_argument("--wait", action="store_true", help="follow the runs to the end")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between progress reads")

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            raise CommandError(f"no study with slug {options['slug']!r}")
        raters = Rater.objects.filter(
            study=study, kind=Rater.Kind.JUDGE, active=True, judge_kind__in=["critic", "sprm"]
        ).order_by("name")
        if options["judge"]:
            raters = raters.filter(name=options["judge"])
        if not raters:
            raise CommandError(f"{study.slug} has no active judge {options['judge'] or ''}".strip())
        runs: list[JudgeRun] = []
        refused: list[str] = []
        for rater in raters:  # every judge that can start does; each refusal is said
            try:
                run = judge_run_start(study=study, rater=rater, mode=options["mode"])
            except JudgeRunError as exc:
                refused.append(str(exc))
                continue
            runs.append(run)
            self.stdout.write(f"{rater.name}: run {run.pk}, {run.n_items} item(s) to judge ({run.mode})")
        if options["wait"] and runs:
            self._follow(runs, options["poll"])
        if refused:
            raise CommandError("\n".join(refused))

    def _follow(self, runs: list[JudgeRun], poll: float) -> None:
        total = sum(r.n_items for r in runs)
        out = getattr(self.stderr, "_out", sys.stderr)  # tqdm writes raw, not line by line
        with tqdm(total=total, unit="item", desc="judging", file=out) as bar:
            while True:
                progress = []
                for run in runs:
                    run.refresh_from_db()
                    progress.append(judge_run_progress(run=run))
                finished = sum(p["done"] + p["failed"] for p in progress)
                bar.update(finished - bar.n)
                bar.set_postfix(failed=sum(p["failed"] for p in progress))
                if all(p["status"] not in ("queued", "running") for p in progress):
                    break
                time.sleep(poll)
        for p in progress:
            cost = f"${p['cost']:.4f}" if p["priced"] else "no price for this model"
            self.stdout.write(
                f"{p['judge']}: {p['status']}, {p['done']} done, {p['failed']} failed, "
                f"{p['pending']} pending, tokens {p['tokens_in']} in / {p['tokens_out']} out, {cost}"
                + (f" ({p['error']})" if p["error"] else "")
            )
