import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.export import write_csv
from analysis.report import ReportSettings
from analysis.report_html import render_html
from studyapp.models import Study
from studyapp.selectors.ratings import EXPORT_COLUMNS, rating_rows
from studyapp.selectors.reports import study_report


class Command(BaseCommand):
    help = "Write a study's concordance report (html, json) or stream every annotation and judgment as CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["html", "json", "csv"], default="html")
        parser.add_argument("--out", default="-", help="output file ('-' = standard output)")
        parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--epsilon",
            type=float,
            default=None,
            help="alternative-annotator test margin (default: the spec's)",
        )
        parser.add_argument(
            "--include-gold",
            action="store_true",
            help="html/json: count gold (attention-check) items; left out by default, as on the dashboard",
        )
        parser.add_argument(
            "--no-gold", action="store_true", help="csv: leave gold items out (the export has every row)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            raise CommandError(f"no study with slug {options['slug']!r}")
        out_path = options["out"]
        handle = sys.stdout if out_path == "-" else open(out_path, "w", encoding="utf-8")  # noqa: SIM115
        try:
            if options["format"] == "csv":
                rows = rating_rows(study=study, include_gold=not options["no_gold"])
                n = write_csv(rows, EXPORT_COLUMNS, handle)
                summary = f"{n} rows"
            else:
                settings = ReportSettings(n_resamples=options["resamples"], seed=options["seed"])
                report = study_report(
                    study=study,
                    settings=settings,
                    include_gold=options["include_gold"],
                    epsilon=options["epsilon"],
                )
                if options["format"] == "json":
                    json.dump(report.data, handle, indent=2, allow_nan=False)
                    handle.write("\n")
                else:
                    handle.write(render_html(report))
                summary = f"{len(report.data['groups'])} groups, {len(report.data['verdicts'])} verdicts"
        finally:
            if handle is not sys.stdout:
                handle.close()
        if out_path != "-":
            self.stdout.write(
                self.style.SUCCESS(f"{options['format']} report of {study.slug}: {summary} -> {out_path}")
            )
