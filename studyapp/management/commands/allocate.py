"""`manage.py allocate SLUG [--json]`: draw which real items people label in a study with
`annotation.allocation: active` (studyapp/services/allocation.py). A finished judge run asks a
worker for the same draw; this command does it now. Items already drawn are left alone."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studyapp.models import Study
from studyapp.services.allocation import AllocationError, allocation_draw


class Command(BaseCommand):
    help = "Draw the items people label in an active-allocation study, from its judges' labels."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--json", action="store_true", help="print the draw as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            raise CommandError(f"no study with slug {options['slug']!r}")
        try:
            result = allocation_draw(study=study)
        except AllocationError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
            return
        self.stdout.write(
            f"{study.slug}: budget {result.budget:.0%} of each domain's real items; "
            f"{result.drawn_now} item(s) drawn now"
        )
        self.stdout.write(
            f"{'domain':<24} {'items':>6} {'drawn now':>9} {'selected':>8} {'expected':>8} {'pi range':>13}"
        )
        for d in result.domains:
            span = "-" if d.pi_min is None else f"{d.pi_min:.3f}-{d.pi_max:.3f}"
            self.stdout.write(
                f"{d.domain:<24} {d.items:>6} {d.drawn_now:>9} {d.selected_now:>8} "
                f"{d.expected_now:>8.1f} {span:>13}"
            )
