"""`manage.py plan_study SLUG --width W`: human labels per domain for a target interval width, with and
without PPI, from the study's current labels (analysis.plan)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.plan import plan_table
from studyapp.models import Study
from studyapp.selectors.ratings import ratings_table


class Command(BaseCommand):
    help = "How many human labels per domain reach a target interval width, with and without PPI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--width", type=float, required=True, help="target total width (high - low) of the interval"
        )
        parser.add_argument("--alpha", type=float, default=0.05, help="error level (0.05: 95%% intervals)")

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            raise CommandError(f"no study with slug {options['slug']!r}")
        if not options["width"] > 0:
            raise CommandError(f"--width must be positive (got {options['width']})")
        if not 0 < options["alpha"] < 1:
            raise CommandError(f"--alpha must lie strictly between 0 and 1 (got {options['alpha']})")
        table = ratings_table(study=study, include_gold=False)
        plan = plan_table(table, width=options["width"], alpha=options["alpha"]) if len(table) else None
        level = round((1 - options["alpha"]) * 100, 3)
        self.stdout.write(
            f"{study.slug}: human labels for a {level:g}% interval of width {options['width']:g} "
            "(plug-in from the current labels; step labels are planned through first errors)"
        )
        if plan is None or plan.empty:
            self.stdout.write("no item-level ratings yet: nothing to plan from")
            return
        self.stdout.write(
            "domain | level | criterion | judge | judged | pilot | human-only | with PPI | note"
        )
        for r in plan.itertuples(index=False):
            self.stdout.write(
                f"{r.domain} | {r.level} | {r.criterion or '-'} | {r.judge} | {r.n_units} | {r.n_pilot} | "
                f"{_n(r.human_only)} | {_n(r.ppi)} | {r.note}"
            )


def _n(v: Any) -> str:
    return "not reachable" if v is None or v != v else str(int(v))
