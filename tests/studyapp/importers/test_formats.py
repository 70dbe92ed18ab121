"""Every importer on the real files in ../shared/data (counts from its README) and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studyapp.importers import FORMATS, ImportFailure, read_items
from tests.studyapp.importers.pairwise_files import mtbench


@pytest.mark.parametrize(
    ("task", "n_items", "rater"),
    [
        ("word_sorting", 300, "bigbench-mistake-human"),
        ("tracking_shuffled_objects", 300, "bigbench-mistake-human"),
        ("multistep_arithmetic", 300, "bigbench-mistake-human"),
        ("dyck_languages", 986, "bigbench-mistake-script"),
    ],
)
def test_bigbench_mistake_real_files(shared_data: Path, task: str, n_items: int, rater: str) -> None:
    path = shared_data / "bigbench_mistake" / f"{task}.jsonl"
    items = read_items(path, "bigbench_mistake").items
    assert len(items) == n_items
    raw = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for item, obj in zip(items, raw, strict=True):
        (label,) = item.labels
        assert label.rater == rater
        assert [s.text for s in item.steps] == obj["steps"]
        assert item.outcome == (obj["answer"].strip() == obj["target"].strip())
        mistake = obj["mistake_index"]
        if mistake is None:
            assert label.first_error == -1 and label.step_labels == [1] * len(obj["steps"])
        else:
            assert label.first_error == mistake
            assert label.step_labels[mistake] == -1
            assert set(label.step_labels[:mistake]) <= {1}
            assert set(label.step_labels[mistake + 1 :]) <= {None}


def test_bigbench_outcomes_are_mostly_wrong(shared_data: Path) -> None:
    # README/REFERENCES: 15% correct outcomes across the three human-labelled tasks.
    items = [
        i
        for task in ("word_sorting", "tracking_shuffled_objects", "multistep_arithmetic")
        for i in read_items(shared_data / "bigbench_mistake" / f"{task}.jsonl", "bigbench_mistake").items
    ]
    share = sum(bool(i.outcome) for i in items) / len(items)
    assert 0.10 < share < 0.20


def test_gsm8k_solutions_real_file(shared_data: Path) -> None:
    items = read_items(shared_data / "gsm8k" / "example_model_solutions.jsonl", "gsm8k_solutions").items
    assert len(items) == 5276
    assert len({i.metadata["problem_id"] for i in items}) == 1319
    assert sum(i.outcome is True for i in items) == 2001
    assert all(not i.labels for i in items)  # outcome labels only
    first = items[0]
    assert first.reference_answer == "18"
    assert first.steps[-1].text.startswith("A:")
    assert first.final_answer == first.steps[-1].text[2:].strip()


def test_prmbench_real_file(shared_data: Path) -> None:
    result = read_items(shared_data / "prmbench" / "subset400.jsonl", "prmbench")
    assert len(result.items) == 394
    # A few error indexes point past the last step: ignored, and counted.
    assert len(result.warnings) == 1 and "past the last step" in result.warnings[0]
    pencil = next(i for i in result.items if i.external_id == "prm_test_p1_0")
    (label,) = pencil.labels
    assert label.step_labels == [1, 1, 1, 1, -1, -1]  # error_steps [5, 6] are 1-based
    assert label.first_error == 4


def test_hanna_real_file(shared_data: Path) -> None:
    result = read_items(shared_data / "hanna" / "hanna_metric_scores_llm.csv", "hanna")
    assert len(result.items) == 1056
    assert len({i.metadata["system"] for i in result.items}) == 11
    first = result.items[0]
    mean = next(label for label in first.labels if label.rater == "hanna-human-mean")
    assert mean.rater_kind == "external"
    assert mean.ratings["relevance"] == pytest.approx(3.6666666666666665)
    judges = {label.rater for label in first.labels if label.rater_kind == "judge"}
    assert {"ChatGPT/p1", "Beluga-13B/p4", "Mistral-7B/p2", "Llama-13B/p3"} <= judges


def test_hanna_individual_humans(shared_data: Path) -> None:
    items = read_items(
        shared_data / "hanna" / "hanna_metric_scores_llm.csv", "hanna", individual_humans=True
    ).items
    raters = {label.rater for label in items[0].labels if label.rater_kind == "external"}
    assert raters == {"hanna-human-1", "hanna-human-2", "hanna-human-3"}


def test_processbench_sample(test_data: Path) -> None:
    items = read_items(test_data / "processbench_sample.jsonl", "processbench").items
    assert [i.labels[0].first_error for i in items] == [1, -1, 1]
    assert items[0].labels[0].step_labels == [1, -1, None]
    assert items[1].labels[0].step_labels == [1, 1, 1]
    assert [i.outcome for i in items] == [False, True, False]


def test_prm800k_sample(test_data: Path) -> None:
    first, second = read_items(test_data / "prm800k_sample.jsonl", "prm800k").items
    # No completion chosen on step 2 and no human completion: the rated one ends the trace.
    assert [s.text for s in first.steps] == ["We add one and one.", "That gives 3."]
    assert first.labels[0].step_labels == [1, -1] and first.labels[0].first_error == 1
    # A human completion replaces the rejected ones and is unrated.
    assert [s.text for s in second.steps] == ["Multiply 2 by 3.", "It is 6.", "# Answer\n\n6"]
    assert second.labels[0].step_labels == [0, None, 1] and second.labels[0].first_error == -1
    assert second.reference_answer == "6"


# --- malformed input: the file, the line and the field are named ------------------------------

GOOD = {
    "bigbench_mistake": {
        "input": "sort a b",
        "steps": ["s1", "s2"],
        "target": "a b",
        "answer": "a b",
        "mistake_index": None,
    },
    "processbench": {
        "id": "p",
        "problem": "q",
        "steps": ["s1", "s2"],
        "label": -1,
        "final_answer_correct": True,
    },
    "prmbench": {"idx": "x", "question": "q", "modified_process": ["s1", "s2"], "error_steps": [1]},
    "gsm8k_solutions": {
        "question": "q",
        "ground_truth": "A: 1",
        "m": {"is_correct": True, "solution": "x\nA: 1"},
    },
    "native": {"id": "n1", "problem": "q", "steps": ["s1", "s2"]},
    "mtbench_human": mtbench("expert_1", "tie"),
}

BAD_RECORDS = [
    ("bigbench_mistake", "steps", {"steps": None}, "steps: missing"),
    ("bigbench_mistake", "wrong type", {"steps": "s1 s2"}, "steps: expected a list, got a string"),
    ("bigbench_mistake", "out of range", {"mistake_index": 2}, "mistake_index: index 2 out of range"),
    ("bigbench_mistake", "bool index", {"mistake_index": True}, "mistake_index: expected an integer"),
    ("processbench", "out of range", {"label": 5}, "label: index 5 out of range"),
    ("processbench", "missing", {"problem": None}, "problem: missing"),
    ("prmbench", "zero index", {"error_steps": [0]}, "error_steps[0]: index 0 out of range"),
    ("prmbench", "wrong type", {"error_steps": ["2"]}, "error_steps[0]: expected an integer"),
    (
        "gsm8k_solutions",
        "wrong type",
        {"m": {"is_correct": "yes", "solution": "x"}},
        "m.is_correct: expected a boolean",
    ),
    (
        "native",
        "bad label",
        {"annotations": [{"rater": "r", "steps": [1, 2]}]},
        "annotations[0].steps[1]: label must be -1, 0, 1 or null",
    ),
    ("native", "unknown field", {"stpes": []}, "stpes: unknown field"),
    (
        "native",
        "order",
        {"steps": [{"text": "a", "section": "response"}, {"text": "b", "section": "trajectory"}]},
        "steps[1].section: trajectory steps must come before response steps",
    ),
]


@pytest.mark.parametrize(
    ("fmt", "case", "change", "message"), BAD_RECORDS, ids=[f"{b[0]}-{b[1]}" for b in BAD_RECORDS]
)
def test_bad_record_names_line_and_field(
    tmp_path: Path, fmt: str, case: str, change: dict, message: str
) -> None:
    bad = {**GOOD[fmt], **change}
    lines = [json.dumps(_first(fmt)), json.dumps(bad)]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFailure) as info:
        read_items(path, fmt)
    assert info.value.line == 2
    assert f"{path}:2: {message}" in str(info.value)


def _first(fmt: str) -> dict:
    """A good record with an id other than the bad record's, for line 1."""
    key = {"native": "id", "processbench": "id", "prmbench": "idx", "mtbench_human": "judge"}.get(fmt)
    return GOOD[fmt] | ({key: "first"} if key else {})


