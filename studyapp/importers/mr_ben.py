"""MR-Ben (Zeng et al. 2024, arXiv 2406.13975; dvlab-research/Mr-Ben).

A subject's file (``biology.json`` ...) is one JSON object mapping a question's
UUID to its model solutions (Claude2, GPT-3.5, mistral-medium), each with
``Question``, ``Options`` (multiple choice; absent for coding), ``Subject``,
``Sampled_Model``, ``Model_Solution_Steps`` and the people's labels
``Model_Solution_Correctness`` (``correct`` / ``incorrect``) and
``Model_Solution_First_Error_Step``.

Each solution becomes a reasoning item ``mr_ben/<uuid>/<k>``:

- the outcome is the human correctness label (not the answer key: the
  annotators' label is what the study compares with);
- the human first error step is an annotation by the external rater
  ``mr-ben-human``: steps before it +1, it -1, after it unlabelled; a correct
  solution (``"N/A"``) has every step +1;
- in the multiple-choice subjects ``Model_Solution_Steps`` is a list of steps
  (``Step k: ...``, then ``Solution: ...``; blank entries dropped, continuation
  lines kept as published) and the first error is the 1-based step number as a
  string: the entry that starts ``Step k``, else the k-th entry;
- in ``coding`` the solution is one string of code: its non-blank lines are the
  steps and the first error is the text of a code line. When that text matches
  no line, or more than one, the item keeps its outcome but no step labels, and
  the import reports how many;
- the domain is the subject without its level (``college_biology`` and
  ``high_school_biology`` -> ``biology``; the option ``domain`` sets one for
  every item instead); the full subject, the sampled model
  and the question's UUID (the problem, for splits and Best-of-N) are metadata.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from judges.types import step_labels_from_first_error
from studyapp.importers.limits import ImportLimits, json_entries, read_json_text
from studyapp.importers.records import (
    Fields,
    ImportFailure,
    ImportResult,
    ItemRecord,
    LabelRecord,
    StepRecord,
)

RATER = "mr-ben-human"
CORRECTNESS = {"correct": True, "incorrect": False}
LEVELS = ("college_", "high_school_", "elementary_")
NO_ERROR = "N/A"


def domain_of(subject: str) -> str:
    """``college_biology`` -> ``biology``."""
    for level in LEVELS:
        if subject.startswith(level):
            return subject[len(level) :]
    return subject


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    rater = options.get("rater") or RATER
    domain = options.get("domain")
    text = read_json_text(path, limits)
    items: list[ItemRecord] = []
    unplaced = 0
    for uuid, solutions, line, offset in json_entries(path, text):
        if not isinstance(solutions, list):
            raise ImportFailure(path, line, str(uuid), "expected a list of solutions")
        for k, obj, sol_line, _ in json_entries(path, text, offset):
            if not isinstance(obj, dict):
                raise ImportFailure(path, sol_line, f"{uuid}[{k}]", "expected an object")
            item, placed = _solution(Fields(path, sol_line, obj, f"{uuid}[{k}]."), str(uuid), int(k), rater)
            item.domain = domain or item.domain
            unplaced += not placed
            items.append(item)
    if not items:
        raise ImportFailure(path, None, None, "no solutions")
    warnings = []
    if unplaced:
        warnings.append(
            f"{path.name}: {unplaced} incorrect coding solutions name a first-error line that matches "
            "no code line or several; imported with their outcome and without step labels"
        )
    return ImportResult(items, warnings)


def _solution(f: Fields, uuid: str, k: int, rater: str) -> tuple[ItemRecord, bool]:
    subject = f.text("Subject")
    question = f.text("Question")
    options = f.get("Options", str, required=False, default="")
    correctness = f.get("Model_Solution_Correctness", str)
    if correctness not in CORRECTNESS:
        raise f.fail("Model_Solution_Correctness", f"{correctness!r} is not 'correct' or 'incorrect'")
    outcome = CORRECTNESS[correctness]
    first = f.get("Model_Solution_First_Error_Step", (str, int))
    first = str(first).strip()
    if outcome and first != NO_ERROR:
        raise f.fail("Model_Solution_First_Error_Step", f"{first!r} on a correct solution (expected 'N/A')")
    if not outcome and first == NO_ERROR:
        raise f.fail("Model_Solution_First_Error_Step", "'N/A' on an incorrect solution")
    raw = f.get("Model_Solution_Steps", (list, str))
    placed = True
    if isinstance(raw, str):  # coding: one string of code, the first error a code line
        steps = [line for line in raw.split("\n") if line.strip()]
        if not steps:
            raise f.fail("Model_Solution_Steps", "no code lines")
        error: int | None = -1
        if not outcome:
            matches = [i for i, line in enumerate(steps) if line.strip() == first]
            error = matches[0] if len(matches) == 1 else None
            placed = error is not None
    else:
        steps = [s for s in f.string_list("Model_Solution_Steps") if s.strip()]
        if not steps:
            raise f.fail("Model_Solution_Steps", "no steps")
        error = -1 if outcome else _step_number(f, first, steps)
    labels = []
    if error is not None:
        labels.append(
            LabelRecord(
                rater=rater,
                step_labels=step_labels_from_first_error(error, len(steps)),
                first_error=error,
            )
        )
    problem = f"{question.strip()}\n\n{options.strip()}" if options.strip() else question.strip()
    item = ItemRecord(
        external_id=f"mr_ben/{uuid}/{k}",
        kind="reasoning",
        line=f.line,
        domain=domain_of(subject),
        problem=problem,
        steps=[StepRecord(s) for s in steps],
        outcome=outcome,
        reference_answer=str(
            f.obj.get("Ground_Truth_Answer_Modified") or f.obj.get("Ground_Truth_Answer") or ""
        ),
        metadata={
            # The key groups a question's solutions; nine physics solutions carry another
            # Question_UUID under their question's key: kept beside it.
            "problem_id": uuid,
            "question_uuid": f.obj.get("Question_UUID"),
            "subject": subject,
            "sampled_model": f.obj.get("Sampled_Model"),
        },
        labels=labels,
    )
    return item, placed


def _step_number(f: Fields, first: str, steps: list[str]) -> int:
    """The index of the step an incorrect solution's first error (``"k"``, 1-based) names.

    The number is the step's own label: the first step that starts ``Step k``
    (the lists also hold continuation lines, ``- ...``, between numbered steps),
    else the k-th entry (``Step 6`` of five numbered steps is the ``Solution:``
    line after them).
    """
    if not first.isdigit():
        raise f.fail("Model_Solution_First_Error_Step", f"{first!r} is not a step number")
    number = int(first)
    labelled = re.compile(rf"\s*Step {number}\b")
    for i, text in enumerate(steps):
        if labelled.match(text):
            return i
    if not 1 <= number <= len(steps):
        raise f.fail(
            "Model_Solution_First_Error_Step", f"step {number} out of range (steps are 1..{len(steps)})"
        )
    return number - 1
