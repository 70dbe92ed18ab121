"""From the model's text to checked values: JSON extraction, pydantic
validation and the checks against the task (steps and criteria that exist,
scores on the scale). Anything that does not pass raises `OutputError`; the
judge turns it into a failed verdict, never into a guessed value."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from judges.critic.schema import RubricOut, StepCritiqueOut
from judges.types import ReasoningTask, SummaryTask

M = TypeVar("M", bound=BaseModel)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


class OutputError(ValueError):
    """The model's output cannot be used; the message says why."""


def _json_candidates(text: str) -> Iterator[object]:
    """JSON values found in `text`, lazily: the whole text, fenced blocks, then each `{...}`."""
    for chunk in (text.strip(), *(m.strip() for m in _FENCE.findall(text))):
        try:
            yield json.loads(chunk)
        except ValueError:
            continue
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        yield value


def parse_model(text: str | None, model: type[M]) -> M:
    """The first JSON object in `text` that validates as `model`."""
    if not text or not text.strip():
        raise OutputError("empty output")
    first_error: ValidationError | None = None
    for value in _json_candidates(text):
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            first_error = first_error or exc
    if first_error is None:
        raise OutputError("no JSON object in the output")
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in first_error.errors()[:5]
    )
    raise OutputError(f"output does not match the {model.__name__} schema: {problems}")


def check_step_critique(task: ReasoningTask, out: StepCritiqueOut) -> tuple[list[int | None], int]:
    """Labels per step (None where the model gave none) and the first error index.

    A step index that does not exist, a step labelled twice, or a first error
    that is neither -1 nor an existing step is an `OutputError`.
    """
    n = len(task.steps)
    labels: list[int | None] = [None] * n
    for s in out.steps:
        if not 0 <= s.index < n:
            raise OutputError(f"step index {s.index} does not exist (the trace has {n} steps: 0..{n - 1})")
        if labels[s.index] is not None:
            raise OutputError(f"step {s.index} is labelled twice")
        labels[s.index] = s.label
    if out.first_error != -1 and not 0 <= out.first_error < n:
        raise OutputError(
            f"first_error {out.first_error} does not exist (the trace has {n} steps: 0..{n - 1})"
        )
    return labels, out.first_error


def check_rubric(task: SummaryTask, out: RubricOut) -> tuple[dict[str, float], dict[str, str]]:
    """Scores and rationales keyed by the task's criterion names.

    An unknown or repeated criterion, or a score off its scale, is an
    `OutputError`; a criterion the model left out has no score.
    """
    by_key = {c.name.strip().casefold(): c for c in task.criteria}
    ratings: dict[str, float] = {}
    rationales: dict[str, str] = {}
    for entry in out.criteria:
        crit = by_key.get(entry.criterion.strip().casefold())
        if crit is None:
            known = ", ".join(c.name for c in task.criteria)
            raise OutputError(f"criterion {entry.criterion!r} is not in the rubric ({known})")
        if crit.name in ratings:
            raise OutputError(f"criterion {crit.name!r} is rated twice")
        if not crit.scale_min <= entry.score <= crit.scale_max:
            raise OutputError(
                f"score {entry.score} for {crit.name!r} is off the scale {crit.scale_min}..{crit.scale_max}"
            )
        ratings[crit.name] = float(entry.score)
        rationales[crit.name] = entry.rationale
    if not ratings:
        raise OutputError("no criterion was rated")
    return ratings, rationales
