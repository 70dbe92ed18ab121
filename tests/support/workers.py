"""Real Celery worker processes for tests, on the test's own database and a broker of
the test's own: the embedded default's filesystem broker in a temporary folder, or
Redis on the test's database number (CONCORDANCE_TEST_REDIS_URL), with Redis's
default visibility timeout (an hour) so that nothing a test shows depends on Redis
delivering a task again.

The `broker` fixture points this process's Celery app at the broker; `workers` starts
worker processes (`-P solo` unless a test asks for prefork: the process that is killed
is the one running the task)
and kills every one it started (its whole process group) when the test ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from django.db import connection

from config.celery import app as celery_app
from tests.support.fixtures import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
BROKERS = ["filesystem", pytest.param("redis", marks=pytest.mark.postgres)]


@dataclass
class Broker:
    kind: str  # filesystem | redis
    env: dict[str, str]  # what a worker process needs to use it


def _forget_connections() -> None:
    # the app caches its connection and producer pools for the broker it first used
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _filesystem(var_dir: Path) -> tuple[dict[str, object], dict[str, str]]:
    """The embedded default's broker, as config/settings.py sets it for CONCORDANCE_VAR_DIR."""
    (var_dir / "broker").mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(var_dir / "broker"),
        "data_folder_out": str(var_dir / "broker"),
        "control_folder": str(var_dir / "broker-control"),
        "store_processed": False,
    }
    return {"broker_url": "filesystem://localhost/", "broker_transport_options": options}, {
        "CONCORDANCE_VAR_DIR": str(var_dir)
    }


def redis_messages(kind: str) -> int:
    """Messages in Redis: waiting in the default queue, or taken and not acknowledged."""
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        return int(client.llen("celery") if kind == "queued" else client.hlen("unacked"))
    finally:
        client.close()


def redeliver_unacked() -> int:
    """What Redis does for every unacknowledged message once its visibility timeout has
    passed (kombu's `restore_visible`), done now: each goes back to its queue."""
    client = redis.Redis.from_url(TEST_REDIS_URL)
    tags = [t.decode() for t in client.hkeys("unacked")]
    client.close()
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        for tag in tags:
            channel.qos.restore_by_tag(tag)
    return len(tags)


@pytest.fixture(params=BROKERS)
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    """This process publishes to a broker of this test's: filesystem or Redis."""
    saved = {k: celery_app.conf[k] for k in ("broker_url", "broker_transport_options")}
    client = redis.Redis.from_url(TEST_REDIS_URL)
    if request.param == "redis":
        client.flushdb()  # this test's own Redis database
        conf: dict[str, object] = {"broker_url": TEST_REDIS_URL, "broker_transport_options": {}}
        env = {"CELERY_BROKER_URL": TEST_REDIS_URL, "CONCORDANCE_VAR_DIR": str(tmp_path / "var")}
    else:
        conf, env = _filesystem(tmp_path / "var")
    celery_app.conf.update(conf)
    _forget_connections()
    try:
        yield Broker(request.param, env)
    finally:
        celery_app.conf.update(saved)
        _forget_connections()
        if request.param == "redis":
            client.flushdb()
        client.close()


def database_url() -> str:
    """The URL of the database this test runs on (the test database, already created)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        assert "memory" not in str(db["NAME"]), "worker processes need a file database"
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@dataclass
class Workers:
    broker: Broker
    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(
        self, name: str, *, beat: bool = False, pool: str = "solo", env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        environ = {**os.environ, **self.broker.env, "DATABASE_URL": database_url(), "PYTHONPATH": str(ROOT)}
        environ.pop("CONCORDANCE_JUDGE_REDIS_URL", None)
        environ.pop("CELERY_VISIBILITY_TIMEOUT", None)  # Redis's default: an hour
        if self.broker.kind == "filesystem":
            environ.pop("CELERY_BROKER_URL", None)
        environ.update(env or {})
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-n", f"{name}@%h"]
        cmd += ["-P", pool, "-c", "1"]
        cmd += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"]
        if beat:
            cmd += ["--beat", "--schedule", str(self.logs / f"{name}-beat-schedule")]
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=environ,
            stdout=(self.logs / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker (its whole process group) and reap it."""
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def kill_all(self) -> None:
        """At the end of a test: nothing a worker does then matters (and a warm shutdown of
        an idle worker on the filesystem broker takes seconds)."""
        for proc in self.started:
            self.kill(proc)


@pytest.fixture
def workers(broker: Broker, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(broker, tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


def wait_until(condition: Callable[[], object], what: str, deadline: float = 120.0) -> None:
    """Poll `condition` every 50 ms; fail naming `what` after `deadline` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)
