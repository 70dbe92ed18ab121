"""The step-labelled formats beyond math (MR-Ben, ROSCOE, SummEdits) and ProcessBench's first
release, on the real files in ../shared/data (counts from its README) and on malformed input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from studyapp.importers import ImportFailure, read_items
from studyapp.importers.roscoe import COUNTED
from studyapp.importers.summedits import edited_sentence, sentences

# --- ProcessBench, first release ----------------------------------------------------------------


@pytest.mark.parametrize(("subset", "n_error", "n_correct"), [("gsm8k", 207, 193), ("math", 594, 406)])
def test_processbench_first_release(shared_data: Path, subset: str, n_error: int, n_correct: int) -> None:
    path = shared_data / "processbench" / f"{subset}.json"
    items = read_items(path, "processbench").items
    raw = json.loads(path.read_text())
    assert len(items) == len(raw) == n_error + n_correct
    for item, obj in zip(items, raw, strict=True):
        (label,) = item.labels
        assert item.external_id == obj["id"] and item.metadata["subset"] == subset
        assert [s.text for s in item.steps] == obj["steps"]
        assert label.first_error == obj["label"]
        assert item.outcome is obj["final_answer_correct"]
        if obj["label"] >= 0:
            assert label.step_labels[obj["label"]] == -1
    assert sum(i.labels[0].first_error >= 0 for i in items) == n_error
    # Lines name where each record begins in the published (indented) list.
    assert items[0].line == 2 and items[1].line > items[0].line


def test_processbench_json_list_names_the_bad_records_line(tmp_path: Path) -> None:
    good = {"id": "a", "problem": "q", "steps": ["s1", "s2"], "label": -1, "final_answer_correct": True}
    path = tmp_path / "pb.json"
    path.write_text(json.dumps([good, {**good, "id": "b", "label": 7}], indent=2))
    with pytest.raises(ImportFailure) as info:
        read_items(path, "processbench")
    assert info.value.line == 12 and "label: index 7 out of range" in str(info.value)
    path.write_text('[\n{"id": "a"},\n{"id": "b",\n')
    with pytest.raises(ImportFailure, match=r"pb.json:2: steps: missing"):
        read_items(path, "processbench")
    path.write_text(json.dumps([good]).replace("}]", "},,]"))
    with pytest.raises(ImportFailure, match=r"pb.json:1: invalid JSON"):
        read_items(path, "processbench")


# --- MR-Ben -----------------------------------------------------------------------------------

MR_BEN = [("biology", 1035, 418), ("chemistry", 848, 466), ("math", 918, 769), ("physics", 667, 348)]


@pytest.mark.parametrize(("subject", "n", "n_incorrect"), MR_BEN)
def test_mr_ben_real_files(shared_data: Path, subject: str, n: int, n_incorrect: int) -> None:
    path = shared_data / "mr_ben" / f"{subject}.json"
    result = read_items(path, "mr_ben")
    items = result.items
    by_key = json.loads(path.read_text())
    raw = [s for sols in by_key.values() for s in sols]
    keys = [key for key, sols in by_key.items() for _ in sols]
    assert len(items) == len(raw) == n
    assert sum(i.outcome is False for i in items) == n_incorrect
    assert {i.domain for i in items} == {subject}
    assert not result.warnings
    aligned = 0
    for item, obj, key in zip(items, raw, keys, strict=True):
        (label,) = item.labels
        assert label.rater == "mr-ben-human"
        assert [s.text for s in item.steps] == [s for s in obj["Model_Solution_Steps"] if s.strip()]
        assert item.metadata["problem_id"] == key
        assert item.metadata["question_uuid"] == obj["Question_UUID"]
        first = obj["Model_Solution_First_Error_Step"]
        if obj["Model_Solution_Correctness"] == "correct":
            assert first == "N/A" and label.first_error == -1 and set(label.step_labels) == {1}
        else:
            number = int(first)  # 1-based in the file: the step labelled "Step <number>"
            k = label.first_error
            assert label.step_labels[k] == -1 and set(label.step_labels[:k]) <= {1}
            texts = [s.text.lstrip() for s in item.steps]
            labelled = [i for i, t in enumerate(texts) if re.match(rf"Step {number}\b", t)]
            assert k == (labelled[0] if labelled else number - 1)
            aligned += k == number - 1
    # Most lists number their steps one an entry; the rest hold continuation lines.
    assert aligned > n_incorrect * 0.5
    assert len({i.metadata["problem_id"] for i in items}) == len(json.loads(path.read_text()))


def test_mr_ben_coding_lines(shared_data: Path) -> None:
    path = shared_data / "mr_ben" / "coding.json"
    result = read_items(path, "mr_ben")
    items = result.items
    assert len(items) == 238 and sum(i.outcome is False for i in items) == 164
    assert {i.domain for i in items} == {"coding"}
    raw = [s for sols in json.loads(path.read_text()).values() for s in sols]
    placed = 0
    for item, obj in zip(items, raw, strict=True):
        code_lines = [line for line in obj["Model_Solution_Steps"].split("\n") if line.strip()]
        assert [s.text for s in item.steps] == code_lines
        if item.outcome:
            assert item.labels[0].first_error == -1
        elif item.labels:
            placed += 1
            k = item.labels[0].first_error
            assert item.steps[k].text.strip() == obj["Model_Solution_First_Error_Step"].strip()
    # 142 first-error lines match exactly one code line; 22 match none (blank) or several.
    assert placed == 142
    assert result.warnings == [
        "coding.json: 22 incorrect coding solutions name a first-error line that matches no code "
        "line or several; imported with their outcome and without step labels"
    ]


MR_GOOD = {
    "Question_UUID": "u1",
    "Subject": "high_school_physics",
    "Question": "q?",
    "Options": "A: 1\nB: 2",
    "Sampled_Model": "Claude2",
    "Model_Solution_Steps": ["Step 1: a", "Step 2: b", "Solution: Choice_A"],
    "Model_Solution_Correctness": "incorrect",
    "Model_Solution_First_Error_Step": "2",
}

MR_BAD = [
    ({"Model_Solution_First_Error_Step": "4"}, "Model_Solution_First_Error_Step: step 4 out of range"),
    ({"Model_Solution_First_Error_Step": "N/A"}, "'N/A' on an incorrect solution"),
    ({"Model_Solution_Correctness": "maybe"}, "Model_Solution_Correctness: 'maybe' is not"),
    ({"Model_Solution_Correctness": "correct"}, "'2' on a correct solution"),
    ({"Model_Solution_Steps": [1, 2]}, "Model_Solution_Steps[0]: expected a string"),
    ({"Question": None}, "Question: missing"),
]


@pytest.mark.parametrize(("change", "message"), MR_BAD)
def test_mr_ben_bad_solution_names_line_and_field(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "physics.json"
    data = {"u1": [MR_GOOD], "u2": [MR_GOOD, {**MR_GOOD, **change}]}
    path.write_text(json.dumps(data, indent=1))
    with pytest.raises(ImportFailure) as info:
        read_items(path, "mr_ben")
    text = path.read_text().splitlines()
    # the bad solution is the second of u2: the line where it begins
    starts = [n for n, line in enumerate(text, 1) if line.strip() == "{"]
    assert info.value.line == starts[-1]
    assert "u2[1]." in str(info.value) and message in str(info.value)


def test_mr_ben_good_file_and_domain(tmp_path: Path) -> None:
    path = tmp_path / "physics.json"
    path.write_text(json.dumps({"u1": [MR_GOOD]}))
    (item,) = read_items(path, "mr_ben").items
    assert item.domain == "physics" and item.metadata["subject"] == "high_school_physics"
    assert item.labels[0].step_labels == [1, -1, None] and item.outcome is False
    assert item.problem == "q?\n\nA: 1\nB: 2"
    (item,) = read_items(path, "mr_ben", domain="science").items
    assert item.domain == "science"


# --- ROSCOE -----------------------------------------------------------------------------------

ROSCOE = [("drop", 451, 210), ("esnli", 272, 151), ("gsm8k", 881, 200)]


@pytest.mark.parametrize(("task", "n_steps", "n_chains"), ROSCOE)
def test_roscoe_real_files(shared_data: Path, task: str, n_steps: int, n_chains: int) -> None:
    path = shared_data / "roscoe" / f"roscoe-{task}-stepwise.json"
    result = read_items(path, "roscoe")
    items = result.items
    assert not result.warnings
    assert len(items) == n_chains
    assert sum(len(i.steps) for i in items) == n_steps
    raw = json.loads(path.read_text())["instances"]
    wrong = {  # (the chain's context, the step) of every step with an error that counts
        (inst["instance"].split("CONTEXT:\n", 1)[1].split("\nGENERATED RESPONSE:")[0].strip(),
         inst["instance"].split("\nJUDGE: ")[1].strip())
        for inst in raw
        if any(inst["annotations"][t]["majority_human"] == "yes" for t in COUNTED)
    }  # fmt: skip
    n_wrong = 0
    for item in items:
        (label,) = item.labels
        assert None not in label.step_labels  # every step of every chain is judged
        for step, value in zip(item.steps, label.step_labels, strict=True):
            assert (value == -1) == ((item.problem, step.text) in wrong)
        n_wrong += label.step_labels.count(-1)
        assert item.outcome is (item.metadata["overall"]["Overall Quality"] >= 4)
        assert item.metadata["task"] == task and item.problem.startswith(("Situation", "Question"))
    assert n_wrong == sum(
        any(inst["annotations"][t]["majority_human"] == "yes" for t in COUNTED) for inst in raw
    )


def test_roscoe_outcome_is_not_read_from_the_step_labels(shared_data: Path) -> None:
    # The outcome is the expert's whole-chain rating: chains with a wrong step and a good rating,
    # and all-correct chains rated poorly, both exist, so it is no function of the step labels.
    items = read_items(shared_data / "roscoe" / "roscoe-drop-stepwise.json", "roscoe").items
    has_wrong = [-1 in i.labels[0].step_labels for i in items]
    assert any(w and i.outcome for w, i in zip(has_wrong, items, strict=True))
    assert any(not w and not i.outcome for w, i in zip(has_wrong, items, strict=True))


def test_roscoe_error_types_option_and_missing_overall(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "roscoe" / "roscoe-esnli-stepwise.json"
    every = read_items(src, "roscoe").items
    fewer = read_items(src, "roscoe", error_types=["Factuality", "Arithmetic"]).items
    count = lambda items: sum(i.labels[0].step_labels.count(-1) for i in items)  # noqa: E731
    assert count(fewer) < count(every)
    alone = tmp_path / "roscoe-esnli-stepwise.json"
    alone.write_text(src.read_text())
    result = read_items(alone, "roscoe")
    assert all(i.outcome is None for i in result.items)
    assert result.warnings == ["roscoe-esnli-overall.json not found: the chains have no outcome"]
    with pytest.raises(ImportFailure, match="error_types: unknown error types"):
        read_items(src, "roscoe", error_types=["Spelling"])


def roscoe_instance(chain: list[str], step: str, **marks: str) -> dict:
    annotations = {
        t: {"majority_human": marks.get(t.replace(" ", "_"), "no"), "individual_human_scores": ["no"]}
        for t in ("Grammar", *COUNTED)
    }
    body = "\n".join(f"Step {k} - {s}" for k, s in enumerate(chain, 1))
    text = f"Intro\n\nCONTEXT:\nQuestion: q\n\nGENERATED RESPONSE:\n{body}\nJUDGE: {step}\n"
    return {"id": 1, "instance": text, "annotations": annotations}


def test_roscoe_rebuilds_chains_and_grammar_does_not_count(tmp_path: Path) -> None:
    chain = ["a", "b"]
    path = tmp_path / "roscoe-x-stepwise.json"
    instances = [
        roscoe_instance(chain, "Step 1 - a", Grammar="yes"),
        roscoe_instance(chain, "Step 2 - b", Hallucination="yes"),
    ]
    path.write_text(json.dumps({"instances": instances}, indent=1))
    (item,) = read_items(path, "roscoe").items
    assert [s.text for s in item.steps] == ["Step 1 - a", "Step 2 - b"]
    assert item.labels[0].step_labels == [1, -1] and item.labels[0].first_error == 1
    bad = [instances[0], {**instances[1], "annotations": {**instances[1]["annotations"], "Arithmetic": {}}}]
    path.write_text(json.dumps({"instances": bad}, indent=1))
    with pytest.raises(ImportFailure) as info:
        read_items(path, "roscoe")
    assert "annotations.Arithmetic.majority_human: missing" in str(info.value)
    lines = path.read_text().splitlines()
    assert lines[info.value.line - 1].strip() == "{" and info.value.line > 20  # the second instance
    path.write_text(json.dumps({"instances": [roscoe_instance(chain, "Step 3 - c")]}))
    with pytest.raises(ImportFailure, match="the step judged is not a step of its chain"):
        read_items(path, "roscoe")


# --- SummEdits --------------------------------------------------------------------------------

SUMMEDITS = ["ectsum", "news", "qmsumm", "sales_call", "sales_email", "samsum"]


def test_summedits_real_files(shared_data: Path) -> None:
    items, raw = [], []
    for domain in SUMMEDITS:
        path = shared_data / "summedits" / f"summedits_{domain}.json"
        got = read_items(path, "summedits").items
        assert {i.metadata["domain"] for i in got} == {domain} and {i.domain for i in got} == {None}
        items += got
        raw += json.loads(path.read_text())
    assert len(items) == 3715
    assert sum(i.outcome is False for i in items) == 2375
    placed = pairwise = 0
    for item, obj in zip(items, raw, strict=True):
        assert item.outcome is (obj["label"] == 1)
        # A second rule where the sentence counts agree: exactly one position differs.
        a, b = sentences(obj["original_summary"]), sentences(obj["summary"])
        if obj["label"] == 0 and len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1:
            pairwise += 1
            assert item.labels and b[item.labels[0].first_error] not in a
        assert " ".join(" ".join(s.text for s in item.steps).split()) == " ".join(obj["summary"].split())
        if obj["label"] == 1:
            assert item.labels[0].first_error == -1
        elif item.labels:
            placed += 1
            k = item.labels[0].first_error
            assert item.steps[k].text not in sentences(obj["original_summary"])
            others = [s.text for j, s in enumerate(item.steps) if j != k]
            assert set(others) <= set(sentences(obj["original_summary"]))
    # 1,442 of the 2,375 inconsistent summaries have one edited sentence; the rest keep only
    # their outcome.
    assert placed == 1442 and pairwise == 1416  # difflib also places 26 with a sentence added


def test_summedits_sentences_and_edits() -> None:
    assert sentences("A went home. B stayed! Was it 3 p.m.? Yes.") == [
        "A went home.",
        "B stayed!",
        "Was it 3 p.m.?",
        "Yes.",
    ]
    assert edited_sentence(["a.", "x.", "c."], ["a.", "b.", "c."]) == 1
    assert edited_sentence(["x.", "y."], ["a.", "b."]) is None  # two edited
    assert edited_sentence(["a."], ["a."]) is None  # none
    assert edited_sentence(["a."], ["a.", "b."]) is None  # a sentence dropped


def test_summedits_bad_record(tmp_path: Path) -> None:
    good = {"id": "x", "doc": "d", "summary": "A. B.", "label": 0, "original_summary": "A. C."}
    path = tmp_path / "summedits_news.json"
    path.write_text(json.dumps([good, {**good, "label": 2}], indent=1))
    with pytest.raises(ImportFailure) as info:
        read_items(path, "summedits")
    assert "label: 2 is not 0 or 1" in str(info.value) and info.value.line == 9
    path.write_text(json.dumps([good]))
    (item,) = read_items(path, "summedits").items
    assert [s.text for s in item.steps] == ["A.", "B."]
    assert item.labels[0].step_labels == [1, -1] and item.outcome is False


def json_records_file(tmp_path: Path, fmt: str) -> Path:
    """Two good records of a JSON-document format, each on its own line from line 2."""
    if fmt == "mr_ben":
        path, head, tail = tmp_path / "physics.json", '{"u1": [', "]}"
        records = [
            MR_GOOD,
            {**MR_GOOD, "Model_Solution_Correctness": "correct", "Model_Solution_First_Error_Step": "N/A"},
        ]
    elif fmt == "roscoe":
        path, head, tail = tmp_path / "roscoe-x-stepwise.json", '{"instances": [', "]}"
        records = [roscoe_instance(["ab", "cd"], "Step 1 - ab"), roscoe_instance(["ab", "cd"], "Step 2 - cd")]
    else:
        path, head, tail = tmp_path / "summedits_news.json", "[", "]"
        good = {"id": "x", "doc": "doc", "summary": "Aa. Bb.", "label": 0, "original_summary": "Aa. Cc."}
        records = [good, {**good, "id": "y", "label": 1}]
    path.write_text(head + "\n" + ",\n".join(json.dumps(r) for r in records) + "\n" + tail + "\n")
    return path