@pytest.mark.parametrize("fmt", sorted(GOOD))
def test_invalid_json_names_the_line(tmp_path: Path, fmt: str) -> None:
    # squality: test_squality.py; llmbar (a JSON list): test_pairwise.py;
    # the JSON-document formats: test_domains.py
    elsewhere = {"hanna", "prm800k", "squality", "llmbar", "mr_ben", "roscoe", "summedits"}
    assert set(GOOD) == set(FORMATS) - elsewhere
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps(_first(fmt)) + "\n\n" + '{"broken": \n')
    with pytest.raises(ImportFailure) as info:
        read_items(path, fmt)
    assert info.value.line == 3
    assert "invalid JSON" in str(info.value)


def test_prm800k_bad_rating(tmp_path: Path, test_data: Path) -> None:
    first, second = (test_data / "prm800k_sample.jsonl").read_text().splitlines()
    path = tmp_path / "prm800k.jsonl"
    path.write_text(first + "\n" + second.replace('"rating": 0', '"rating": 2') + "\n")
    with pytest.raises(ImportFailure, match=r"prm800k.jsonl:2: label.steps\[0\].rating: must be -1, 0, 1"):
        read_items(path, "prm800k")


def test_invalid_json_line_number(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps(GOOD["native"]) + "\n\n" + '{"id": 2, "problem": \n')
    with pytest.raises(ImportFailure, match=r"items.jsonl:3: invalid JSON"):
        read_items(path, "native")


