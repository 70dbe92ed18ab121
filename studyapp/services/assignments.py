"""Serving items to human raters: queues, claims with overlap k, skips, drafts.

A rater's order over the study's items is a hash of (study seed, rater id,
item id), so each rater has their own random order, fixed and reproducible.
Their queue holds one `Assignment` row per item, made a chunk at a time
(`ASSIGNMENT_QUEUE_CHUNK` items, the first of their order that can still be
served to them) and extended when a claim finds nothing free in it, so a
rater's first item does not wait on rows for the whole study. A real item has
`study.overlap` slots, made when the item first enters a queue; a claim
takes a free slot under a row lock. On PostgreSQL the slot is picked with
`SELECT ... FOR UPDATE OF slot SKIP LOCKED`, so concurrent claims never wait
on each other and never take the same slot; on SQLite every transaction is
`BEGIN IMMEDIATE` (see settings), so claims are serialised by the database.
The database constraints (a slot has one holder, an item has k slots, an
(item, rater) pair has one assignment) hold whatever the code does.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from studyapp.db import claim
from studyapp.models import Assignment, Item, Participation, Rater, Slot, Study
from studyapp.selectors.queues import annotation_settings, items_for_queue, items_left_for, study_is_active
from studyapp.services.errors import (
    AnnotationInvalid,
    AssignmentNotActive,
    ParticipationBlocked,
    StudyNotOpen,
)
from studyapp.text import UNSTORABLE, unstorable_text


def queue_position(*, seed: int, rater_id: int, item_id: int, pi: float | None = None) -> int:
    """The item's place in the rater's queue: a 63-bit hash, stable across runs.

    With an active allocation's probability `pi`, the items worth most come first: the top
    16 bits order by 1 - pi, the hash orders items of equal pi.
    """
    digest = hashlib.blake2b(f"{seed}:{rater_id}:{item_id}".encode(), digest_size=8).digest()
    position = int.from_bytes(digest, "big") >> 1
    if pi is None:
        return position
    rank = min(0xFFFF, max(0, round((1.0 - pi) * 0xFFFF)))
    return (rank << 47) | (position >> 16)


def pair_swapped(*, seed: int, rater_id: int, item_id: int) -> bool:
    """Whether this rater is shown a pair's response B first (on the left): a seeded hash, stable."""
    digest = hashlib.blake2b(f"pair:{seed}:{rater_id}:{item_id}".encode(), digest_size=8).digest()
    return bool(digest[0] & 1)


def pair_shown(*, seed: int, rater_id: int, item: Item) -> tuple[str, str]:
    """A pair's responses in the order this rater sees them (left, right)."""
    if pair_swapped(seed=seed, rater_id=rater_id, item_id=item.id):
        return item.response_b, item.response_a
    return item.response_a, item.response_b


