"""Splitting a solution text into steps.

Rules:

- ``lines``: every non-empty line is a step (GSM8K model solutions).
- ``blank_lines``: paragraphs separated by one or more blank lines.
- ``period_blank``: split after ``.\\n\\n``, the boundary MetaStone-S1 scores.
- ``given``: the item already has its steps; they are kept as they are.

A ``<think>...</think>`` block is the thinking trajectory (ReasonFlux-PRM's
``s``); what follows it is the final response (``a``). Both are split by the
same rule; trajectory steps come first and carry ``section="trajectory"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from judges.types import Step

SplitRule = Literal["lines", "blank_lines", "period_blank", "given"]
SPLIT_RULES: tuple[str, ...] = ("lines", "blank_lines", "period_blank", "given")

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)


def split_text(text: str, rule: SplitRule) -> list[str]:
    """Split one block of text into step strings (stripped, empty ones dropped)."""
    if rule == "lines":
        parts = text.split("\n")
    elif rule == "blank_lines":
        parts = re.split(r"\n[ \t]*\n", text)
    elif rule == "period_blank":
        parts = re.split(r"(?<=\.)\n\n", text)  # the period stays with its step
    elif rule == "given":
        parts = [text]
    else:
        raise ValueError(f"unknown split rule {rule!r} (known: {', '.join(SPLIT_RULES)})")
    return [p.strip() for p in parts if p.strip()]


def split_solution(text: str, rule: SplitRule = "lines") -> list[Step]:
    """Steps of a solution text, thinking-trajectory steps first.

    Without a ``<think>`` block every step is a response step.
    """
    match = _THINK.search(text)
    if match is None:
        return [Step(index=i, text=t) for i, t in enumerate(split_text(text, rule))]
    thinking = split_text(match.group(1), rule)
    response = split_text(text[match.end() :], rule)
    steps = [Step(index=i, text=t, section="trajectory") for i, t in enumerate(thinking)]
    steps += [Step(index=len(thinking) + i, text=t, section="response") for i, t in enumerate(response)]
    return steps


def steps_from_list(texts: Sequence[str], sections: Sequence[str] | None = None) -> list[Step]:
    """The ``given`` rule: an item's own steps, kept in order."""
    if sections is not None and len(sections) != len(texts):
        raise ValueError("sections and texts differ in length")
    return [
        Step(index=i, text=t, section=(sections[i] if sections else "response"))  # type: ignore[arg-type]
        for i, t in enumerate(texts)
    ]
