"""ROSCOE human step judgments (Golovneva et al., ICLR 2023) as converted by JUDGE-BENCH.

``roscoe-<task>-stepwise.json`` (task ``drop``, ``esnli``, ``gsm8k``) is one
JSON object whose ``instances`` are single steps: each ``instance`` text repeats
the context and the whole generated chain, then the step judged after
``\\nJUDGE: ``; its ``annotations`` hold one expert's ``yes``/``no`` for nine
error types. Instances with the same text before ``JUDGE:`` are one chain,
rebuilt here as a reasoning item ``roscoe/<task>/<n>`` whose steps are the
chain's ``Step k - ...`` lines (every step of every chain is judged in the
published files).

Step labels, an annotation by the external rater ``roscoe-expert``: a step is
wrong (-1) when the expert marked any error type other than ``Grammar`` (the
issue's rule), else +1. Grammar is left out because ROSCOE defines it as the
language of the step ("faulty, unconventional or controversial grammar"), not
its reasoning; the eight that count are Factuality, Coherency and Logic, Final
Answer, Hallucination, Redundancy, Repetition, Commonsense and Arithmetic.
Redundancy and Repetition flag steps that "could be dropped" rather than false
ones; the option ``error_types`` (a list) narrows the rule, e.g. to leave them
out too.

The outcome is *not* computed from any step label: it is the same expert's
whole-chain ``Overall Quality`` rating (1 = "incomprehensible and wrong",
5 = "clear and correct") in the matching ``roscoe-<task>-overall.json`` beside
the stepwise file (option ``overall`` names another), correct when it is at
least ``good_from`` (default 4). Its ratings (Overall Quality, Coherency,
Missing Steps, Contradiction) are kept in the item's metadata. Without the
overall file the outcomes are unknown and the import says so. The task is in
the metadata (``task``); the study's domain comes from the source.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, json_entries, read_json_text
from studyapp.importers.records import (
    Fields,
    ImportFailure,
    ImportResult,
    ItemRecord,
    LabelRecord,
    StepRecord,
)

RATER = "roscoe-expert"
ERROR_TYPES = (
    "Grammar",
    "Factuality",
    "Coherency and Logic",
    "Final Answer",
    "Hallucination",
    "Redundancy",
    "Repetition",
    "Commonsense",
    "Arithmetic",
)
COUNTED = tuple(t for t in ERROR_TYPES if t != "Grammar")
JUDGE = "\nJUDGE: "
OVERALL_END = "\nJudge the generated response:"
RESPONSE = "GENERATED RESPONSE:\n"
STEP_LINE = re.compile(r"^Step \d+ -")


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    task = options.get("task") or path.stem.removeprefix("roscoe-").removesuffix("-stepwise")
    counted = tuple(options.get("error_types") or COUNTED)
    unknown = set(counted) - set(ERROR_TYPES)
    if unknown:
        raise ImportFailure(path, None, "error_types", f"unknown error types {sorted(unknown)}")
    good_from = float(options.get("good_from", 4))
    chains: dict[str, dict[str, Any]] = {}  # context and chain -> its first line and judged steps
    for line, obj in _instances(path, limits):
        f = Fields(path, line, obj)
        head, sep, step = f.text("instance").partition(JUDGE)
        if not sep:
            raise f.fail("instance", "no '\\nJUDGE: ' before the step judged")
        annotations = f.get("annotations", dict)
        wrong = False
        for error_type in ERROR_TYPES:
            a = Fields(path, line, annotations, "annotations.")
            value = Fields(path, line, a.get(error_type, dict), f"annotations.{error_type}.").get(
                "majority_human", str
            )
            if value not in ("yes", "no"):
                raise a.fail(f"{error_type}.majority_human", f"{value!r} is not 'yes' or 'no'")
            wrong |= error_type in counted and value == "yes"
        chain = chains.setdefault(_context(head), {"line": line, "head": head, "judged": {}})
        chain["judged"].setdefault(step.strip(), (line, wrong))
    overall_path = path.parent / (options.get("overall") or path.name.replace("-stepwise", "-overall"))
    overall = _overall(overall_path, limits) if overall_path.is_file() and overall_path != path else None
    items = [
        _chain(path, task, n, context, chain, overall, good_from)
        for n, (context, chain) in enumerate(chains.items())
    ]
    if not items:
        raise ImportFailure(path, None, "instances", "no instances")
    warnings = [] if overall is not None else [f"{overall_path.name} not found: the chains have no outcome"]
    return ImportResult(items, warnings)


def _instances(path: Path, limits: ImportLimits) -> Any:
    """(line, instance) of the file's ``instances`` list."""
    text = read_json_text(path, limits)
    found = False
    for key, value, line, offset in json_entries(path, text):
        if key != "instances":
            continue
        found = True
        if not isinstance(value, list):
            raise ImportFailure(path, line, "instances", "expected a list")
        for i, obj, obj_line, _ in json_entries(path, text, offset):
            if not isinstance(obj, dict):
                raise ImportFailure(path, obj_line, f"instances[{i}]", "expected an object")
            yield obj_line, obj
    if not found:
        raise ImportFailure(path, None, "instances", "missing")


