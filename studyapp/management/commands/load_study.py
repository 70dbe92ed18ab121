import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studyapp.importers import ImportFailure
from studyapp.services.study_load import study_load
from studyapp.spec import SpecError


class Command(BaseCommand):
    help = "Create or update a study from its YAML spec (idempotent; all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the study's YAML spec")
        parser.add_argument("--json", action="store_true", help="print the load report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = study_load(path=options["path"])
        except (SpecError, ImportFailure) as exc:
            raise CommandError(f"{exc}\nNothing was written.") from None
        data = report.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2))
            return
        verb = "created" if report.study_created else ("updated" if report.changed else "unchanged")
        self.stdout.write(self.style.SUCCESS(f"Study {report.study.slug}: {verb}"))
        self.stdout.write(
            f"  items: {report.items_created} new, {report.items_replaced} replaced, "
            f"{report.items_unchanged} unchanged, {report.items_not_in_spec} kept though not in spec"
        )
        self.stdout.write(
            f"  imported: {report.annotations_created} annotations, "
            f"{report.judgments_created} judgments, {report.raters_created} new raters"
        )
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"  warning: {warning}"))
