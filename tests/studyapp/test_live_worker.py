"""The dashboard's live estimates with real Celery workers, on the embedded filesystem
broker and on Redis: a burst of submissions queues one refresh; annotations that arrive
while a refresh runs get one more; a refresh whose worker is killed is done once by the
next worker."""

from __future__ import annotations

import re

import pytest

from studyapp.models import LiveSnapshot
from studyapp.selectors.live import live_annotation_count
from studyapp.services.annotations import annotation_submit
from studyapp.services.assignments import assignment_claim_next
from tests.studyapp.live_study import load_live_study
from tests.support.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SLOW = {"CONCORDANCE_LIVE_RESAMPLES": "40000"}  # a refresh that takes seconds


def _submit(study, make_rater, n: int) -> None:
    """n people each rate one item, one after the other, as fast as the service goes."""
    for _ in range(n):
        rater = make_rater(study)
        assignment = assignment_claim_next(rater=rater, study=study)
        assert assignment is not None
        annotation_submit(assignment=assignment, ratings={"accuracy": 4})


def _received(log: str) -> int:
    return len(re.findall(r"Task studyapp\.tasks\.live_refresh\[[^]]+\] received", log))


def _finished(log: str) -> int:
    return len(re.findall(r"Task studyapp\.tasks\.live_refresh\[[^]]+\] succeeded", log))


def _built(log: str) -> int:
    return log.count("live estimates of live built from")


def _reading(study) -> bool:
    """A refresh holds the lease and has cleared pending: it reads what is there now."""
    snap = LiveSnapshot.objects.get(study=study)
    return snap.status == LiveSnapshot.Status.RUNNING and not snap.pending


def _reflects(study, n: int) -> bool:
    snap = LiveSnapshot.objects.filter(study=study).first()
    return snap is not None and snap.status == LiveSnapshot.Status.DONE and snap.n_annotations == n


def test_a_burst_of_submissions_queues_one_refresh(tmp_path, settings, broker, workers, make_rater):
    settings.LIVE_DEBOUNCE_SECONDS = 2
    study = load_live_study(tmp_path, n=40, unrated=10)
    workers.start("w", env={"CONCORDANCE_LIVE_DEBOUNCE_SECONDS": "2"})
    wait_until(lambda: "ready" in workers.log("w"), "the worker to start")

    _submit(study, make_rater, 6)
    total = live_annotation_count(study=study)
    assert total == 2 * 40 * 3 + 6
    wait_until(lambda: _reflects(study, total), "the refresh")
    log = workers.log("w")
    assert (_received(log), _built(log)) == (1, 1)
    snap = LiveSnapshot.objects.get(study=study)
    assert (snap.pending, snap.attempts, snap.worker, snap.error) == (False, 0, None, "")
    assert {d["domain"]: d["decided"] for d in snap.data["domains"]} == {"news": True, "stories": False}


def test_annotations_during_a_refresh_get_one_more(tmp_path, settings, broker, workers, make_rater):
    settings.LIVE_DEBOUNCE_SECONDS = 0
    study = load_live_study(tmp_path, n=60, unrated=20)
    workers.start("w", env={**SLOW, "CONCORDANCE_LIVE_DEBOUNCE_SECONDS": "0"})
    _submit(study, make_rater, 1)
    wait_until(lambda: _reading(study), "the first refresh")
    _submit(study, make_rater, 2)  # while it runs
    total = live_annotation_count(study=study)
    wait_until(lambda: _reflects(study, total), "the second refresh", deadline=300)
    # three deliveries: the first submission's, the arrivals' and the first refresh's "one
    # more"; one of the last two builds, the other finds nothing left to do
    wait_until(lambda: _finished(workers.log("w")) == 3, "the third delivery")
    log = workers.log("w")
    assert (_received(log), _built(log)) == (3, 2)
    assert LiveSnapshot.objects.get(study=study).pending is False


def test_a_killed_workers_refresh_is_done_by_the_next_worker(tmp_path, settings, broker, workers, make_rater):
    settings.LIVE_DEBOUNCE_SECONDS = 0
    study = load_live_study(tmp_path, n=60, unrated=20)
    first = workers.start("first", env=SLOW)
    _submit(study, make_rater, 1)
    wait_until(lambda: LiveSnapshot.objects.get(study=study).status == "running", "the refresh to start")
    workers.kill(first)
    snap = LiveSnapshot.objects.get(study=study)
    assert (snap.status, snap.attempts, snap.data) == ("running", 1, None)

    workers.start("second", env=SLOW)  # it recovers the lost refresh as it starts
    total = live_annotation_count(study=study)
    wait_until(lambda: _reflects(study, total), "the refresh, redone", deadline=300)
    assert _built(workers.log("second")) == 1
    snap.refresh_from_db()
    assert (snap.attempts, snap.worker, snap.error, snap.pending) == (0, None, "", False)
    assert snap.data["domains"]
