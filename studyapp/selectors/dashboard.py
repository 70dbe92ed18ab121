"""The researcher dashboard's data, in a fixed number of queries.

Progress per domain (items with k submitted annotations), per annotator
(done, time on task, gold accuracy, skips and flags), the skip/flag list,
judge runs, and live human-human agreement per domain.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

import numpy as np
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from studyapp.models import Assignment, Item, JudgeRun, Judgment, Label, Rater, Slot, Study

FLAG_LIST_LIMIT = 200


def domain_progress(*, study: Study) -> list[dict[str, Any]]:
    """Per domain: real items, items started, items with all k annotations (1 query)."""
    filled = (
        Slot.objects.filter(item=OuterRef("pk"), holder__isnull=False, held_until__isnull=True)
        .order_by()
        .values("item")
        .annotate(c=Count("id"))
        .values("c")
    )
    rows = (
        Item.objects.filter(study=study, is_gold=False)
        .annotate(filled=Coalesce(Subquery(filled, output_field=IntegerField()), Value(0)))
        .values("domain__name")
        .annotate(
            items=Count("id"),
            started=Count("id", filter=Q(filled__gt=0)),
            complete=Count("id", filter=Q(filled__gte=study.overlap)),
            n_annotations=Sum("filled"),
        )
        .order_by("domain__name")
    )
    out = []
    for row in rows:
        needed = row["items"] * study.overlap
        out.append(
            {
                "domain": row["domain__name"],
                "items": row["items"],
                "started": row["started"],
                "complete": row["complete"],
                "annotations": row["n_annotations"] or 0,
                "needed": needed,
                "percent": round(100 * (row["n_annotations"] or 0) / needed) if needed else 0,
            }
        )
    return out


def annotator_progress(*, study: Study) -> list[dict[str, Any]]:
    """Per human rater: done, time on task, gold accuracy, skipped, flagged (1 query)."""
    submitted = Q(assignments__status=Assignment.Status.SUBMITTED)
    real = Q(assignments__role=Assignment.Role.ITEM)
    gold = ~Q(assignments__role=Assignment.Role.ITEM) & submitted
    raters = (
        Rater.objects.filter(study=study, kind=Rater.Kind.HUMAN)
        .select_related("participation")
        .annotate(
            done=Count("assignments", filter=submitted & real),
            seconds=Sum("assignments__time_on_task", filter=submitted),
            gold_total=Count("assignments", filter=gold),
            gold_correct=Count("assignments", filter=gold & Q(assignments__gold_correct=True)),
            skipped=Count("assignments", filter=Q(assignments__status=Assignment.Status.SKIPPED)),
            flagged=Count("assignments", filter=Q(assignments__status=Assignment.Status.FLAGGED)),
            claimed=Count("assignments", filter=Q(assignments__status=Assignment.Status.CLAIMED)),
        )
        .order_by("name")
    )
    out = []
    for r in raters:
        participation = getattr(r, "participation", None)
        out.append(
            {
                "name": r.name,
                "done": r.done,
                "seconds": r.seconds or 0.0,
                "mean_seconds": (r.seconds or 0.0) / r.done if r.done else None,
                "gold_total": r.gold_total,
                "gold_correct": r.gold_correct,
                "gold_accuracy": r.gold_correct / r.gold_total if r.gold_total else None,
                "skipped": r.skipped,
                "flagged": r.flagged,
                "claimed": r.claimed,
                "qualification": participation.qualification if participation else "",
                "finished": bool(participation and participation.finished_at),
                "external_id": participation.external_id if participation else "",
            }
        )
    return out


def skips_and_flags(*, study: Study) -> list[Assignment]:
    """The latest skipped and flagged items with their reasons (1 query)."""
    return list(
        Assignment.objects.filter(
            study=study, status__in=[Assignment.Status.SKIPPED, Assignment.Status.FLAGGED]
        )
        .select_related("item", "rater")
        .order_by("-submitted_at")[:FLAG_LIST_LIMIT]
    )


def judge_runs(*, study: Study) -> list[JudgeRun]:
    """The latest runs, each with `.done`, `.failed` and `.pending` judgment counts (2 queries)."""
    runs = list(JudgeRun.objects.filter(study=study).select_related("rater").order_by("-created_at")[:50])
    counts: dict[tuple[int, str], int] = {
        (row["run"], row["status"]): row["n"]
        for row in Judgment.objects.filter(run__in=[r.pk for r in runs])
        .values("run", "status")
        .annotate(n=Count("id"))
        .order_by()
    }
    for run in runs:
        run.done = counts.get((run.pk, Judgment.Status.DONE), 0)  # type: ignore[attr-defined]
        run.failed = counts.get((run.pk, Judgment.Status.FAILED), 0)  # type: ignore[attr-defined]
        run.pending = counts.get((run.pk, Judgment.Status.PENDING), 0)  # type: ignore[attr-defined]
    return runs


def study_judges(*, study: Study) -> list[Rater]:
    """The study's active judges that a researcher can run (not those imported from a dataset)."""
    return list(
        Rater.objects.filter(study=study, kind=Rater.Kind.JUDGE, active=True)
        .exclude(judge_kind="imported")
        .order_by("name")
    )


