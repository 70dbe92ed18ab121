"""Concordance reports built by a Celery worker and stored, so no web request computes one.

A build is leased to the worker process doing it (`studyapp/services/workers.py`) and
counted (`StudyReport.attempts`). When that worker dies the recovery queues the report
again; a report whose build was started TASK_MAX_ATTEMPTS (2) times and died each time
is failed with the reason instead of being built again, since a build that kills its
worker (out of memory, say) would do so forever.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from studyapp.models import Study, StudyReport
from studyapp.services.workers import Claim, lease_claim, leases_release_lost, worker_process_current
from studyapp.tasks import report_build

logger = logging.getLogger(__name__)

# epsilon None: the study spec's (analysis.epsilon)
DEFAULT_OPTIONS: dict[str, Any] = {"n_resamples": 1000, "seed": 0, "epsilon": None, "include_gold": False}


def study_report_request(*, study: Study, user: Any = None, **options: Any) -> StudyReport:
    """Queue a report of `study`; the worker builds it after this transaction commits."""
    unknown = set(options) - set(DEFAULT_OPTIONS)
    if unknown:
        raise ValueError(f"unknown report option(s): {', '.join(sorted(unknown))}")
    report = StudyReport.objects.create(
        study=study,
        options={**DEFAULT_OPTIONS, **options},
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )
    transaction.on_commit(lambda: report_build.delay(report.pk))
    return report


def _interrupted(attempts: int) -> dict[str, Any]:
    return {
        "status": StudyReport.Status.FAILED,
        "finished_at": timezone.now(),
        "error": (
            f"the worker process building this report died {attempts} times (attempts {attempts}), "
            "so it is not built again. A worker that dies while it builds a report has usually "
            "run out of memory: give it more, or request the report with fewer resamples."
        ),
    }


def study_reports_recover(*, reports: Any = None) -> int:
    """Queue again each report being built by a worker that is lost (of `reports`, default
    all); fail those whose build has been started TASK_MAX_ATTEMPTS times. Returns the
    number queued or failed."""
    requeued, ended = leases_release_lost(model=StudyReport, queryset=reports, exhausted=_interrupted)
    for pk in requeued:
        transaction.on_commit(lambda pk=pk: report_build.delay(pk))  # type: ignore[misc]
    for pk in ended:
        logger.error("report %s failed: the worker building it died %d times", pk, settings.TASK_MAX_ATTEMPTS)
    return len(requeued) + len(ended)


def study_report_build(*, report_id: int) -> StudyReport | None:
    """Build a queued report, leased to this worker process. A report that is finished
    (done or failed), or being built by a live worker, is left as it is: the delivery is
    a duplicate."""
    worker = worker_process_current()
    claim = lease_claim(model=StudyReport, pk=report_id, worker=worker)
    if claim is Claim.EXHAUSTED:
        study_reports_recover(reports=StudyReport.objects.filter(pk=report_id))
    report = StudyReport.objects.select_related("study").filter(pk=report_id).first()
    if report is None or claim is not Claim.CLAIMED:
        return report
    # the statistics (scipy, pandas) are imported where they are used, not by every
    # worker as it starts and recovers
    from analysis.report import ReportSettings
    from analysis.report_html import render_html
    from studyapp.selectors.reports import study_report

    options = report.options
    try:
        built = study_report(
            study=report.study,
            settings=ReportSettings(n_resamples=options["n_resamples"], seed=options["seed"]),
            include_gold=options["include_gold"],
            epsilon=options.get("epsilon"),
        )
        # JSON round trip: what is stored is exactly what the download serves.
        report.data = json.loads(json.dumps(built.data, allow_nan=False))
        report.html = render_html(built)
        report.status = StudyReport.Status.DONE
        report.error = ""
    except Exception as exc:  # a failed report is recorded, never lost silently
        logger.exception("report %s of %s failed", report.pk, report.study.slug)
        report.status = StudyReport.Status.FAILED
        report.error = f"{type(exc).__name__}: {exc}"
    report.finished_at = timezone.now()
    # only while this process holds the build: one that took it over writes its own
    StudyReport.objects.filter(pk=report.pk, worker=worker).update(
        data=report.data,
        html=report.html,
        status=report.status,
        error=report.error,
        finished_at=report.finished_at,
        worker=None,
    )
    report.refresh_from_db()
    return report
