"""How large an import may be, and the readers that hold every importer to it.

A study's items end up in memory (every source is checked before anything
is written), in the database and in annotators' pages, so each file, line
and field has a limit. The defaults (`ImportLimits`) fit real studies with
room to spare (a 1,000,000-character document is a 500-page novel); a study
that needs more raises a limit in its spec (`limits:` for the whole study,
or on one source), as the README says.

How an importer is held to the limits (README, "Import limits"):

- it takes `limits` (`parse(path, *, limits, **options)`) and reads its file
  through `read_jsonl` (one JSON object a line), `read_json` (one JSON
  document) or `read_lines` (text lines, for CSV and the like): the file's
  size and each line's length are checked before a byte is decoded, and
  JSON nesting before it is parsed, so a 100 MB line or a 50,000-deep value
  fails with its line number and never reaches memory or the JSON parser
  whole;
- it returns `ItemRecord`s, and `read_items` runs `check_item` on each:
  every text field's length, the number of steps and labels, the size and
  nesting of `metadata` and `gold`, the lengths the database columns hold,
  and text the database cannot store (NUL, unpaired surrogates).

A new field is a new line in `ImportLimits` and one in `check_item`.
Nothing here imports Django.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from studyapp.importers.records import ImportFailure, ItemRecord

__all__ = [
    "COLUMN_CHARS",
    "ImportLimits",
    "check_item",
    "check_json_depth",
    "json_entries",
    "read_json",
    "read_json_list",
    "read_json_text",
    "read_jsonl",
    "read_lines",
]

MiB = 1 << 20
# What the database columns hold (studyapp.models): not limits a spec can raise.
COLUMN_CHARS = {"id": 200, "rater": 200}
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
JSON_BRACKET = re.compile(r"[\[\]{}]")
WHITESPACE = re.compile(r"[ \t\n\r]*")


class ImportLimits(BaseModel):
    """Limits on one source: sizes in bytes of the file, texts in characters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file_bytes: int = Field(default=256 * MiB, ge=1, description="size of one source file")
    line_bytes: int = Field(default=16 * MiB, ge=1, description="one line of the file")
    json_depth: int = Field(default=64, ge=1, description="nesting of a JSON value")
    problem: int = Field(default=100_000, ge=1)
    step: int = Field(default=50_000, ge=1, description="one step of a trace")
    steps: int = Field(default=2_000, ge=1, description="steps of one item")
    document: int = Field(default=1_000_000, ge=1)
    summary: int = Field(default=100_000, ge=1)
    response: int = Field(default=100_000, ge=1, description="one response of a pair")
    reference_answer: int = Field(default=10_000, ge=1)
    final_answer: int = Field(default=10_000, ge=1)
    comment: int = Field(default=20_000, ge=1, description="one imported annotation's comment")
    labels: int = Field(default=1_000, ge=1, description="imported annotations and judgments of one item")
    metadata: int = Field(default=100_000, ge=1, description="an item's metadata, as JSON")
    gold: int = Field(default=100_000, ge=1, description="a gold item's expected answer, as JSON")
    item: int = Field(default=2_000_000, ge=1, description="all the text of one item")

    def override(self, *overrides: ImportLimits | None) -> ImportLimits:
        """These limits with the fields each override sets (later overrides win)."""
        values = self.model_dump()
        for override in overrides:
            if override is not None:
                values.update(override.model_dump(include=override.model_fields_set))
        return ImportLimits(**values)