def _context(head: str) -> str:
    """The context and chain of an instance, without the task's instructions (which differ by file)."""
    at = head.find("CONTEXT:")
    return head[at:] if at >= 0 else head


def _chain(
    path: Path,
    task: str,
    n: int,
    context: str,
    chain: dict[str, Any],
    overall: dict[str, tuple[int, dict[str, Any]]] | None,
    good_from: float,
) -> ItemRecord:
    line = chain["line"]
    head = chain["head"]
    if RESPONSE not in head:
        raise ImportFailure(path, line, "instance", f"no {RESPONSE.strip()!r} before the chain")
    problem_part, _, response = head.partition(RESPONSE)
    steps = [s.strip() for s in response.split("\n") if s.strip()]
    if not steps or not all(STEP_LINE.match(s) for s in steps):
        raise ImportFailure(path, line, "instance", "the generated response is not 'Step k - ...' lines")
    judged: dict[str, tuple[int, bool]] = chain["judged"]
    for step, (step_line, _) in judged.items():
        if step not in steps:
            raise ImportFailure(path, step_line, "instance", "the step judged is not a step of its chain")
    step_labels: list[int | None] = [None if s not in judged else (-1 if judged[s][1] else 1) for s in steps]
    first_error = _first_error(step_labels)
    outcome = None
    metadata: dict[str, Any] = {"task": task}
    if overall is not None:
        if context not in overall:
            raise ImportFailure(path, line, "instance", "this chain is not in the overall file")
        _, ratings = overall[context]
        quality = ratings["Overall Quality"]
        outcome = quality >= good_from
        metadata["overall"] = ratings
    return ItemRecord(
        external_id=f"roscoe/{task}/{n}",
        kind="reasoning",
        line=line,
        problem=_context(problem_part).removeprefix("CONTEXT:").strip(),
        steps=[StepRecord(s) for s in steps],
        outcome=outcome,
        metadata=metadata,
        labels=[LabelRecord(rater=RATER, step_labels=step_labels, first_error=first_error)],
    )


def _first_error(labels: list[int | None]) -> int | None:
    """The first -1 when every step before it is labelled; -1 when all are +1; else None."""
    for i, label in enumerate(labels):
        if label is None:
            return None
        if label == -1:
            return i
    return -1


def _overall(path: Path, limits: ImportLimits) -> dict[str, tuple[int, dict[str, Any]]]:
    """context and chain -> (line, the expert's whole-chain ratings)."""
    out: dict[str, tuple[int, dict[str, Any]]] = {}
    for line, obj in _instances(path, limits):
        f = Fields(path, line, obj)
        head, sep, _ = f.text("instance").partition(OVERALL_END)
        if not sep:
            raise f.fail("instance", f"no {OVERALL_END.strip()!r} after the chain")
        a = Fields(path, line, f.get("annotations", dict), "annotations.")
        ratings: dict[str, Any] = {}
        for name in ("Overall Quality", "Coherency", "Missing Steps", "Contradiction"):
            entry = Fields(path, line, a.get(name, dict), f"annotations.{name}.")
            ratings[name] = entry.get("majority_human", (int, float, str))
        if isinstance(ratings["Overall Quality"], str) or not 1 <= ratings["Overall Quality"] <= 5:
            raise a.fail("Overall Quality.majority_human", f"{ratings['Overall Quality']!r} is not 1-5")
        out.setdefault(_context(head), (line, ratings))
    return out