def _unit_draw(*, seed: int, rater_id: int, n: int) -> float:
    """A uniform number in [0, 1) fixed by the seed, the rater and the claim count."""
    digest = hashlib.blake2b(f"gold:{seed}:{rater_id}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def study_quota(*, study: Study) -> int | None:
    """Real items per annotator, if the study caps it (`annotation.annotator_quota`)."""
    quota = annotation_settings(study=study).get("annotator_quota")
    return int(quota) if quota else None


def completion_code(*, participation: Participation) -> str:
    """The study's completion code (`annotation.completion_code`) or one per participant."""
    code = annotation_settings(study=participation.rater.study).get("completion_code")
    if code:
        return str(code)
    mac = hmac.new(settings.SECRET_KEY.encode(), f"completion:{participation.rater_id}".encode(), "sha256")
    return mac.hexdigest()[:10].upper()


def _slots_make(*, item_ids: list[int], k: int) -> None:
    """Give these real items their k slots (the ones they lack)."""
    # In item order, so concurrent queue extensions insert shared slots in one order (no deadlock).
    slots = [Slot(item_id=item_id, index=i) for item_id in sorted(item_ids) for i in range(k)]
    Slot.objects.bulk_create(slots, ignore_conflicts=True, batch_size=2000)


def _queue_chunk() -> int:
    return max(1, settings.ASSIGNMENT_QUEUE_CHUNK)


def assignment_queue_extend(*, rater: Rater, role: str, limit: int | None = None) -> int:
    """Add to the rater's queue the next `limit` items of this role in their order (all when None).

    The items taken are those not in the queue yet that could ever be served
    to the rater: gold and qualification items, and real items whose k slots
    do not all hold submitted annotations (items added to the study since the
    last extension are among them, at their place in the order). Real items
    get their slots here. Safe to run concurrently; returns the rows added.
    """
    study = rater.study
    qualifying = study.qualification_pass_mark is not None
    candidates = items_for_queue(rater=rater)
    pis: dict[int, float | None] = {}
    if role == Assignment.Role.ITEM:
        if study_is_active(study=study):
            pis = dict(candidates.filter(is_gold=False).values_list("id", "allocation_pi"))
            item_ids = list(pis)
        else:
            item_ids = list(candidates.filter(is_gold=False).values_list("id", flat=True))
    else:
        wanted = role == Assignment.Role.QUALIFICATION
        item_ids = [
            item_id
            for item_id, qualification in candidates.filter(is_gold=True).values_list(
                "id", "metadata__qualification"
            )
            if (qualifying and bool(qualification)) == wanted
        ]
    rows = [
        (queue_position(seed=study.seed, rater_id=rater.id, item_id=i, pi=pis.get(i)), i) for i in item_ids
    ]
    chosen = heapq.nsmallest(limit, rows) if limit is not None else rows
    if not chosen:
        return 0
    if role == Assignment.Role.ITEM:
        _slots_make(item_ids=[item_id for _, item_id in chosen], k=study.overlap)
    Assignment.objects.bulk_create(
        [
            Assignment(study=study, item_id=item_id, rater=rater, role=role, position=position)
            for position, item_id in chosen
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    return len(chosen)


def _queue_slots_complete(*, rater: Rater) -> int:
    """Slots for queued real items that have fewer than k (the study's overlap grew); returns items fixed."""
    short = list(
        Item.objects.filter(
            assignments__rater=rater,
            assignments__role=Assignment.Role.ITEM,
            assignments__status=Assignment.Status.QUEUED,
        )
        .annotate(n=Count("slots"))
        .filter(n__lt=rater.study.overlap)
        .values_list("id", flat=True)
    )
    _slots_make(item_ids=short, k=rater.study.overlap)
    return len(short)


def _queue_start(*, participation: Participation, rater: Rater, now: datetime) -> None:
    """The rater's first rows: the whole qualification set, the first chunk of real items."""
    if rater.study.qualification_pass_mark is not None:
        assignment_queue_extend(rater=rater, role=Assignment.Role.QUALIFICATION)
    assignment_queue_extend(rater=rater, role=Assignment.Role.ITEM, limit=_queue_chunk())
    participation.queue_built_at = now
    Participation.objects.filter(id=participation.id).update(queue_built_at=now)


def _claim_slot(*, participation: Participation, rater: Rater, now: datetime) -> Assignment | None:
    """Take the first free slot in the rater's queue order, or None.

    On PostgreSQL one statement picks the slot (`FOR UPDATE OF s SKIP LOCKED`),
    takes it, frees a timed-out previous holder and records the claim on the
    participation: one round trip. Elsewhere (SQLite, where writers are
    serialised) the same steps run one by one.
    """
    deadline = now + timedelta(minutes=rater.study.claim_timeout)
    if connection.vendor == "postgresql":
        assignment = claim.slot_claim_postgres(
            rater_id=rater.id, participation_id=participation.id, now=now, deadline=deadline
        )
        if assignment is None:
            return None
        participation.current_id = assignment.id
        participation.n_served += 1
        assignment.study = rater.study
        return assignment
    else:
        free = claim.slot_first_free(rater_id=rater.id, now=now)
        if free is None:
            return None
        assignment_id, slot_id, old_holder_id = free
        if old_holder_id is not None:
            # The previous claim timed out: back into its rater's queue, draft kept.
            Assignment.objects.filter(id=old_holder_id, status=Assignment.Status.CLAIMED).update(
                status=Assignment.Status.QUEUED, expires_at=None, expiries=F("expiries") + 1
            )
        Slot.objects.filter(id=slot_id).update(holder_id=assignment_id, held_until=deadline)
        Assignment.objects.filter(id=assignment_id).update(
            status=Assignment.Status.CLAIMED, claimed_at=now, expires_at=deadline
        )
    assignment = Assignment.objects.select_related("item__domain", "item__persona").get(id=assignment_id)
    assignment.study = rater.study
    return assignment


def _claim_unslotted(*, rater: Rater, role: str, now: datetime) -> Assignment | None:
    """Claim the rater's next gold or qualification item (no slot: not counted in k)."""
    queued = (
        Assignment.objects.filter(rater=rater, role=role, status=Assignment.Status.QUEUED)
        .select_related("item__domain", "item__persona")
        .order_by("position")
    )
    assignment = queued.first()
    # The gold queue grows a chunk at a time too (the qualification set is queued whole).
    if (
        assignment is None
        and role == Assignment.Role.GOLD
        and assignment_queue_extend(rater=rater, role=role, limit=_queue_chunk())
    ):
        assignment = queued.first()
    if assignment is None:
        return None
    assignment.study = rater.study
    deadline = now + timedelta(minutes=rater.study.claim_timeout)
    Assignment.objects.filter(id=assignment.id).update(
        status=Assignment.Status.CLAIMED, claimed_at=now, expires_at=deadline
    )
    assignment.status, assignment.claimed_at, assignment.expires_at = (
        Assignment.Status.CLAIMED,
        now,
        deadline,
    )
    return assignment


def _qualification_settle(*, participation: Participation, study: Study) -> None:
    """After the last qualification item: passed or failed against the pass mark.

    A skipped or flagged qualification item counts as not right.
    """
    rows = Assignment.objects.filter(rater_id=participation.rater_id, role=Assignment.Role.QUALIFICATION)
    if rows.filter(status__in=[Assignment.Status.QUEUED, Assignment.Status.CLAIMED]).exists():
        return
    total = rows.count()
    correct = rows.filter(gold_correct=True).count()
    share = correct / total if total else 1.0
    mark = study.qualification_pass_mark or 0.0
    participation.qualification = (
        Participation.Qualification.PASSED if share >= mark else Participation.Qualification.FAILED
    )
    participation.save(update_fields=["qualification"])


def _finished_for_good(*, participation: Participation, study: Study) -> bool:
    """Failed the qualification or reached the quota: nothing can change that."""
    if participation.qualification == Participation.Qualification.FAILED:
        return True
    quota = study_quota(study=study)
    return quota is not None and participation.n_submitted >= quota


def participation_finished(*, participation: Participation, rater: Rater) -> bool:
    """Whether the rater is finished: no item can ever be served to them.

    A stored `finished_at` records when the rater was told so. It holds for
    good after a failed qualification or a reached quota; after running out
    of items it holds while no real item can still be served to them, so a
    rater told "finished" when every free slot was only claimed (the rule
    before) or before items were added to the study is served again.
    """
    if participation.finished_at is None:
        return False
    if _finished_for_good(participation=participation, study=rater.study):
        return True
    return not items_left_for(rater=rater).exists()


def _finish(*, participation: Participation, now: datetime) -> None:
    if participation.finished_at is None:
        participation.finished_at = now
        participation.completion_code = completion_code(participation=participation)
        participation.current = None
        participation.save(update_fields=["finished_at", "completion_code", "current"])


def _participation_locked(*, rater: Rater) -> Participation:
    """The rater's participation, locked until the end of the transaction."""
    if connection.vendor != "postgresql":
        return Participation.objects.select_for_update().get(rater=rater)
    participation = claim.participation_lock_postgres(rater_id=rater.id)
    if participation is None:
        raise Participation.DoesNotExist(f"rater {rater.id} has no participation")
    return participation


def assignment_claim_next(*, rater: Rater, study: Study, now: datetime | None = None) -> Assignment | None:
    """The rater's current item, or a newly claimed one; None when none is free.

    Order of service: an unfinished claim first; then the qualification set
    while the rater has not passed it; then real items in the rater's order,
    with gold items mixed in at `study.gold_rate`. A rater who fails the
    qualification, reaches the study's quota or has no item left that could
    ever be served to them is finished (`finished_at`) and gets a completion
    code. None with `finished_at` unset means every slot the rater could take
    is held by another claim right now: ask again later.
    """
    now = now or timezone.now()
    if rater.study_id != study.id:
        raise AssignmentNotActive("This rater does not belong to this study.")
    rater.study = study
    if study.status != Study.Status.OPEN:
        raise StudyNotOpen()
    with transaction.atomic():
        # The lock serialises one rater's concurrent requests (two tabs, retries).
        # Lock the row alone: a join here would be read from the snapshot taken
        # before the lock was granted, and miss a claim made meanwhile.
        participation = _participation_locked(rater=rater)
        participation.rater = rater
        if (study.consent and participation.consented_at is None) or (
            study.instructions and participation.instructions_read_at is None
        ):
            raise ParticipationBlocked()
        if participation.finished_at is not None:
            if participation_finished(participation=participation, rater=rater):
                return None
            participation.finished_at = None
            participation.save(update_fields=["finished_at"])
        if participation.current_id is not None:
            current = Assignment.objects.select_related("item__domain", "item__persona", "study").get(
                id=participation.current_id
            )
            if current.status == Assignment.Status.CLAIMED:
                return current
        if participation.queue_built_at is None:
            _queue_start(participation=participation, rater=rater, now=now)
        assignment = _next_by_rule(participation=participation, rater=rater, study=study, now=now)
        if assignment is None:
            # Finished only when nothing can ever be served; while the slots left are
            # held by others' claims the rater waits (`selectors.queues.rater_retry_after`).
            if (
                participation.finished_at is None
                and participation.qualification != Participation.Qualification.PENDING
                and not items_left_for(rater=rater).exists()
            ):
                _finish(participation=participation, now=now)
            return None
        if participation.current_id != assignment.id:  # (the PostgreSQL claim records it itself)
            participation.current = assignment
            participation.n_served += 1
            participation.save(update_fields=["current", "n_served"])
        return assignment


def _next_by_rule(
    *, participation: Participation, rater: Rater, study: Study, now: datetime
) -> Assignment | None:
    if study.qualification_pass_mark is not None:
        if participation.qualification == Participation.Qualification.NONE:
            participation.qualification = Participation.Qualification.PENDING
            participation.save(update_fields=["qualification"])
        if participation.qualification == Participation.Qualification.PENDING:
            assignment = _claim_unslotted(rater=rater, role=Assignment.Role.QUALIFICATION, now=now)
            if assignment is not None:
                return assignment
            _qualification_settle(participation=participation, study=study)
            if participation.qualification == Participation.Qualification.FAILED:
                _finish(participation=participation, now=now)
                return None
            if participation.qualification == Participation.Qualification.PENDING:
                return None  # a qualification item is still out
    quota = study_quota(study=study)
    if quota is not None and participation.n_submitted >= quota:
        _finish(participation=participation, now=now)
        return None
    if study.gold_rate > 0 and (
        _unit_draw(seed=study.seed, rater_id=rater.id, n=participation.n_served) < study.gold_rate
    ):
        assignment = _claim_unslotted(rater=rater, role=Assignment.Role.GOLD, now=now)
        if assignment is not None:
            return assignment
    return _claim_real(participation=participation, rater=rater, now=now)


def _claim_real(*, participation: Participation, rater: Rater, now: datetime) -> Assignment | None:
    """The first free slot in the rater's order, extending their queue while none is free in it."""
    while True:
        assignment = _claim_slot(participation=participation, rater=rater, now=now)
        if assignment is not None:
            return assignment
        added = assignment_queue_extend(rater=rater, role=Assignment.Role.ITEM, limit=_queue_chunk())
        if not added and not _queue_slots_complete(rater=rater):
            return None


def assignment_release_expired(*, study: Study | None = None, now: datetime | None = None) -> int:
    """Return timed-out claims to the pool (claims also take expired slots lazily).

    Returns the number of claims released. Their raters keep the drafts and
    get the item back if it still has a free slot when they next ask.
    """
    now = now or timezone.now()
    claims = Assignment.objects.filter(status=Assignment.Status.CLAIMED, expires_at__lt=now)
    if study is not None:
        claims = claims.filter(study=study)
    released = 0
    with transaction.atomic():
        for assignment in claims.select_for_update(skip_locked=True):
            Slot.objects.filter(holder=assignment).update(holder=None, held_until=None)
            Assignment.objects.filter(id=assignment.id).update(
                status=Assignment.Status.QUEUED, expires_at=None, expiries=assignment.expiries + 1
            )
            Participation.objects.filter(rater_id=assignment.rater_id, current=assignment).update(
                current=None
            )
            released += 1
    return released


def _lock_active(*, assignment: Assignment) -> Assignment:
    """Lock the assignment (its slot first, in the claim's lock order) and check it is live."""
    if assignment.role == Assignment.Role.ITEM:
        slot = Slot.objects.select_for_update().filter(holder_id=assignment.id).first()
        if slot is None:
            raise AssignmentNotActive()
    fresh = Assignment.objects.select_for_update().get(id=assignment.id)
    if fresh.status != Assignment.Status.CLAIMED:
        raise AssignmentNotActive()
    return fresh


# Bounds on what the pages and API clients report (the pages keep within them).
TIME_ON_TASK_MAX = 24 * 3600  # seconds; a larger time on task is refused
TIME_ON_TASK_SLACK = 60  # seconds allowed past the time since the claim (clocks, latency)
REASON_MAX = 2000  # characters of a skip or flag reason (the page's box takes as many)


def time_on_task_bounded(*, assignment: Assignment, seconds: Any, now: datetime) -> float:
    """The time on task to store for a report of `seconds`.

    A value that is not a finite number from 0 to `TIME_ON_TASK_MAX` is
    refused (`AnnotationInvalid`); a larger one than the time since the claim
    plus `TIME_ON_TASK_SLACK` is cut to that; what is stored never shrinks.
    (An item claimed again after its claim timed out counts from the new
    claim: time spent under the earlier claim is kept, not added to.)
    """
    if seconds is None:
        return assignment.time_on_task
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or not 0 <= seconds <= TIME_ON_TASK_MAX
    ):
        raise AnnotationInvalid(
            {"time_on_task": f"Time on task is a number of seconds from 0 to {TIME_ON_TASK_MAX}."}
        )
    bound = float(TIME_ON_TASK_MAX)
    if assignment.claimed_at is not None:
        bound = min(bound, max(0.0, (now - assignment.claimed_at).total_seconds()) + TIME_ON_TASK_SLACK)
    return max(assignment.time_on_task, min(float(seconds), bound))


def draft_problem(draft: Any) -> str | None:
    """Why the draft cannot be kept (not an object, too large, text no database stores), or None."""
    if not isinstance(draft, dict):
        return "A draft is a JSON object."
    if unstorable_text(draft) is not None:
        return f"The draft holds text that cannot be stored: {UNSTORABLE}."
    size = len(json.dumps(draft, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > settings.ASSIGNMENT_DRAFT_MAX_BYTES:
        return f"The draft is {size} bytes; at most {settings.ASSIGNMENT_DRAFT_MAX_BYTES} are kept."
    return None


def assignment_draft_save(
    *,
    assignment: Assignment,
    draft: dict[str, Any],
    time_on_task: float | None = None,
    now: datetime | None = None,
) -> Assignment:
    """Keep the rater's work in progress; time on task only ever grows (see `time_on_task_bounded`)."""
    now = now or timezone.now()
    if assignment.status != Assignment.Status.CLAIMED:
        raise AssignmentNotActive()
    problem = draft_problem(draft)
    if problem:
        raise AnnotationInvalid({"draft": problem}, message=problem)
    updates: dict[str, Any] = {"draft": draft, "draft_saved_at": now}
    seconds = time_on_task_bounded(assignment=assignment, seconds=time_on_task, now=now)
    if seconds > assignment.time_on_task:
        updates["time_on_task"] = seconds
    n = Assignment.objects.filter(id=assignment.id, status=Assignment.Status.CLAIMED).update(**updates)
    if n == 0:
        raise AssignmentNotActive()
    for key, value in updates.items():
        setattr(assignment, key, value)
    return assignment


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise AnnotationInvalid({"reason": f"Say it in {REASON_MAX} characters at most."})
    if unstorable_text(reason) is not None:
        raise AnnotationInvalid({"reason": f"The reason holds text that cannot be stored: {UNSTORABLE}."})
    return reason


def _release(*, assignment: Assignment, status: str, reason: str, now: datetime) -> Assignment:
    with transaction.atomic():
        fresh = _lock_active(assignment=assignment)
        Slot.objects.filter(holder_id=fresh.id).update(holder=None, held_until=None)
        fresh.status = status
        fresh.flag_reason = reason
        fresh.submitted_at = now
        fresh.save(update_fields=["status", "flag_reason", "submitted_at"])
        Participation.objects.filter(rater_id=fresh.rater_id, current_id=fresh.id).update(current=None)
    return fresh


def assignment_skip(*, assignment: Assignment, reason: str = "", now: datetime | None = None) -> Assignment:
    """Give the item back: its slot returns to the pool, the rater will not see it again."""
    return _release(
        assignment=assignment,
        status=Assignment.Status.SKIPPED,
        reason=_reason(reason),
        now=now or timezone.now(),
    )


def assignment_flag(*, assignment: Assignment, reason: str, now: datetime | None = None) -> Assignment:
    """Report a broken or unanswerable item (reason required); like a skip, it is released."""
    reason = _reason(reason)
    if not reason:
        raise AnnotationInvalid({"reason": "Say what is wrong with this item."})
    return _release(
        assignment=assignment,
        status=Assignment.Status.FLAGGED,
        reason=reason,
        now=now or timezone.now(),
    )


__all__ = [
    "assignment_claim_next",
    "assignment_draft_save",
    "assignment_flag",
    "assignment_queue_extend",
    "assignment_release_expired",
    "assignment_skip",
    "completion_code",
    "draft_problem",
    "pair_shown",
    "pair_swapped",
    "participation_finished",
    "queue_position",
    "study_quota",
    "time_on_task_bounded",
]
