"""Real Celery workers, on the embedded default (SQLite or PostgreSQL with the filesystem
broker) and on Redis: kill -9 a worker in the middle of a judge run or of a batch
submission, start another, and the run ends with every judgment exactly once, the
batch made once. Nothing here waits for Redis's visibility timeout (an hour)."""

from __future__ import annotations

import json
import os
import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db.models import Count

from studyapp.models import Item, JudgeChunk, JudgeRun, Judgment, Label, Rater, Study, WorkerProcess
from studyapp.services.judge_runs import judge_run_start, judge_runs_collect_batches
from studyapp.services.study_load import study_load
from tests.support.openai_server import FakeOpenAI, critique_responder
from tests.support.workers import redeliver_unacked, redis_messages, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

N_ITEMS, CHUNK, CONCURRENCY = 12, 4, 2


def critic_study(tmp_path: Path, server: FakeOpenAI) -> tuple[Study, Rater]:
    items = [
        {"id": f"q{i}", "problem": f"{i} * 2?", "steps": ["double it", f"{2 * i}", "done"]}
        for i in range(N_ITEMS)
    ]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(x) + "\n" for x in items))
    config = {
        "model": "gpt-4o-mini",
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
    return study, Rater.objects.get(study=study, name="critic")


def done(run: JudgeRun) -> int:
    return Judgment.objects.filter(run=run, status=Judgment.Status.DONE).count()


def run_status(run: JudgeRun) -> str:
    return JudgeRun.objects.get(pk=run.pk).status


def assert_judged_once(study: Study, rater: Rater) -> None:
    per_item = Judgment.objects.filter(rater=rater).values("item").annotate(n=Count("id"))
    assert Item.objects.filter(study=study).count() == N_ITEMS
    assert sorted(row["n"] for row in per_item) == [1] * N_ITEMS
    assert Judgment.objects.filter(rater=rater, status=Judgment.Status.DONE).count() == N_ITEMS
    assert Label.objects.filter(judgment__rater=rater).count() == 3 * N_ITEMS


def in_second_chunk(server: FakeOpenAI, run: JudgeRun) -> bool:
    """The first chunk and half the second are judged, the rest of the second in flight."""
    return server.held() == CONCURRENCY and done(run) == CHUNK + CONCURRENCY


def kill_in_second_chunk(workers, server: FakeOpenAI, run: JudgeRun, name: str = "first", **env: str):
    """Start a worker and SIGKILL it when it has judged the first chunk and half of the
    second, with the second half's requests held at the server (in flight)."""
    worker = workers.start(name, env=env)
    wait_until(lambda: in_second_chunk(server, run), "the second chunk")
    # the chunk being judged (the filesystem broker orders messages queued in the same
    # millisecond at random, so not necessarily the second by id)
    second = JudgeChunk.objects.get(run=run, status=JudgeChunk.Status.RUNNING)
    assert second.attempts == 1
    workers.kill(worker)
    server.release()  # the held requests answer a closed connection
    return second


def test_a_killed_workers_chunk_is_judged_once_by_the_next_worker(tmp_path, settings, broker, workers):
    settings.JUDGE_CHUNK_SIZE, settings.JUDGE_CHUNK_ROUNDS = CHUNK, 1
    with FakeOpenAI() as server:
        server.responder = critique_responder
        server.hold_after(CHUNK + CONCURRENCY)  # the first chunk and half the second
        study, rater = critic_study(tmp_path, server)
        run = judge_run_start(study=study, rater=rater)  # three chunks, enqueued on commit
        second = kill_in_second_chunk(workers, server, run)
        assert run_status(run) == JudgeRun.Status.RUNNING and done(run) == CHUNK + CONCURRENCY

        # finds the chunk of the dead worker as it starts; the live refresh that the finished
        # run queues runs at once, so that no message of it is held unacknowledged below
        workers.start("second", env={"CONCORDANCE_LIVE_DEBOUNCE_SECONDS": "0"})
        wait_until(lambda: run_status(run) == JudgeRun.Status.DONE, "the second worker to finish the run")
        assert_judged_once(study, rater)
        # the killed chunk's two requests in flight were asked again; nothing else was
        assert server.calls() == N_ITEMS + CONCURRENCY
        second.refresh_from_db()
        assert (second.status, second.attempts) == (JudgeChunk.Status.DONE, 2)
        assert sorted(run.chunks.values_list("attempts", flat=True)) == [1, 1, 2]
        tokens = JudgeRun.objects.values_list("tokens_in", "tokens_out").get(pk=run.pk)

        if broker.kind == "redis":
            wait_until(lambda: "live estimates of" in workers.log("second"), "the live refresh to end")
            wait_until(lambda: redis_messages("unacked") == 1, "its acknowledgement")
            # Redis delivers the killed worker's message again once its visibility timeout
            # passes (an hour): the chunk is done, so that delivery does nothing
            assert redis_messages("unacked") == 1
            assert redeliver_unacked() == 1
            late = f"chunk {second.pk} is done: this delivery does nothing"
            wait_until(lambda: late in workers.log("second") and not redis_messages("unacked"), "it")
            assert redis_messages("queued") == 0
            assert server.calls() == N_ITEMS + CONCURRENCY
            assert JudgeRun.objects.values_list("tokens_in", "tokens_out").get(pk=run.pk) == tokens
            assert_judged_once(study, rater)

        again = judge_run_start(study=study, rater=rater)  # not refused: nothing left to judge
        assert again.status == JudgeRun.Status.DONE and again.n_items == 0


@pytest.mark.parametrize("broker", ["filesystem"], indirect=True)
def test_a_killed_pool_process_is_replaced_and_its_chunk_judged_once(tmp_path, settings, broker, workers):
    """`serve` runs a prefork worker. When the pool process judging a chunk is killed (the
    kernel's OOM killer takes the biggest process), the worker starts another and the
    broker delivers the message again at once; the new process takes the chunk over."""
    settings.JUDGE_CHUNK_SIZE, settings.JUDGE_CHUNK_ROUNDS = CHUNK, 1
    with FakeOpenAI() as server:
        server.responder = critique_responder
        server.hold_after(CHUNK + CONCURRENCY)
        study, rater = critic_study(tmp_path, server)
        run = judge_run_start(study=study, rater=rater)
        worker = workers.start("pool", pool="prefork")
        wait_until(lambda: in_second_chunk(server, run), "the second chunk")
        second = JudgeChunk.objects.get(run=run, status=JudgeChunk.Status.RUNNING)
        child = WorkerProcess.objects.get(pk=second.worker_id).pid
        assert child != worker.pid  # a pool process, not the worker
        os.kill(child, signal.SIGKILL)
        server.release()
        wait_until(lambda: run_status(run) == JudgeRun.Status.DONE, "the worker to finish the run")
        assert worker.poll() is None  # the same worker, never restarted
        assert_judged_once(study, rater)
        assert server.calls() == N_ITEMS + CONCURRENCY
        second.refresh_from_db()
        assert (second.status, second.attempts) == (JudgeChunk.Status.DONE, 2)


def logged_at(log: str, text: str) -> datetime:
    """When a worker logged the first line containing `text` (Celery stamps local time)."""
    line = next(line for line in log.splitlines() if text in line)
    stamp = re.search(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})", line)
    assert stamp is not None, line
    return datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f").astimezone(UTC)


