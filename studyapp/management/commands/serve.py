"""Run the web server and a Celery worker (with its beat) together: the embedded default."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Concordance on one machine: the web app plus a Celery worker and beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        worker = None
        if not options["no_worker"]:
            command = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--beat",
                "--loglevel=INFO",
                f"--concurrency={options['concurrency']}",
                "--schedule",
                str(settings.VAR_DIR / "celerybeat-schedule"),
            ]
            worker = subprocess.Popen(command)
            self.stdout.write(
                f"Celery worker started (pid {worker.pid}, broker {settings.CELERY_BROKER_URL})"
            )

        def stop(signum: int, frame: object) -> None:
            raise SystemExit(0)  # leave runserver through `finally`, which stops the worker

        signal.signal(signal.SIGTERM, stop)
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
