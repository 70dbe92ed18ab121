"""Worker processes and leases: when a holder counts as lost, and what a claim returns."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from studyapp.models import StudyReport, WorkerProcess
from studyapp.services.workers import (
    Claim,
    _stat,
    lease_claim,
    leases_release_lost,
    pid_space,
    process_alive,
    worker_process_current,
    workers_forget,
    workers_lost,
)
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def exited_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def worker_row(*, pid: int, space: str | None = None, ticks: int | None = None, age: float = 0.0):
    return WorkerProcess.objects.create(
        hostname="h",
        pid=pid,
        pid_space=pid_space() if space is None else space,
        started_ticks=ticks,
        heartbeat_at=timezone.now() - timedelta(seconds=age),
    )


def test_this_machine_knows_at_once_whether_a_process_lives():
    me = os.getpid()
    assert pid_space() and process_alive(me, _stat(me)[1])
    assert not process_alive(exited_pid(), None)
    # the same pid, started at another time: a later process that got the number
    assert not process_alive(me, _stat(me)[1] + 1)
    zombie = subprocess.Popen(["true"])  # exited, not reaped yet
    try:
        deadline = time.monotonic() + 10
        while _stat(zombie.pid)[0] != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not process_alive(zombie.pid, None)
    finally:
        zombie.wait()


def test_a_holder_is_lost_by_pid_here_and_by_heartbeat_elsewhere(settings):
    settings.WORKER_LOST_AFTER_SECONDS = 30
    me = os.getpid()
    alive_here = worker_row(pid=me, ticks=_stat(me)[1], age=3600)  # an old heartbeat: the pid decides
    dead_here = worker_row(pid=exited_pid(), age=0)
    fresh_elsewhere = worker_row(pid=1, space="another-machine", age=10)
    stale_elsewhere = worker_row(pid=1, space="another-machine", age=31)
    gone = dead_here.pk + 1000
    ids = [alive_here.pk, dead_here.pk, fresh_elsewhere.pk, stale_elsewhere.pk, gone, None]
    assert workers_lost(ids=ids) == {dead_here.pk, stale_elsewhere.pk, gone, None}


def test_a_lease_is_claimed_once_and_taken_over_only_from_a_lost_holder(settings):
    settings.TASK_MAX_ATTEMPTS = 2
    report = StudyReport.objects.create(study=StudyFactory())
    me = worker_process_current()
    assert lease_claim(model=StudyReport, pk=report.pk, worker=me) is Claim.CLAIMED
    report.refresh_from_db()
    assert (report.status, report.worker_id, report.attempts) == ("running", me.pk, 1)
    # another delivery, in another live process, and in this one: both leave it
    other = worker_row(pid=os.getpid(), ticks=_stat(os.getpid())[1])
    assert lease_claim(model=StudyReport, pk=report.pk, worker=other) is Claim.BUSY
    assert lease_claim(model=StudyReport, pk=report.pk, worker=me) is Claim.BUSY
    # its holder dies: the next delivery takes it over, as attempt 2
    StudyReport.objects.filter(pk=report.pk).update(worker=worker_row(pid=exited_pid()))
    assert lease_claim(model=StudyReport, pk=report.pk, worker=other) is Claim.CLAIMED
    report.refresh_from_db()
    assert (report.worker_id, report.attempts) == (other.pk, 2)
    # and dies again: not started a third time
    StudyReport.objects.filter(pk=report.pk).update(worker=worker_row(pid=exited_pid()))
    assert lease_claim(model=StudyReport, pk=report.pk, worker=me) is Claim.EXHAUSTED
    StudyReport.objects.filter(pk=report.pk).update(status="done", worker=None)
    assert lease_claim(model=StudyReport, pk=report.pk, worker=me) is Claim.CLOSED


def test_lost_leases_are_given_back_or_ended_once(settings):
    settings.TASK_MAX_ATTEMPTS = 2
    study = StudyFactory()
    dead = worker_row(pid=exited_pid())
    live = worker_process_current()
    once = StudyReport.objects.create(study=study, status="running", worker=dead, attempts=1)
    twice = StudyReport.objects.create(study=study, status="running", worker=dead, attempts=2)
    orphan = StudyReport.objects.create(study=study, status="running", worker=None, attempts=1)
    held = StudyReport.objects.create(study=study, status="running", worker=live, attempts=1)
    queued = StudyReport.objects.create(study=study)

    def ended(attempts: int) -> dict[str, object]:
        return {"status": "failed", "error": f"died {attempts} times"}

    requeued, failed = leases_release_lost(model=StudyReport, exhausted=ended)
    assert sorted(requeued) == sorted([once.pk, orphan.pk]) and failed == [twice.pk]
    rows = {r.pk: r for r in StudyReport.objects.all()}
    assert (rows[once.pk].status, rows[once.pk].worker_id, rows[once.pk].attempts) == ("queued", None, 1)
    assert (rows[twice.pk].status, rows[twice.pk].error) == ("failed", "died 2 times")
    assert rows[held.pk].status == "running" and rows[queued.pk].status == "queued"
    assert leases_release_lost(model=StudyReport, exhausted=ended) == ([], [])  # nothing twice


def test_rows_of_long_gone_processes_are_forgotten():
    old_dead = worker_row(pid=exited_pid(), age=2 * 86400)
    old_alive = worker_row(pid=os.getpid(), ticks=_stat(os.getpid())[1], age=2 * 86400)
    recent_dead = worker_row(pid=exited_pid())
    assert workers_forget() == 1
    assert set(WorkerProcess.objects.values_list("pk", flat=True)) >= {old_alive.pk, recent_dead.pk}
    assert not WorkerProcess.objects.filter(pk=old_dead.pk).exists()


def test_this_processs_row_is_registered_again_when_it_is_gone():
    first = worker_process_current()
    assert worker_process_current() == first  # cached while its row lives
    # rolled back or forgotten, and its id given to another row (SQLite reuses ids)
    WorkerProcess.objects.filter(pk=first.pk).delete()
    impostor = WorkerProcess.objects.create(
        id=first.pk, hostname="h", pid=os.getpid(), heartbeat_at=timezone.now()
    )
    again = worker_process_current()
    assert again.pk != impostor.pk and again.pid == os.getpid() and again.pid_space == pid_space()