def test_hanna_bad_cell(tmp_path: Path) -> None:
    path = tmp_path / "hanna.csv"
    header = "Model,Relevance,Coherence,Empathy,Surprise,Engagement,Complexity,ChatGPT RE 1\n"
    good = 'Sys,"[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[3, 4]"\n'
    bad = 'Bad,"[1.0, 2.0]","[1.0]","[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[3, 4]"\n'
    path.write_text(header + good + bad)
    with pytest.raises(ImportFailure, match=r"hanna.csv:3: Coherence: 1 scores where Relevance has 2"):
        read_items(path, "hanna")
    path.write_text(header + good.replace('"[3, 4]"', '"[3, oops]"'))
    with pytest.raises(ImportFailure, match=r"hanna.csv:2: ChatGPT RE 1: not a list of numbers"):
        read_items(path, "hanna")


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFailure, match="unknown format 'csv'"):
        read_items(tmp_path / "x", "csv")
    with pytest.raises(ImportFailure, match="no such file"):
        read_items(tmp_path / "missing.jsonl", "native")


def test_native_step_forms(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        json.dumps({"id": 1, "problem": "p", "trajectory": ["t1", "t2"], "response": ["r1"], "outcome": True})
        + "\n"
        + json.dumps(
            {
                "id": 2,
                "problem": "p",
                "steps": ["a", {"text": "b", "section": "response"}],
                "gold": {"first_error": -1},
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": 3,
                "kind": "summary",
                "document": "d",
                "summary": "s",
                "persona": "x",
                "annotations": [{"rater": "e", "ratings": {"fit": 4}}],
            }
        )
        + "\n"
    )
    first, second, third = read_items(path, "native").items
    assert [(s.text, s.section) for s in first.steps] == [
        ("t1", "trajectory"),
        ("t2", "trajectory"),
        ("r1", "response"),
    ]
    assert first.outcome is True and first.external_id == "1"
    assert second.is_gold and second.gold == {"first_error": -1}
    assert third.kind == "summary" and third.labels[0].ratings == {"fit": 4.0}


def test_hanna_stories_fill_prompt_and_story(tmp_path: Path) -> None:
    metrics = tmp_path / "hanna.csv"
    header = "Model,Relevance,Coherence,Empathy,Surprise,Engagement,Complexity\n"
    cells = ",".join(['"[1.0, 2.0]"'] * 6)
    metrics.write_text(header + f"A,{cells}\nB,{cells}\n")
    stories = tmp_path / "stories.csv"
    rows = ["Model,Prompt,Story,Worker"]
    for system in ("A", "B"):
        for n in range(2):
            # three raters a story, three rows
            rows += [f'{system},"prompt {system}{n}","story {system}{n}",w{k}' for k in range(3)]
    stories.write_text("\n".join(rows) + "\n")
    items = read_items(metrics, "hanna", stories=str(stories)).items
    assert [(i.external_id, i.document, i.summary) for i in items] == [
        ("hanna/A/0", "prompt A0", "story A0"),
        ("hanna/A/1", "prompt A1", "story A1"),
        ("hanna/B/0", "prompt B0", "story B0"),
        ("hanna/B/1", "prompt B1", "story B1"),
    ]
    assert all(i.metadata["text_available"] for i in items)