def _pairwise_percent(units: dict[Any, dict[int, float]]) -> tuple[float | None, int]:
    """Share of agreeing rater pairs, averaged over units with two or more ratings."""
    shares = []
    for ratings in units.values():
        values = list(ratings.values())
        if len(values) < 2:
            continue
        pairs = list(combinations(values, 2))
        shares.append(sum(a == b for a, b in pairs) / len(pairs))
    return (float(np.mean(shares)) if shares else None), len(shares)


def _alpha(units: dict[Any, dict[int, float]], level: str) -> tuple[float | None, str]:
    """Krippendorff's alpha at the report's level for `level` (`analysis.levels`)."""
    from analysis.agreement import krippendorff_alpha
    from analysis.levels import ALPHA_LEVEL

    raters = sorted({r for ratings in units.values() for r in ratings})
    if not raters or not units:
        return None, "no ratings"
    index = {r: i for i, r in enumerate(raters)}
    data = np.full((len(raters), len(units)), np.nan)
    for j, ratings in enumerate(units.values()):
        for r, v in ratings.items():
            data[index[r], j] = v
    result = krippendorff_alpha(data, ALPHA_LEVEL[level])
    return result.value, result.reason or ""


def human_agreement(*, study: Study) -> list[dict[str, Any]]:
    """Human-human agreement per domain and label kind (1 query).

    Units are steps (labels +1/0/-1) and (item, criterion) pairs (ratings);
    only human raters count and gold items are left out, as in the report.
    Percent agreement is exact agreement of rater pairs averaged over units
    with at least two ratings; alpha is Krippendorff's alpha at the report's
    level (`analysis.levels`: ordinal for step labels and ratings).
    """
    rows = (
        Label.objects.filter(
            annotation__item__study=study,
            annotation__rater__kind=Rater.Kind.HUMAN,
            annotation__item__is_gold=False,
            value__isnull=False,
        )
        .values_list(
            "annotation__item__domain__name",
            "annotation__item_id",
            "step_id",
            "criterion_id",
            "annotation__rater_id",
            "value",
        )
        .order_by()
    )
    groups: dict[tuple[str, str], dict[Any, dict[int, Any]]] = defaultdict(lambda: defaultdict(dict))
    for domain, item_id, step_id, criterion_id, rater_id, value in rows.iterator(chunk_size=5000):
        if step_id is not None:
            groups[(domain, "steps")][step_id][rater_id] = value
        else:
            groups[(domain, "criteria")][(item_id, criterion_id)][rater_id] = value
    out = []
    for (domain, kind), units in sorted(groups.items()):
        percent, n_units = _pairwise_percent(units)
        level = "step_label" if kind == "steps" else "rubric"
        alpha, note = _alpha({k: v for k, v in units.items() if len(v) >= 2}, level)
        out.append(
            {
                "domain": domain,
                "kind": kind,
                "units": n_units,
                "percent": percent,
                "alpha": alpha,
                "alpha_note": note,
            }
        )
    return out


def study_dashboard(*, study: Study) -> dict[str, Any]:
    return {
        "domains": domain_progress(study=study),
        "annotators": annotator_progress(study=study),
        "flags": skips_and_flags(study=study),
        "judge_runs": judge_runs(study=study),
        "judges": study_judges(study=study),
        "agreement": human_agreement(study=study),
    }
