"""The dashboard's live estimates and verdicts, refreshed by a worker after annotations
arrive: debounced, stored, never built in a request.

Each submission runs one statement (`studyapp/db/live.py: live_mark_pending`): it sets
the study's `LiveSnapshot.pending` only when no refresh is pending, and only then queues
`tasks.live_refresh(study_id)`, `LIVE_DEBOUNCE_SECONDS` later, after commit; so the
submissions of those seconds queue one refresh. The refresh is leased like a report
build (`studyapp/services/workers.py`): it clears `pending` once it holds the lease,
counts the annotations, builds the concordance report with `LIVE_RESAMPLES` resamples
(`selectors.reports.study_report`, the report's own code) and stores
`analysis.live.live_summary` of it, at the spec's `analysis.target_width`, with the
plan of `plan_study` at that width (`analysis.plan.plan_summary`) when it is set. Annotations
that arrived meanwhile set `pending` again; the refresh then queues one more. A refresh
whose worker dies is queued again by the recovery, once (TASK_MAX_ATTEMPTS); after that
it stops with the reason until new annotations arrive.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from studyapp.db.live import live_mark_pending
from studyapp.models import LiveSnapshot, Study
from studyapp.selectors.live import live_annotation_count
from studyapp.services.workers import Claim, lease_claim, leases_release_lost, worker_process_current
from studyapp.tasks import live_refresh

logger = logging.getLogger(__name__)


def _enqueue(study_id: int, *, countdown: float) -> None:
    transaction.on_commit(lambda: live_refresh.apply_async((study_id,), countdown=countdown))


def live_refresh_request(*, study_id: int, now: datetime | None = None) -> bool:
    """Queue a refresh of the study's live estimates unless one is pending (True if queued).
    Called after every submission: one statement, and the task after commit."""
    if not live_mark_pending(study_id=study_id, now=now or timezone.now()):
        return False
    _enqueue(study_id, countdown=settings.LIVE_DEBOUNCE_SECONDS)
    return True


def _interrupted(attempts: int) -> dict[str, Any]:
    return {
        "status": LiveSnapshot.Status.DONE,
        "pending": False,  # the next annotation queues a refresh again
        "attempts": 0,
        "error": (
            f"the worker process refreshing these estimates died {attempts} times, so they are "
            "not refreshed again until new annotations arrive (a worker that dies while it "
            "builds has usually run out of memory; CONCORDANCE_LIVE_RESAMPLES lowers the cost)."
        ),
    }


def live_snapshots_recover(*, snapshots: Any = None) -> int:
    """Queue again each refresh whose worker is lost (of `snapshots`, default all), or end
    it after TASK_MAX_ATTEMPTS; and queue again a refresh queued LIVE_STALE_SECONDS ago
    that no worker took (its message lost with a worker that took it from the broker).
    Returns how many were queued or ended."""
    requeued, ended = leases_release_lost(model=LiveSnapshot, queryset=snapshots, exhausted=_interrupted)
    now = timezone.now()
    stale = LiveSnapshot.objects.filter(
        status=LiveSnapshot.Status.QUEUED,
        worker__isnull=True,
        requested_at__lt=now - timedelta(seconds=settings.LIVE_STALE_SECONDS),
    )
    if snapshots is not None:
        stale = stale.filter(pk__in=snapshots.values("pk"))
    lost = [pk for pk in stale.values_list("pk", flat=True) if stale.filter(pk=pk).update(requested_at=now)]
    studies = dict(LiveSnapshot.objects.filter(pk__in=requeued + lost).values_list("pk", "study_id"))
    for pk in requeued + lost:
        _enqueue(studies[pk], countdown=0)
    for pk in ended:
        logger.error("live snapshot %s: its worker died %d times", pk, settings.TASK_MAX_ATTEMPTS)
    return len(requeued) + len(lost) + len(ended)


def _build(study: Study) -> dict[str, Any]:
    # the statistics (scipy, pandas) are imported where they are used
    from analysis.live import live_summary
    from analysis.plan import plan_summary
    from analysis.report import ReportSettings
    from studyapp.selectors.ratings import ratings_table
    from studyapp.selectors.reports import study_analysis_settings, study_report

    table = ratings_table(study=study, include_gold=False)  # read once: the report's and the plan's
    report = study_report(
        study=study, settings=ReportSettings(n_resamples=settings.LIVE_RESAMPLES, seed=0), table=table
    )
    spec = study_analysis_settings(study=study)
    target_width = spec["target_width"]
    summary = live_summary(report.data, target_width=target_width)
    if target_width is not None:  # the plan of `plan_study SLUG` at its defaults
        summary["plan"] = plan_summary(
            table,
            width=target_width,
            alpha=0.05,
            epsilon=spec["epsilon"],
            annotators=3,
            overlap=study.overlap,
        )
    data: dict[str, Any] = json.loads(json.dumps(summary, allow_nan=False))
    return data


def live_snapshot_build(*, study_id: int) -> LiveSnapshot | None:
    """Refresh the study's live estimates, leased to this worker process. A snapshot that
    is not queued, or is being refreshed by a live worker, is left alone: this delivery
    is a duplicate (or came after the refresh it asked for)."""
    pk = LiveSnapshot.objects.filter(study_id=study_id).values_list("pk", flat=True).first()
    if pk is None:
        return None
    worker = worker_process_current()
    claim = lease_claim(model=LiveSnapshot, pk=pk, worker=worker)
    if claim is Claim.EXHAUSTED:
        live_snapshots_recover(snapshots=LiveSnapshot.objects.filter(pk=pk))
    if claim is not Claim.CLAIMED:
        logger.info("live estimates of study %s: %s, this delivery does nothing", study_id, claim.value)
        return LiveSnapshot.objects.filter(pk=pk).first()
    # from here on, an annotation that arrives sets pending again: read after this
    LiveSnapshot.objects.filter(pk=pk, worker=worker).update(pending=False)
    study = Study.objects.get(pk=study_id)
    count = live_annotation_count(study=study)
    data: dict[str, Any] | None = None
    try:
        data = _build(study)
        error = ""
    except Exception as exc:  # recorded on the dashboard, never lost silently
        logger.exception("live estimates of %s failed", study.slug)
        error = f"{type(exc).__name__}: {exc}"
    with transaction.atomic():
        held = LiveSnapshot.objects.select_for_update().filter(
            pk=pk, worker=worker, status=LiveSnapshot.Status.RUNNING
        )
        again = held.values_list("pending", flat=True).first()
        if again is None:
            return LiveSnapshot.objects.filter(pk=pk).first()  # another process took it over
        fields: dict[str, Any] = {
            "status": LiveSnapshot.Status.QUEUED if again else LiveSnapshot.Status.DONE,
            "worker": None,
            "attempts": 0,
            "error": error,
        }
        if data is not None:
            fields.update(data=data, n_annotations=count, built_at=timezone.now())
        LiveSnapshot.objects.filter(pk=pk).update(**fields)
        if again:  # annotations arrived during the build: one more refresh
            _enqueue(study_id, countdown=settings.LIVE_DEBOUNCE_SECONDS)
    logger.info(
        "live estimates of %s built from %d annotations%s", study.slug, count, " (failed)" if error else ""
    )
    return LiveSnapshot.objects.filter(pk=pk).first()