@pytest.mark.postgres
@pytest.mark.parametrize("broker", ["redis"], indirect=True)
def test_a_worker_on_another_machine_is_lost_when_its_heartbeat_stops(tmp_path, settings, broker, workers):
    """A holder elsewhere cannot be checked by pid: it is lost once its heartbeat is older
    than CONCORDANCE_WORKER_LOST_AFTER_SECONDS, and beat's periodic recovery requeues."""
    settings.JUDGE_CHUNK_SIZE, settings.JUDGE_CHUNK_ROUNDS = CHUNK, 1
    beats = {
        "CONCORDANCE_WORKER_HEARTBEAT_SECONDS": "0.5",
        "CONCORDANCE_WORKER_LOST_AFTER_SECONDS": "3",
        "CONCORDANCE_WORKER_RECOVER_SECONDS": "0.5",
    }
    with FakeOpenAI() as server:
        server.responder = critique_responder
        server.hold_after(CHUNK + CONCURRENCY)
        study, rater = critic_study(tmp_path, server)
        run = judge_run_start(study=study, rater=rater)
        far = workers.start("far", env=beats)
        wait_until(lambda: in_second_chunk(server, run), "the second chunk")
        second = JudgeChunk.objects.get(run=run, status=JudgeChunk.Status.RUNNING)
        holder = WorkerProcess.objects.get(pk=second.worker_id)
        # as if it ran on another machine: its pid means nothing here
        WorkerProcess.objects.filter(pk=holder.pk).update(pid_space="another-machine")
        wait_until(
            lambda: WorkerProcess.objects.get(pk=holder.pk).heartbeat_at > holder.heartbeat_at,
            "the worker's heartbeat",
        )
        # the second worker is ready (its start-up recovery done) while the first lives,
        # so only beat's periodic recovery can find the first one lost
        workers.start("near", beat=True, env=beats)
        wait_until(lambda: "ready." in workers.log("near"), "the second worker")
        workers.kill(far)
        last_beat = WorkerProcess.objects.get(pk=holder.pk).heartbeat_at  # its last: the process is gone
        server.release()
        wait_until(lambda: run_status(run) == JudgeRun.Status.DONE, "beat's recovery to finish the run")
        # Not before the heartbeat was 3 s old, counted from the last heartbeat, not from the kill
        # (under load the last beat can precede the kill by more than its period).
        recovered_at = logged_at(workers.log("near"), "recovered 1 piece(s) of work")
        assert recovered_at - last_beat >= timedelta(seconds=3)
        second.refresh_from_db()
        assert second.attempts == 2
        assert_judged_once(study, rater)
        assert server.calls() == N_ITEMS + CONCURRENCY


