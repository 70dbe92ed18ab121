"""The README's demo path: set up the demo, serve it with a worker, on the embedded default."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env["CONCORDANCE_VAR_DIR"] = str(var_dir)
    return env


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def test_demo_sets_up_and_serves_with_a_worker(tmp_path: Path) -> None:
    env = embedded_env(tmp_path)
    setup = subprocess.run(
        [sys.executable, "manage.py", "demo", "--no-serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    assert "annotator1" in setup.stdout and "researcher" in setup.stdout
    assert (tmp_path / "concordance.sqlite3").is_file()
    # The demo's SPRM judge is trained on the demo's own outcome labels, offline.
    assert (tmp_path / "models" / "demo-sprm" / "card.json").is_file()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(server.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                if time.monotonic() > deadline:
                    pytest.fail("server did not come up")
                time.sleep(0.5)
        assert status == 200
        status, body = get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "Demo: can AI judges replace human annotators?" in body
        # The worker runs beside the server, on the filesystem broker under the var dir.
        while not any("ready." in line for line in lines):
            if time.monotonic() > deadline:
                pytest.fail("worker did not become ready:\n" + "".join(lines))
            time.sleep(0.5)
        output = "".join(lines)
        assert "Celery worker started" in output
        assert "transport:   filesystem" in output
        assert (tmp_path / "broker").is_dir()
        worker_pid = int(output.split("Celery worker started (pid ")[1].split(",")[0])
        # SIGTERM to the serve command alone: it stops its worker before it exits.
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        assert server.returncode == 0
        assert not _alive(worker_pid), "the worker outlived the serve command"
    finally:
        if server.poll() is None or _group_alive(server.pid):
            os.killpg(server.pid, signal.SIGKILL)  # never leave a process behind
        server.wait(timeout=60)
        reader.join(timeout=5)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
