"""Judge runs: an AI judge (critic or SPRM, built by `judges.base.build_judge`)
judges a study's items through Celery, one Judgment per (item, judge rater).

A run takes every item the rater has not judged successfully yet: missing
Judgment rows are created empty (status pending), failed ones are tried
again, done ones are left alone. The work is cut into JudgeChunks (rows, in
the run's transaction) that go to Celery after commit. A task leases its
chunk to its worker process (`studyapp/services/workers.py`), re-fetches the
rows and judges only those still pending, saving each verdict as it arrives.
When that worker dies, `judge_chunks_recover` gives the chunk to another
task, which completes the rest; a second delivery of a chunk that a live
worker holds does nothing. Batch mode sends the same requests through the
provider's Batch API, once per run whatever is redelivered, and a periodic
task collects the results.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from judges.base import JUDGE_KINDS, Judge, Task, build_judge
from judges.config import JudgeConfigError
from judges.types import Verdict
from studyapp import tasks
from studyapp.judge_config import judge_config, judge_problems_text
from studyapp.models import (
    Criterion,
    Item,
    JudgeChunk,
    JudgeRun,
    Judgment,
    Label,
    Rater,
    Study,
    WorkerProcess,
)
from studyapp.selectors.judge_runs import judge_task_for, judgments_for_tasks, price_for
from studyapp.services.allocation import allocation_request
from studyapp.services.live import live_refresh_request
from studyapp.services.workers import (
    Claim,
    lease_claim,
    lease_holds,
    leases_release_lost,
    worker_process_current,
    workers_lost,
)

log = logging.getLogger(__name__)

ACTIVE = (JudgeRun.Status.QUEUED, JudgeRun.Status.RUNNING)


class JudgeRunError(ValueError):
    """A run cannot start or go on; the message says why."""


# --- building the judge ----------------------------------------------------------


def judge_build(*, rater: Rater) -> Judge:
    """The rater's judge, built from its config as a run sees it; `JudgeRunError` saying
    what is wrong and what fixes it when it cannot be built, whatever the cause."""
    if rater.kind != Rater.Kind.JUDGE or rater.judge_kind not in JUDGE_KINDS:
        raise JudgeRunError(f"{rater.name} is not a runnable judge (kind {rater.judge_kind or rater.kind})")
    config = judge_config(kind=rater.judge_kind, config=rater.config)
    try:
        return build_judge(rater.judge_kind, config)
    except JudgeConfigError as exc:
        message = judge_problems_text(name=rater.name, problems=exc.problems, config=config)
        raise JudgeRunError(message) from exc
    except Exception as exc:  # not a known misconfiguration: say what happened, keep the traceback
        log.exception("judge %s could not be built", rater.name)
        raise JudgeRunError(f"judge {rater.name} could not be built: {type(exc).__name__}: {exc}") from exc


# --- starting and cancelling -------------------------------------------------------


def judge_run_start(
    *,
    study: Study,
    rater: Rater,
    mode: str = JudgeRun.Mode.SYNC,
    items: QuerySet[Item] | None = None,
) -> JudgeRun:
    """Start judging the study's items (or `items`) that `rater` has not judged yet.

    Refuses when the rater has a run in progress, when batch mode is asked of a
    judge that has none, and when the judge's own version (model, prompts,
    parameters) differs from the one its finished judgments were made with: a
    changed prompt must become a new judge configuration, never overwrite.
    """
    if rater.study_id != study.pk:
        raise JudgeRunError(f"{rater.name} is not a judge of {study.slug}")
    if mode not in JudgeRun.Mode.values:
        raise JudgeRunError(f"unknown mode {mode!r} (sync or batch)")
    if mode == JudgeRun.Mode.BATCH and rater.judge_kind != "critic":
        raise JudgeRunError("batch mode is for critics (the Batch API of an OpenAI-compatible endpoint)")
    judge = judge_build(rater=rater)
    version = judge.version()
    stale = (
        Judgment.objects.filter(rater=rater, status=Judgment.Status.DONE, run__isnull=False)
        .exclude(run__judge_version=version)
        .values_list("run__judge_version", flat=True)
        .first()
    )
    if stale is not None:
        raise JudgeRunError(
            f"judge {rater.name} is now version {version}, but its judgments were made by "
            f"{stale}: its prompts or parameters changed. Give it a new name (or change its "
            f"config) in the study spec and load it again, so the change is a new judge."
        )
    with transaction.atomic():
        Rater.objects.select_for_update().get(pk=rater.pk)  # one start at a time per rater
        running = JudgeRun.objects.filter(rater=rater, status__in=ACTIVE).first()
        if running is not None:
            raise JudgeRunError(
                f"judge {rater.name} already has run {running.pk} in progress{_stalled(running)}"
            )
        run = JudgeRun.objects.create(
            study=study, rater=rater, mode=mode, status=JudgeRun.Status.QUEUED, judge_version=version
        )
        # A judge gets only the kinds of item it can judge (the SPRM: reasoning traces).
        pool = (items if items is not None else study.items.all()).filter(kind__in=judge.item_kinds)
        item_ids = list(pool.values_list("pk", flat=True))
        Judgment.objects.bulk_create(
            [Judgment(item_id=i, rater=rater) for i in item_ids], ignore_conflicts=True
        )
        Judgment.objects.filter(rater=rater, item_id__in=item_ids).exclude(
            status=Judgment.Status.DONE
        ).update(run=run, status=Judgment.Status.PENDING, error="")
        ids = list(
            Judgment.objects.filter(run=run, status=Judgment.Status.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        run.n_items = len(ids)
        if not ids:
            run.status, run.finished_at = JudgeRun.Status.DONE, timezone.now()
        run.full_clean()
        run.save()
        if not ids:
            allocation_request(study=study)
        if ids:
            # batch mode: one chunk, the submission of the run's one batch
            size = len(ids) if mode == JudgeRun.Mode.BATCH else judge_run_chunk_size(run=run)
            chunks = JudgeChunk.objects.bulk_create(
                [JudgeChunk(run=run, judgment_ids=ids[i : i + size]) for i in range(0, len(ids), size)]
            )
            transaction.on_commit(lambda: _enqueue_all(chunks))
    return run


def _stalled(run: JudgeRun) -> str:
    """A note for a run whose running chunks are all held by lost worker processes."""
    holders = set(run.chunks.filter(status=JudgeChunk.Status.RUNNING).values_list("worker_id", flat=True))
    if holders and holders <= workers_lost(ids=holders):
        return " (its worker died: the next worker to start goes on with it; or cancel it)"
    return ""


def _enqueue_all(chunks: list[JudgeChunk]) -> None:
    for chunk in chunks:
        _enqueue(chunk)


def _enqueue(chunk: JudgeChunk) -> None:
    if chunk.run.mode == JudgeRun.Mode.BATCH:
        tasks.judge_batch_submit.delay(chunk.run_id)
    else:
        tasks.judge_chunk.delay(chunk.pk)


def judge_run_chunk_size(*, run: JudgeRun) -> int:
    """Items per Celery task: `JUDGE_CHUNK_SIZE`, raised to `JUDGE_CHUNK_ROUNDS` times the
    judge's `concurrency` when that is more. A chunk smaller than the concurrency never
    has that many requests in flight, and each chunk ends with a tail in which fewer and
    fewer are: several rounds a chunk keep the tail a small part of it. Bigger chunks lose
    nothing to a killed worker, since every verdict is saved as it arrives."""
    concurrency = run.rater.config.get("concurrency")
    rounds = concurrency * settings.JUDGE_CHUNK_ROUNDS if isinstance(concurrency, int) else 0
    return max(1, settings.JUDGE_CHUNK_SIZE, rounds)


def judge_run_cancel(*, run: JudgeRun) -> bool:
    """Stop a run: chunks not started do nothing, a running chunk stops taking items,
    a provider batch is cancelled. Unjudged items stay pending for a later run."""
    cancelled = bool(
        JudgeRun.objects.filter(pk=run.pk, status__in=ACTIVE).update(
            status=JudgeRun.Status.CANCELLED, finished_at=timezone.now()
        )
    )
    if cancelled and run.mode == JudgeRun.Mode.BATCH and run.batch_id:
        transaction.on_commit(lambda: tasks.judge_batch_cancel.delay(run.pk))
    run.refresh_from_db()
    return cancelled


def _fail_run(run: JudgeRun, error: str) -> None:
    JudgeRun.objects.filter(pk=run.pk, status__in=ACTIVE).update(
        status=JudgeRun.Status.FAILED, error=error, finished_at=timezone.now()
    )


def judge_run_finish_if_complete(*, run_id: int) -> bool:
    """Mark the run done once none of its judgments is pending; its judgments then change
    the live estimates, so a refresh is queued (unless one is pending)."""
    if Judgment.objects.filter(run_id=run_id, status=Judgment.Status.PENDING).exists():
        return False
    finished = bool(
        JudgeRun.objects.filter(pk=run_id, status__in=ACTIVE).update(
            status=JudgeRun.Status.DONE, finished_at=timezone.now()
        )
    )
    if finished:
        run = JudgeRun.objects.select_related("study").get(pk=run_id)
        allocation_request(study=run.study)  # an active study's draw waits for its judges
        live_refresh_request(study_id=run.study_id)
    return finished


# --- chunks and their leases --------------------------------------------------------


def _chunk_close(*, chunk: JudgeChunk, worker: WorkerProcess | None = None) -> None:
    """The chunk is finished (by `worker`, when given: only if it still holds it)."""
    rows = JudgeChunk.objects.filter(pk=chunk.pk)
    if worker is not None:
        rows = rows.filter(worker=worker)
    rows.update(status=JudgeChunk.Status.DONE, worker=None, finished_at=timezone.now())


def _chunk_claim(chunk: JudgeChunk) -> WorkerProcess | None:
    """This process's WorkerProcess if it now holds the chunk, else None."""
    if chunk.status == JudgeChunk.Status.DONE:
        log.info("chunk %s is done: this delivery does nothing", chunk.pk)
        return None
    if chunk.run.status not in ACTIVE:
        log.info("chunk %s is of a run that is %s: nothing to do", chunk.pk, chunk.run.status)
        _chunk_close(chunk=chunk)
        return None
    worker = worker_process_current()
    claim = lease_claim(model=JudgeChunk, pk=chunk.pk, worker=worker)
    if claim is Claim.EXHAUSTED:
        judge_chunks_recover(chunks=JudgeChunk.objects.filter(pk=chunk.pk))
    elif claim is not Claim.CLAIMED:
        log.info("chunk %s is %s: this delivery does nothing", chunk.pk, claim.value)
    return worker if claim is Claim.CLAIMED else None


