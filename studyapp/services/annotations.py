"""Submitting an annotation: validated, stored once, counted.

Validation rules (errors are returned per field so a page can show them
inline):

- reasoning items: every step labelled +1 / 0 / -1 when the study labels all
  steps; with `label_mode = first_error` (PRM800K phase 2) the steps up to and
  including the first -1 are labelled and none after it (every step when
  there is no -1). A trajectory rating on 1-5 is required when the study asks
  for one and the item has trajectory steps.
- summary items: every rubric criterion rated, an integer on its scale.
- pairwise items: every preference criterion (scale [-1, 1]) answered +1
  (the response shown first, on the left), -1 (shown second) or 0 (tie, only
  when the study's `annotation.allow_tie`). The server recomputes which
  response was shown first (`assignments.pair_swapped`) and stores the label
  against the underlying responses: +1 = A, -1 = B.
- both: the comment and each step comment at most `COMMENT_MAX` characters,
  text every database can store; time on task a number of seconds bounded by
  `assignments.time_on_task_bounded`.

Submission is idempotent per assignment: a retry or a double click returns
the annotation already stored (and `(item, rater)` is unique in the database).
A new annotation of a real item then runs one more statement, which queues a
refresh of the dashboard's live estimates unless one is pending
(`services.live.live_refresh_request`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from studyapp.db import submit
from studyapp.models import (
    Annotation,
    Assignment,
    Criterion,
    Item,
    Label,
    Participation,
    Slot,
    Step,
    Study,
)
from studyapp.selectors.annotation_tasks import study_allows_tie, study_criteria, study_preference_criteria
from studyapp.services.assignments import pair_swapped, time_on_task_bounded
from studyapp.services.errors import AnnotationInvalid, AssignmentNotActive
from studyapp.services.gold import gold_matches
from studyapp.services.live import live_refresh_request
from studyapp.text import UNSTORABLE, unstorable_text

TRAJECTORY_SCALE = (1, 5)
COMMENT_MAX = 5000  # characters of a comment or a step comment (the page's boxes take as many)


class _Refused(Exception):
    """Inside the transaction: the assignment is no longer claimed; roll back."""


@dataclass(frozen=True)
class SubmitResult:
    annotation: Annotation
    created: bool


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _validate_reasoning(
    *,
    study: Study,
    steps: list[Step],
    step_labels: dict[int, Any],
    trajectory_rating: Any,
) -> tuple[dict[int, int], int | None, float | None]:
    errors: dict[str, Any] = {}
    step_errors: dict[str, str] = {}
    known = {step.index for step in steps}
    values: dict[int, int] = {}
    for raw_index, raw_value in step_labels.items():
        index = _as_int(raw_index)
        value = _as_int(raw_value)
        if index is None or index not in known:
            step_errors[str(raw_index)] = "There is no such step."
        elif value not in (-1, 0, 1):
            step_errors[str(index)] = "A step label is +1, 0 or -1."
        else:
            values[index] = value
    first_error: int | None = None
    for step in steps:
        if values.get(step.index) == -1:
            first_error = step.index
            break
    stop_at_error = study.label_mode == Study.LabelMode.FIRST_ERROR
    for step in steps:
        after_error = first_error is not None and step.index > first_error
        if stop_at_error and after_error:
            if step.index in values:
                step_errors[str(step.index)] = (
                    "This study stops at the first error: leave later steps unlabelled."
                )
        elif step.index not in values and str(step.index) not in step_errors:
            step_errors[str(step.index)] = "Label this step."
    if step_errors:
        errors["steps"] = step_errors
    rating: float | None = None
    has_trajectory = any(step.section == Step.Section.TRAJECTORY for step in steps)
    if study.trajectory_rating and has_trajectory:
        value = _as_int(trajectory_rating)
        low, high = TRAJECTORY_SCALE
        if value is None or not low <= value <= high:
            errors["trajectory_rating"] = f"Rate the thinking as a whole from {low} to {high}."
        else:
            rating = float(value)
    if errors:
        raise AnnotationInvalid(errors)
    return values, (first_error if first_error is not None else -1), rating


def _text_checked(*, comment: Any, comments: dict[Any, Any]) -> str:
    """The comment, stripped; refused when it or a step comment is too long or holds unstorable text."""
    errors: dict[str, Any] = {}
    too_long = f"Say it in {COMMENT_MAX} characters at most."
    unstorable = f"This holds text that cannot be stored: {UNSTORABLE}."
    comment = str(comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = too_long
    elif unstorable_text(comment) is not None:
        errors["comment"] = unstorable
    step_errors = {}
    for key, text in comments.items():
        text = str(text or "")
        if len(text) > COMMENT_MAX:
            step_errors[str(key)] = too_long
        elif unstorable_text(text) is not None:
            step_errors[str(key)] = unstorable
    if step_errors:
        errors["step_comments"] = step_errors
    if errors:
        raise AnnotationInvalid(errors)
    return comment


def _unknown_criteria(criteria: list[Criterion], ratings: dict[str, Any]) -> dict[str, str]:
    names = {criterion.name for criterion in criteria}
    return {name: "There is no such criterion." for name in ratings if name not in names}


def _validate_summary(*, criteria: list[Criterion], ratings: dict[str, Any]) -> dict[str, int]:
    errors = _unknown_criteria(criteria, ratings)
    values: dict[str, int] = {}
    for criterion in criteria:
        value = _as_int(ratings.get(criterion.name))
        if value is None:
            errors[criterion.name] = "Rate this criterion."
        elif not criterion.scale_min <= value <= criterion.scale_max:
            errors[criterion.name] = (
                f"Choose a whole number from {criterion.scale_min} to {criterion.scale_max}."
            )
        else:
            values[criterion.name] = value
    if errors:
        raise AnnotationInvalid({"ratings": errors})
    return values


def _validate_pairwise(
    *, criteria: list[Criterion], ratings: dict[str, Any], allow_tie: bool, swapped: bool
) -> dict[str, int]:
    """Screen answers (+1 first shown, -1 second, 0 tie) checked and turned into A/B preferences."""
    errors = _unknown_criteria(criteria, ratings)
    values: dict[str, int] = {}
    for criterion in criteria:
        value = _as_int(ratings.get(criterion.name))
        if value is None:
            errors[criterion.name] = "Choose a response (or a tie)." if allow_tie else "Choose a response."
        elif value not in (-1, 0, 1):
            errors[criterion.name] = "A preference is +1 (first response), -1 (second) or 0 (tie)."
        elif value == 0 and not allow_tie:
            errors[criterion.name] = "This study does not allow ties: choose one response."
        else:
            values[criterion.name] = -value if swapped else value
    if errors:
        raise AnnotationInvalid({"ratings": errors})
    return values


def annotation_submit(
    *,
    assignment: Assignment,
    step_labels: dict[int, Any] | None = None,
    step_comments: dict[int, str] | None = None,
    ratings: dict[str, Any] | None = None,
    trajectory_rating: Any = None,
    comment: str = "",
    time_on_task: float | None = None,
    steps: list[Step] | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store the rater's labels for the assigned item, once.

    `steps` may be passed when the caller already loaded them (id, index, section).
    Raises `AnnotationInvalid` (with per-field errors) or
    `AssignmentNotActive` (the claim timed out and someone else took the slot).
    """
    now = now or timezone.now()
    if assignment.status == Assignment.Status.SUBMITTED and assignment.annotation_id:
        return SubmitResult(Annotation.objects.get(id=assignment.annotation_id), created=False)
    if assignment.status != Assignment.Status.CLAIMED:
        raise AssignmentNotActive()
    item: Item = assignment.item
    study: Study = assignment.study
    step_labels = step_labels or {}
    ratings = ratings or {}
    comments = {(_as_int(k) if _as_int(k) is not None else k): v for k, v in (step_comments or {}).items()}
    comment = _text_checked(comment=comment, comments=comments)
    seconds = time_on_task_bounded(assignment=assignment, seconds=time_on_task, now=now)
    labels: list[Label] = []
    step_values: dict[int, int] = {}
    rating_values: dict[str, int] = {}
    first_error: int | None = None
    trajectory: float | None = None
    swapped: bool | None = None  # pairwise items only
    if item.kind == Item.Kind.REASONING:
        if steps is None:
            # Plain rows, not model instances: this runs on every submission.
            steps = [
                Step(id=i, item_id=item.id, index=x, section=sec)
                for i, x, sec in Step.objects.filter(item_id=item.id)
                .order_by("index")
                .values_list("id", "index", "section")
            ]
        step_values, first_error, trajectory = _validate_reasoning(
            study=study, steps=steps, step_labels=step_labels, trajectory_rating=trajectory_rating
        )
        labels = [
            Label(
                step_id=step.id,
                value=step_values[step.index],
                rationale=str(comments.get(step.index, "") or ""),
            )
            for step in steps
            if step.index in step_values
        ]
    elif item.kind == Item.Kind.PAIRWISE:
        criteria = study_preference_criteria(study=study)
        swapped = pair_swapped(seed=study.seed, rater_id=assignment.rater_id, item_id=item.id)
        rating_values = _validate_pairwise(
            criteria=criteria,
            ratings=ratings,
            allow_tie=study_allows_tie(study=study),
            swapped=swapped,
        )
        labels = [Label(criterion=criterion, value=rating_values[criterion.name]) for criterion in criteria]
    else:
        criteria = study_criteria(study=study)
        rating_values = _validate_summary(criteria=criteria, ratings=ratings)
        labels = [Label(criterion=criterion, value=rating_values[criterion.name]) for criterion in criteria]
    annotation = Annotation(
        item=item,
        rater_id=assignment.rater_id,
        first_error=first_error,
        trajectory_rating=trajectory,
        comment=comment,
        time_on_task=seconds,
        pair_swapped=swapped,  # recorded: the order the labels were mapped from
    )
    annotation.clean_fields(exclude=["item", "rater"])
    gold_correct = None
    if assignment.role != Assignment.Role.ITEM:
        gold_correct = gold_matches(
            gold=item.gold,
            first_error=first_error,
            step_values=step_values,
            ratings={k: float(v) for k, v in rating_values.items()},
        )
    try:
        with transaction.atomic():
            store = _store_postgres if connection.vendor == "postgresql" else _store_portable
            store(
                assignment=assignment,
                annotation=annotation,
                labels=labels,
                gold_correct=gold_correct,
                now=now,
            )
    except (_Refused, IntegrityError):
        annotation.pk = None
        stored = (
            Assignment.objects.filter(id=assignment.id, status=Assignment.Status.SUBMITTED)
            .values_list("annotation_id", flat=True)
            .first()
        )
        if stored is None:
            raise AssignmentNotActive() from None
        return SubmitResult(Annotation.objects.get(id=stored), created=False)
    assignment.status = Assignment.Status.SUBMITTED
    assignment.annotation = annotation
    assignment.gold_correct = gold_correct
    if not item.is_gold:  # the live estimates leave gold items out
        live_refresh_request(study_id=assignment.study_id, now=now)  # one statement; the task after commit
    return SubmitResult(annotation, created=True)


