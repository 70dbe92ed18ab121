"""The project's own JSONL item format (documented in README.md, "Item formats").

One object a line. Reasoning items give `steps` (strings, or objects with
`text` and `section`), or `trajectory` and `response` lists; summary items
give `document`, `summary` and `persona`; pairwise items give `prompt`,
`response_a` and `response_b`, and their labels `preferences` ("A", "B" or
"tie" per criterion, about the underlying responses) and, for judges, `orders`
(the verdict with A shown first, "ab", and with B shown first, "ba"). Optional `annotations` (external
raters) and `judgments` (imported judges) carry existing labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, read_jsonl
from studyapp.importers.records import (
    ORDERS,
    PREFERENCE_VALUES,
    STEP_VALUES,
    Fields,
    ImportResult,
    ItemRecord,
    LabelRecord,
    StepRecord,
    combine_orders,
)

KNOWN_KEYS = {
    "id",
    "kind",
    "domain",
    "problem",
    "steps",
    "trajectory",
    "response",
    "outcome",
    "reference_answer",
    "final_answer",
    "document",
    "summary",
    "persona",
    "prompt",
    "response_a",
    "response_b",
    "metadata",
    "gold",
    "annotations",
    "judgments",
}


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    items = []
    for line, obj in read_jsonl(path, limits):
        f = Fields(path, line, obj)
        unknown = sorted(set(obj) - KNOWN_KEYS)
        if unknown:
            raise f.fail(unknown[0], f"unknown field (known: {', '.join(sorted(KNOWN_KEYS))})")
        item_id = f.get("id", (str, int))
        kind = f.get("kind", str, required=False, default="reasoning")
        if kind not in KINDS:
            raise f.fail("kind", f"must be 'reasoning', 'summary' or 'pairwise', not {kind!r}")
        wrong = sorted(set(obj) & FOREIGN[kind])
        if wrong:
            raise f.fail(wrong[0], f"not a field of {kind} items")
        record = ItemRecord(
            external_id=str(item_id),
            kind=kind,
            line=line,
            domain=f.get("domain", str, required=False),
            metadata=f.get("metadata", dict, required=False, default={}),
        )
        if "gold" in obj and obj["gold"] is not None:
            record.is_gold, record.gold = True, obj["gold"]
        if kind == "reasoning":
            record.problem = f.text("problem")
            record.steps = _steps(f)
            record.outcome = f.get("outcome", bool, required=False)
            record.reference_answer = f.get("reference_answer", str, required=False, default="")
            record.final_answer = f.get("final_answer", str, required=False, default="")
        elif kind == "pairwise":
            record.problem = f.text("prompt")
            record.response_a = f.text("response_a")
            record.response_b = f.text("response_b")
        else:
            record.document = f.text("document")
            record.summary = f.text("summary")
            record.persona = f.text("persona")
        if kind == "pairwise":
            record.labels = _preferences(f, "annotations", "rater", "external")
            record.labels += _preferences(f, "judgments", "judge", "judge")
        else:
            record.labels = _labels(f, "annotations", "rater", "external", len(record.steps))
            record.labels += _labels(f, "judgments", "judge", "judge", len(record.steps))
        items.append(record)
    return ImportResult(items)


KINDS = ("reasoning", "summary", "pairwise")
_REASONING = {"problem", "steps", "trajectory", "response", "outcome"}
_PAIRWISE = {"prompt", "response_a", "response_b"}
# Fields another kind's item must not carry (reasoning items have always ignored summary fields).
FOREIGN = {
    "reasoning": _PAIRWISE,
    "summary": _REASONING | _PAIRWISE,
    "pairwise": _REASONING | {"document", "summary", "persona", "reference_answer", "final_answer"},
}


def _preference(sub: Fields, where: str, value: Any, *, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or value not in PREFERENCE_VALUES:
        raise sub.fail(where, f"must be 'A', 'B' or 'tie', not {value!r}")
    return value


def _preferences(f: Fields, key: str, name_key: str, kind: str) -> list[LabelRecord]:
    """Labels of a pair: `preferences` per criterion and, for judges, the verdicts by `orders`."""
    labels = []
    for i, entry in enumerate(f.get(key, list, required=False, default=[])):
        where = f"{key}[{i}]"
        if not isinstance(entry, dict):
            raise f.fail(where, "expected an object")
        sub = Fields(f.path, f.line, entry, prefix=f"{where}.")
        for name in sorted(set(entry) - {name_key, "preferences", "orders", "comment"}):
            raise sub.fail(name, "not a field of a pairwise label (preferences, orders, comment)")
        name = sub.text(name_key)
        preferences = {
            criterion: _preference(sub, f"preferences.{criterion}", value)
            for criterion, value in sub.get("preferences", dict, required=False, default={}).items()
        }
        orders: dict[str, dict[str, str | None]] = {}
        if kind == "judge":
            for criterion, pair in sub.get("orders", dict, required=False, default={}).items():
                if not isinstance(pair, dict) or set(pair) != set(ORDERS):
                    raise sub.fail(f"orders.{criterion}", 'expected {"ab": verdict, "ba": verdict}')
                orders[criterion] = {
                    order: _preference(sub, f"orders.{criterion}.{order}", pair[order], allow_none=True)
                    for order in ORDERS
                }
                combined, _ = combine_orders(orders[criterion]["ab"], orders[criterion]["ba"])
                given = preferences.setdefault(criterion, combined)
                if given != combined:
                    raise sub.fail(
                        f"preferences.{criterion}",
                        f"{given!r} is not the combination of its orders ({combined!r})",
                    )
        elif "orders" in entry:
            raise sub.fail("orders", "only judgments have orders")
        if not preferences:
            raise sub.fail(name_key, "carries no preferences")
        labels.append(
            LabelRecord(
                rater=name,
                rater_kind=kind,
                ratings={c: PREFERENCE_VALUES[p] for c, p in preferences.items() if p is not None},
                comment=str(entry.get("comment", "")),
                orders=orders,
            )
        )
    return labels


def _steps(f: Fields) -> list[StepRecord]:
    obj = f.obj
    if "steps" in obj and ("trajectory" in obj or "response" in obj):
        raise f.fail("steps", "give either steps, or trajectory and response, not both")
    if "steps" not in obj:
        trajectory = f.string_list("trajectory", required=False)
        response = f.string_list("response")
        return [StepRecord(t, "trajectory") for t in trajectory] + [
            StepRecord(t, "response") for t in response
        ]
    raw = f.get("steps", list)
    if not raw:
        raise f.fail("steps", "empty list")
    steps = []
    for i, entry in enumerate(raw):
        if isinstance(entry, str):
            steps.append(StepRecord(entry))
        elif isinstance(entry, dict):
            text, section = entry.get("text"), entry.get("section", "response")
            if not isinstance(text, str):
                raise f.fail(f"steps[{i}].text", "missing or not a string")
            if section not in ("trajectory", "response"):
                raise f.fail(f"steps[{i}].section", "must be 'trajectory' or 'response'")
            steps.append(StepRecord(text, section))
        else:
            raise f.fail(f"steps[{i}]", "expected a string or an object with text and section")
    seen_response = False
    for i, step in enumerate(steps):
        if step.section == "response":
            seen_response = True
        elif seen_response:
            raise f.fail(f"steps[{i}].section", "trajectory steps must come before response steps")
    return steps


def _labels(f: Fields, key: str, name_key: str, kind: str, n_steps: int) -> list[LabelRecord]:
    entries = f.get(key, list, required=False, default=[])
    labels = []
    for i, entry in enumerate(entries):
        where = f"{key}[{i}]"
        if not isinstance(entry, dict):
            raise f.fail(where, "expected an object")
        sub = Fields(f.path, f.line, entry, prefix=f"{where}.")
        name = sub.text(name_key)
        step_labels = entry.get("steps")
        if step_labels is not None:
            if not isinstance(step_labels, list) or len(step_labels) != n_steps:
                raise sub.fail("steps", f"expected a list of {n_steps} labels (one per step)")
            for j, value in enumerate(step_labels):
                if value is not None and (isinstance(value, bool) or value not in STEP_VALUES):
                    raise sub.fail(f"steps[{j}]", f"label must be -1, 0, 1 or null, not {value!r}")
        scores = entry.get("step_scores")
        if scores is not None:
            if not isinstance(scores, list) or len(scores) != n_steps:
                raise sub.fail("step_scores", f"expected a list of {n_steps} scores")
            for j, value in enumerate(scores):
                ok = value is None or (
                    isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
                )
                if not ok:
                    raise sub.fail(f"step_scores[{j}]", "must be a number in [0, 1] or null")
        first_error = None
        if "first_error" in entry:
            first_error = sub.index("first_error", n_steps, allow_minus_one=True)
        ratings = sub.get("ratings", dict, required=False, default={})
        for criterion, value in ratings.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise sub.fail(f"ratings.{criterion}", "must be a number")
        if not (step_labels or scores or ratings or first_error is not None):
            raise sub.fail(name_key, "carries no steps, step_scores, first_error or ratings")
        labels.append(
            LabelRecord(
                rater=name,
                rater_kind=kind,
                step_labels=step_labels,
                step_scores=scores,
                first_error=first_error,
                ratings={k: float(v) for k, v in ratings.items()},
                comment=str(entry.get("comment", "")),
            )
        )
    return labels
