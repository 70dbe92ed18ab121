"""Make annotator accounts for a study and print (or write) their credentials once."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studyapp.models import Study
from studyapp.services.participants import annotator_create


class Command(BaseCommand):
    help = (
        "Create N annotator accounts for a study. Prints CSV (username, password, api_token, "
        "login URL) to stdout, or writes it to --out (mode 600). Passwords are not stored in clear."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the study's slug")
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--prefix", default="annotator", help="usernames are PREFIX001, ...")
        parser.add_argument("--out", type=Path, help="write the CSV here instead of stdout")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="for the login URL column")

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            raise CommandError(f"no study with slug {options['slug']!r}")
        if options["count"] < 1:
            raise CommandError("--count must be at least 1")
        made = annotator_create(study=study, count=options["count"], prefix=options["prefix"])
        url = f"{options['base_url'].rstrip('/')}/accounts/login/?next=/studies/{study.slug}/"
        out = options["out"]
        handle = out.open("w", newline="") if out else sys.stdout
        try:
            if out:
                out.chmod(0o600)
            writer = csv.writer(handle)
            writer.writerow(["username", "password", "api_token", "login_url"])
            for c in made:
                writer.writerow([c.username, c.password, c.token, url])
        finally:
            if out:
                handle.close()
        if out:
            self.stderr.write(f"{len(made)} annotators for {study.slug} written to {out}")