def judge_chunks_recover(*, chunks: QuerySet[JudgeChunk] | None = None) -> int:
    """Queue again each running chunk (of `chunks`, default all) whose worker is lost. A
    chunk already started TASK_MAX_ATTEMPTS times is not: its pending judgments fail with
    the reason (the next run tries them again), and a batch run whose submission it was
    fails. Returns the number of chunks queued or ended."""
    requeued, ended = leases_release_lost(
        model=JudgeChunk,
        queryset=chunks,
        exhausted=lambda attempts: {"status": JudgeChunk.Status.DONE, "finished_at": timezone.now()},
    )
    for chunk in JudgeChunk.objects.filter(pk__in=ended).select_related("run"):
        if chunk.run.mode == JudgeRun.Mode.BATCH:
            _fail_run(
                chunk.run,
                f"batch not submitted: the worker process submitting it died {chunk.attempts} times, "
                f"so it is not tried again. If a batch with metadata "
                f"concordance_key={chunk.run.batch_key} exists at the provider, cancel it there.",
            )
            continue
        Judgment.objects.filter(
            pk__in=chunk.judgment_ids, run=chunk.run, status=Judgment.Status.PENDING
        ).update(
            status=Judgment.Status.FAILED,
            error=f"not judged: the worker process judging it died {chunk.attempts} times "
            f"(chunk {chunk.pk}); the next run tries it again",
        )
        judge_run_finish_if_complete(run_id=chunk.run_id)
    for chunk in JudgeChunk.objects.filter(pk__in=requeued).select_related("run"):
        transaction.on_commit(lambda chunk=chunk: _enqueue(chunk))  # type: ignore[misc]
    return len(requeued) + len(ended)


