"""BIG-Bench Mistake (Tyen et al. 2023, arXiv 2311.08516).

One object a line: `input`, `steps`, `target`, `answer`, `mistake_index`
(0-based index of the first logical mistake, null for none). The mistake
index becomes an annotation by an external rater (steps before it +1, the
mistake -1, steps after it unlabelled); the outcome label is
`answer.strip() == target.strip()`. `dyck_languages` was labelled by a script,
the other tasks by people, so the rater is named accordingly.
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

SCRIPT_LABELLED_TASKS = {"dyck_languages"}


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    task = options.get("task") or path.stem
    rater = options.get("rater") or (
        "bigbench-mistake-script" if task in SCRIPT_LABELLED_TASKS else "bigbench-mistake-human"
    )
    items = []
    for line, obj in read_jsonl(path, limits):
        f = Fields(path, line, obj)
        problem = f.text("input")
        steps = f.string_list("steps")
        target = f.get("target", str)
        answer = f.get("answer", str, required=False)
        if "mistake_index" not in obj:
            raise f.fail("mistake_index", "missing (null means no mistake)")
        mistake = f.index("mistake_index", len(steps), required=False)
        first_error = -1 if mistake is None else mistake
        items.append(
            ItemRecord(
                external_id=f"{task}/{line}",
                kind="reasoning",
                line=line,
                problem=problem,
                steps=[StepRecord(text) for text in steps],
                outcome=None if answer is None else answer.strip() == target.strip(),
                reference_answer=target,
                final_answer=answer or "",
                metadata={"task": task},
                labels=[
                    LabelRecord(
                        rater=rater,
                        step_labels=step_labels_from_first_error(first_error, len(steps)),
                        first_error=first_error,
                    )
                ],
            )
        )
    return ImportResult(items)
