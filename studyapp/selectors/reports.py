"""The concordance report of a study (built by `analysis.report` from its ratings)."""

from __future__ import annotations

from analysis.report import Report, ReportSettings, build_report
from studyapp.models import Study
from studyapp.selectors.ratings import ratings_table

__all__ = ["study_report"]


def study_report(
    *, study: Study, settings: ReportSettings | None = None, include_gold: bool = True
) -> Report:
    """Build the report of ``study``: JSON-able ``.data``, HTML via `analysis.report_html`."""
    table = ratings_table(study=study, include_gold=include_gold)
    return build_report(table, title=f"{study.title} ({study.slug})", settings=settings)
