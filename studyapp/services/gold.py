"""Scoring an answer against a gold item's expected answer.

`Item.gold` holds the expected answer. For a reasoning item:
`{"first_error": 3}` (the 0-based index of the earliest wrong step, -1 for a
correct trace) and/or `{"steps": [1, 1, -1, ...]}` (the expected label of each
step; `null` entries are not checked). For a summary item:
`{"ratings": {"coverage": 4, ...}, "tolerance": 1}`: each rating within
`tolerance` (default 0) of the expected one. An empty gold answer matches
anything (an attention check that only needs to be completed).
"""

from __future__ import annotations

from typing import Any


def gold_matches(
    *,
    gold: dict[str, Any] | None,
    first_error: int | None,
    step_values: dict[int, int],
    ratings: dict[str, float],
) -> bool:
    """Whether the submitted answer agrees with the gold answer."""
    if not gold:
        return True
    if gold.get("first_error") is not None and first_error != int(gold["first_error"]):
        return False
    if isinstance(gold.get("steps"), list):
        for index, expected in enumerate(gold["steps"]):
            if expected is not None and step_values.get(index) != int(expected):
                return False
    if isinstance(gold.get("ratings"), dict):
        tolerance = float(gold.get("tolerance", 0))
        for name, expected in gold["ratings"].items():
            got = ratings.get(name)
            if got is None or abs(float(got) - float(expected)) > tolerance:
                return False
    return True
