"""Researcher downloads: concordance reports (built by a worker) and the streamed ratings export."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from analysis.export import csv_lines
from studyapp.models import Study, StudyReport
from studyapp.permissions import researcher_required
from studyapp.selectors.ratings import EXPORT_COLUMNS, rating_rows
from studyapp.services.reports import study_report_request


def _report(slug: str, pk: int) -> StudyReport:
    return get_object_or_404(
        StudyReport.objects.select_related("study"), pk=pk, study__slug=slug, status=StudyReport.Status.DONE
    )


@researcher_required
@require_POST
def report_create(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    study_report_request(
        study=study, user=request.user, include_gold=request.POST.get("include_gold") == "on"
    )
    return redirect(f"/researcher/studies/{slug}/#reports")


@researcher_required
@require_GET
def report_html(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    report = _report(slug, pk)
    response = HttpResponse(report.html, content_type="text/html; charset=utf-8")
    # The page carries dataset text and has no script (its figures are inline SVG):
    # a sandbox with an opaque origin, and no script may run at all.
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
    )
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{slug}-report-{pk}.html"'
    return response


@researcher_required
@require_GET
def report_json(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    report = _report(slug, pk)
    response = HttpResponse(json.dumps(report.data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{slug}-report-{pk}.json"'
    return response


@researcher_required
@require_GET
def export_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Every annotation and judgment label, one row each, streamed (constant memory)."""
    study = get_object_or_404(Study, slug=slug)
    include_gold = request.GET.get("gold", "1") != "0"
    response = StreamingHttpResponse(
        csv_lines(rating_rows(study=study, include_gold=include_gold), EXPORT_COLUMNS),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{slug}-ratings.csv"'
    return response
