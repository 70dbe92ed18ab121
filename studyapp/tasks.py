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
    studyapp.tasks.allocation_draw         True       True
    studyapp.tasks.live_refresh            True       True
    studyapp.tasks.workers_recover         True       True

What that does when a worker dies during a task:

- a pool process dies (killed, out of memory): its worker notices, rejects the message
  and the broker delivers it again within seconds, on both brokers;
- the worker itself dies: on Redis the message is delivered again after
  `CELERY_VISIBILITY_TIMEOUT` (an hour by default); the embedded filesystem broker
  deletes a message when a worker takes it, so it is never delivered again.

Neither is what brings the work back. Judge chunks, report builds and live refreshes are leased to the
worker process doing them (`studyapp/services/workers.py`), and `workers_recover`, run by
every worker as it starts and by beat every `CONCORDANCE_WORKER_RECOVER_SECONDS`,
queues a lost worker's unfinished work again. A later delivery of the same message
finds the work done or held by a live worker and does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_init, worker_process_shutdown, worker_ready, worker_shutdown
from django.db import connections

log = logging.getLogger(__name__)


@shared_task(name="studyapp.tasks.judge_chunk")
def judge_chunk(chunk_id: int) -> int:
    from studyapp.services.judge_runs import judge_run_execute_chunk

    return judge_run_execute_chunk(chunk_id=chunk_id)


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


@shared_task(name="studyapp.tasks.allocation_draw")
def allocation_draw(study_id: int) -> int:
    """Draw an active study's undrawn items (a judge run has finished); a redelivery draws none."""
    from studyapp.services.allocation import allocation_draw_after_judges

    return allocation_draw_after_judges(study_id=study_id)


@shared_task(name="studyapp.tasks.live_refresh")
def live_refresh(study_id: int) -> str | None:
    from studyapp.services.live import live_snapshot_build

    snapshot = live_snapshot_build(study_id=study_id)
    return None if snapshot is None else snapshot.status


@shared_task(name="studyapp.tasks.workers_recover")
def workers_recover() -> int:
    from studyapp.services.recovery import workers_recover

    return workers_recover()


# --- worker life cycle ---------------------------------------------------------------


@worker_init.connect
def _on_worker_init(**kwargs: Any) -> None:
    from studyapp.services.workers import worker_heartbeats_enable

    worker_heartbeats_enable()  # inherited by the pool processes it forks


@worker_ready.connect
def _on_worker_ready(**kwargs: Any) -> None:
    """A worker that starts queues again the work of the processes that are gone."""
    from studyapp.services.recovery import workers_recover

    try:
        workers_recover()
    except Exception:  # a worker that cannot recover still works; beat tries again
        log.exception("recovering the work of lost workers failed")
    finally:
        connections.close_all()  # the main process of a prefork worker runs no task


@worker_process_shutdown.connect
@worker_shutdown.connect
def _on_worker_shutdown(**kwargs: Any) -> None:
    from studyapp.services.workers import worker_process_retire

    try:
        worker_process_retire()
    except Exception:
        log.warning("could not remove this worker process's row", exc_info=True)
