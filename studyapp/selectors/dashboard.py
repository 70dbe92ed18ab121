"""The researcher dashboard's data, in a fixed number of queries.

Progress per domain (items with k submitted annotations), per annotator
(done, time on task, gold accuracy, skips and flags), the skip/flag list,
judge runs, and live human-human agreement with the report's reliability gate.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from studyapp.models import Assignment, Item, JudgeRun, Judgment, Rater, Slot, Study
from studyapp.selectors.allocation import allocation_summary
from studyapp.selectors.queues import study_is_active

FLAG_LIST_LIMIT = 200


def domain_progress(*, study: Study) -> list[dict[str, Any]]:
    """Per domain: real items (an active study's drawn ones), items started, items with all k
    annotations (1 query)."""
    filled = (
        Slot.objects.filter(item=OuterRef("pk"), holder__isnull=False, held_until__isnull=True)
        .order_by()
        .values("item")
        .annotate(c=Count("id"))
        .values("c")
    )
    real = Item.objects.filter(study=study, is_gold=False)
    if study_is_active(study=study):  # people label the drawn items only
        real = real.filter(allocation_drawn=True)
    rows = (
        real.annotate(filled=Coalesce(Subquery(filled, output_field=IntegerField()), Value(0)))
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


def human_agreement(*, study: Study) -> list[dict[str, Any]]:
    """Human-human agreement and the reliability gate per (domain, level, criterion).

    The report's units, levels and gate (`analysis.gate`, the study's
    `analysis.min_human_alpha`): the human raters of the study and imported
    people (external raters), gold items left out. Percent agreement is exact
    agreement of rater pairs averaged over units with two ratings or more.
    """
    from analysis.agreement import percent_agreement
    from analysis.bootstrap import unit_weights
    from analysis.gate import human_reliability
    from analysis.levels import ALPHA_LEVEL
    from analysis.tidy import pivot
    from studyapp.selectors.ratings import ratings_table
    from studyapp.selectors.reports import study_analysis_settings

    threshold = study_analysis_settings(study=study)["min_human_alpha"]
    table = ratings_table(study=study, include_gold=False, humans_only=True)
    out = []
    for (domain, level, criterion), rows in table.groupby(["domain", "level", "criterion"], sort=True):
        humans = sorted(rows["rater"].unique())
        units = sorted(rows["unit"].unique())
        h = pivot(rows, humans, units)
        clusters = None
        if level == "step_label":
            clusters = rows.drop_duplicates("unit").set_index("unit")["item"].reindex(units).to_numpy()
        weights = unit_weights(len(units), n_resamples=1000, seed=0, clusters=clusters)
        gate = human_reliability(
            h,
            humans,
            str(level),
            threshold=threshold,
            weights=weights,
            resampled="items" if clusters is not None else "units",
        )
        percent = percent_agreement(h) if len(humans) >= 2 else None
        out.append(
            {
                "domain": domain,
                "level": level,
                "criterion": criterion,
                "alpha_level": ALPHA_LEVEL[str(level)],
                "humans": len(humans),
                "units": percent.n_units if percent else 0,
                "percent": percent.value if percent else None,
                "alpha": (gate["alpha"] or {}).get("value"),
                "alpha_ci": (gate["alpha"] or {}).get("ci"),
                "alpha_note": gate["reason"] if not gate["reliable"] else "",
                "threshold": threshold,
                "reliable": gate["reliable"],
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
        "allocation": allocation_summary(study=study),
    }