def read_lines(path: Path, limits: ImportLimits) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line with its newline) within the file and line limits."""
    _check_size(path, limits)
    with path.open("rb") as handle:
        number = 0
        while raw := handle.readline(limits.line_bytes + 2):
            number += 1
            if len(raw) > limits.line_bytes and len(raw.rstrip(b"\r\n")) > limits.line_bytes:
                raise ImportFailure(
                    path, number, None, f"line longer than {limits.line_bytes:,} bytes {_raise('line_bytes')}"
                )
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImportFailure(path, number, None, f"not UTF-8 text ({exc.reason})") from None


def read_jsonl(path: Path, limits: ImportLimits) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a bad line fails with its number."""
    for number, text in read_lines(path, limits):
        if not text.strip():
            continue
        if check_json_depth(text, limits.json_depth) is not None:
            raise ImportFailure(path, number, None, _too_deep(limits))
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFailure(path, number, None, f"invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ImportFailure(path, number, None, "expected a JSON object")
        yield number, obj


def read_json(path: Path, limits: ImportLimits) -> Any:
    """The one JSON document in `path` (formats published as a .json file)."""
    return _parse(path, read_json_text(path, limits))


def _parse(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailure(path, exc.lineno, None, f"invalid JSON ({exc.msg})") from None


def read_json_list(path: Path, limits: ImportLimits) -> list[tuple[int, Any]]:
    """(line where it starts, element) for each element of the JSON list in `path`, read
    within the file, line and depth limits, so a bad record of a published .json list is
    named by its line. The whole document is parsed first: content after the list, or a
    document that is not a list, is refused."""
    text = read_json_text(path, limits)
    data = _parse(path, text)
    if not isinstance(data, list):
        raise ImportFailure(path, 1, None, f"expected a JSON list, got {type(data).__name__}")
    return [(line, element) for _, element, line, _ in json_entries(path, text)]


def read_json_text(path: Path, limits: ImportLimits) -> str:
    """The text of the JSON document in `path`, checked for size, line length, UTF-8 and
    nesting (not parsed); a line too long or not UTF-8 is named."""
    text = "".join(line for _, line in read_lines(path, limits))
    too_deep = check_json_depth(text, limits.json_depth)
    if too_deep is not None:
        line = text.count("\n", 0, too_deep) + 1
        raise ImportFailure(path, line, None, _too_deep(limits))
    return text


JSON_DECODER = json.JSONDecoder()


def json_entries(path: Path, text: str, start: int = 0) -> Iterator[tuple[str | int, Any, int, int]]:
    """Yield (key or index, value, 1-based line, offset) of the array or object at `start`.

    A JSON file of many records (a list, or an object of lists) then names the
    line where the bad record begins; pass a value's offset back in to walk one
    level deeper. The text comes from `read_json_text` (size and nesting checked).
    """

    def fail(at: int, message: str) -> ImportFailure:
        return ImportFailure(path, text.count("\n", 0, at) + 1, None, message)

    def skip(at: int) -> int:
        match = WHITESPACE.match(text, at)
        assert match is not None
        return match.end()

    def decode(at: int) -> tuple[Any, int]:
        try:
            return JSON_DECODER.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise ImportFailure(path, exc.lineno, None, f"invalid JSON ({exc.msg})") from None

    at = skip(start)
    if at >= len(text) or text[at] not in "[{":
        raise fail(at, "expected a JSON list or object")
    is_object, closing = text[at] == "{", "}" if text[at] == "{" else "]"
    at = skip(at + 1)
    index, line, counted = 0, text.count("\n", 0, at) + 1, at
    if at < len(text) and text[at] == closing:
        return
    while True:
        key: str | int = index
        if is_object:
            key, at = decode(at)
            if not isinstance(key, str):
                raise fail(at, "invalid JSON (expected a key)")
            at = skip(at)
            if at >= len(text) or text[at] != ":":
                raise fail(at, "invalid JSON (expected ':')")
            at = skip(at + 1)
        begin = at
        value, at = decode(at)
        line += text.count("\n", counted, begin)  # counted on from the last record: linear
        counted = begin
        yield key, value, line, begin
        index += 1
        at = skip(at)
        if at < len(text) and text[at] == ",":
            at = skip(at + 1)
            continue
        if at < len(text) and text[at] == closing:
            return
        raise fail(at, f"invalid JSON (expected ',' or '{closing}')")


def check_json_depth(text: str, limit: int) -> int | None:
    """The offset where JSON `text` nests deeper than `limit`, or None; runs before parsing."""
    if text.count("[") + text.count("{") <= limit:
        return None  # cannot be deeper: the common case, at C speed
    depth = 0
    for match in JSON_BRACKET.finditer(JSON_STRING.sub('""', text)):
        if match[0] in "[{":
            depth += 1
            if depth > limit:
                return _offset_in(text, match.start())
        else:
            depth -= 1
    return None


def check_item(path: Path, record: ItemRecord, limits: ImportLimits) -> None:
    """Raise ImportFailure (file, line, field) for the first field of `record` over its limit."""
    # One pass of C-speed checks over the whole item; the field is named only when one fails.
    singles = (
        record.external_id,
        record.problem,
        record.reference_answer,
        record.final_answer,
        record.document,
        record.summary,
        record.response_a,
        record.response_b,
    )
    steps = [step.text for step in record.steps]
    raters = [label.rater for label in record.labels]
    comments = [label.comment for label in record.labels]
    texts = [*singles, *steps, *raters, *comments]
    fits = (
        len(steps) <= limits.steps
        and len(record.labels) <= limits.labels
        and len(record.external_id) <= COLUMN_CHARS["id"]
        and len(record.problem) <= limits.problem
        and len(record.reference_answer) <= limits.reference_answer
        and len(record.final_answer) <= limits.final_answer
        and len(record.document) <= limits.document
        and len(record.summary) <= limits.summary
        and len(record.response_a) <= limits.response
        and len(record.response_b) <= limits.response
        and max(map(len, steps), default=0) <= limits.step
        and max(map(len, raters), default=0) <= COLUMN_CHARS["rater"]
        and max(map(len, comments), default=0) <= limits.comment
        and sum(map(len, texts)) <= limits.item
        and _storable("".join(texts))
    )
    if not fits:
        failure = _first_failure(path, record, limits)
        assert failure is not None, "check_item's fast and named checks disagree"
        raise failure
    for field in ("metadata", "gold"):
        value = getattr(record, field)
        if value is not None and value != {}:
            _check_json_value(path, record.line, field, value, limits)


def _first_failure(path: Path, record: ItemRecord, limits: ImportLimits) -> ImportFailure | None:
    """The failure `check_item` raises, with its field named (the slow path)."""

    def fail(field: str | None, message: str) -> ImportFailure:
        return ImportFailure(path, record.line, field, message)

    if len(record.external_id) > COLUMN_CHARS["id"]:
        return fail("id", f"longer than {COLUMN_CHARS['id']} characters")
    if len(record.steps) > limits.steps:
        return fail(
            "steps", f"{len(record.steps):,} steps, over the limit of {limits.steps:,} {_raise('steps')}"
        )
    if len(record.labels) > limits.labels:
        return fail(
            None,
            f"{len(record.labels):,} imported annotations and judgments, over the limit of "
            f"{limits.labels:,} {_raise('labels')}",
        )
    texts: list[tuple[str, str, str]] = [
        ("id", record.external_id, ""),
        ("problem", record.problem, "problem"),
        ("reference_answer", record.reference_answer, "reference_answer"),
        ("final_answer", record.final_answer, "final_answer"),
        ("document", record.document, "document"),
        ("summary", record.summary, "summary"),
        ("response_a", record.response_a, "response"),
        ("response_b", record.response_b, "response"),
    ]
    texts += [(f"steps[{i}]", step.text, "step") for i, step in enumerate(record.steps)]
    counts = {"external": 0, "judge": 0}
    for label in record.labels:
        where = f"{'judgments' if label.rater_kind == 'judge' else 'annotations'}[{counts[label.rater_kind]}]"
        counts[label.rater_kind] += 1
        if len(label.rater) > COLUMN_CHARS["rater"]:
            return fail(f"{where}.rater", f"longer than {COLUMN_CHARS['rater']} characters")
        texts += [(f"{where}.rater", label.rater, ""), (f"{where}.comment", label.comment, "comment")]
    for field, text, limit in texts:
        if limit and len(text) > getattr(limits, limit):
            return fail(
                field,
                f"{len(text):,} characters, over the limit of {getattr(limits, limit):,} {_raise(limit)}",
            )
    total = sum(len(text) for _, text, _ in texts)
    if total > limits.item:
        return fail(
            None,
            f"the item's texts are {total:,} characters, over the limit of {limits.item:,} {_raise('item')}",
        )
    for field, text, _ in texts:
        if UNSTORABLE.search(text):
            return fail(field, _unstorable(text))
    return None


def _storable(text: str) -> bool:
    """No NUL and no unpaired surrogate: as UNSTORABLE.search, at a tenth of its cost."""
    if "\x00" in text:
        return False
    if text.isascii():  # O(1) in CPython
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_json_value(path: Path, line: int, field: str, value: Any, limits: ImportLimits) -> None:
    """Depth, storable text and JSON size of a metadata or gold value (from any format)."""

    def fail(where: str, message: str) -> ImportFailure:
        return ImportFailure(path, line, where, message)

    bound = 0  # an upper bound of its JSON's length: most values are far below the limit
    stack: list[tuple[Any, int, str]] = [(value, 1, field)]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, dict):
            if depth > limits.json_depth:
                raise fail(field, _too_deep(limits))
            for key, child in node.items():
                if isinstance(key, str) and UNSTORABLE.search(key):
                    raise fail(f"{where}.{key!r}", _unstorable(key))
                bound += 6 * len(str(key)) + 6
                stack.append((child, depth + 1, f"{where}.{key}"))
        elif isinstance(node, list):
            if depth > limits.json_depth:
                raise fail(field, _too_deep(limits))
            bound += 2 + len(node)
            stack.extend((child, depth + 1, f"{where}[{i}]") for i, child in enumerate(node))
        elif isinstance(node, str):
            if UNSTORABLE.search(node):
                raise fail(where, _unstorable(node))
            bound += 6 * len(node) + 3  # every character escaped at worst, quotes and a comma
        else:
            bound += 32  # a number, true, false or null
    limit = getattr(limits, field)
    if bound > limit:
        size = len(json.dumps(value, ensure_ascii=False, default=str))
        if size > limit:
            raise fail(field, f"{size:,} characters as JSON, over the limit of {limit:,} {_raise(field)}")


def _check_size(path: Path, limits: ImportLimits) -> None:
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise ImportFailure(
            path,
            None,
            None,
            f"{size:,} bytes, over the limit of {limits.file_bytes:,} {_raise('file_bytes')}",
        )


def _offset_in(text: str, stripped_offset: int) -> int:
    """Map an offset in `text` with its strings emptied back to an offset in `text`."""
    removed = 0
    for match in JSON_STRING.finditer(text):
        if match.start() - removed >= stripped_offset:
            break
        removed += len(match[0]) - 2
    return stripped_offset + removed


def _too_deep(limits: ImportLimits) -> str:
    return f"JSON nested more than {limits.json_depth} deep {_raise('json_depth')}"


def _unstorable(text: str) -> str:
    match = UNSTORABLE.search(text)
    assert match is not None
    char = match[0]
    what = "a NUL character" if char == "\x00" else "an unpaired surrogate"
    return f"contains {what} (\\u{ord(char):04x}), which is not text the database can store"


def _raise(name: str) -> str:
    return f"(a study that needs more sets limits.{name} in its spec)"