# --- live (sync) mode --------------------------------------------------------------


def judge_run_execute_chunk(*, chunk_id: int) -> int:
    """Judge the chunk's judgments that are still pending; returns how many were saved.

    The chunk is leased to this worker process first: a delivery of a chunk that a live
    process holds does nothing, and every second the judge checks that this process
    still holds it and that the run goes on (not cancelled), and stops taking items if
    not. The chunk ends done whatever happens to its items; an error that is not the
    judge's verdict (a bug, a database error) fails the items left, with the reason."""
    chunk = JudgeChunk.objects.select_related("run__rater").filter(pk=chunk_id).first()
    if chunk is None:
        return 0
    run = chunk.run
    worker = _chunk_claim(chunk)
    if worker is None:
        return 0
    JudgeRun.objects.filter(pk=run.pk, status=JudgeRun.Status.QUEUED).update(status=JudgeRun.Status.RUNNING)
    pending = list(
        judgments_for_tasks(ids=chunk.judgment_ids).filter(run=run, status=Judgment.Status.PENDING)
    )
    saved = 0
    try:
        if pending:
            saved = _judge_chunk(chunk, worker, pending)
    except JudgeRunError as exc:  # the judge cannot run: the run fails with the reason
        log.warning("judge run %s failed: %s", run.pk, exc)
        _fail_run(run, str(exc))
    except Exception as exc:
        log.exception("chunk %s of judge run %s failed", chunk.pk, run.pk)
        if lease_holds(model=JudgeChunk, pk=chunk.pk, worker=worker):
            left = Judgment.objects.filter(pk__in=chunk.judgment_ids, run=run, status=Judgment.Status.PENDING)
            why = f"not judged: {type(exc).__name__}: {exc}"[:2000]
            left.update(status=Judgment.Status.FAILED, error=why)
    _chunk_close(chunk=chunk, worker=worker)
    judge_run_finish_if_complete(run_id=run.pk)
    return saved


