"""The plainly well-formed submission body, read without DRF's serializer.

`SubmitIn` (DRF) is the definition of a valid submission body. Running it
costs more than the rest of a submission's Python, so the hot API path first
asks `plain_submission`: for a body made only of the types `SubmitIn`
accepts unchanged (a JSON object of known keys; integers for labels and
ratings; strings without NUL or lone surrogates, within the length limit; a
finite time from 0 to the maximum)
it returns exactly what `SubmitIn(...).validated_data` would. For anything
else it returns None and the caller runs `SubmitIn`, which gives the errors.
It only ever accepts, never rejects, so it cannot loosen validation; a
property test checks it against `SubmitIn` on generated bodies.
"""

from __future__ import annotations

import math
from typing import Any

from studyapp.services.annotations import COMMENT_MAX
from studyapp.services.assignments import TIME_ON_TASK_MAX

FIELDS = frozenset({"steps", "step_comments", "ratings", "trajectory_rating", "comment", "time_on_task"})


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_text(value: Any) -> bool:
    if type(value) is not str or "\x00" in value or len(value.strip()) > COMMENT_MAX:
        return False
    try:
        value.encode("utf-8")  # lone surrogates do not encode
    except UnicodeEncodeError:
        return False
    return True


def _int_map(value: Any) -> bool:
    return type(value) is dict and all(_is_int(v) for v in value.values())


def plain_submission(data: Any) -> dict[str, Any] | None:
    """`SubmitIn`'s validated data for a plainly well-formed body, else None."""
    if type(data) is not dict or not FIELDS.issuperset(data):
        return None
    out: dict[str, Any] = {}
    for name in ("steps", "ratings"):
        if name in data:
            if not _int_map(data[name]):
                return None
            out[name] = dict(data[name])
    if "step_comments" in data:
        comments = data["step_comments"]
        if type(comments) is not dict or not all(_is_text(v) for v in comments.values()):
            return None
        out["step_comments"] = {k: v.strip() for k, v in comments.items()}
    if "trajectory_rating" in data:
        rating = data["trajectory_rating"]
        if rating is not None and not _is_int(rating):
            return None
        out["trajectory_rating"] = rating
    comment = data.get("comment", "")
    if not _is_text(comment):
        return None
    out["comment"] = comment.strip()
    if "time_on_task" in data:
        seconds = data["time_on_task"]
        if type(seconds) not in (int, float):
            return None
        try:
            value = float(seconds)
        except OverflowError:
            return None
        if not math.isfinite(value) or not 0 <= value <= TIME_ON_TASK_MAX:
            return None
        out["time_on_task"] = value
    return out


__all__ = ["plain_submission"]
