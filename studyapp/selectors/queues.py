"""What is left for one human rater in a study, read from the items and their slots.

A rater's queue rows (`Assignment`) are made a chunk at a time, so these look
at the study's items, not at the rater's rows: an item is *closed* to the
rater once they hold, submitted, skipped or flagged it. A real item can be
served to the rater some day while fewer than k of its slots hold submitted
annotations (a held slot is freed by a skip, a flag or a timed-out claim); it
can be served now while fewer than k of its slots are held by live claims.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet

from studyapp.models import Assignment, Item, Rater, Slot, Study


def annotation_settings(*, study: Study) -> dict[str, Any]:
    """The `annotation` block of the study's stored spec ({} when it has none)."""
    annotation = (study.spec or {}).get("annotation")
    return annotation if isinstance(annotation, dict) else {}


def allocation_settings(*, study: Study) -> tuple[str, float | None, float]:
    """(allocation, budget share, floor) from the study's spec (`annotation.allocation...`)."""
    annotation = annotation_settings(study=study)
    mode = annotation.get("allocation") or "uniform"
    budget = annotation.get("allocation_budget")
    floor = annotation.get("allocation_floor") or 0.2
    return str(mode), (float(budget) if budget is not None else None), float(floor)


def study_is_active(*, study: Study) -> bool:
    """Whether the study serves only the real items its allocation drew (services/allocation.py)."""
    return allocation_settings(study=study)[0] == "active"


def _full(rater: Rater, held: Q) -> QuerySet[Any, Any]:
    """Ids of the study's items with at least k slots held this way (one hashed subquery)."""
    return (
        Slot.objects.filter(held, item__study_id=rater.study_id)
        .order_by()
        .values("item_id")
        .annotate(c=Count("id"))
        .filter(c__gte=rater.study.overlap)
        .values("item_id")
    )


def _final() -> Q:
    """Slots that hold a submitted annotation for good."""
    return Q(holder__isnull=False, held_until__isnull=True)


def _live(now: datetime) -> Q:
    """Slots held now: submitted, or claimed and not timed out."""
    return Q(holder__isnull=False) & (Q(held_until__isnull=True) | Q(held_until__gte=now))


def _not_closed_to(rater: Rater, *, now_only: bool = False) -> QuerySet[Item]:
    closed = Assignment.objects.filter(rater_id=rater.id, item_id=OuterRef("pk")).exclude(
        status=Assignment.Status.QUEUED
    )
    items = Item.objects.filter(study_id=rater.study_id, is_gold=False).filter(~Exists(closed)).order_by()
    if study_is_active(study=rater.study):
        # Not drawn: never served. Not allocated yet (null): may be, once the draw has run.
        items = items.filter(allocation_drawn=True) if now_only else items.exclude(allocation_drawn=False)
    return items


def items_awaiting_draw(*, study: Study) -> bool:
    """Whether an active study has real items its allocation has not drawn yet."""
    return study_is_active(study=study) and (
        Item.objects.filter(study=study, is_gold=False, allocation_pi__isnull=True).exists()
    )


def items_left_for(*, rater: Rater) -> QuerySet[Item]:
    """Real items that may still be served to the rater (now or once a slot frees up)."""
    return _not_closed_to(rater).exclude(id__in=_full(rater, _final()))


def items_free_for(*, rater: Rater, now: datetime) -> QuerySet[Item]:
    """Real items the rater could be served now: not closed to them, fewer than k live claims."""
    return _not_closed_to(rater, now_only=True).exclude(id__in=_full(rater, _live(now)))


def rater_retry_after(*, rater: Rater, now: datetime) -> int:
    """Seconds until a rater with nothing free should ask again.

    The soonest timeout of a claim on an item left for them, at most
    `ASSIGNMENT_RETRY_AFTER` (a holder may skip sooner), at least 1.
    """
    cap = max(1, settings.ASSIGNMENT_RETRY_AFTER)
    soonest = (
        Slot.objects.filter(item__in=items_left_for(rater=rater), holder__isnull=False, held_until__gte=now)
        .aggregate(soonest=Min("held_until"))
        .get("soonest")
    )
    if soonest is None:
        return cap
    return max(1, min(cap, math.ceil((soonest - now).total_seconds())))


def items_for_queue(*, rater: Rater) -> QuerySet[Item]:
    """Items not yet in the rater's queue that could ever be served to them (gold ones included)."""
    queued = Assignment.objects.filter(rater_id=rater.id, item_id=OuterRef("pk"))
    items = (
        Item.objects.filter(study_id=rater.study_id)
        .filter(~Exists(queued))
        .filter(Q(is_gold=True) | ~Q(id__in=_full(rater, _final())))
        .order_by()
    )
    if study_is_active(study=rater.study):
        items = items.filter(Q(is_gold=True) | Q(allocation_drawn=True))
    return items


__all__ = [
    "allocation_settings",
    "annotation_settings",
    "items_awaiting_draw",
    "items_for_queue",
    "items_free_for",
    "items_left_for",
    "rater_retry_after",
    "study_is_active",
]
