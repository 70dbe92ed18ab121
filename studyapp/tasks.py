"""Celery tasks: thin interfaces that take ids and call one service. Each imports its
service in its body, so that services can import this module at the top.

Acknowledgement is one policy for every task, set in `config/settings.py`
(`CELERY_TASK_ACKS_LATE`, `CELERY_TASK_REJECT_ON_WORKER_LOST`); no task overrides it.
`tests/studyapp/test_tasks.py` checks the table against the registered tasks:

    task                                   acks_late  reject_on_worker_lost
    studyapp.tasks.judge_chunk             True       True
    studyapp.tasks.judge_batch_submit      True       True
    studyapp.tasks.judge_batches_collect   True       True
    studyapp.tasks.judge_batch_cancel      True       True
    studyapp.tasks.report_build            True       True

Late acknowledgement keeps a task at the broker until it has run: when a pool process
dies its worker rejects the message and the broker delivers it again; when the worker
itself dies, Redis delivers it again after `CELERY_VISIBILITY_TIMEOUT`, and the embedded
filesystem broker, which deletes a message when a worker takes it, never does.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="studyapp.tasks.judge_chunk")
def judge_chunk(run_id: int, judgment_ids: list[int]) -> int:
    from studyapp.services.judge_runs import judge_run_execute_chunk

    return judge_run_execute_chunk(run_id=run_id, judgment_ids=judgment_ids)


@shared_task(name="studyapp.tasks.judge_batch_submit")
def judge_batch_submit(run_id: int) -> str | None:
    from studyapp.services.judge_runs import judge_run_submit_batch

    return judge_run_submit_batch(run_id=run_id)


@shared_task(name="studyapp.tasks.judge_batches_collect")
def judge_batches_collect() -> int:
    from studyapp.services.judge_runs import judge_runs_collect_batches

    return judge_runs_collect_batches()


@shared_task(name="studyapp.tasks.judge_batch_cancel")
def judge_batch_cancel(run_id: int) -> None:
    from studyapp.services.judge_runs import judge_run_cancel_batch

    judge_run_cancel_batch(run_id=run_id)


@shared_task(name="studyapp.tasks.report_build")
def report_build(report_id: int) -> str | None:
    from studyapp.services.reports import study_report_build

    report = study_report_build(report_id=report_id)
    return None if report is None else report.status
