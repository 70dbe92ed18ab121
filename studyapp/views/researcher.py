"""Researcher pages: the study dashboard. Staff or the "researcher" group only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from studyapp.models import JudgeRun
from studyapp.permissions import researcher_required
from studyapp.selectors.dashboard import study_dashboard
from studyapp.selectors.judge_runs import judge_of_study, judge_run_of_study
from studyapp.selectors.live import study_live
from studyapp.selectors.reports import study_reports_recent
from studyapp.selectors.studies import study_by_slug
from studyapp.services import judge_runs
from studyapp.services.allocation import AllocationError, allocation_draw
from studyapp.services.live import live_refresh_request

REPORTS_SHOWN = 10


def _dashboard_section(slug: str, section: str) -> str:
    return f"{reverse('studyapp:dashboard', args=[slug])}#{section}"


@researcher_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_by_slug(slug=slug)
    reports = study_reports_recent(study=study, limit=REPORTS_SHOWN)
    live = study_live(study=study)  # the stored snapshot: nothing is computed here
    context = {"study": study, "reports": reports, "live": live, **study_dashboard(study=study)}
    return render(request, "studyapp/researcher/dashboard.html", context)


@researcher_required
@require_POST
def live_refresh_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Queue a refresh (the page then says "refreshing"); one already pending is enough."""
    study = study_by_slug(slug=slug)
    live_refresh_request(study_id=study.pk)
    return redirect(_dashboard_section(slug, "live"))


@researcher_required
@require_POST
def judge_run_create(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_by_slug(slug=slug)
    rater_id = request.POST.get("rater", "")
    if not rater_id.isascii() or not rater_id.isdigit():
        return HttpResponseBadRequest("Choose a judge of this study (rater is a judge's id).")
    rater = judge_of_study(study=study, rater_id=int(rater_id))
    mode = request.POST.get("mode", JudgeRun.Mode.SYNC)
    try:
        run = judge_runs.judge_run_start(study=study, rater=rater, mode=mode)
    except judge_runs.JudgeRunError as exc:
        messages.error(request, f"{rater.name}: {exc}")
    else:
        messages.success(request, f"Run {run.pk} of {rater.name} started on {run.n_items} items.")
    return redirect(_dashboard_section(slug, "judge-runs"))


@researcher_required
@require_POST
def judge_run_cancel(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    run = judge_run_of_study(slug=slug, run_id=pk)
    if judge_runs.judge_run_cancel(run=run):
        messages.success(request, f"Run {run.pk} cancelled.")
    else:
        messages.error(request, f"Run {run.pk} had already ended.")
    return redirect(_dashboard_section(slug, "judge-runs"))


@researcher_required
@require_POST
def allocation_draw_now(request: HttpRequest, slug: str) -> HttpResponse:
    """Draw an active study's undrawn items now (a finished judge run does it by itself)."""
    study = study_by_slug(slug=slug)
    try:
        result = allocation_draw(study=study)
    except AllocationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{result.drawn_now} item(s) drawn.")
    return redirect(_dashboard_section(slug, "allocation"))