def _judge_chunk(chunk: JudgeChunk, worker: WorkerProcess, pending: list[Judgment]) -> int:
    run = chunk.run
    judge = judge_build(rater=run.rater)
    if judge.version() != run.judge_version:
        raise JudgeRunError(
            f"judge {run.rater.name} changed while run {run.pk} was queued "
            f"({run.judge_version} -> {judge.version()})"
        )
    by_key = {str(j.pk): j for j in pending}
    judge_tasks = [judge_task_for(judgment=j) for j in pending]

    def should_stop() -> bool:
        held = JudgeChunk.objects.filter(pk=chunk.pk, worker=worker, run__status__in=ACTIVE)
        return not held.exists()

    saved = 0
    try:
        for task, verdict in _judge_streaming(judge, judge_tasks, should_stop):
            judgment_record_verdict(judgment=by_key[task.item_id], verdict=verdict, run=run)
            saved += 1
    except ValueError as exc:  # a configuration the judge rejects when it runs (no API key)
        raise JudgeRunError(f"judge {run.rater.name}: {exc}") from exc
    return saved


def _judge_streaming(
    judge: Judge, tasks: list[Task], should_stop: Callable[[], bool]
) -> Iterator[tuple[Task, Verdict]]:
    """(task, verdict) pairs as the judge produces them.

    A judge with `ajudge` (the critic) runs in a thread of its own with its event
    loop; verdicts come back through a queue so that this thread, which owns the
    database connection, saves each one at once. Every second the run is checked
    for cancellation; the judge then starts no more items.
    """
    ajudge = getattr(judge, "ajudge", None)
    if ajudge is None:
        yield from zip(tasks, judge.judge(tasks), strict=True)
        return
    from judges.critic.judge import run_sync

    inbox: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            run_sync(ajudge(tasks, on_verdict=lambda i, v: inbox.put((i, v)), stop=stop))
        except BaseException as exc:  # re-raised in the caller's thread
            inbox.put(exc)
        finally:
            inbox.put(done)

    thread = threading.Thread(target=work, name="judge", daemon=True)
    thread.start()
    checked = time.monotonic()
    try:
        while (message := inbox.get()) is not done:
            if isinstance(message, BaseException):
                raise message
            index, verdict = message
            yield tasks[index], verdict
            if time.monotonic() - checked > 1.0:
                checked = time.monotonic()
                if should_stop():
                    stop.set()
    finally:
        stop.set()
        thread.join()


# --- saving verdicts ---------------------------------------------------------------


def _cost(model: str | None, tokens_in: int, tokens_out: int, *, batch: bool) -> float:
    price = price_for(model)
    if price is None:
        return 0.0
    cost = (tokens_in * price["input"] + tokens_out * price["output"]) / 1e6
    return cost * (price.get("batch_discount", 1.0) if batch else 1.0)


