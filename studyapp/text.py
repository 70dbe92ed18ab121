"""Text every supported database can store.

PostgreSQL refuses NUL (U+0000) in text and jsonb, and a lone UTF-16
surrogate (U+D800 to U+DFFF, which JSON can spell as `"\\ud800"`) has no
UTF-8 form, so no database stores it. Input holding either is refused with
a message, never passed on to fail as a database error.
"""

from __future__ import annotations

from typing import Any

UNSTORABLE = "a NUL character (\\u0000) or a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)"


def unstorable_text(value: Any) -> str | None:
    """The first string in a value of dicts, lists and scalars (keys included) that cannot be stored."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return item
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item
    return None


__all__ = ["UNSTORABLE", "unstorable_text"]
