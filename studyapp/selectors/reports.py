"""The concordance report of a study (built by `analysis.report` from its ratings)."""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from studyapp.models import Criterion, Item, Study, StudyReport
from studyapp.selectors.queues import study_is_active
from studyapp.selectors.ratings import pairwise_votes, ratings_table

if TYPE_CHECKING:  # the statistics load when a report is built, not with every page
    import pandas as pd

    from analysis.report import Report, ReportSettings

__all__ = [
    "study_analysis_settings",
    "study_report",
    "study_report_done",
    "study_reports_recent",
    "study_scales",
]


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
        points = [float(v) for v in range(c["scale_min"], c["scale_max"] + 1)]
        scales[f"rubric/{c['name']}"] = points
        if (c["scale_min"], c["scale_max"]) == (-1, 1):  # a preference criterion (B, tie, A)
            scales[f"pairwise/{c['name']}"] = points
    return scales


def study_analysis_settings(*, study: Study) -> dict[str, Any]:
    """The spec's `analysis` block (defaults for studies loaded before it existed) and the
    human rater ids that are slots rather than people, as their importers declare them."""
    from studyapp.spec import AnalysisSpec

    spec = study.spec or {}
    analysis = AnalysisSpec.model_validate(spec.get("analysis") or {}).model_dump()
    unstable: set[str] = set()
    for source in spec.get("sources") or []:
        try:
            module = importlib.import_module(f"studyapp.importers.{source['format']}")
        except ImportError:
            continue
        declare = getattr(module, "unstable_raters", None)
        if declare is not None:
            unstable.update(declare(source.get("options") or {}))
    return {**analysis, "unstable_raters": frozenset(unstable)}


def study_inclusion(*, study: Study) -> dict[str, Any]:
    """An active study's allocation for the report: {"inclusion": {item: pi}, "drawn": items sent
    to people} over its allocated items (tidy item ids are external ids); {} for a uniform one."""
    if not study_is_active(study=study):
        return {}
    rows = Item.objects.filter(study=study, allocation_pi__isnull=False).values_list(
        "external_id", "allocation_pi", "allocation_drawn"
    )
    inclusion: dict[str, float] = {}
    drawn: set[str] = set()
    for external_id, pi, was_drawn in rows:
        inclusion[external_id] = float(pi or 0.0)  # not null: filtered above
        if was_drawn:
            drawn.add(external_id)
    return {"inclusion": inclusion, "drawn": frozenset(drawn)} if inclusion else {}


def study_report(
    *,
    study: Study,
    settings: ReportSettings | None = None,
    include_gold: bool = False,
    epsilon: float | None = None,
    table: pd.DataFrame | None = None,
) -> Report:
    """Build the report of ``study``: JSON-able ``.data``, HTML via `analysis.report_html`.

    The study's scales are declared unless ``settings.scales`` already names them.
    The gate, the out-of-scale policy and the alternative-annotator test's
    epsilon come from the spec's ``analysis`` block (``epsilon`` overrides it).
    Gold (attention-check) items are left out unless ``include_gold``, as on the
    dashboard: they are chosen to be unambiguous and every annotator sees them,
    so they would inflate agreement and outweigh the study's own items.
    ``table`` is the study's ``ratings_table`` with the same ``include_gold``, when
    the caller has read it already (the report works on a copy).
    """
    from analysis.report import ReportSettings, build_report

    settings = settings or ReportSettings()
    scales = {**study_scales(study=study), **settings.scales}
    fields = {f.name for f in dataclasses.fields(ReportSettings)}
    # the spec's keys that are the report's (target_width is the live summary's and plan_study's)
    spec = {k: v for k, v in study_analysis_settings(study=study).items() if k in fields}
    if epsilon is not None:
        spec["epsilon"] = epsilon
    settings = dataclasses.replace(settings, scales=scales, **spec, **study_inclusion(study=study))
    if table is None:
        table = ratings_table(study=study, include_gold=include_gold)
    votes = pairwise_votes(study=study, include_gold=include_gold)
    return build_report(table, title=f"{study.title} ({study.slug})", settings=settings, pairwise=votes)
