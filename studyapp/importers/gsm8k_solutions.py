"""GSM8K model solutions (Cobbe et al. 2021), `example_model_solutions.jsonl`.

One problem a line: `question`, `ground_truth`, and four solutions keyed by
model (`6b_finetuning`, ...), each `{"is_correct": bool, "solution": str}`.
Each solution becomes a reasoning item with outcome label `is_correct` and
its lines as steps (the last line is `A: <n>`). These are outcome labels
only: no step labels, no annotations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, read_jsonl
from studyapp.importers.records import Fields, ImportResult, ItemRecord, StepRecord

NON_SOLUTION_KEYS = {"question", "ground_truth"}


def final_answer(solution: str) -> str:
    """The number after the last `A:` line (empty when there is none)."""
    for text in reversed(solution.strip().splitlines()):
        if text.strip().startswith("A:"):
            return text.strip()[2:].strip()
    return ""


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    items = []
    for line, obj in read_jsonl(path, limits):
        f = Fields(path, line, obj)
        question = f.text("question")
        truth = f.get("ground_truth", str, required=False, default="")
        solutions = {k: v for k, v in obj.items() if k not in NON_SOLUTION_KEYS}
        if not solutions:
            raise f.fail("solutions", "no model solution on this line")
        for model, entry in solutions.items():
            if not isinstance(entry, dict):
                raise f.fail(model, "expected an object with is_correct and solution")
            sub = Fields(path, line, entry, prefix=f"{model}.")
            text = sub.text("solution")
            correct = sub.get("is_correct", bool)
            steps = [s for s in text.split("\n") if s.strip()]
            items.append(
                ItemRecord(
                    external_id=f"gsm8k/{line}/{model}",
                    kind="reasoning",
                    line=line,
                    problem=question,
                    steps=[StepRecord(s) for s in steps],
                    outcome=correct,
                    reference_answer=final_answer(truth),
                    final_answer=final_answer(text),
                    metadata={"problem_id": f"gsm8k/{line}", "model": model},
                )
            )
    return ImportResult(items)
