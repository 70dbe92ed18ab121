"""`manage.py plan_study SLUG [--width W]`: human labels per domain for a target interval width (default:
the spec's analysis.target_width), with and without PPI, from a pilot (units with human and judge labels)
and from the judge's labels alone (an assumed judge-human correlation grid), and the items the
alternative-annotator test needs at the study's epsilon (analysis.plan)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.plan import plan_summary
from studyapp.models import Study
from studyapp.selectors.ratings import ratings_table
from studyapp.selectors.reports import study_analysis_settings


class Command(BaseCommand):
    help = "How many human labels per domain reach a target interval width, with and without PPI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--width",
            type=float,
            default=None,
            help="target total width (high - low) of the interval (default: the spec's target_width)",
        )
        parser.add_argument("--alpha", type=float, default=0.05, help="error level (0.05: 95%% intervals)")
        parser.add_argument(
            "--epsilon",
            type=float,
            default=None,
            help="alt-test margin (default: the spec's analysis.epsilon)",
        )
        parser.add_argument(
            "--annotators", type=int, default=3, help="people per item for the alt-test (3 or more)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            raise CommandError(f"no study with slug {options['slug']!r}")
        spec = study_analysis_settings(study=study)
        width, source = options["width"], ""
        if width is None:
            if spec["target_width"] is None:
                raise CommandError(
                    f"no target width: pass --width or set analysis.target_width in {study.slug}'s spec"
                )
            width, source = float(spec["target_width"]), "the spec's analysis.target_width; "
        if not width > 0:
            raise CommandError(f"--width must be positive (got {width})")
        if not 0 < options["alpha"] < 1:
            raise CommandError(f"--alpha must lie strictly between 0 and 1 (got {options['alpha']})")
        epsilon = options["epsilon"]
        if epsilon is None:
            epsilon = float(spec["epsilon"])
        if not 0 < epsilon <= 1:
            raise CommandError(f"--epsilon must lie in (0, 1] (got {epsilon})")
        if options["annotators"] < 3:
            raise CommandError(
                f"--annotators must be at least 3, the alternative-annotator test's minimum "
                f"(got {options['annotators']})"
            )
        table = ratings_table(study=study, include_gold=False)
        plan = plan_summary(
            table,
            width=width,
            alpha=options["alpha"],
            epsilon=epsilon,
            annotators=options["annotators"],
            overlap=study.overlap,
        )
        level = round((1 - options["alpha"]) * 100, 3)
        self.stdout.write(
            f"{study.slug}: human labels for a {level:g}% interval of width {width:g} "
            f"({source}plug-in from the current labels; step labels are planned through first errors)"
        )
        if not plan["pilot"]:
            self.stdout.write("no item-level ratings yet: nothing to plan from")
        else:
            self._pilot(plan["pilot"])
            self._judge_only(plan["judge_only"])
        self._alt_test(plan["alt_test"])
        self.stdout.write("Assumptions:")
        for text in plan["assumptions"]:
            self.stdout.write(f"- {text}")

    def _pilot(self, rows: list[dict[str, Any]]) -> None:
        self.stdout.write("From a pilot (units with both human and judge labels):")
        self.stdout.write(
            "domain | level | criterion | judge | judged | pilot | human-only | with PPI | note"
        )
        for r in rows:
            self.stdout.write(
                f"{r['domain']} | {r['level']} | {r['criterion'] or '-'} | {r['judge']} | {r['n_units']} | "
                f"{r['n_pilot']} | {_n(r['human_only'])} | {_n(r['ppi'])} | {r['note']}"
            )

    def _judge_only(self, plan: dict[str, Any]) -> None:
        if not plan["rows"]:
            return
        rhos = plan["rho_grid"]
        grid = ", ".join(f"{r:g}" for r in rhos)
        self.stdout.write(
            "From the judge's labels alone (no pilot), at an assumed judge-human correlation "
            f"rho in {{{grid}}}:"
        )
        self.stdout.write(
            "domain | level | criterion | judge | judged | judge sd | human-only | "
            + " | ".join(f"PPI rho={r:g}" for r in rhos)
        )
        for r in plan["rows"]:
            sd = "-" if r["sd_judge"] is None else f"{r['sd_judge']:.3g}"
            self.stdout.write(
                f"{r['domain']} | {r['level']} | {r['criterion'] or '-'} | {r['judge']} | {r['n_units']} | "
                f"{sd} | {_n(r['human_only'])} | " + " | ".join(_n(v) for v in r["ppi"])
            )

    def _alt_test(self, alt: dict[str, Any]) -> None:
        annotators = alt["annotators"]
        self.stdout.write(
            f"Alternative-annotator test at epsilon {alt['epsilon']:g}: {alt['items']} items per domain, "
            f"each labelled by {annotators} annotators (overlap k >= {annotators}; the study has k = "
            f"{alt['overlap']})."
        )


def _n(v: int | None) -> str:
    return "not reachable" if v is None else str(v)
