"""Plain data that every judge takes and returns.

`studyapp` maps its rows to these types and back; nothing in `judges/`
imports Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from analysis.prm import labels_from_first_error

Section = Literal["trajectory", "response"]
STEP_LABELS = (-1, 0, 1)


def step_labels_from_first_error(first_error: int, n_steps: int) -> list[int | None]:
    """Step labels implied by a first-error index, on the study's +1/-1 scale.

    :func:`analysis.prm.labels_from_first_error` is the rule (ProcessBench
    convention: correct before the error, wrong at it, unlabelled after it;
    -1 = no error); this maps its 1 / 0 / NaN to +1 / -1 / None.
    """
    return [None if v != v else (1 if v == 1 else -1) for v in labels_from_first_error(first_error, n_steps)]


@dataclass(frozen=True)
class Step:
    """One step of a reasoning trace; `index` is 0-based over the whole trace."""

    index: int
    text: str
    section: Section = "response"


@dataclass(frozen=True)
class ReasoningTask:
    """A problem with its steps in order (trajectory steps first, then response steps)."""

    item_id: str
    problem: str
    steps: tuple[Step, ...]
    reference_answer: str | None = None
    domain: str = ""


@dataclass(frozen=True)
class Persona:
    name: str
    description: str
    prompt: str = ""


@dataclass(frozen=True)
class Criterion:
    name: str
    description: str
    scale_min: int = 1
    scale_max: int = 5
    anchors: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SummaryTask:
    """A document and a summary to rate on `criteria` from `persona`'s point of view."""

    item_id: str
    document: str
    summary: str
    persona: Persona
    criteria: tuple[Criterion, ...]
    domain: str = ""


# A preference on a pair: always about the underlying responses A and B, never a screen slot.
PREFERENCES = ("A", "B", "tie")
# ... as stored (Label.value): +1 A, -1 B, 0 tie.
PREFERENCE_VALUES: dict[str, float] = {"A": 1.0, "B": -1.0, "tie": 0.0}
PREFERENCE_OF_VALUE: dict[float, str] = {v: k for k, v in PREFERENCE_VALUES.items()}
# The two orders a pair is shown in: A first, B first.
PAIR_ORDERS = ("ab", "ba")


def combine_orders(first: str | None, swapped: str | None) -> tuple[str, bool]:
    """The verdict of a pair judged in both orders, and whether the two agree: a preference
    when both orders give it, else a tie (inconsistent: the position decided). A missing
    order (None: unparsed, or not asked) is never an agreement."""
    if first is not None and first == swapped:
        return first, True
    return "tie", False


def unswap(preference: str, order: str) -> str:
    """The underlying response a verdict given in `order` chose: in `ba` the first slot
    (called A on screen) holds response B."""
    if order == "ba" and preference != "tie":
        return "B" if preference == "A" else "A"
    return preference


@dataclass(frozen=True)
class PairwiseTask:
    """A prompt and two responses to compare on `criteria` (each a preference A / B, with
    tie only when `allow_tie`)."""

    item_id: str
    prompt: str
    response_a: str
    response_b: str
    criteria: tuple[Criterion, ...]
    allow_tie: bool = True
    domain: str = ""


@dataclass
class Verdict:
    """What a judge says about one item.

    `ok` is False when the judge failed (unparseable output, a step that does
    not exist, an API error): then `error` says why and `raw` keeps the text;
    no label is made up.
    """

    ok: bool
    step_labels: list[int] | None = None  # +1 / 0 / -1 per step, None where unlabelled
    step_scores: list[float] | None = None  # continuous P(step correct), e.g. the SPRM's
    first_error: int | None = None  # 0-based index of the earliest wrong step, -1 for none
    ratings: dict[str, float] | None = None  # criterion name -> score on its scale (pairs: +1 A, -1 B, 0 tie)
    rationales: dict[str, str] | None = None
    score: float | None = None  # solution-level score
    trajectory_score: float | None = None
    raw: Any = None
    error: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    prompt_version: str | None = None
