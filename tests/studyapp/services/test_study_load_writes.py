"""load_study's writes: a fixed number of queries whatever the item count, replacement with live queues."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from studyapp.importers import ImportFailure
from studyapp.models import Annotation, Assignment, Item, Judgment, Label, Participation, Slot, Step
from studyapp.services.assignments import assignment_claim_next
from studyapp.services.participants import rater_for_user
from studyapp.services.study_load import study_load

pytestmark = pytest.mark.django_db

SPEC = """\
slug: writes
title: Writes
overlap: 2
domains: [{name: math}, {name: med}]
personas: [{name: patient}]
rubric: {criteria: [{name: accuracy}, {name: clarity}]}
sources: [{path: items.jsonl, format: native}]
"""


def item(i: int, version: str = "") -> dict[str, Any]:
    """Alternately a reasoning item (an annotation, a judgment with scores) and a summary item."""
    if i % 2:
        return {
            "id": f"s{i}",
            "kind": "summary",
            "domain": "med",
            "persona": "patient",
            "document": f"document {i}{version}",
            "summary": "summary",
            "annotations": [{"rater": f"nurse-{i}", "ratings": {"accuracy": 4, "clarity": 2}}],
            "judgments": [{"judge": "gpt-x", "ratings": {"accuracy": 5}}],
        }
    return {
        "id": f"r{i}",
        "domain": "math",
        "problem": f"problem {i}{version}",
        "trajectory": ["think"],
        "response": ["a", "b"],
        "outcome": True,
        "metadata": {"n": i},
        "gold": {"first_error": -1} if i == 0 else None,
        "annotations": [{"rater": f"expert-{i}", "steps": [1, 1, -1], "first_error": 2, "comment": "c"}],
        "judgments": [{"judge": f"prm-{i % 2}", "steps": [1, 0, None], "step_scores": [0.9, 0.5, 0.1]}],
    }


def load(tmp_path: Path, n: int, version: str = "") -> Any:
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(item(i, version)) + "\n" for i in range(n)))
    (tmp_path / "study.yaml").write_text(SPEC)
    return study_load(path=tmp_path / "study.yaml")


def queries_of(tmp_path: Path, n: int, django_assert_num_queries: Any, expected: int, **kwargs: Any) -> Any:
    with django_assert_num_queries(expected):
        return load(tmp_path, n, **kwargs)


@pytest.mark.parametrize("n", [4, 40])
def test_queries_do_not_grow_with_the_items(tmp_path: Path, django_assert_num_queries: Any, n: int) -> None:
    # First load: the study, its domains, persona and rubric (each checked by full_clean), the
    # raters, then one statement a table for the items and everything under them.
    report = queries_of(tmp_path, n, django_assert_num_queries, FIRST_LOAD)
    assert report.items_created == n
    names = {
        label[k]
        for i in range(n)
        for label in item(i)["annotations"] + item(i)["judgments"]
        for k in label
        if k in ("rater", "judge")
    }
    assert report.raters_created == len(names)
    # The same file again: read, compare, write nothing.
    report = queries_of(tmp_path, n, django_assert_num_queries, NO_OP)
    assert not report.changed
    # Every item changed: two counts, the deletes and the inserts.
    report = queries_of(tmp_path, n, django_assert_num_queries, REPLACE, version=" v2")
    assert report.items_replaced == n


FIRST_LOAD, NO_OP, REPLACE = 45, 9, 32


def test_rows_are_what_the_file_says(tmp_path: Path) -> None:
    load(tmp_path, 4)
    reasoning = Item.objects.get(external_id="r2")
    assert reasoning.metadata == {"n": 2} and reasoning.source == "items.jsonl:3" and not reasoning.is_gold
    assert Item.objects.get(external_id="r0").gold == {"first_error": -1}
    assert list(reasoning.steps.values_list("index", "section", "text")) == [
        (0, "trajectory", "think"),
        (1, "response", "a"),
        (2, "response", "b"),
    ]
    annotation = reasoning.annotations.get()
    assert (annotation.rater.name, annotation.rater.kind, annotation.comment) == ("expert-2", "external", "c")
    assert annotation.created_at is not None and annotation.time_on_task is None
    assert list(annotation.labels.order_by("step__index").values_list("value", "score")) == [
        (1, None),
        (1, None),
        (-1, None),
    ]
    judgment = reasoning.judgments.get()
    assert (judgment.rater.judge_kind, judgment.status, judgment.raw) == (
        "imported",
        "done",
        {"source": "items.jsonl:3"},
    )
    assert judgment.completed_at is not None and judgment.error == "" and judgment.attempts == 0
    assert list(judgment.labels.order_by("step__index").values_list("value", "score")) == [
        (1, 0.9),
        (0, 0.5),
        (None, 0.1),
    ]
    summary = Item.objects.get(external_id="s1")
    assert summary.persona.name == "patient" and summary.steps.count() == 0
    ratings = summary.annotations.get().labels.values_list("criterion__name", "value")
    assert sorted(ratings) == [("accuracy", 4), ("clarity", 2)]
    assert list(summary.judgments.get().labels.values_list("criterion__name", "value")) == [("accuracy", 5)]


def test_replacing_items_clears_their_queues_and_keeps_the_others(tmp_path: Path) -> None:
    load(tmp_path, 4)
    user = get_user_model().objects.create_user("ann", password="x")
    study = Item.objects.get(external_id="r0").study
    rater = rater_for_user(study=study, user=user)
    claimed = assignment_claim_next(rater=rater, study=study)
    assert claimed is not None
    assert Slot.objects.filter(holder=claimed, held_until__isnull=False).exists()
    assert Participation.objects.get(rater=rater).current_id == claimed.pk
    kept = Item.objects.filter(
        pk__in=[*Item.objects.exclude(pk=claimed.item_id).values_list("pk", flat=True)]
    )
    before = {
        "items": list(kept.order_by("pk").values_list("pk", "content_hash")),
        "slots": list(Slot.objects.exclude(item_id=claimed.item_id).order_by("pk").values()),
        "assignments": list(Assignment.objects.exclude(item_id=claimed.item_id).order_by("pk").values()),
        "labels": Label.objects.exclude(step__item_id=claimed.item_id).filter(step__isnull=False).count(),
    }

    # Only the claimed item changes.
    lines = [item(i) for i in range(4)]
    index = next(i for i, obj in enumerate(lines) if obj["id"] == claimed.item.external_id)
    lines[index] = item(index, " v2")
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(o) + "\n" for o in lines))
    report = study_load(path=tmp_path / "study.yaml")

    assert (report.items_replaced, report.items_unchanged) == (1, 3)
    assert not Item.objects.filter(pk=claimed.item_id).exists()
    for model in (Step, Annotation, Judgment, Assignment, Slot):
        assert not model.objects.filter(item_id=claimed.item_id).exists(), model
    assert Participation.objects.get(rater=rater).current_id is None
    new = Item.objects.get(external_id=claimed.item.external_id)
    assert new.annotations.count() == 1 and new.judgments.count() == 1
    assert list(kept.order_by("pk").values_list("pk", "content_hash")) == before["items"]
    assert list(Slot.objects.exclude(item=new).order_by("pk").values()) == before["slots"]
    assert list(Assignment.objects.exclude(item=new).order_by("pk").values()) == before["assignments"]
    assert Label.objects.exclude(step__item=new).filter(step__isnull=False).count() == before["labels"]


def test_the_garbage_collector_runs_again_after_a_load_good_or_bad(tmp_path: Path) -> None:
    load(tmp_path, 2)
    assert gc.isenabled()
    (tmp_path / "items.jsonl").write_text('{"id": "r0", "problem": ""}\n')
    with pytest.raises(ImportFailure):
        study_load(path=tmp_path / "study.yaml")
    assert gc.isenabled()
