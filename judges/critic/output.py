"""From the model's text to checked values: JSON extraction and validation against
the item's own answer schema (`judges.critic.schema`), the same schema the request
asked for, whether or not the server could be asked for it. Anything that does not
match raises `OutputError`; the judge turns it into a failed verdict, never into a
guessed value."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from judges.critic.schema import AnswerSchema, step_key
from judges.types import PairwiseTask, ReasoningTask, SummaryTask

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


def parse_answer(text: str | None, schema: AnswerSchema) -> dict[str, Any]:
    """The first JSON object in `text` that matches `schema`."""
    if not text or not text.strip():
        raise OutputError("empty output")
    first_problems: list[str] | None = None
    for value in _json_candidates(text):
        problems = schema.problems(value)
        if not problems:
            return value  # type: ignore[return-value]  # the schema's root is an object
        first_problems = first_problems or problems
    if first_problems is None:
        raise OutputError("no JSON object in the output")
    raise OutputError(f"output does not match the item's {schema.name} schema: {'; '.join(first_problems)}")


def step_critique_result(task: ReasoningTask, answer: dict[str, Any]) -> tuple[list[int], int]:
    """Labels per step and the first error index of an answer that matched the item's schema."""
    labels = answer["steps"]
    return [int(labels[step_key(s.index)]) for s in task.steps], int(answer["first_error"])


def rubric_result(task: SummaryTask, answer: dict[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """Scores and rationales by criterion name of an answer that matched the item's schema."""
    ratings = {c.name: float(answer[c.name]["score"]) for c in task.criteria}
    rationales = {c.name: str(answer[c.name]["rationale"]) for c in task.criteria}
    return ratings, rationales


def pairwise_result(task: PairwiseTask, answer: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Preferences ("A", "B" or "tie", about the slots as shown) and rationales by criterion
    of an answer that matched the pair's schema."""
    preferences = {c.name: str(answer[c.name]["preference"]) for c in task.criteria}
    rationales = {c.name: str(answer[c.name]["rationale"]) for c in task.criteria}
    return preferences, rationales
