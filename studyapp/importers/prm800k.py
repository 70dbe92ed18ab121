"""PRM800K (Lightman et al. 2023, arXiv 2305.20050).

Record: `question.problem`, `question.ground_truth_answer`, `label.steps[]`
each with `completions[]` (`text`, `rating` in {-1, 0, +1}),
`chosen_completion` (index, or null) and `human_completion` (used when no
completion was chosen), `label.finish_reason`. The trace is the chosen (or
human) completion of each step; on a step where none was chosen and no
human completion was written (the labeller stopped at an error), the first
rated completion ends the trace. Ratings become an external rater's labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, read_jsonl
from studyapp.importers.records import (
    Fields,
    ImportFailure,
    ImportResult,
    ItemRecord,
    LabelRecord,
    StepRecord,
)


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    rater = options.get("rater", "prm800k")
    items: list[ItemRecord] = []
    for line, obj in read_jsonl(path, limits):
        f = Fields(path, line, obj)
        question = Fields(path, line, f.get("question", dict), prefix="question.")
        label = Fields(path, line, f.get("label", dict), prefix="label.")
        raw_steps = label.get("steps", list)
        steps: list[StepRecord] = []
        ratings: list[int | None] = []
        for i, raw in enumerate(raw_steps):
            if not isinstance(raw, dict):
                raise label.fail(f"steps[{i}]", "expected an object")
            step = Fields(path, line, raw, prefix=f"label.steps[{i}].")
            completions = step.get("completions", list, required=False, default=[])
            chosen = step.get("chosen_completion", int, required=False)
            human = step.get("human_completion", dict, required=False)
            if chosen is not None:
                if not 0 <= chosen < len(completions):
                    raise step.fail("chosen_completion", f"index {chosen} out of range")
                picked, stop = completions[chosen], False
            elif human is not None:
                picked, stop = human, False
            elif completions:
                picked, stop = completions[0], True
            else:
                raise step.fail("completions", "no completion, chosen or human, for this step")
            text, rating = _completion(path, line, picked, f"label.steps[{i}]")
            steps.append(StepRecord(text))
            ratings.append(rating)
            if stop:
                break
        if not steps:
            raise label.fail("steps", "empty list")
        first_error = ratings.index(-1) if -1 in ratings else -1
        items.append(
            ItemRecord(
                external_id=str(obj.get("timestamp") or f"{path.stem}/{line}"),
                kind="reasoning",
                line=line,
                problem=question.text("problem"),
                steps=steps,
                reference_answer=str(
                    question.get("ground_truth_answer", (str, int, float), required=False, default="")
                ),
                metadata={"finish_reason": label.get("finish_reason", str, required=False)},
                labels=[LabelRecord(rater=rater, step_labels=ratings, first_error=first_error)],
            )
        )
    return ImportResult(items)


def _completion(path: Path, line: int, raw: Any, where: str) -> tuple[str, int | None]:
    if not isinstance(raw, dict):
        raise ImportFailure(path, line, where, "completion is not an object")
    text, rating = raw.get("text"), raw.get("rating")
    if not isinstance(text, str):
        raise ImportFailure(path, line, f"{where}.text", "missing or not a string")
    if rating is not None and (isinstance(rating, bool) or rating not in (-1, 0, 1)):
        raise ImportFailure(path, line, f"{where}.rating", f"must be -1, 0, 1 or null, not {rating!r}")
    return text, rating