def _counters(*, role: str, gold_correct: bool | None) -> dict[str, int]:
    """What one submission adds to the participation's counters."""
    return {
        "n_submitted": int(role == Assignment.Role.ITEM),
        "n_gold": int(role == Assignment.Role.GOLD),
        "n_gold_correct": int(role == Assignment.Role.GOLD and bool(gold_correct)),
    }


def _store_portable(
    *,
    assignment: Assignment,
    annotation: Annotation,
    labels: list[Label],
    gold_correct: bool | None,
    now: datetime,
) -> None:
    """The submission's writes, one by one (inside the caller's transaction)."""
    # Taking the slot for good also locks it, in the claim's lock order
    # (slot, then assignment); no row means the claim timed out and was taken.
    if assignment.role == Assignment.Role.ITEM and not Slot.objects.filter(holder_id=assignment.id).update(
        held_until=None
    ):
        raise _Refused()
    annotation.save()  # (item, rater) is unique: a concurrent retry fails here
    for label in labels:
        label.annotation = annotation
    Label.objects.bulk_create(labels)
    updated = Assignment.objects.filter(id=assignment.id, status=Assignment.Status.CLAIMED).update(
        status=Assignment.Status.SUBMITTED,
        submitted_at=now,
        annotation=annotation,
        time_on_task=annotation.time_on_task,
        gold_correct=gold_correct,
        draft={},
    )
    if not updated:
        raise _Refused()
    # A rater holds one claim at a time, and this was it.
    counters: dict[str, Any] = {"current": None}
    for name, add in _counters(role=assignment.role, gold_correct=gold_correct).items():
        if add:
            counters[name] = F(name) + add
    Participation.objects.filter(rater_id=assignment.rater_id).update(**counters)


def _store_postgres(
    *,
    assignment: Assignment,
    annotation: Annotation,
    labels: list[Label],
    gold_correct: bool | None,
    now: datetime,
) -> None:
    """The submission's writes as one statement (inside the caller's transaction)."""
    stored = submit.annotation_store_postgres(
        assignment_id=assignment.id,
        slotted=assignment.role == Assignment.Role.ITEM,
        annotation=annotation,
        labels=labels,
        gold_correct=gold_correct,
        counters=_counters(role=assignment.role, gold_correct=gold_correct),
        now=now,
    )
    if not stored:
        raise _Refused()  # the claim timed out and was taken, or the item was released
