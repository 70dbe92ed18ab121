"""Worker processes and the leases they hold: who is doing a piece of background work
now, and whether that process still lives.

Work that a Celery task does on a row (a judge chunk, a report build) is leased: the
row's `worker` names the WorkerProcess doing it, `status` is running and `attempts`
counts the deliveries that started it. A task claims the lease before it starts
(`lease_claim`, compare-and-set on the holder it saw), so two deliveries of the same
message (a recovery and, later, Redis's own redelivery) never do the work at once.

A process registers itself the first time it claims (`worker_process_current`); in a
Celery worker a daemon thread then renews its `heartbeat_at` every
`WORKER_HEARTBEAT_SECONDS`. A holder is lost when

- it ran in this machine's process space (same boot, same PID namespace) and its process
  has exited, or its pid now belongs to a process started later: known at once, without
  waiting for anything; or
- it runs elsewhere and has not renewed its heartbeat for `WORKER_LOST_AFTER_SECONDS`.

`leases_release_lost` gives a lost holder's work back (status queued) so that a recovery
can enqueue it again, or ends it when it has been started `TASK_MAX_ATTEMPTS` times
already: work whose worker dies every time (out of memory, say) stops instead of
killing workers forever.
"""

from __future__ import annotations

import enum
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models import F
from django.utils import timezone

from studyapp.models import WorkerProcess

log = logging.getLogger(__name__)

_current: WorkerProcess | None = None
_heartbeats = False  # set in Celery worker processes (worker_heartbeats_enable)
_heartbeat_pid: int | None = None  # the process whose heartbeat thread runs


# --- this process ----------------------------------------------------------------


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def pid_space() -> str:
    """An identifier shared by exactly the processes whose pids this process can check:
    the boot id and the PID namespace (Linux). Empty elsewhere: heartbeats only."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return f"{boot.strip()}:{namespace}" if boot else ""


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) of a process, from /proc; None if there is none."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": field 3 onwards
    return fields[0], int(fields[19])


def process_alive(pid: int, started_ticks: int | None) -> bool:
    """Whether the process `pid` that started at `started_ticks` still runs (a zombie
    does not; a later process that got the same pid is not it)."""
    stat = _stat(pid)
    if stat is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state, ticks = stat
    return state != "Z" and (started_ticks is None or ticks == started_ticks)


def worker_heartbeats_enable() -> None:
    """Called when a Celery worker starts: its processes renew their heartbeats."""
    global _heartbeats
    _heartbeats = True


def worker_process_current() -> WorkerProcess:
    """This process's row, registered on first use (again after a fork, or when the row
    is gone: a test rolled it back, or it was forgotten)."""
    global _current, _heartbeat_pid
    pid = os.getpid()
    if _current is not None and _current.pid == pid:
        # the same row, not one that got its id after a rollback (SQLite reuses ids)
        same = WorkerProcess.objects.filter(pk=_current.pk, pid=pid, started_at=_current.started_at)
        if same.exists():
            return _current
    stat = _stat(pid)
    _current = WorkerProcess.objects.create(
        hostname=socket.gethostname()[:255],
        pid=pid,
        pid_space=pid_space(),
        started_ticks=stat[1] if stat else None,
        heartbeat_at=timezone.now(),
    )
    if _heartbeats and _heartbeat_pid != pid:
        _heartbeat_pid = pid
        threading.Thread(target=_heartbeat, name="concordance-heartbeat", daemon=True).start()
    return _current


def worker_process_retire() -> None:
    """Called when a worker process shuts down cleanly: it holds no lease any more."""
    global _current
    if _current is not None and _current.pid == os.getpid():
        WorkerProcess.objects.filter(pk=_current.pk).delete()
        _current = None


def _heartbeat() -> None:
    """Renew this process's heartbeat every WORKER_HEARTBEAT_SECONDS, on its own connection."""
    while True:
        time.sleep(settings.WORKER_HEARTBEAT_SECONDS)
        current = _current
        if current is None or current.pid != os.getpid():
            continue
        try:
            WorkerProcess.objects.filter(pk=current.pk).update(heartbeat_at=timezone.now())
        except Exception:  # the database is away: try again next time, on a new connection
            log.warning("worker heartbeat failed", exc_info=True)
            connection.close()


# --- liveness ----------------------------------------------------------------------


