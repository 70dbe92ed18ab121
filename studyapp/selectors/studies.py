"""Read-only views of studies: what they hold, counted."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from studyapp.models import Annotation, Item, Judgment, Label, Rater, Step, Study, StudyReport
from studyapp.selectors.allocation import allocation_summary

REPORTS_LISTED = 5


def study_by_slug(*, slug: str) -> Study:
    """The study, whatever its status (researchers see drafts and closed studies), else 404."""
    return get_object_or_404(Study, slug=slug)


def study_list_with_counts(*, open_only: bool) -> QuerySet[Study]:
    """Studies (only the open ones when asked) with their item and rater counts, newest first (one query)."""
    studies = Study.objects.all() if not open_only else Study.objects.filter(status=Study.Status.OPEN)
    return studies.annotate(
        n_items=Count("items", distinct=True), n_raters=Count("raters", distinct=True)
    ).order_by("-created_at")


def study_status(*, study: Study) -> dict[str, Any]:
    """Counts of what a study holds, as plain data (the `study_status` command prints it)."""
    items = Item.objects.filter(study=study)
    by_domain: dict[str, dict[str, int]] = {}
    for row in items.values("domain__name", "kind").annotate(n=Count("id")).order_by():
        by_domain.setdefault(row["domain__name"], {})[row["kind"]] = row["n"]
    steps = Step.objects.filter(item__study=study)
    annotations = {
        row["rater__kind"]: row["n"]
        for row in Annotation.objects.filter(item__study=study)
        .values("rater__kind")
        .annotate(n=Count("id"))
        .order_by()
    }
    judgments: dict[str, dict[str, int]] = {}
    for judged in (
        Judgment.objects.filter(item__study=study)
        .values("rater__name", "rater__version", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        judgments.setdefault(judged["rater__name"], {})[judged["status"]] = judged["n"]
    raters = {
        row["kind"]: row["n"]
        for row in Rater.objects.filter(study=study).values("kind").annotate(n=Count("id")).order_by()
    }
    return {
        "slug": study.slug,
        "title": study.title,
        "status": study.status,
        "overlap": study.overlap,
        "items": {
            "total": items.count(),
            "by_kind": {
                row["kind"]: row["n"] for row in items.values("kind").annotate(n=Count("id")).order_by()
            },
            "by_domain": by_domain,
            "with_outcome": items.filter(outcome__isnull=False).count(),
            "gold": items.filter(is_gold=True).count(),
        },
        "steps": {
            "total": steps.count(),
            "trajectory": steps.filter(section="trajectory").count(),
            "response": steps.filter(section="response").count(),
        },
        "raters": raters,
        "allocation": allocation_summary(study=study),
        "annotations": {
            "total": sum(annotations.values()),
            "by_rater_kind": annotations,
            "labels": Label.objects.filter(annotation__item__study=study).count(),
        },
        "judgments": {
            "total": sum(sum(v.values()) for v in judgments.values()),
            "by_judge": judgments,
            "labels": Label.objects.filter(judgment__item__study=study).count(),
        },
        "annotated_items": items.filter(Q(annotations__rater__kind=Rater.Kind.HUMAN)).distinct().count(),
        "reports": [  # the latest, newest first
            {
                "id": r["pk"],
                "status": r["status"],
                "attempts": r["attempts"],
                "requested_at": r["created_at"].isoformat(),
                "finished_at": r["finished_at"].isoformat() if r["finished_at"] else None,
                "error": r["error"],
            }
            for r in StudyReport.objects.filter(study=study)
            .order_by("-created_at", "-pk")
            .values("pk", "status", "attempts", "created_at", "finished_at", "error")[:REPORTS_LISTED]
        ],
    }
