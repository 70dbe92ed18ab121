"""Researcher pages: the study dashboard. Staff or the "researcher" group only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studyapp.models import StudyReport
from studyapp.permissions import researcher_required
from studyapp.selectors.annotation_tasks import study_open_by_slug
from studyapp.selectors.dashboard import study_dashboard

REPORTS_SHOWN = 10


@researcher_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_open_by_slug(slug=slug)
    reports = StudyReport.objects.filter(study=study).defer("data", "html")[:REPORTS_SHOWN]
    context = {"study": study, "reports": reports, **study_dashboard(study=study)}
    return render(request, "studyapp/researcher/dashboard.html", context)