def judgment_record_verdict(
    *, judgment: Judgment, verdict: Verdict, run: JudgeRun, batch: bool = False
) -> Judgment:
    """Store a verdict on its judgment row with its labels, once: a judgment that is
    already done is left as it is (a redelivered task or a second collection)."""
    with transaction.atomic():
        row = Judgment.objects.select_for_update().select_related("item").get(pk=judgment.pk)
        if row.status == Judgment.Status.DONE:
            return row
        steps = {s.index: s for s in row.item.steps.all()}
        raw = verdict.raw if isinstance(verdict.raw, dict) else {"raw": verdict.raw}
        row.raw = raw
        row.prompt_version = (verdict.prompt_version or "")[:64]
        row.tokens_in, row.tokens_out = verdict.tokens_in, verdict.tokens_out
        row.attempts = min(int(raw.get("attempts") or 1), 32767)
        labels: list[Label] = []
        error = verdict.error or "the judge failed without a reason"
        if verdict.ok:
            labels, error = _labels(row, verdict, steps)
        row.labels.all().delete()
        if verdict.ok and not error:
            row.status, row.error = Judgment.Status.DONE, ""
            row.first_error, row.score = verdict.first_error, verdict.score
            row.trajectory_score = verdict.trajectory_score
            row.completed_at = timezone.now()
        else:
            row.status, row.error, labels = Judgment.Status.FAILED, error, []
        row.full_clean(validate_constraints=False)
        row.save()
        Label.objects.bulk_create(labels)
        JudgeRun.objects.filter(pk=run.pk).update(
            tokens_in=F("tokens_in") + verdict.tokens_in,
            tokens_out=F("tokens_out") + verdict.tokens_out,
            cost=F("cost")
            + _cost(run.rater.config.get("model"), verdict.tokens_in, verdict.tokens_out, batch=batch),
        )
    return row


def _labels(row: Judgment, verdict: Verdict, steps: dict[int, Any]) -> tuple[list[Label], str]:
    """The labels of a verdict, or an error when it does not fit the item."""
    labels: list[Label] = []
    values = verdict.step_labels
    scores = verdict.step_scores
    for name, seq in (("step labels", values), ("step scores", scores)):
        if seq is not None and len(seq) != len(steps):
            return [], f"the verdict has {len(seq)} {name} for {len(steps)} steps"
    for index in range(len(steps)) if (values is not None or scores is not None) else ():
        value = values[index] if values is not None else None
        score = scores[index] if scores is not None else None
        if value is not None or score is not None:
            labels.append(Label(judgment=row, step=steps[index], value=value, score=score))
    if verdict.ratings:
        criteria = {c.name: c for c in Criterion.objects.filter(rubric__study=row.item.study_id)}
        for name, rating in verdict.ratings.items():
            if name not in criteria:
                return [], f"the verdict rates {name!r}, which the rubric does not have"
            why = (verdict.rationales or {}).get(name, "")
            labels.append(Label(judgment=row, criterion=criteria[name], value=rating, rationale=why))
    return labels, ""


# --- batch mode --------------------------------------------------------------------


def _batch_runner(run: JudgeRun) -> Any:
    from judges.critic.batch import BatchRunner

    return BatchRunner(judge_build(rater=run.rater))  # type: ignore[arg-type]


def _pending(run: JudgeRun) -> list[Judgment]:
    ids = Judgment.objects.filter(run=run, status=Judgment.Status.PENDING).values_list("pk", flat=True)
    return list(judgments_for_tasks(ids=list(ids)))


