"""Serve Concordance on one machine: gunicorn, and a Celery worker (with its beat) beside it.

The embedded default for a local study with real participants. Before serving it
migrates the database and collects the static files (into `STATIC_ROOT`, under
`CONCORDANCE_VAR_DIR` by default) that whitenoise serves. SIGTERM, SIGINT (Ctrl-C)
and SIGHUP stop the web server and the worker, then the command exits; if either
stops by itself, the command stops the other and fails.

gunicorn runs `--web-workers` processes of `--threads` threads (gthread). On SQLite
(WAL, IMMEDIATE transactions, a 30 s busy timeout: config/settings.py) readers run
beside the one writer, and a writer takes the lock when its transaction begins, so
concurrent writers queue for it instead of failing; each thread has its own
connection. 2 x 4 = 8 requests at once keeps that queue far shorter than the busy
timeout (a submit holds the lock for milliseconds), one process a core renders pages
on both cores, and gthread's heartbeat does not depend on the request, so a request
waiting for the lock is not killed as a stuck worker.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from kombu.utils.url import maybe_sanitize_url

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_TIMEOUT = 15  # seconds a process gets to finish before it is killed


def on_stop_signals(handler: Any) -> None:
    """Install `handler` for the stop signals not ignored on start (`nohup` ignores SIGHUP).

    The handlers only append to a list that the main loop reads: a handler
    that raises or calls Popen methods can run inside Popen.poll() between its taking and
    releasing the process's wait lock, and every later wait() then blocks on that lock for
    ever (`serve` once hung like this after Ctrl-C). Locks and Events are no better: a
    handler runs in the main thread, which may hold the same lock."""
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, handler)


def gunicorn_bind(addrport: str) -> str:
    """`runserver`'s forms: PORT, HOST:PORT or [IPv6]:PORT."""
    if addrport.isdigit():
        return f"127.0.0.1:{addrport}"
    if not re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[\w.-]+):\d+", addrport):
        raise CommandError(f"{addrport!r} is not PORT, HOST:PORT or [IPv6]:PORT")
    return addrport


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to all, wait for each; kill what is still running after STOP_TIMEOUT
    (or at once on a second stop signal)."""
    kill_requested: list[int] = []
    on_stop_signals(lambda signum, frame: kill_requested.append(signum))  # a flag, see on_stop_signals
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        while process.poll() is None and time.monotonic() < deadline and not kill_requested:
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
            process.wait()


class Command(BaseCommand):
    help = "Serve Concordance on one machine: gunicorn, plus a Celery worker and beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="[HOST:]PORT")
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
        parser.add_argument("--no-worker", action="store_true", help="web server only")
        parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes")
        parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")

    def handle(self, *args: Any, **options: Any) -> None:
        bind = gunicorn_bind(options["addrport"])
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if settings.DEBUG:
            self.stderr.write(
                self.style.WARNING(
                    "DJANGO_DEBUG is on: error pages show settings, code and requests to anyone "
                    "who can reach this server. Never serve real participants like this."
                )
            )
        processes: list[subprocess.Popen[bytes]] = []

        stop_requested: list[int] = []
        on_stop_signals(lambda signum, frame: stop_requested.append(signum))  # a flag, see on_stop_signals
        try:
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
                processes.append(worker)
                self.stdout.write(
                    f"Celery worker started (pid {worker.pid}, "
                    f"broker {maybe_sanitize_url(settings.CELERY_BROKER_URL)})"
                )
            web = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    f"--bind={bind}",
                    "--worker-class=gthread",
                    f"--workers={options['web_workers']}",
                    f"--threads={options['threads']}",
                    "--graceful-timeout=10",
                    "--access-logfile=-",
                    "--no-control-socket",  # one shared default path for every gunicorn of the user
                ]
            )
            processes.append(web)
            self.stdout.write(
                f"Serving on http://{bind}/ with gunicorn (pid {web.pid}, "
                f"{options['web_workers']} processes x {options['threads']} threads); "
                f"static files from {settings.STATIC_ROOT}. Ctrl-C stops it."
            )
            self.stdout.flush()
            while not stop_requested:
                for process, name in ((web, "gunicorn"), (worker, "the Celery worker")):
                    if process is not None and process.poll() is not None:
                        raise CommandError(f"{name} exited with status {process.returncode}")
                time.sleep(0.5)
        finally:
            stop_processes(processes)