def workers_lost(*, ids: Iterable[int | None]) -> set[int | None]:
    """Which of these worker processes are gone (None, a deleted row, stands for one)."""
    wanted = set(ids)
    lost: set[int | None] = {None} if None in wanted else set()
    known = [pk for pk in wanted if pk is not None]
    here = pid_space()
    cutoff = timezone.now() - timedelta(seconds=settings.WORKER_LOST_AFTER_SECONDS)
    found = {w.pk: w for w in WorkerProcess.objects.filter(pk__in=known)}
    for pk in known:
        worker = found.get(pk)
        if worker is None:
            lost.add(pk)
        elif here and worker.pid_space == here:
            if not process_alive(worker.pid, worker.started_ticks):
                lost.add(pk)
        elif worker.heartbeat_at < cutoff:
            lost.add(pk)
    return lost


def workers_forget(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete the rows of lost processes not heard of for a day (run after the recovery,
    which has given their leases back)."""
    stale = WorkerProcess.objects.filter(heartbeat_at__lt=timezone.now() - older_than)
    lost = workers_lost(ids=stale.values_list("pk", flat=True))
    return WorkerProcess.objects.filter(pk__in=[pk for pk in lost if pk is not None]).delete()[0]


# --- leases ------------------------------------------------------------------------


class Claim(enum.Enum):
    CLAIMED = "claimed"  # this process holds it now
    BUSY = "busy"  # a live process holds it: this delivery is a duplicate
    CLOSED = "closed"  # the work is finished (or gone)
    EXHAUSTED = "exhausted"  # its holders died TASK_MAX_ATTEMPTS times: not started again


def _statuses(model: type[models.Model]) -> tuple[str, str]:
    """(queued, running) of a leased model's `Status` choices."""
    status = model.Status  # type: ignore[attr-defined]
    return status.QUEUED.value, status.RUNNING.value


def lease_claim(*, model: type[models.Model], pk: int, worker: WorkerProcess) -> Claim:
    """Take the lease of row `pk` of `model` (fields status, worker, attempts) for `worker`."""
    queued, running = _statuses(model)
    rows = model._default_manager.filter(pk=pk)
    for _ in range(5):  # a lost race is retried against what won it
        row = rows.values("status", "worker_id", "attempts").first()
        if row is None or row["status"] not in (queued, running):
            return Claim.CLOSED
        holder = row["worker_id"]
        if holder == worker.pk:
            return Claim.BUSY  # the same process: the first delivery is still at it
        held = holder is not None or row["status"] == running
        if held and holder not in workers_lost(ids=[holder]):
            return Claim.BUSY
        if row["status"] == running and row["attempts"] >= settings.TASK_MAX_ATTEMPTS:
            return Claim.EXHAUSTED
        taken = rows.filter(worker_id=holder, attempts=row["attempts"], status=row["status"]).update(
            worker=worker, status=running, attempts=F("attempts") + 1
        )
        if taken:
            return Claim.CLAIMED
    return Claim.BUSY


def lease_holds(*, model: type[models.Model], pk: int, worker: WorkerProcess) -> bool:
    """Whether `worker` still holds the lease (another process may have taken it over)."""
    _, running = _statuses(model)
    return model._default_manager.filter(pk=pk, worker=worker, status=running).exists()


def leases_release_lost(
    *,
    model: type[models.Model],
    exhausted: Callable[[int], dict[str, Any]],
    queryset: models.QuerySet[Any] | None = None,
) -> tuple[list[int], list[int]]:
    """Give back the running leases of `model` whose holder is lost: queued again, or, when
    already started TASK_MAX_ATTEMPTS times, ended with the fields `exhausted(attempts)`.
    Returns (requeued pks, ended pks); each row goes to one caller only."""
    queued, running = _statuses(model)
    rows = list(
        (queryset if queryset is not None else model._default_manager.all())
        .filter(status=running)
        .values_list("pk", "worker_id", "attempts")
    )
    lost = workers_lost(ids={holder for _, holder, _ in rows})
    requeued: list[int] = []
    ended: list[int] = []
    for pk, holder, attempts in rows:
        if holder not in lost:
            continue
        same = model._default_manager.filter(pk=pk, status=running, attempts=attempts, worker_id=holder)
        if attempts >= settings.TASK_MAX_ATTEMPTS:
            if same.update(worker=None, **exhausted(attempts)):
                ended.append(pk)
        elif same.update(worker=None, status=queued):
            requeued.append(pk)
    return requeued, ended
