"""Recovery: queue again the unfinished work of worker processes that are gone.

Run by every Celery worker as it starts and periodically by beat
(`studyapp.tasks.workers_recover`). This, not the broker, is what redoes a killed
worker's work, on every broker alike: the embedded filesystem broker never delivers a
taken message again, and Redis does only after its visibility timeout. Work is found
in the database, by its lease (`studyapp/services/workers.py`): judge chunks (and the
submission of a batch), report builds and the dashboard's live refreshes.
"""

from __future__ import annotations

import logging

from studyapp.services.judge_runs import judge_chunks_recover
from studyapp.services.live import live_snapshots_recover
from studyapp.services.reports import study_reports_recover
from studyapp.services.workers import workers_forget

log = logging.getLogger(__name__)


def workers_recover() -> int:
    """Queue again (or end, after TASK_MAX_ATTEMPTS) the work of lost worker processes;
    returns how many pieces of work were queued or ended."""
    n = judge_chunks_recover() + study_reports_recover() + live_snapshots_recover()
    workers_forget()
    if n:
        log.warning("recovered %d piece(s) of work from lost worker processes", n)
    return n
