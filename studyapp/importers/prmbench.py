"""PRMBench (Song et al. 2025, arXiv 2501.03124).

Each record has `modified_process` (steps with injected errors) and
`error_steps`, 1-based indexes into it. Erroneous steps are -1, every other
step +1 (steps after an error keep label 1, as in PRMBench). A few indexes
point past the last step: they are ignored and counted in the warnings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, read_jsonl
from studyapp.importers.records import (
    Fields,
    ImportResult,
    ItemRecord,
    LabelRecord,
    StepRecord,
)


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    rater = options.get("rater", "prmbench")
    items, warnings = [], []
    out_of_range = 0
    for line, obj in read_jsonl(path, limits):
        f = Fields(path, line, obj)
        item_id = f.get("idx", str)
        question = f.get("modified_question", str, required=False) or f.text("question")
        steps = f.string_list("modified_process")
        errors = f.get("error_steps", list)
        labels: list[int | None] = [1] * len(steps)
        for i, index in enumerate(errors):
            if isinstance(index, bool) or not isinstance(index, int):
                raise f.fail(f"error_steps[{i}]", "expected an integer (1-based step index)")
            if index < 1:
                raise f.fail(f"error_steps[{i}]", f"index {index} out of range (1-based)")
            if index > len(steps):
                out_of_range += 1
                continue
            labels[index - 1] = -1
        first_error = labels.index(-1) if -1 in labels else -1
        items.append(
            ItemRecord(
                external_id=item_id,
                kind="reasoning",
                line=line,
                problem=question,
                steps=[StepRecord(s) for s in steps],
                outcome=None,
                metadata={
                    "classification": obj.get("classification"),
                    "reason": obj.get("reason"),
                    "error_steps": errors,
                },
                labels=[LabelRecord(rater=rater, step_labels=labels, first_error=first_error)],
            )
        )
    if out_of_range:
        warnings.append(f"{path}: {out_of_range} error_steps index(es) past the last step were ignored")
    return ImportResult(items, warnings)
