"""A real Celery worker on Redis and PostgreSQL: kill -9 it in the middle of a judge
run, start another, and every item ends with exactly one judgment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.db.models import Count

from config.celery import app as celery_app
from studyapp.models import Item, JudgeRun, Judgment, Label, Rater
from studyapp.services.judge_runs import judge_run_start
from studyapp.services.study_load import study_load
from tests.conftest import using_postgres
from tests.support.fixtures import TEST_REDIS_URL
from tests.support.openai_server import FakeOpenAI, critique_responder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
N_ITEMS, CHUNK, CONCURRENCY = 24, 4, 2


def _forget_connections() -> None:
    # the app caches its connection and producer pools for the broker it first used
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_on_redis() -> Iterator[None]:
    """This process publishes to Redis DB 5, with a short visibility timeout."""
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    saved = {k: celery_app.conf[k] for k in ("broker_url", "broker_transport_options")}
    celery_app.conf.update(broker_url=TEST_REDIS_URL, broker_transport_options={"visibility_timeout": 3})
    _forget_connections()
    yield
    celery_app.conf.update(saved)
    _forget_connections()
    client.flushdb()
    client.close()


def start_worker(name: str, log: Path) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CONCORDANCE_JUDGE_REDIS_URL", None)
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-n", name]
    cmd += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"]
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until(condition, what: str, deadline: float = 120.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)


def test_killed_worker_items_end_with_exactly_one_judgment(tmp_path, settings, celery_on_redis):
    if not using_postgres():
        pytest.skip("a worker process needs a database it can share: PostgreSQL")
    settings.JUDGE_CHUNK_SIZE, settings.JUDGE_CHUNK_ROUNDS = CHUNK, 1
    with FakeOpenAI(latency=0.15) as server:
        server.responder = critique_responder
        items = [
            {"id": f"q{i}", "problem": f"{i} * 2?", "steps": ["double it", f"{2 * i}", "done"]}
            for i in range(N_ITEMS)
        ]
        (tmp_path / "items.jsonl").write_text("".join(json.dumps(x) + "\n" for x in items))
        config = {
            "model": "fake-model",
            "base_url": server.base_url,
            "api_key_env": None,
            "cache": False,
            "concurrency": CONCURRENCY,
        }
        spec = {
            "slug": "killed",
            "title": "Killed worker",
            "domains": [{"name": "math"}],
            "sources": [{"path": "items.jsonl", "format": "native", "domain": "math"}],
            "judges": [{"name": "critic", "kind": "critic", "config": config}],
        }
        (tmp_path / "study.yaml").write_text(json.dumps(spec))
        study = study_load(path=tmp_path / "study.yaml").study
        rater = Rater.objects.get(study=study, name="critic")
        run = judge_run_start(study=study, rater=rater)  # enqueued on commit: six chunks
        assert run.n_items == N_ITEMS

        def done() -> int:
            return Judgment.objects.filter(run=run, status=Judgment.Status.DONE).count()

        first = start_worker("first@%h", tmp_path / "first.log")
        try:
            wait_until(lambda: done() >= CHUNK + 1, "the first worker to judge a chunk and more")
            stop(first, signal.SIGKILL)  # in the middle of its second chunk (or later)
        finally:
            stop(first, signal.SIGKILL)
        done_at_kill = done()
        assert 0 < done_at_kill < N_ITEMS, "the kill must land in the middle of the run"

        time.sleep(4)  # past the visibility timeout: the unacknowledged chunk is due again
        second = start_worker("second@%h", tmp_path / "second.log")
        try:
            wait_until(
                lambda: not Judgment.objects.filter(run=run, status=Judgment.Status.PENDING).exists(),
                "the second worker to finish the run",
            )
            wait_until(lambda: JudgeRun.objects.get(pk=run.pk).status == JudgeRun.Status.DONE, "run done")
        finally:
            stop(second)

        per_item = Judgment.objects.filter(rater=rater).values("item").annotate(n=Count("id"))
        assert Item.objects.filter(study=study).count() == N_ITEMS
        assert sorted(row["n"] for row in per_item) == [1] * N_ITEMS
        assert Judgment.objects.filter(rater=rater, status=Judgment.Status.DONE).count() == N_ITEMS
        assert Label.objects.filter(judgment__rater=rater).count() == 3 * N_ITEMS
        # only the killed chunk's unsaved items (in flight or answered, not yet saved)
        # can have been asked twice
        assert N_ITEMS <= server.calls() <= N_ITEMS + CHUNK
        log = (tmp_path / "second.log").read_text()
        assert "studyapp.tasks.judge_chunk" in log
