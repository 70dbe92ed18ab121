"""The concordance report of a study (built by `analysis.report` from its ratings)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from studyapp.models import Criterion, Study, StudyReport
from studyapp.selectors.ratings import ratings_table

if TYPE_CHECKING:  # the statistics load when a report is built, not with every page
    from analysis.report import Report, ReportSettings

__all__ = ["study_report", "study_report_done", "study_reports_recent", "study_scales"]


def study_reports_recent(*, study: Study, limit: int) -> QuerySet[StudyReport]:
    """The study's latest report requests, newest first, without their (large) data and HTML."""
    return StudyReport.objects.filter(study=study).defer("data", "html")[:limit]


def study_report_done(*, slug: str, report_id: int) -> StudyReport:
    """A built report of the study named by ``slug``, else 404 (queued, running or failed too)."""
    return get_object_or_404(
        StudyReport.objects.select_related("study"),
        pk=report_id,
        study__slug=slug,
        status=StudyReport.Status.DONE,
    )


def study_scales(*, study: Study) -> dict[str, list[float]]:
    """Declared category sets: step labels -1/0/+1 and each rubric criterion's full scale.

    Gwet's AC1 depends on the declared categories, so a criterion rated 1-5 is
    declared 1..5 even when nobody used 1.
    """
    scales: dict[str, list[float]] = {"step_label": [-1.0, 0.0, 1.0]}
    for c in Criterion.objects.filter(rubric__study=study).values("name", "scale_min", "scale_max"):
        scales[f"rubric/{c['name']}"] = [float(v) for v in range(c["scale_min"], c["scale_max"] + 1)]
    return scales


def study_report(
    *, study: Study, settings: ReportSettings | None = None, include_gold: bool = True
) -> Report:
    """Build the report of ``study``: JSON-able ``.data``, HTML via `analysis.report_html`.

    The study's scales are declared unless ``settings.scales`` already names them.
    """
    from analysis.report import ReportSettings, build_report

    settings = settings or ReportSettings()
    scales = {**study_scales(study=study), **settings.scales}
    settings = dataclasses.replace(settings, scales=scales)
    table = ratings_table(study=study, include_gold=include_gold)
    return build_report(table, title=f"{study.title} ({study.slug})", settings=settings)