def judge_run_submit_batch(*, run_id: int) -> str | None:
    """Send the run's pending judgments as one provider batch: one per run, whatever is
    delivered again.

    The run's one chunk is leased first, so two deliveries never submit at once. Before
    the provider is called the run records an idempotency key (`batch_key`, batch status
    "submitting"); the key goes into the batch's metadata and its input file's name, and
    a submission with a key finds the batch (or the uploaded file) made with it before it
    makes one. A worker killed between the provider's answer and the write below thus
    leaves a key by which the next delivery finds the batch instead of paying twice."""
    run = JudgeRun.objects.select_related("rater").get(pk=run_id)
    chunk = run.chunks.select_related("run__rater").order_by("pk").first()
    if run.batch_id or chunk is None:
        return run.batch_id or None
    if run.status != JudgeRun.Status.QUEUED:
        if run.batch_key:  # ended while a submission that died may have reached the provider
            _batch_cancel_orphan(run)
        _chunk_close(chunk=chunk)
        return None
    worker = _chunk_claim(chunk)
    if worker is None:
        return None
    JudgeRun.objects.filter(pk=run.pk, batch_key="").update(batch_key=uuid.uuid4().hex)
    JudgeRun.objects.filter(pk=run.pk, batch_id="").update(batch_status="submitting")
    run.refresh_from_db(fields=["batch_key"])
    try:
        batch_id = _batch_runner(run).submit(
            [judge_task_for(judgment=j) for j in _pending(run)],
            metadata={"concordance_run": str(run.pk)},
            key=run.batch_key,
            since=run.created_at.timestamp() - 300,  # the provider's clock may differ a little
        )
    except Exception as exc:  # the endpoint refused: the run fails with the reason
        log.warning("batch submit of run %s failed: %s", run.pk, exc)
        _fail_run(run, f"batch submit failed: {exc}")
        _chunk_close(chunk=chunk, worker=worker)
        return None
    with transaction.atomic():
        JudgeRun.objects.filter(pk=run.pk, batch_id="").update(batch_id=batch_id, batch_status="submitted")
        started = JudgeRun.objects.filter(pk=run.pk, status=JudgeRun.Status.QUEUED).update(
            status=JudgeRun.Status.RUNNING
        )
        _chunk_close(chunk=chunk, worker=worker)
        if not started:  # cancelled while it was being submitted: cancel the batch too
            transaction.on_commit(lambda: tasks.judge_batch_cancel.delay(run.pk))
    return batch_id


def judge_run_collect_batch(*, run: JudgeRun) -> bool:
    """Save the results of the run's batch if it has ended; False while it runs. A judge
    that can no longer be built fails the run with the reason, once, not at every poll."""
    try:
        runner = _batch_runner(run)
    except JudgeRunError as exc:
        log.warning("run %s: %s", run.pk, exc)
        _fail_run(run, f"{exc} Its batch {run.batch_id} was not collected.")
        return False
    pending = _pending(run)
    status = runner.status(run.batch_id)
    JudgeRun.objects.filter(pk=run.pk).update(batch_status=str(status.status))
    verdicts = runner.collect(run.batch_id, [judge_task_for(judgment=j) for j in pending], batch=status)
    if verdicts is None:
        return False
    for judgment, verdict in zip(pending, verdicts, strict=True):
        judgment_record_verdict(judgment=judgment, verdict=verdict, run=run, batch=True)
    if not judge_run_finish_if_complete(run_id=run.pk):
        _fail_run(run, f"batch {run.batch_id} ended ({status.status}) with items left pending")
    return True


def judge_runs_collect_batches() -> int:
    """Collect every running batch-mode run whose batch has ended (the periodic task)."""
    collected = 0
    runs = JudgeRun.objects.filter(mode=JudgeRun.Mode.BATCH, status=JudgeRun.Status.RUNNING)
    for run in runs.exclude(batch_id="").select_related("rater"):
        try:
            collected += judge_run_collect_batch(run=run)
        except Exception:  # one endpoint down must not stop the others' collection
            log.exception("collecting batch of run %s failed", run.pk)
    return collected


def _batch_cancel_orphan(run: JudgeRun) -> None:
    """Find, record and cancel the batch of a run that was cancelled (or failed) while
    its submission was under way in a worker that then died."""
    try:
        runner = _batch_runner(run)
    except JudgeRunError as exc:
        log.warning("run %s: %s", run.pk, exc)
        JudgeRun.objects.filter(pk=run.pk).update(
            error=f"{exc} A batch it may have submitted (key {run.batch_key}) was not looked for."
        )
        return
    batch_id = runner.find_batch(run.batch_key, since=run.created_at.timestamp() - 300)
    if batch_id is None:
        return
    if JudgeRun.objects.filter(pk=run.pk, batch_id="").update(batch_id=batch_id, batch_status="cancelling"):
        log.warning("run %s ended while its batch was submitted: cancelling batch %s", run.pk, batch_id)
        runner.cancel(batch_id)


def judge_run_cancel_batch(*, run_id: int) -> None:
    run = JudgeRun.objects.select_related("rater").get(pk=run_id)
    if not run.batch_id:
        return
    try:
        runner = _batch_runner(run)
    except JudgeRunError as exc:
        log.warning("run %s: %s", run.pk, exc)
        JudgeRun.objects.filter(pk=run.pk).update(error=f"{exc} Its batch {run.batch_id} was not cancelled.")
        return
    runner.cancel(run.batch_id)
