"""Import limits: every format, every field, the file and the line, with the line number."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from studyapp.importers import FORMATS, ImportFailure, ImportLimits, read_items
from studyapp.importers.limits import check_item, read_json
from studyapp.importers.records import ItemRecord
from tests.studyapp.importers.pairwise_files import llmbar_entry, llmbar_files
from tests.studyapp.importers.test_domains import json_records_file
from tests.studyapp.importers.test_formats import GOOD, _first
from tests.studyapp.importers.test_squality import GOOD as GOOD_SQUALITY
from tests.studyapp.importers.test_squality import _files as squality_files

MiB = 1 << 20
HANNA_HEADER = "Model,Relevance,Coherence,Empathy,Surprise,Engagement,Complexity,ChatGPT RE 1,ChatGPT CH 1\n"
HANNA_ROW = (
    'Sys,"[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[1.0, 2.0]","[3, 4]","[3, 4]"\n'
)


def jsonl(tmp_path: Path, *objects: dict[str, Any], name: str = "items.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))
    return path


def native(**fields: Any) -> dict[str, Any]:
    return {"id": "n2", "problem": "q", "steps": ["s1", "s2"], **fields}


def summary(**fields: Any) -> dict[str, Any]:
    return {"id": "s2", "kind": "summary", "document": "d", "summary": "s", "persona": "p", **fields}


def refused(path: Path, fmt: str = "native", **options: Any) -> ImportFailure:
    with pytest.raises(ImportFailure) as info:
        read_items(path, fmt, **options)
    return info.value


# --- every text field of the native format ---------------------------------------------------


def json_of(n: int, key: str) -> dict[str, str]:
    """A JSON object of exactly `n` characters once dumped."""
    return {key: "x" * (n - len(json.dumps({key: ""})))}


FIELDS = [
    ("problem", lambda n: native(problem="x" * n), "problem", 100_000),
    ("step", lambda n: native(steps=["ok", "x" * n]), "steps[1]", 50_000),
    ("trajectory", lambda n: native(steps=None, trajectory=["x" * n], response=["r"]), "steps[0]", 50_000),
    ("reference_answer", lambda n: native(reference_answer="x" * n), "reference_answer", 10_000),
    ("final_answer", lambda n: native(final_answer="x" * n), "final_answer", 10_000),
    ("document", lambda n: summary(document="x" * n), "document", 1_000_000),
    ("summary", lambda n: summary(summary="x" * n), "summary", 100_000),
    (
        "comment",
        lambda n: native(annotations=[{"rater": "r", "first_error": -1, "comment": "x" * n}]),
        "annotations[0].comment",
        20_000,
    ),
    (
        "judgment comment",
        lambda n: native(
            annotations=[{"rater": "r", "first_error": -1}],
            judgments=[
                {"judge": "j", "first_error": -1},
                {"judge": "k", "first_error": -1, "comment": "x" * n},
            ],
        ),
        "judgments[1].comment",
        20_000,
    ),
    ("metadata", lambda n: native(metadata=json_of(n, "notes")), "metadata", 100_000),
    ("gold", lambda n: native(gold=json_of(n, "why")), "gold", 100_000),
]


@pytest.mark.parametrize(("case", "build", "field", "limit"), FIELDS, ids=[f[0] for f in FIELDS])
def test_each_text_field_has_a_default_limit(
    tmp_path: Path, case: str, build: Callable[[int], dict[str, Any]], field: str, limit: int
) -> None:
    def item(n: int) -> dict[str, Any]:
        return {k: v for k, v in build(n).items() if v is not None}

    failure = refused(jsonl(tmp_path, native(id="n1"), item(limit + 1)))
    assert (failure.line, failure.field) == (2, field)
    assert f"{limit + 1:,} characters" in failure.message
    assert f"over the limit of {limit:,} (a study that needs more sets limits." in failure.message
    read_items(jsonl(tmp_path, native(id="n1"), item(limit), name="ok.jsonl"), "native")  # at the limit


@pytest.mark.parametrize(
    ("obj", "field", "message"),
    [
        (native(steps=["s"] * 2_001), "steps", "2,001 steps, over the limit of 2,000"),
        (
            native(annotations=[{"rater": f"r{i}", "first_error": -1} for i in range(1_001)]),
            None,
            "1,001 imported annotations and judgments, over the limit of 1,000",
        ),
        (
            native(problem="x" * 90_000, steps=["x" * 49_000] * 40),
            None,
            "the item's texts are 2,050,002 characters, over the limit of 2,000,000",
        ),
        (native(id="x" * 201), "id", "longer than 200 characters"),
        (
            native(annotations=[{"rater": "x" * 201, "first_error": -1}]),
            "annotations[0].rater",
            "longer than 200",
        ),
    ],
)
def test_counts_totals_and_column_sizes(
    tmp_path: Path, obj: dict[str, Any], field: str | None, message: str
) -> None:
    failure = refused(jsonl(tmp_path, obj))
    assert (failure.line, failure.field) == (1, field)
    assert failure.message.startswith(message)


def test_limits_can_be_raised_and_lowered(tmp_path: Path) -> None:
    path = jsonl(tmp_path, summary(document="x" * 1_500_000))
    assert refused(path).field == "document"
    (item,) = read_items(path, "native", limits=ImportLimits(document=2_000_000)).items
    assert len(item.document) == 1_500_000
    failure = refused(jsonl(tmp_path, native(steps=["abc", "abcdef"])), limits=ImportLimits(step=5))
    assert str(failure) == (
        f"{tmp_path / 'items.jsonl'}:1: steps[1]: 6 characters, over the limit of 5 "
        "(a study that needs more sets limits.step in its spec)"
    )


def test_override_keeps_what_each_level_sets() -> None:
    study = ImportLimits(step=10, problem=20)
    source = ImportLimits(step=30)
    merged = ImportLimits().override(study, source)
    assert (merged.step, merged.problem, merged.document) == (30, 20, ImportLimits().document)
    assert ImportLimits().override(None, None) == ImportLimits()


# --- every format ----------------------------------------------------------------------------


JSON_FORMATS = ("mr_ben", "roscoe", "summedits")  # one JSON document a file: records from line 2


def format_file(tmp_path: Path, fmt: str, test_data: Path) -> Path:
    """Two good records of `fmt` whose steps have 2 characters or more."""
    if fmt == "hanna":
        path = tmp_path / "hanna.csv"
        path.write_text(HANNA_HEADER + HANNA_ROW + HANNA_ROW.replace("Sys", "Other"))
        return path
    if fmt == "squality":
        second = {"passage-id": "p1", "questions": {"0": {"human": GOOD_SQUALITY["questions"]["0"]["bart"]}}}
        return squality_files(tmp_path, GOOD_SQUALITY, second)
    if fmt == "llmbar":
        return llmbar_files(tmp_path, [llmbar_entry(0), llmbar_entry(1)], [("1", "1"), ("2", "1")])
    if fmt in JSON_FORMATS:
        return json_records_file(tmp_path, fmt)
    if fmt == "prm800k":
        path = tmp_path / "prm800k.jsonl"
        path.write_text((test_data / "prm800k_sample.jsonl").read_text())
        return path
    return jsonl(tmp_path, _first(fmt), GOOD[fmt])


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_held_to_the_item_limits(tmp_path: Path, test_data: Path, fmt: str) -> None:
    path = format_file(tmp_path, fmt, test_data)
    read_items(path, fmt)  # within the defaults
    # HANNA items are summaries with 2 labels each (human mean, ChatGPT/p1), SQuALITY's with
    # 2 reviews each; the others have steps.
    if fmt in ("hanna", "squality"):
        limits = ImportLimits(labels=1)
    elif fmt in ("llmbar", "mtbench_human"):  # pairs: responses of 2 characters or more
        limits = ImportLimits(response=1)
    else:
        limits = ImportLimits(step=1)
    failure = refused(path, fmt, limits=limits)
    assert failure.line == (2 if fmt == "hanna" or fmt in JSON_FORMATS else 1)
    assert "over the limit of 1 " in failure.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_held_to_the_line_and_file_limits(tmp_path: Path, test_data: Path, fmt: str) -> None:
    path = format_file(tmp_path, fmt, test_data)
    lines = path.read_text().splitlines(keepends=True)
    longest = max(range(len(lines)), key=lambda i: len(lines[i].encode()))
    failure = refused(
        path, fmt, limits=ImportLimits(line_bytes=len(lines[longest].rstrip("\n").encode()) - 1)
    )
    assert failure.line == longest + 1
    assert failure.message.startswith("line longer than")
    size = path.stat().st_size
    failure = refused(path, fmt, limits=ImportLimits(file_bytes=size - 1))
    assert failure.line is None
    assert failure.message.startswith(f"{size:,} bytes, over the limit of {size - 1:,}")


def test_a_100_mb_line_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    with path.open("wb") as handle:  # sparse: 100 MB on paper, a few blocks on disk
        handle.write((json.dumps(native(id="n1")) + "\n").encode())
        handle.write(b'{"id": "big", "problem": "')
        handle.seek(100 * MiB)
        handle.write(b'", "steps": ["s"]}\n')
    limits = ImportLimits(line_bytes=MiB)
    tracemalloc.start()
    try:
        with pytest.raises(ImportFailure) as info:
            read_items(path, "native", limits=limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        f"{path}:2: line longer than 1,048,576 bytes "
        "(a study that needs more sets limits.line_bytes in its spec)"
    )
    assert peak < 4 * MiB  # about one line limit, not the 100 MB line
    # With the default limits (16 MiB a line) the same line is refused too.
    assert refused(path).message.startswith("line longer than 16,777,216 bytes")


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    with path.open("wb") as handle:
        handle.seek(300 * MiB)
        handle.write(b"\n")
    failure = refused(path)
    assert failure.line is None
    assert failure.message.startswith("314,572,801 bytes, over the limit of 268,435,456")


def test_a_bad_utf8_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(json.dumps(native(id="n1")).encode() + b'\n{"id": "n2", "problem": "\xff"}\n')
    failure = refused(path)
    assert (failure.line, failure.message) == (2, "not UTF-8 text (invalid start byte)")


# --- JSON nesting ----------------------------------------------------------------------------


def test_50000_deep_json_line_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    deep = (
        '{"id": "deep", "problem": "q", "steps": ["s"], "metadata": {"x": '
        + "[" * 50_000
        + "]" * 50_000
        + "}}"
    )
    path.write_text(json.dumps(native(id="n1")) + "\n" + deep + "\n")
    failure = refused(path)
    assert str(failure) == (
        f"{path}:2: JSON nested more than 64 deep "
        "(a study that needs more sets limits.json_depth in its spec)"
    )


def test_brackets_inside_strings_are_not_nesting(tmp_path: Path) -> None:
    latex = "\\frac{" * 200 + "x" + "}" * 200 + ' "[[[[' + "[" * 100
    nested = {"a": {"b": {"c": [[["ok"]]]}}}
    (item,) = read_items(jsonl(tmp_path, native(id="n1", problem=latex, metadata=nested)), "native").items
    assert item.problem == latex and item.metadata == nested


def test_deep_metadata_is_refused_whatever_the_format(tmp_path: Path) -> None:
    # Formats that build metadata themselves (CSV, whole-file JSON) are checked on the record.
    value: Any = "leaf"
    for _ in range(70):
        value = [value]
    record = ItemRecord(external_id="x", kind="reasoning", line=7, problem="q", metadata={"deep": value})
    check_item(tmp_path / "f.csv", record, ImportLimits(json_depth=71))
    with pytest.raises(ImportFailure) as info:
        check_item(tmp_path / "f.csv", record, ImportLimits(json_depth=70))
    assert str(info.value).startswith(f"{tmp_path / 'f.csv'}:7: metadata: JSON nested more than 70 deep")


def test_read_json_documents_are_held_to_the_limits(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text('{\n  "items": [\n    {"x": ' + "[" * 50_000 + "]" * 50_000 + "}\n  ]\n}\n")
    with pytest.raises(ImportFailure, match=r"data.json:3: JSON nested more than 64 deep"):
        read_json(path, ImportLimits())
    path.write_text('{"items": [{"text": "' + "{" * 1_000 + '"}]}')
    assert read_json(path, ImportLimits()) == {"items": [{"text": "{" * 1_000}]}
    with pytest.raises(ImportFailure, match=r"data.json: 1,025 bytes, over the limit of 1,000"):
        read_json(path, ImportLimits(file_bytes=1_000))


# --- text the database cannot store ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field", "what"),
    [
        ('{"id": "n2", "problem": "a\\u0000b", "steps": ["s"]}', "problem", "a NUL character (\\u0000)"),
        (
            '{"id": "n2", "problem": "q", "steps": ["s", "\\ud800"]}',
            "steps[1]",
            "an unpaired surrogate (\\ud800)",
        ),
        (
            '{"id": "n2", "problem": "q", "steps": ["s"], "metadata": {"k": ["\\u0000"]}}',
            "metadata.k[0]",
            "a NUL",
        ),
        (
            '{"id": "n2", "problem": "q", "steps": ["s"], "metadata": {"\\udfff": 1}}',
            "metadata.'\\udfff'",
            "an unpaired",
        ),
        (
            '{"id": "n2", "problem": "q", "steps": ["s"], '
            '"annotations": [{"rater": "a\\u0000", "first_error": -1}]}',
            "annotations[0].rater",
            "a NUL",
        ),
    ],
)
def test_text_the_database_cannot_store_is_refused(tmp_path: Path, line: str, field: str, what: str) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps(native(id="n1")) + "\n" + line + "\n")
    failure = refused(path)
    assert (failure.line, failure.field) == (2, field)
    assert failure.message.startswith(f"contains {what}")


def test_paired_surrogates_are_text(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "n1", "problem": "smile \\ud83d\\ude00", "steps": ["s"]}\n')
    assert read_items(path, "native").items[0].problem == "smile \U0001f600"


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_field_over_the_line_limit_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "hanna.csv"
    quoted = '"' + "\n".join(["1.0"] * 50) + '"'  # a quoted field over many short lines
    path.write_text(HANNA_HEADER + HANNA_ROW + HANNA_ROW.replace('"[3, 4]"', quoted, 1))
    failure = refused(path, "hanna", limits=ImportLimits(line_bytes=150))
    assert failure.line is not None and 3 < failure.line <= 3 + 50
    assert failure.message == "invalid CSV (field larger than field limit (150))"
