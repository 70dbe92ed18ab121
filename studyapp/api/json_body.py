"""Reading a JSON request body with limits: size, nesting depth, and text the database can store.

Python's `json` parser recurses once per nesting level, so a body nested
50,000 deep ends in a RecursionError; PostgreSQL cannot store NUL in text or
jsonb, and no database stores a lone UTF-16 surrogate (`"\\ud800"` in JSON)
as UTF-8. `json_body_load` refuses all of these with a message before
anything is stored: the API's parser (`StrictJSONParser`) and the token fast
path both read bodies through it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings

from studyapp.text import UNSTORABLE, unstorable_text

# A JSON string: quotes around anything but a quote or a backslash, or an escape.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class JsonBodyInvalid(ValueError):
    """The body is not JSON this API accepts; the message says why."""


class JsonBodyTooLarge(JsonBodyInvalid):
    """The body is longer than the API accepts."""


def max_body_bytes() -> int:
    return int(settings.API_MAX_BODY_BYTES)


def _too_deep(text: str, limit: int) -> bool:
    if text.count("[") + text.count("{") <= limit:
        return False  # cannot nest deeper than it has brackets
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def _refuse_constant(name: str) -> Any:
    raise JsonBodyInvalid(f"{name} is not a JSON number.")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonBodyInvalid(f"The number {text[:40]} is out of range.")
    return value


def json_body_load(raw: bytes, *, max_bytes: int | None = None, max_depth: int | None = None) -> Any:
    """The parsed body, or `JsonBodyInvalid` (`JsonBodyTooLarge`) saying what is wrong with it."""
    max_bytes = max_body_bytes() if max_bytes is None else max_bytes
    max_depth = int(settings.API_MAX_JSON_DEPTH) if max_depth is None else max_depth
    if len(raw) > max_bytes:
        raise JsonBodyTooLarge(f"The body is longer than {max_bytes} bytes.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonBodyInvalid(f"The body is not UTF-8 (byte {error.start}).") from None
    if _too_deep(text, max_depth):
        raise JsonBodyInvalid(f"The JSON is nested deeper than {max_depth} levels.")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except JsonBodyInvalid:
        raise
    except (ValueError, RecursionError) as error:
        raise JsonBodyInvalid(f"The body is not valid JSON: {error}") from None
    if unstorable_text(value) is not None:
        raise JsonBodyInvalid(f"The JSON holds text that cannot be stored: {UNSTORABLE}.")
    return value


__all__ = ["JsonBodyInvalid", "JsonBodyTooLarge", "json_body_load", "max_body_bytes"]
