"""The `squality` importer on the real file (counts from ../shared/data/README.md) and on bad input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from studyapp.importers import ImportFailure, read_items

SPEC = Path(__file__).resolve().parents[3] / "docs" / "results" / "studies" / "squality.yaml"


def test_real_file_counts_match_the_data_readme(shared_data: Path) -> None:
    path = shared_data / "squality" / "all-responses.jsonl"
    items = read_items(path, "squality").items
    # 20 passages x 5 questions x 3 responses = 300 summaries, each reviewed by 3 of 4 reviewers
    assert len(items) == 300 and len({i.external_id for i in items}) == 300
    assert Counter(i.metadata["system"] for i in items) == {"bart": 100, "bart-dpr": 100, "human": 100}
    assert all(len(i.labels) == 3 for i in items)
    reviewers = Counter(label.rater for i in items for label in i.labels)
    assert reviewers == {"squality-2": 225, "squality-3": 225, "squality-6": 225, "squality-8": 225}
    assert sum(len(label.ratings) for i in items for label in i.labels) == 2700
    # the values are the file's, criteria renamed (selection -> coverage)
    raw = json.loads(path.read_text().splitlines()[0])
    first = next(i for i in items if i.external_id == f"squality/{raw['passage-id']}/0/bart")
    review = raw["questions"]["0"]["bart"]["reviews"][0]
    label = next(lb for lb in first.labels if lb.rater == f"squality-{review['worker_id']}")
    assert label.ratings == {
        "correctness": review["correctness-rating"],
        "coverage": review["selection-rating"],
        "overall": review["overall-rating"],
    }
    assert first.summary == raw["questions"]["0"]["bart"]["response"]
    assert first.document.startswith("**Question:** What is the plot of the story?\n\n")
    assert "They never meet these people" in label.comment
    assert sum(i.metadata["n_critiques"] for i in items) == 3142  # the spans the data README counts


def _files(tmp_path: Path, *responses: dict) -> Path:
    (tmp_path / "stories_test.jsonl").write_text(
        json.dumps(
            {
                "metadata": {"passage_id": "p1"},
                "document": "Once upon a time.",
                "questions": [{"question_text": "What happens?"}],
            }
        )
        + "\n"
    )
    path = tmp_path / "all-responses.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in responses))
    return path


def _review(worker: str, rating: float = 50) -> dict:
    return {
        "worker_id": worker,
        "correctness-rating": rating,
        "selection-rating": rating,
        "overall-rating": rating,
        "annotations": [],
    }


def _line(*reviews: dict, passage: str = "p1") -> dict:
    return {
        "passage-id": passage,
        "questions": {"0": {"bart": {"response": "It ends.", "reviews": list(reviews)}}},
    }


GOOD = _line(_review("2"), _review("3"))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            _line(_review("2", 101)),
            "questions.0.bart.reviews[0].correctness-rating: 101 is outside the scale 0-100",
        ),
        (
            _line(_review("2"), _review("2")),
            "questions.0.bart.reviews: a reviewer reviewed this response twice",
        ),
        (_line(_review("2"), passage="p9"), "passage-id: passage 'p9' is not in stories_test.jsonl"),
        (
            {"passage-id": "p1", "questions": {"0": {"gpt": {"response": "x", "reviews": []}}}},
            "unknown system",
        ),
        (
            {"passage-id": "p1", "questions": {"3": {"bart": {"response": "x", "reviews": []}}}},
            "no question 3",
        ),
        (
            _line({"worker_id": "2", "correctness-rating": "high"}),
            "correctness-rating: expected an integer or a number",
        ),
    ],
)
def test_a_bad_line_names_the_line_and_field(tmp_path: Path, bad: dict, message: str) -> None:
    path = _files(tmp_path, GOOD, bad)
    with pytest.raises(ImportFailure) as info:
        read_items(path, "squality")
    assert info.value.line == 2
    assert f"{path}:2: " in str(info.value) and message in str(info.value)


def test_invalid_json_and_a_missing_stories_file(tmp_path: Path) -> None:
    path = _files(tmp_path, GOOD)
    path.write_text(path.read_text() + '{"passage-id": \n')
    with pytest.raises(ImportFailure, match=r"all-responses.jsonl:2: invalid JSON"):
        read_items(path, "squality")
    (tmp_path / "stories_test.jsonl").unlink()
    with pytest.raises(ImportFailure, match=r"stories_test.jsonl: no such file"):
        read_items(path, "squality")


@pytest.mark.django_db
def test_the_replay_spec_loads_the_real_file_and_a_bad_line_loads_nothing(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studyapp.models import Annotation, Item, Label, Rater, Study
    from studyapp.services.study_load import study_load

    monkeypatch.setenv("CONCORDANCE_SHARED_DATA", str(shared_data))
    study_load(path=SPEC)
    study = Study.objects.get(slug="squality")
    assert Item.objects.filter(study=study).count() == 300
    assert Annotation.objects.filter(item__study=study).count() == 900
    assert Label.objects.filter(annotation__item__study=study).count() == 2700
    assert set(Rater.objects.filter(study=study).values_list("name", "kind")) == {
        (f"squality-{w}", "external") for w in (2, 3, 6, 8)
    }
    assert study.spec["analysis"]["epsilon"] == 0.15

    data = tmp_path / "data"
    data.mkdir()
    path = _files(data, GOOD, _line(_review("2", -5)))
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        SPEC.read_text()
        .replace("slug: squality", "slug: squality-bad")
        .replace(
            "${CONCORDANCE_SHARED_DATA:-../../../../shared/data}/squality/all-responses.jsonl", str(path)
        )
    )
    message = r"all-responses.jsonl:2: questions.0.bart.reviews\[0\].correctness-rating: -5 is outside"
    with pytest.raises(ImportFailure, match=message):
        study_load(path=spec)
    assert not Study.objects.filter(slug="squality-bad").exists()
    assert Item.objects.count() == 300
