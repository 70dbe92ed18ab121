"""Pairwise items: the native kind, `llmbar` (real files and bad ones) and `mtbench_human`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from studyapp.importers import ImportFailure, read_items
from tests.studyapp.importers.pairwise_files import llmbar_entry, llmbar_files, mtbench

SUBSETS = {"Natural": 100, "Adversarial/Neighbor": 134, "Adversarial/GPTInst": 92}


def jsonl(tmp_path: Path, *objects: dict) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))
    return path


def refused(path: Path, fmt: str) -> ImportFailure:
    with pytest.raises(ImportFailure) as info:
        read_items(path, fmt)
    return info.value


PAIR = {"id": "p1", "kind": "pairwise", "prompt": "Say hi", "response_a": "hi", "response_b": "hello"}


def test_native_pairwise_item_with_people_and_a_judge_in_both_orders(tmp_path: Path) -> None:
    item = {
        **PAIR,
        "annotations": [
            {"rater": "ann", "preferences": {"overall": "B", "harmless": "tie"}, "comment": "why"}
        ],
        "judgments": [{"judge": "gpt", "orders": {"overall": {"ab": "A", "ba": "B"}}}],
    }
    (record,) = read_items(jsonl(tmp_path, item), "native").items
    assert (record.kind, record.problem, record.response_a, record.response_b) == (
        "pairwise",
        "Say hi",
        "hi",
        "hello",
    )
    human, judge = record.labels
    assert human.ratings == {"overall": -1.0, "harmless": 0.0} and human.comment == "why"
    # the orders disagree: the combined verdict is a tie, both verdicts kept
    assert judge.rater_kind == "judge" and judge.ratings == {"overall": 0.0}
    assert judge.orders == {"overall": {"ab": "A", "ba": "B"}}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"response_b": None}, "response_b", "missing"),
        ({"prompt": " "}, "prompt", "empty"),
        ({"steps": ["s"]}, "steps", "not a field of pairwise items"),
        (
            {"annotations": [{"rater": "r", "preferences": {"overall": "a"}}]},
            "annotations[0].preferences.overall",
            "must be 'A', 'B' or 'tie'",
        ),
        (
            {"annotations": [{"rater": "r", "preferences": {}}]},
            "annotations[0].rater",
            "carries no preferences",
        ),
        (
            {"annotations": [{"rater": "r", "steps": [1]}]},
            "annotations[0].steps",
            "not a field of a pairwise label",
        ),
        (
            {"annotations": [{"rater": "r", "orders": {}}]},
            "annotations[0].orders",
            "only judgments have orders",
        ),
        (
            {"judgments": [{"judge": "j", "orders": {"overall": {"ab": "A"}}}]},
            "judgments[0].orders.overall",
            "expected",
        ),
        (
            {
                "judgments": [
                    {
                        "judge": "j",
                        "preferences": {"overall": "A"},
                        "orders": {"overall": {"ab": "A", "ba": "tie"}},
                    }
                ]
            },
            "judgments[0].preferences.overall",
            "is not the combination of its orders ('tie')",
        ),
    ],
)
def test_native_pairwise_bad_fields_are_named(tmp_path: Path, change: dict, field: str, message: str) -> None:
    failure = refused(jsonl(tmp_path, {**PAIR, "id": "p0"}, {**PAIR, **change}), "native")
    assert (failure.line, failure.field) == (2, field)
    assert message in failure.message


@pytest.mark.parametrize("subset", sorted(SUBSETS))
def test_llmbar_real_files(shared_data: Path, subset: str) -> None:
    folder = shared_data / "llmbar" / "LLMBar" / subset
    items = read_items(folder / "dataset.json", "llmbar").items
    data = json.loads((folder / "dataset.json").read_text())
    results = json.loads((folder / "evaluators" / "GPT-4" / "Vanilla" / "result.json").read_text())
    assert len(items) == SUBSETS[subset] == len(data)
    assert [i.external_id for i in items] == [f"llmbar/{subset}/{n}" for n in range(len(data))]
    assert all(i.kind == "pairwise" for i in items)
    for item, entry, result in zip(items, data, results, strict=True):
        assert (item.problem, item.response_a, item.response_b) == (
            entry["input"],
            entry["output_1"],
            entry["output_2"],
        )
        gold, judge = item.labels
        assert (gold.rater, gold.rater_kind) == ("llmbar-gold", "external")
        assert gold.ratings == {"overall": 1.0 if entry["label"] == 1 else -1.0}
        assert (judge.rater, judge.rater_kind) == ("GPT-4/Vanilla", "judge")
        swaps = result["results"][-1]
        names = {"1": "A", "2": "B"}
        assert judge.orders["overall"] == {
            "ab": names[swaps["swap = False"]["winner"]],
            "ba": names[swaps["swap = True"]["winner"]],
        }
    pairs = Counter((i.labels[1].orders["overall"]["ab"], i.labels[1].orders["overall"]["ba"]) for i in items)
    assert sum(n for (ab, ba), n in pairs.items() if ab == ba) == sum(
        1 for i in items if i.labels[1].ratings["overall"] != 0
    )


def test_llmbar_without_evaluators_and_with_a_missing_verdict(tmp_path: Path) -> None:
    entries = [llmbar_entry(0, 1), llmbar_entry(1, 2)]
    path = llmbar_files(tmp_path, entries, [("1", None), ("2", "2")])
    first, second = read_items(path, "llmbar").items
    assert first.external_id == "llmbar/Natural/0"
    assert first.labels[1].orders == {"overall": {"ab": "A", "ba": None}} and first.labels[1].ratings == {
        "overall": 0.0
    }
    assert second.labels[0].ratings == {"overall": -1.0} and second.labels[1].ratings == {"overall": -1.0}
    assert [len(i.labels) for i in read_items(path, "llmbar", evaluators=False).items] == [1, 1]


@pytest.mark.parametrize(
    ("entries", "verdicts", "where", "field", "message"),
    [
        (
            [llmbar_entry(0), {**llmbar_entry(1), "label": 3}],
            None,
            "dataset.json:2",
            "label",
            "must be 1 or 2",
        ),
        ([llmbar_entry(0), {**llmbar_entry(1), "input": None}], None, "dataset.json:2", "input", "missing"),
        (
            [llmbar_entry(0), {**llmbar_entry(1), "output_2": 7}],
            None,
            "dataset.json:2",
            "output_2",
            "expected a string",
        ),
        ([llmbar_entry(0), "x"], None, "dataset.json:2", "[1]", "expected an object"),
        (
            [llmbar_entry(0), llmbar_entry(1)],
            [("1", "1"), ("1", "3")],
            "result.json:2",
            "results[0].swap = True.winner",
            "must be",
        ),
    ],
)
def test_llmbar_bad_input_names_file_line_and_field(
    tmp_path: Path, entries: list, verdicts: list | None, where: str, field: str, message: str
) -> None:
    failure = refused(llmbar_files(tmp_path, entries, verdicts), "llmbar")
    assert str(failure).split(": ")[0].endswith(where) and failure.field == field
    assert message in failure.message


def test_llmbar_result_of_another_dataset_is_refused(tmp_path: Path) -> None:
    path = llmbar_files(tmp_path, [llmbar_entry(0), llmbar_entry(1)], [("1", "1"), ("2", "2")])
    result = path.parent / "evaluators" / "GPT-4" / "Vanilla" / "result.json"
    data = json.loads(result.read_text())
    data[1]["input"] = "another instruction"
    result.write_text(json.dumps(data, indent=2))
    failure = refused(path, "llmbar")
    starts = [n for n, text in enumerate(result.read_text().splitlines(), 1) if text == "  {"]
    assert failure.path == str(result) and failure.field == "input" and failure.line == starts[1]
    assert "not the instruction of dataset.json line 2" in failure.message
    result.write_text(json.dumps(data[:1]))
    assert "1 entries where dataset.json has 2" in refused(path, "llmbar").message


def test_mtbench_human_several_judges_per_pair_and_orientation(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        mtbench("expert_0", "model_a"),
        mtbench("expert_1", "tie"),
        # the same pair the other way round: model_a here is vicuna, so its win is B's
        mtbench("author_2", "model_a", model_a="vicuna", model_b="gpt-4"),
        mtbench("expert_0", "model_b"),  # a repeat of expert_0 on this pair: ignored, counted
        mtbench("expert_0", "tie (bothbad)", turn=2),
        mtbench("gpt4_pair", "model_b", model_a="alpaca", model_b="gpt-4"),
    )
    result = read_items(path, "mtbench_human")
    pair, second_turn, other = result.items
    assert pair.external_id == "mtbench/81/1/gpt-4/vicuna"
    assert pair.metadata == {"question_id": 81, "turn": 1, "model_a": "gpt-4", "model_b": "vicuna"}
    assert (pair.problem, pair.response_a, pair.response_b) == (
        "Q81 (turn 1)",
        "answer of gpt-4 1",
        "answer of vicuna 1",
    )
    assert [(lb.rater, lb.rater_kind, lb.ratings["overall"]) for lb in pair.labels] == [
        ("mtbench-expert_0", "external", 1.0),
        ("mtbench-expert_1", "external", 0.0),
        ("mtbench-author_2", "external", -1.0),
    ]
    assert second_turn.external_id == "mtbench/81/2/gpt-4/vicuna" and second_turn.labels[0].ratings == {
        "overall": 0.0
    }
    assert second_turn.problem == "**Turn 1.**\n\nQ81 (turn 1)\n\n**Turn 2.**\n\nQ81 (turn 2)"
    # alpaca sorts first, so the judge's model_b (gpt-4) is the item's B
    assert other.external_id == "mtbench/81/1/alpaca/gpt-4"
    assert [(lb.rater, lb.rater_kind, lb.ratings) for lb in other.labels] == [
        ("gpt4_pair", "judge", {"overall": -1.0})
    ]
    assert result.warnings == [f"{path}: 1 repeated judgments of a pair by the same judge ignored"]


def test_mtbench_human_json_list_too(tmp_path: Path) -> None:
    path = tmp_path / "judgments.json"
    path.write_text(json.dumps([mtbench("expert_0", "model_a"), mtbench("expert_1", "model_b")], indent=1))
    (item,) = read_items(path, "mtbench_human").items
    assert [lb.ratings["overall"] for lb in item.labels] == [1.0, -1.0]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"winner": "model_c"}, "winner", "must be one of model_a, model_b, tie"),
        ({"turn": 3}, "turn", "must be 1 or 2"),
        ({"model_b": "gpt-4"}, "model_b", "the same model as model_a"),
        ({"judge": None}, "judge", "missing"),
        (
            {"conversation_a": [{"role": "user", "content": "Q81 (turn 1)"}]},
            "conversation_a",
            "fewer than 1 user and assistant turns",
        ),
        (
            {"conversation_b": [{"role": "system", "content": "x"}]},
            "conversation_b[0].role",
            "must be 'user' or 'assistant'",
        ),
        (
            {
                "conversation_a": [
                    {"role": "user", "content": "Q81 (turn 1)"},
                    {"role": "assistant", "content": "other"},
                ]
            },
            "conversation_a",
            "the answers differ from those of line 1",
        ),
    ],
)
def test_mtbench_human_bad_records_name_line_and_field(
    tmp_path: Path, change: dict, field: str, message: str
) -> None:
    failure = refused(
        jsonl(tmp_path, mtbench("expert_0", "model_a"), {**mtbench("expert_1", "tie"), **change}),
        "mtbench_human",
    )
    assert (failure.line, failure.field) == (2, field)
    assert message in failure.message
