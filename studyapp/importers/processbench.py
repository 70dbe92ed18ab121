"""ProcessBench (Zheng et al. 2024, arXiv 2412.06559).

Record: `id`, `problem`, `steps`, `label` (0-based index of the earliest
wrong step, -1 if none), `final_answer_correct`. The label becomes an
annotation by an external rater (steps after the error unlabelled).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from judges.types import step_labels_from_first_error
from studyapp.importers.limits import ImportLimits, read_jsonl
from studyapp.importers.records import (
    Fields,
    ImportResult,
    ItemRecord,
    LabelRecord,
    StepRecord,
)


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    rater = options.get("rater", "processbench")
    items = []
    for line, obj in read_jsonl(path, limits):
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
                metadata={"generator": obj.get("generator")} if obj.get("generator") else {},
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
