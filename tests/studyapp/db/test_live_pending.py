"""`db.live.live_mark_pending`: one statement that creates the snapshot row the first time,
sets it pending only when it is not, and never takes a running build's lease away."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studyapp.db.live import live_mark_pending
from studyapp.models import LiveSnapshot
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def test_first_call_creates_the_row_pending_and_later_calls_change_nothing():
    study = StudyFactory()
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        assert live_mark_pending(study_id=study.pk, now=now) is True
    assert len(queries) == 1
    row = LiveSnapshot.objects.get(study=study)
    assert (row.pending, row.status, row.attempts, row.data, row.requested_at) == (
        True,
        "queued",
        0,
        None,
        now,
    )
    later = timezone.now()
    for _ in range(3):
        assert live_mark_pending(study_id=study.pk, now=later) is False
    row.refresh_from_db()
    assert row.requested_at == now  # not touched while pending


def test_a_built_snapshot_is_queued_again_and_a_running_build_keeps_its_lease():
    study = StudyFactory()
    snap = LiveSnapshot.objects.create(study=study, status="done", pending=False, data={"domains": []})
    assert live_mark_pending(study_id=study.pk, now=timezone.now()) is True
    snap.refresh_from_db()
    assert (snap.pending, snap.status, snap.data) == (True, "queued", {"domains": []})

    LiveSnapshot.objects.filter(pk=snap.pk).update(status="running", pending=False, attempts=1)
    assert live_mark_pending(study_id=study.pk, now=timezone.now()) is True
    snap.refresh_from_db()
    assert (snap.pending, snap.status, snap.attempts) == (True, "running", 1)


def test_one_row_per_study():
    a, b = StudyFactory(), StudyFactory()
    assert live_mark_pending(study_id=a.pk, now=timezone.now())
    assert live_mark_pending(study_id=b.pk, now=timezone.now())
    assert sorted(LiveSnapshot.objects.values_list("study_id", flat=True)) == sorted([a.pk, b.pk])


def _orm_equivalent(*, study_id: int, now) -> bool:
    """docs/architecture.md's ORM equivalent of PENDING_SQL."""
    from django.db.models import Case, Value, When

    created = LiveSnapshot.objects.get_or_create(
        study_id=study_id, defaults={"pending": True, "requested_at": now, "status": "queued"}
    )[1]
    return created or bool(
        LiveSnapshot.objects.filter(study_id=study_id, pending=False).update(
            pending=True,
            requested_at=now,
            status=Case(When(status="running", then=Value("running")), default=Value("queued")),
        )
    )


def test_the_statement_and_its_orm_equivalent_agree():
    fields = ("pending", "status", "requested_at", "attempts")
    a, b = StudyFactory(), StudyFactory()
    states = [None, {}, {"pending": False, "status": "done"}, {"pending": False, "status": "running"}, {}]
    for state in states:
        now = timezone.now()
        if state:
            LiveSnapshot.objects.filter(study__in=[a, b]).update(**state)
        assert live_mark_pending(study_id=a.pk, now=now) == _orm_equivalent(study_id=b.pk, now=now)
        row_a = LiveSnapshot.objects.filter(study=a).values(*fields).get()
        row_b = LiveSnapshot.objects.filter(study=b).values(*fields).get()
        assert row_a == row_b
