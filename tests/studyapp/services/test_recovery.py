"""Recovery in one process (tasks eager): the work of a lost worker is queued again and
done once, work whose workers died twice is ended with the reason, and a batch whose
provider answer was lost is found instead of made twice. The same with real workers
killed by SIGKILL: tests/studyapp/test_judge_worker.py and test_report_worker.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from studyapp.models import JudgeChunk, JudgeRun, Judgment, StudyReport, WorkerProcess
from studyapp.services.judge_runs import JudgeRunError, judge_run_start
from studyapp.services.recovery import workers_recover
from studyapp.services.reports import study_report_build, study_report_request
from studyapp.services.study_load import study_load
from studyapp.services.workers import pid_space, worker_process_current
from tests.studyapp.services.test_judge_runs import answer_everything, critic, critic_spec
from tests.studyapp.views.test_reports import rated_study

pytestmark = pytest.mark.django_db


def dead_worker() -> WorkerProcess:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return WorkerProcess.objects.create(
        hostname="h", pid=proc.pid, pid_space=pid_space(), heartbeat_at=timezone.now()
    )


def killed_at(chunk: JudgeChunk, attempts: int = 1) -> None:
    """As the chunk is when its worker was killed in the middle of it."""
    JudgeChunk.objects.filter(pk=chunk.pk).update(status="running", worker=dead_worker(), attempts=attempts)


@pytest.fixture
def study(tmp_path: Path, openai_server):
    openai_server.responder = answer_everything
    return study_load(path=critic_spec(tmp_path, openai_server.base_url)).study


def test_a_lost_workers_chunk_is_queued_again_and_judged_once(
    study, openai_server, eager, settings, django_capture_on_commit_callbacks
):
    settings.JUDGE_CHUNK_SIZE, settings.JUDGE_CHUNK_ROUNDS = 3, 0
    with django_capture_on_commit_callbacks(execute=False):  # nothing delivered yet
        run = judge_run_start(study=study, rater=critic(study))
    first, _ = run.chunks.order_by("pk")
    killed_at(first)
    Judgment.objects.filter(pk=first.judgment_ids[0]).update(status="done")  # saved before the kill
    with pytest.raises(JudgeRunError, match=r"in progress \(its worker died: the next worker to start"):
        judge_run_start(study=study, rater=critic(study))  # resumed, not replaced
    with django_capture_on_commit_callbacks(execute=True):
        assert workers_recover() == 1  # the first chunk; the second was never taken
    first.refresh_from_db()
    assert (first.status, first.attempts, first.worker) == ("done", 2, None)
    assert openai_server.calls() == 2  # the two items the dead worker had not saved
    assert workers_recover() == 0


def test_a_chunk_whose_workers_died_twice_fails_what_is_left(
    study, openai_server, eager, settings, django_capture_on_commit_callbacks
):
    settings.JUDGE_CHUNK_SIZE, settings.JUDGE_CHUNK_ROUNDS = 10, 0
    with django_capture_on_commit_callbacks(execute=False):
        run = judge_run_start(study=study, rater=critic(study))
    chunk = run.chunks.get()
    killed_at(chunk, attempts=2)
    assert workers_recover() == 1
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE and openai_server.calls() == 0
    errors = set(Judgment.objects.values_list("status", "error"))
    assert errors == {
        (
            "failed",
            f"not judged: the worker process judging it died 2 times (chunk {chunk.pk}); "
            "the next run tries it again",
        )
    }
    with django_capture_on_commit_callbacks(execute=True):  # and the next run does
        again = judge_run_start(study=study, rater=critic(study))
    assert again.n_items == 5 and openai_server.calls() == 5


def test_a_chunk_delivered_twice_is_judged_by_one_worker(
    study, openai_server, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        run = judge_run_start(study=study, rater=critic(study))
    chunk = run.chunks.get()
    live = WorkerProcess.objects.create(
        hostname="h", pid=worker_process_current().pid, pid_space=pid_space(), heartbeat_at=timezone.now()
    )
    JudgeChunk.objects.filter(pk=chunk.pk).update(status="running", worker=live, attempts=1)
    from studyapp.services.judge_runs import judge_run_execute_chunk

    assert judge_run_execute_chunk(chunk_id=chunk.pk) == 0  # a live process holds it
    assert workers_recover() == 0 and openai_server.calls() == 0


def test_a_report_is_built_again_once_then_failed_with_its_attempts(
    tmp_path, eager, django_capture_on_commit_callbacks, settings
):
    settings.TASK_MAX_ATTEMPTS = 2
    study = rated_study(tmp_path)
    with django_capture_on_commit_callbacks(execute=False):
        once = study_report_request(study=study, n_resamples=50)
        twice = study_report_request(study=study, n_resamples=50)
    StudyReport.objects.filter(pk=once.pk).update(status="running", worker=dead_worker(), attempts=1)
    StudyReport.objects.filter(pk=twice.pk).update(status="running", worker=dead_worker(), attempts=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert workers_recover() == 2
    once.refresh_from_db()
    twice.refresh_from_db()
    assert (once.status, once.attempts, once.error) == ("done", 2, "")
    assert (twice.status, twice.attempts, twice.worker) == ("failed", 2, None)
    assert twice.error.startswith("the worker process building this report died 2 times (attempts 2)")
    # a late delivery of either changes nothing
    assert study_report_build(report_id=twice.pk).status == "failed"
    assert study_report_build(report_id=once.pk).attempts == 2


def test_the_dashboard_and_study_status_show_a_reports_attempts(tmp_path, client, capsys):
    from studyapp.services.demo import demo_accounts_ensure

    study = rated_study(tmp_path)
    StudyReport.objects.create(
        study=study, status="failed", attempts=2, error="the worker process building this report died 2 times"
    )
    demo_accounts_ensure(study=study)
    client.login(username="researcher", password="concordance-demo")
    page = client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert '<td class="num">2</td>' in page and "died 2 times" in page
    call_command("study_status", study.slug)
    out = capsys.readouterr().out
    assert "failed, attempts 2: the worker process building this report died 2 times" in out
    call_command("study_status", study.slug, "--json")
    [report] = json.loads(capsys.readouterr().out)["reports"]
    assert (report["status"], report["attempts"]) == ("failed", 2) and "died 2 times" in report["error"]


def test_a_batch_whose_answer_was_lost_is_found_not_made_twice(
    study, openai_server, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = judge_run_start(study=study, rater=critic(study), mode="batch")
    run.refresh_from_db()
    [batch] = openai_server.batches.values()
    assert run.batch_id == batch["id"] and batch["metadata"]["concordance_key"] == run.batch_key
    # as if the worker had been killed after the provider answered, before the write
    JudgeRun.objects.filter(pk=run.pk).update(status="queued", batch_id="", batch_status="submitting")
    killed_at(run.chunks.get())
    with django_capture_on_commit_callbacks(execute=True):
        assert workers_recover() == 1
    run.refresh_from_db()
    assert (run.status, run.batch_id, run.batch_status) == ("running", batch["id"], "submitted")
    assert len(openai_server.batches) == 1
    assert len([r for r in openai_server.requests("/v1/batches") if r.method == "POST"]) == 1
    # the first submission listed the files (none had its key) and uploaded one; the
    # second found the batch and touched no file
    assert len(openai_server.requests("/v1/files")) == 2


def test_a_batch_run_cancelled_while_it_was_submitted_cancels_the_batch(
    study, openai_server, eager, monkeypatch, django_capture_on_commit_callbacks
):
    from studyapp.services import judge_runs

    with django_capture_on_commit_callbacks(execute=False):
        run = judge_run_start(study=study, rater=critic(study), mode="batch")
    real = judge_runs._batch_runner

    def cancel_during_submit(run):  # the researcher cancels while the upload is under way
        judge_runs.judge_run_cancel(run=run)
        return real(run)

    monkeypatch.setattr(judge_runs, "_batch_runner", cancel_during_submit)
    with django_capture_on_commit_callbacks(execute=True):
        judge_runs.judge_run_submit_batch(run_id=run.pk)
    run.refresh_from_db()
    [batch] = openai_server.batches.values()
    assert run.status == "cancelled" and run.batch_id == batch["id"]
    assert batch["status"] == "cancelled"


def test_a_batch_whose_run_was_cancelled_after_its_worker_died_is_cancelled(
    study, openai_server, eager, django_capture_on_commit_callbacks
):
    """The worker died after the provider made the batch; the researcher then cancelled."""
    with django_capture_on_commit_callbacks(execute=True):
        run = judge_run_start(study=study, rater=critic(study), mode="batch")
    run.refresh_from_db()
    JudgeRun.objects.filter(pk=run.pk).update(status="cancelled", batch_id="", batch_status="submitting")
    killed_at(run.chunks.get())
    with django_capture_on_commit_callbacks(execute=True):
        assert workers_recover() == 1
    [batch] = openai_server.batches.values()
    assert batch["status"] == "cancelled"
    run.refresh_from_db()
    assert (run.status, run.batch_id) == ("cancelled", batch["id"])
    assert run.chunks.get().status == "done"
