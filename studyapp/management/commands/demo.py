"""Set up the demo study with demo accounts, print the logins, and serve it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from studyapp.models import Study
from studyapp.services.demo import demo_accounts_ensure
from studyapp.services.study_load import study_load

DEMO_SPEC = Path(settings.BASE_DIR) / "fixtures" / "demo" / "study.yaml"
DEMO_PAIRS_SPEC = DEMO_SPEC.with_name("pairs.yaml")  # the pairwise demo study (same logins)


class Command(BaseCommand):
    help = "Load the demo studies, create demo accounts, print them, and serve on 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="set up, print logins, exit")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        report = study_load(path=DEMO_SPEC)
        self.stdout.write(
            self.style.SUCCESS(f"Demo study '{report.study.slug}' ready: {report.study.items.count()} items")
        )
        pairs = study_load(path=DEMO_PAIRS_SPEC)
        self.stdout.write(
            self.style.SUCCESS(f"Demo study '{pairs.study.slug}' ready: {pairs.study.items.count()} pairs")
        )
        self._train_demo_sprm(report.study)
        self.stdout.write("Demo logins (password for all: the one shown):")
        for account in demo_accounts_ensure(study=report.study):
            self.stdout.write(f"  {account.role:<11} {account.username:<12} {account.password}")
        self.stdout.write(
            "Judges: start runs on the researcher dashboard, or `python manage.py run_judges demo --wait`."
        )
        if not options["no_serve"]:
            self.stdout.write(f"Open http://{options['addrport']}/")
            call_command("serve", options["addrport"])

    def _train_demo_sprm(self, study: Study) -> None:
        """Train the demo's SPRM judge on the demo's own outcome labels, once."""
        rater = study.raters.filter(judge_kind="sprm", active=True).first()
        if rater is None:
            return
        model_dir = Path(rater.config["model_dir"])
        if (model_dir / "card.json").is_file():
            return
        self.stdout.write(f"Training the demo SPRM into {model_dir} (a few seconds) ...")
        demo_dir = DEMO_SPEC.parent
        call_command(
            "train_sprm",
            "--data",
            str(demo_dir / "math.jsonl"),
            "--data",
            str(demo_dir / "social.jsonl"),
            format="native",
            out=str(model_dir),
            epochs=20,
            cache_dir=str(Path(settings.VAR_DIR) / "sprm-cache"),
            verbosity=0,
        )
