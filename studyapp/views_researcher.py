"""Researcher pages: the study dashboard. Staff or the "researcher" group only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from studyapp.models import JudgeRun, Rater, StudyReport
from studyapp.permissions import researcher_required
from studyapp.selectors.annotation_tasks import study_by_slug
from studyapp.selectors.dashboard import study_dashboard
from studyapp.services.judge_runs import JudgeRunError, judge_run_cancel, judge_run_start

REPORTS_SHOWN = 10


@researcher_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_by_slug(slug=slug)
    reports = StudyReport.objects.filter(study=study).defer("data", "html")[:REPORTS_SHOWN]
    context = {"study": study, "reports": reports, **study_dashboard(study=study)}
    return render(request, "studyapp/researcher/dashboard.html", context)


@researcher_required
@require_POST
def judge_run_create(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_by_slug(slug=slug)
    rater_id = request.POST.get("rater", "")
    if not rater_id.isascii() or not rater_id.isdigit():
        return HttpResponseBadRequest("Choose a judge of this study (rater is a judge's id).")
    rater = get_object_or_404(Rater, pk=int(rater_id), study=study, kind=Rater.Kind.JUDGE)
    mode = request.POST.get("mode", JudgeRun.Mode.SYNC)
    try:
        run = judge_run_start(study=study, rater=rater, mode=mode)
    except JudgeRunError as exc:
        messages.error(request, f"{rater.name}: {exc}")
    else:
        messages.success(request, f"Run {run.pk} of {rater.name} started on {run.n_items} items.")
    return redirect(f"/researcher/studies/{slug}/#judge-runs")


@researcher_required
@require_POST
def judge_run_stop(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    run = get_object_or_404(JudgeRun, pk=pk, study__slug=slug)
    if judge_run_cancel(run=run):
        messages.success(request, f"Run {run.pk} cancelled.")
    else:
        messages.error(request, f"Run {run.pk} had already ended.")
    return redirect(f"/researcher/studies/{slug}/#judge-runs")