def test_a_batch_is_submitted_once_when_its_worker_dies_before_recording_it(
    tmp_path, settings, broker, workers
):
    with FakeOpenAI() as server:
        server.responder = critique_responder
        server.hold_batch_create = True  # the batch is made, its answer never reaches the worker
        study, rater = critic_study(tmp_path, server)
        run = judge_run_start(study=study, rater=rater, mode="batch")
        first = workers.start("first")
        wait_until(lambda: len(server.batches) == 1 and server.held() == 1, "the batch to be created")
        workers.kill(first)
        server.release()
        run.refresh_from_db()
        assert (run.status, run.batch_id, run.batch_status) == (JudgeRun.Status.QUEUED, "", "submitting")
        [batch] = server.batches.values()
        assert batch["metadata"] == {"concordance_run": str(run.pk), "concordance_key": run.batch_key}

        workers.start("second")  # requeues the submission, which finds the batch
        wait_until(lambda: run_status(run) == JudgeRun.Status.RUNNING, "the batch to be recorded")
        run.refresh_from_db()
        assert run.batch_id == batch["id"] and run.batch_status == "submitted"
        posts = [r for r in server.requests("/v1/batches") if r.method == "POST"]
        assert len(server.batches) == len(posts) == 1
        assert len([f for f in server.files.values() if f["purpose"] == "batch"]) == 1  # one upload
        assert run.chunks.get().attempts == 2

        # what beat does every minute: the first poll finds the batch in progress
        assert [judge_runs_collect_batches() for _ in range(2)] == [0, 1]
        assert run_status(run) == JudgeRun.Status.DONE
        assert_judged_once(study, rater)
        assert server.calls() == N_ITEMS  # each request judged once, in the one batch
