"""The dashboard's live estimates: the stored snapshot, never a build (`services/live.py`)."""

from __future__ import annotations

from typing import Any

from studyapp.models import Annotation, LiveSnapshot, Study

__all__ = ["live_annotation_count", "study_live"]


def live_annotation_count(*, study: Study) -> int:
    """Annotations the live estimates read: people's and imported raters', gold items left
    out (as the report leaves them out)."""
    return Annotation.objects.filter(item__study=study, item__is_gold=False).count()


def study_live(*, study: Study) -> dict[str, Any]:
    """The snapshot's data (its domains, settings and plan) and when it was built, how many
    annotations it reflects and how many arrived since, and whether a refresh is queued or
    running (2 queries)."""
    snapshot = LiveSnapshot.objects.filter(study=study).first()
    count = live_annotation_count(study=study)
    if snapshot is None:
        return {
            "snapshot": None,
            "domains": [],
            "settings": {},
            "plan": None,
            "n_annotations": 0,
            "since": count,
        }
    data = snapshot.data or {}
    return {
        "snapshot": snapshot,
        "domains": data.get("domains", []),
        "settings": data.get("settings", {}),
        "plan": data.get("plan"),  # None in a snapshot built without a target width, or before plans
        "n_annotations": snapshot.n_annotations,
        "since": max(count - snapshot.n_annotations, 0),
        "refreshing": snapshot.pending or snapshot.status != LiveSnapshot.Status.DONE,
    }
