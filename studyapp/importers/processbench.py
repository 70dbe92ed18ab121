"""ProcessBench (Zheng et al. 2024, arXiv 2412.06559).

Record: `id`, `problem`, `steps`, `label` (0-based index of the earliest
wrong step, -1 if none), `final_answer_correct`. The label becomes an
annotation by an external rater (steps after the error unlabelled).

The first release (``gsm8k.json``, ``math.json``) is one JSON list of records;
JSONL, one record a line, is read too. Either way a bad record is named by the
line where it begins. The subset (the file's name: ``gsm8k``, ``math``) is kept in
the metadata; the study's domain comes from the source, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from judges.types import step_labels_from_first_error
from studyapp.importers.limits import ImportLimits, json_entries, read_json_text, read_jsonl
from studyapp.importers.records import (
    Fields,
    ImportFailure,
    ImportResult,
    ItemRecord,
    LabelRecord,
    StepRecord,
)


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    rater = options.get("rater", "processbench")
    subset = options.get("subset") or path.stem
    items = []
    for line, obj in _records(path, limits):
        f = Fields(path, line, obj)
        item_id = f.get("id", (str, int), required=False, default=f"{path.stem}/{line}")
        steps = f.string_list("steps")
        label = f.index("label", len(steps), allow_minus_one=True)
        assert label is not None
        items.append(
            ItemRecord(
                external_id=str(item_id),
                kind="reasoning",
                line=line,
                problem=f.text("problem"),
                steps=[StepRecord(s) for s in steps],
                outcome=f.get("final_answer_correct", bool, required=False),
                metadata={
                    "subset": subset,
                    **({"generator": obj["generator"]} if obj.get("generator") else {}),
                },
                labels=[
                    LabelRecord(
                        rater=rater,
                        step_labels=step_labels_from_first_error(label, len(steps)),
                        first_error=label,
                    )
                ],
            )
        )
    return ImportResult(items)


def _records(path: Path, limits: ImportLimits) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) from a JSON list (the published files) or from JSONL."""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
    if not head.startswith(b"["):
        yield from read_jsonl(path, limits)
        return
    for _, obj, line, _ in json_entries(path, read_json_text(path, limits)):
        if not isinstance(obj, dict):
            raise ImportFailure(path, line, None, "expected a JSON object")
        yield line, obj
