"""Researcher downloads: concordance reports (built by a worker) and the streamed ratings export."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from analysis.export import csv_lines
from studyapp.permissions import researcher_required
from studyapp.selectors.ratings import EXPORT_COLUMNS, rating_rows
from studyapp.selectors.reports import study_report_done
from studyapp.selectors.studies import study_by_slug
from studyapp.services.reports import study_report_request


@researcher_required
@require_POST
def report_create(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_by_slug(slug=slug)
    study_report_request(
        study=study, user=request.user, include_gold=request.POST.get("include_gold") == "on"
    )
    return redirect(f"{reverse('studyapp:dashboard', args=[slug])}#reports")


@researcher_required
@require_GET
def report_html(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    report = study_report_done(slug=slug, report_id=pk)
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
    report = study_report_done(slug=slug, report_id=pk)
    response = HttpResponse(json.dumps(report.data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{slug}-report-{pk}.json"'
    return response


@researcher_required
@require_GET
def export_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Every annotation and judgment label, one row each, streamed (constant memory)."""
    study = study_by_slug(slug=slug)
    include_gold = request.GET.get("gold", "1") != "0"
    response = StreamingHttpResponse(
        csv_lines(rating_rows(study=study, include_gold=include_gold), EXPORT_COLUMNS),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{slug}-ratings.csv"'
    return response
