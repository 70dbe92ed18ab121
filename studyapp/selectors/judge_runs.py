"""Reads for judge runs: the judges' plain tasks built from rows, and a run's progress."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from judges.base import Task
from judges.types import Criterion, PairwiseTask, Persona, ReasoningTask, Section, Step, SummaryTask
from studyapp.models import Criterion as CriterionRow
from studyapp.models import Item, JudgeRun, Judgment, Rater, Study
from studyapp.models import Step as StepRow
from studyapp.selectors.annotation_tasks import PREFERENCE_SCALE
from studyapp.selectors.queues import annotation_settings


def judge_of_study(*, study: Study, rater_id: Any) -> Rater:
    """The study's judge (a rater of kind judge) with this id, else 404."""
    return get_object_or_404(Rater, pk=rater_id, study=study, kind=Rater.Kind.JUDGE)


def judge_run_of_study(*, slug: str, run_id: int) -> JudgeRun:
    """The run if it belongs to the study named by ``slug``, else 404."""
    return get_object_or_404(JudgeRun, pk=run_id, study__slug=slug)


def judgments_for_tasks(*, ids: Sequence[int]) -> QuerySet[Judgment]:
    """Judgments with everything their tasks need, in three queries."""
    return (
        Judgment.objects.filter(pk__in=ids)
        .select_related("item__domain", "item__persona", "item__study__rubric")
        .prefetch_related(Prefetch("item__steps", queryset=StepRow.objects.order_by("index")))
        .order_by("pk")
    )


def _criteria(item: Item) -> tuple[Criterion, ...]:
    rubric = getattr(item.study, "rubric", None)
    if rubric is None:
        return ()
    rows: Sequence[CriterionRow] = list(rubric.criteria.all())
    return tuple(
        Criterion(
            name=c.name,
            description=c.description,
            scale_min=c.scale_min,
            scale_max=c.scale_max,
            anchors={int(k): str(v) for k, v in (c.anchors or {}).items()},
        )
        for c in rows
    )


def judge_task_for(*, judgment: Judgment) -> Task:
    """The judge's task for a judgment's item; its `item_id` is the judgment's id."""
    item = judgment.item
    key = str(judgment.pk)
    if item.kind == Item.Kind.REASONING:
        steps = tuple(Step(s.index, s.text, cast(Section, s.section)) for s in item.steps.all())
        return ReasoningTask(
            item_id=key,
            problem=item.problem,
            steps=steps,
            reference_answer=item.reference_answer or None,
            domain=item.domain.name,
        )
    if item.kind == Item.Kind.PAIRWISE:
        # a pair is judged on the rubric's preference criteria (scale [-1, 1]: B, tie, A)
        annotation = annotation_settings(study=item.study)
        return PairwiseTask(
            item_id=key,
            prompt=item.problem,
            response_a=item.response_a,
            response_b=item.response_b,
            criteria=tuple(c for c in _criteria(item) if (c.scale_min, c.scale_max) == PREFERENCE_SCALE),
            allow_tie=bool(annotation.get("allow_tie", True)),
            domain=item.domain.name,
        )
    assert item.persona is not None  # a constraint: summary items have a persona
    persona = Persona(item.persona.name, item.persona.description, item.persona.prompt)
    return SummaryTask(
        item_id=key,
        document=item.document,
        summary=item.summary,
        persona=persona,
        criteria=_criteria(item),
        domain=item.domain.name,
    )


def price_for(model: str | None) -> dict[str, float] | None:
    """The price row of `model` in settings.JUDGE_PRICES, or None when it has none."""
    return settings.JUDGE_PRICES.get(model or "")


def judge_run_progress(*, run: JudgeRun) -> dict[str, Any]:
    """Counts of the run's judgments by status, tokens and estimated cost, as plain data."""
    counts = {
        row["status"]: row["n"]
        for row in Judgment.objects.filter(run=run).values("status").annotate(n=Count("id")).order_by()
    }
    done = counts.get(Judgment.Status.DONE, 0)
    failed = counts.get(Judgment.Status.FAILED, 0)
    pending = counts.get(Judgment.Status.PENDING, 0)
    return {
        "run": run.pk,
        "judge": run.rater.name,
        "mode": run.mode,
        "status": run.status,
        "total": run.n_items,
        "done": done,
        "failed": failed,
        "pending": pending,
        "tokens_in": run.tokens_in,
        "tokens_out": run.tokens_out,
        "cost": run.cost,
        "priced": price_for(run.rater.config.get("model")) is not None,
        "batch_status": run.batch_status,
        "error": run.error,
    }
