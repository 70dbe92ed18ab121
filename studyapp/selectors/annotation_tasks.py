"""What an annotator may read: their assignments, blinded item content, progress.

Nothing here returns judgments, other raters' labels or assignments, the
gold answer, the item's outcome or where it came from: the annotator sees
the task, never the answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404
from django.utils import timezone

from studyapp.models import Assignment, Criterion, Item, Participation, Rater, Step, Study
from studyapp.selectors.queues import items_awaiting_draw, items_free_for
from studyapp.selectors.studies import study_by_slug
from studyapp.services.assignments import pair_shown, participation_finished, study_quota
from studyapp.services.errors import StudyNotOpen

PREFERENCE_SCALE = (-1, 1)  # a rubric criterion a pair is labelled on: B -1, tie 0, A +1


def study_joinable_by_slug(*, slug: str, enrolled: bool) -> Study:
    """The study if it is open; annotators never see or join another.

    A draft is a 404 to anyone not enrolled in it (it has not been announced);
    a closed study, or a draft someone is enrolled in, raises `StudyNotOpen`
    so that the page can say so.
    """
    study = study_by_slug(slug=slug)
    if study.status == Study.Status.OPEN:
        return study
    if study.status == Study.Status.DRAFT and not enrolled:
        raise Http404("No such study.")
    raise StudyNotOpen()


def rater_of_user(*, slug: str, user: Any) -> Rater | None:
    """The user's rater in the study with its study and participation (1 query), if enrolled."""
    return (
        Rater.objects.select_related("study", "participation")
        .filter(study__slug=slug, user_id=user.pk, kind=Rater.Kind.HUMAN, participation__isnull=False)
        .first()
    )


def assignment_of_user(
    *,
    assignment_id: int,
    user: Any,
    related: tuple[str, ...] = ("item__persona", "item__domain", "study", "rater"),
) -> Assignment:
    """The assignment if it belongs to this user, else 404 (never another rater's)."""
    assignment = (
        Assignment.objects.select_related(*related)
        .filter(id=assignment_id, rater__user_id=user.pk, rater__kind=Rater.Kind.HUMAN)
        .first()
    )
    if assignment is None:
        raise Http404("No such assignment.")
    return assignment


def item_steps(*, item: Item) -> list[Step]:
    """The item's steps in order (trajectory first, then the final response)."""
    return list(item.steps.order_by("index"))


def study_criteria(*, study: Study) -> list[Criterion]:
    return list(Criterion.objects.filter(rubric__study=study).order_by("position", "id"))


def study_preference_criteria(*, study: Study) -> list[Criterion]:
    """The criteria a pair is judged on: those on the preference scale (-1 B, 0 tie, +1 A)."""
    return [c for c in study_criteria(study=study) if (c.scale_min, c.scale_max) == PREFERENCE_SCALE]


def study_allows_tie(*, study: Study) -> bool:
    """The spec's `annotation.allow_tie` (true when absent)."""
    return bool((study.spec or {}).get("annotation", {}).get("allow_tie", True))


def item_task(*, assignment: Assignment) -> dict[str, Any]:
    """The blinded content of the assigned item as plain data (2 queries at most)."""
    item: Item = assignment.item
    study = assignment.study
    task: dict[str, Any] = {
        "kind": item.kind,
        "domain": item.domain.name,
        "label_mode": study.label_mode,
        "trajectory_rating": study.trajectory_rating,
    }
    if item.kind == Item.Kind.REASONING:
        # `all()` keeps steps prefetched by the claim (Step orders by item, index).
        steps = list(item.steps.all())
        task["problem"] = item.problem
        task["steps"] = [{"index": s.index, "section": s.section, "text": s.text} for s in steps]
    elif item.kind == Item.Kind.PAIRWISE:
        # Blinded: the responses in this rater's screen order, never labelled A or B.
        task["prompt"] = item.problem
        task["responses"] = list(pair_shown(seed=study.seed, rater_id=assignment.rater_id, item=item))
        task["allow_tie"] = study_allows_tie(study=study)
        answers = {"1": "first shown", "0": "tie", "-1": "second shown"}
        task["criteria"] = [
            {"name": c.name, "description": c.description, "answers": answers}
            for c in study_preference_criteria(study=study)
        ]
    else:
        persona = item.persona
        assert persona is not None  # a database constraint: summaries have one
        task["document"] = item.document
        task["summary"] = item.summary
        task["persona"] = {
            "name": persona.name,
            "description": persona.description,
            "prompt": persona.prompt,
        }
        task["criteria"] = [
            {
                "name": c.name,
                "description": c.description,
                "scale_min": c.scale_min,
                "scale_max": c.scale_max,
                "anchors": c.anchors,
            }
            for c in study_criteria(study=study)
        ]
    return task


def assignment_public(*, assignment: Assignment) -> dict[str, Any]:
    """The assignment as the annotator sees it (its role, gold or not, is hidden)."""
    return {
        "id": assignment.id,
        "study": assignment.study.slug,
        "status": assignment.status,
        "claimed_at": assignment.claimed_at,
        "expires_at": assignment.expires_at,
        "draft": assignment.draft,
        "time_on_task": assignment.time_on_task,
    }


def participation_progress(*, rater: Rater, now: datetime | None = None) -> dict[str, Any]:
    """Done / assigned for the progress bar, whether the rater is finished or must wait."""
    now = now or timezone.now()
    participation: Participation = rater.participation
    done = participation.n_submitted + participation.n_gold
    quota = study_quota(study=rater.study)
    finished = participation_finished(participation=participation, rater=rater)
    # Real items the rater has not held yet with fewer than k live claims, whether
    # or not they are in the rater's queue yet (it grows a chunk at a time).
    open_real = 0 if finished else items_free_for(rater=rater, now=now).count()
    claimed = 1 if participation.current_id and not finished else 0
    assigned = done + claimed + open_real
    if quota is not None and not finished:
        assigned = min(assigned, quota + participation.n_gold + claimed)
    wait = (
        not finished
        and not claimed
        and open_real == 0
        and participation.qualification != Participation.Qualification.PENDING
    )
    return {
        "done": done,
        "assigned": max(assigned, done),
        "finished": finished,
        "wait": wait,
        # an active study's items wait for its judges and the draw (services/allocation.py)
        "awaiting_draw": wait and items_awaiting_draw(study=rater.study),
        "completion_code": (participation.completion_code or None) if finished else None,
        "qualification": participation.qualification,
        "consented": participation.consented_at is not None,
        "instructions_read": participation.instructions_read_at is not None,
    }


def newcomer_rater(*, study: Study, user: Any) -> Rater:
    """The rater a user not enrolled yet would be, unsaved, for reading their starting progress."""
    rater = Rater(study=study, kind=Rater.Kind.HUMAN, user=user)
    rater.participation = Participation(rater=rater)
    return rater
