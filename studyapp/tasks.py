"""Celery tasks: thin interfaces that take ids and call one service.

Acknowledged late and rejected when their worker is lost (settings), so the
task of a killed worker is delivered again; the services make that safe.
"""

from __future__ import annotations

from celery import shared_task

from studyapp.services import judge_runs, reports


@shared_task(name="studyapp.tasks.judge_chunk", acks_late=True, reject_on_worker_lost=True)
def judge_chunk(run_id: int, judgment_ids: list[int]) -> int:
    return judge_runs.judge_run_execute_chunk(run_id=run_id, judgment_ids=judgment_ids)


@shared_task(name="studyapp.tasks.judge_batch_submit", acks_late=True, reject_on_worker_lost=True)
def judge_batch_submit(run_id: int) -> str | None:
    return judge_runs.judge_run_submit_batch(run_id=run_id)


@shared_task(name="studyapp.tasks.judge_batches_collect")
def judge_batches_collect() -> int:
    return judge_runs.judge_runs_collect_batches()


@shared_task(name="studyapp.tasks.judge_batch_cancel", acks_late=True)
def judge_batch_cancel(run_id: int) -> None:
    judge_runs.judge_run_cancel_batch(run_id=run_id)


@shared_task(name="studyapp.tasks.report_build", acks_late=True, reject_on_worker_lost=True)
def report_build(report_id: int) -> str | None:
    report = reports.study_report_build(report_id=report_id)
    return None if report is None else report.status
