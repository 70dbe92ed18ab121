"""Concordance reports built by a Celery worker and stored, so no web request computes one."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from analysis.report import ReportSettings
from analysis.report_html import render_html
from studyapp.models import Study, StudyReport
from studyapp.selectors.reports import study_report

logger = logging.getLogger(__name__)

# epsilon None: the study spec's (analysis.epsilon)
DEFAULT_OPTIONS: dict[str, Any] = {"n_resamples": 1000, "seed": 0, "epsilon": None, "include_gold": False}


def study_report_request(*, study: Study, user: Any = None, **options: Any) -> StudyReport:
    """Queue a report of `study`; the worker builds it after this transaction commits."""
    from studyapp.tasks import report_build

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


def study_report_build(*, report_id: int) -> StudyReport | None:
    """Build a queued report; a report already built (a redelivered task) is left as it is."""
    with transaction.atomic():
        report = StudyReport.objects.select_for_update().select_related("study").filter(pk=report_id).first()
        if report is None or report.status == StudyReport.Status.DONE:
            return report
        report.status = StudyReport.Status.RUNNING
        report.save(update_fields=["status"])
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
    report.save(update_fields=["data", "html", "status", "error", "finished_at"])
    return report
