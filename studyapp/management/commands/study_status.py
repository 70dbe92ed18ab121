import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studyapp.models import Study
from studyapp.selectors.studies import study_status


class Command(BaseCommand):
    help = "Print what a study holds (every study when no slug is given)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        studies = Study.objects.order_by("slug")
        if options["slug"]:
            studies = studies.filter(slug=options["slug"])
            if not studies.exists():
                raise CommandError(f"no study with slug {options['slug']!r}")
        statuses = [study_status(study=study) for study in studies]
        if options["json"]:
            payload = statuses[0] if options["slug"] else statuses
            self.stdout.write(json.dumps(payload, indent=2))
            return
        for s in statuses:
            self.stdout.write(self.style.SUCCESS(f"{s['slug']}: {s['title']} ({s['status']})"))
            self.stdout.write(f"  items: {s['items']['total']} {s['items']['by_kind']}")
            for domain, kinds in sorted(s["items"]["by_domain"].items()):
                self.stdout.write(f"    {domain}: {kinds}")
            self.stdout.write(f"  steps: {s['steps']['total']}")
            self.stdout.write(f"  annotations: {s['annotations']['by_rater_kind']}")
            self.stdout.write(f"  judgments: {s['judgments']['by_judge']}")
            if s["allocation"]:
                for d in s["allocation"]["domains"]:
                    self.stdout.write(
                        f"  allocation (active, budget {s['allocation']['budget']:.0%}) {d['domain']}: "
                        f"{d['drawn']} of {d['items']} items sent to people, {d['waiting']} not drawn yet"
                    )
            for r in s["reports"]:
                error = f": {r['error']}" if r["error"] else ""
                self.stdout.write(
                    f"  report {r['id']} ({r['requested_at'][:19]}): {r['status']}, "
                    f"attempts {r['attempts']}{error}"
                )
