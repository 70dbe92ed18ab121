"""What an importer yields: plain records, checked, with where each came from.

Importers do not touch the database (and do not import Django), so the SPRM's
training commands and notebooks can read the same formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The pair vocabulary and the combination of two orders are the judges' (the critic
# combines its own two verdicts by the same rule as an imported judge's).
from judges.types import PAIR_ORDERS as ORDERS  # noqa: F401
from judges.types import PREFERENCE_OF_VALUE, PREFERENCE_VALUES, combine_orders  # noqa: F401

STEP_VALUES = (-1, 0, 1)


class ImportFailure(ValueError):
    """A bad line or field: says the file, the line (1-based) and the field."""

    def __init__(self, path: str | Path, line: int | None, field: str | None, message: str):
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        what = f"{field}: {message}" if field else message
        super().__init__(f"{where}: {what}")


@dataclass
class StepRecord:
    text: str
    section: str = "response"  # "trajectory" or "response"


@dataclass
class LabelRecord:
    """Labels of one item by one rater (an external rater, or an imported judge)."""

    rater: str
    rater_kind: str = "external"  # "external" or "judge" (ratings of another judge)
    step_labels: list[int | None] | None = None  # None where a step was not labelled
    step_scores: list[float | None] | None = None
    first_error: int | None = None  # -1 = no error
    ratings: dict[str, float] = field(default_factory=dict)
    comment: str = ""
    # pairs judged in both orders: criterion -> {"ab": verdict, "ba": verdict}, each "A", "B",
    # "tie" or None (no verdict), about the underlying responses; `ratings` holds the combined one
    orders: dict[str, dict[str, str | None]] = field(default_factory=dict)


@dataclass
class ItemRecord:
    external_id: str
    kind: str  # "reasoning", "summary" or "pairwise" (prompt in `problem`)
    line: int
    domain: str | None = None
    problem: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    outcome: bool | None = None
    reference_answer: str = ""
    final_answer: str = ""
    document: str = ""
    summary: str = ""
    response_a: str = ""
    response_b: str = ""
    persona: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    is_gold: bool = False
    gold: Any = None
    labels: list[LabelRecord] = field(default_factory=list)


@dataclass
class ImportResult:
    items: list[ItemRecord]
    warnings: list[str] = field(default_factory=list)


class Fields:
    """Typed access to one record's fields, failing with the file, line and field."""

    def __init__(self, path: Path, line: int, obj: dict[str, Any], prefix: str = ""):
        self.path, self.line, self.obj, self.prefix = path, line, obj, prefix

    def fail(self, name: str, message: str) -> ImportFailure:
        return ImportFailure(self.path, self.line, self.prefix + name, message)

    def get(
        self,
        name: str,
        kind: type | tuple[type, ...],
        *,
        required: bool = True,
        default: Any = None,
    ) -> Any:
        if name not in self.obj or self.obj[name] is None:
            if required:
                raise self.fail(name, "missing")
            return default
        value = self.obj[name]
        # bool is an int in Python; a boolean where a number is wanted is a wrong type.
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            raise self.fail(name, f"expected {_type_name(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise self.fail(name, f"expected {_type_name(kind)}, got {_json_type(value)}")
        return value

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.get(name, str, required=required, default="")
        if required and not value.strip():
            raise self.fail(name, "empty")
        return value

    def string_list(self, name: str, *, required: bool = True, allow_empty: bool = False) -> list[str]:
        value = self.get(name, list, required=required, default=[])
        for i, entry in enumerate(value):
            if not isinstance(entry, str):
                raise self.fail(f"{name}[{i}]", f"expected a string, got {_json_type(entry)}")
        if required and not value and not allow_empty:
            raise self.fail(name, "empty list")
        return value

    def index(
        self,
        name: str,
        size: int,
        *,
        required: bool = True,
        allow_minus_one: bool = False,
        base: int = 0,
    ) -> int | None:
        value = self.get(name, int, required=required)
        if value is None:
            return None
        if allow_minus_one and value == -1:
            return -1
        if not base <= value < size + base:
            last = size - 1 + base
            raise self.fail(name, f"index {value} out of range (steps are {base}..{last})")
        return value - base


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    list: "a list",
    dict: "an object",
    bool: "a boolean",
}


def _type_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(TYPE_NAMES.get(k, k.__name__) for k in _as_tuple(kind))


def _json_type(value: Any) -> str:
    return "null" if value is None else TYPE_NAMES.get(type(value), type(value).__name__)
