"""Celery tasks: thin interfaces that take ids and call one service.

Acknowledged late and rejected when their worker is lost (settings), so the
task of a killed worker is delivered again; the services make that safe.
"""

from __future__ import annotations

from celery import shared_task

from studyapp.services import reports


@shared_task(name="studyapp.tasks.report_build", acks_late=True, reject_on_worker_lost=True)
def report_build(report_id: int) -> str | None:
    report = reports.study_report_build(report_id=report_id)
    return None if report is None else report.status
