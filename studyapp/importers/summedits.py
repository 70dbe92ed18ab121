"""SummEdits (Laban et al., EMNLP 2023; salesforce/factualNLG).

A domain's file (``summedits_<domain>.json``) is one JSON list of
``{id, doc, summary, label, original_summary, edit_types, split}``; ``label``
is the annotators' verdict (1 = consistent with the document, 0 = not).

Each record becomes a reasoning item ``summedits/<id>`` so that a step judge
can score it: the document is the problem, the summary's sentences are the
steps, and the human label is the outcome. The annotation by the external
rater ``summedits-human``:

- a consistent summary: every sentence +1, no error;
- an inconsistent one whose sentences differ from ``original_summary``'s in
  exactly one sentence: that sentence is the first error (sentences before
  it +1, after it unlabelled);
- an inconsistent summary where no single sentence differs (several edited,
  or none): no step labels, only the outcome.

Sentences are split at ``.``, ``!`` or ``?`` followed by space and a capital,
digit or quote (summaries are plain prose of one to a few sentences; the same
rule splits the original, so the diff compares like with like). ``edit_types``
were predicted by GPT-4, not by people: kept in the metadata, not as labels.
The file's domain (``news``, ``samsum`` ...) is in the metadata (``domain``); the
study's domain comes from the source.
"""

from __future__ import annotations

import difflib
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

RATER = "summedits-human"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def sentences(text: str) -> list[str]:
    """The sentences of `text` (see the module's rule), stripped, none empty."""
    return [s.strip() for s in SENTENCE_END.split(text.strip()) if s.strip()]


def edited_sentence(summary: list[str], original: list[str]) -> int | None:
    """The index of the one sentence of `summary` that differs from `original`, else None."""
    changed: set[int] = set()
    matcher = difflib.SequenceMatcher(a=original, b=summary, autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "delete":
            return None  # a sentence removed: no sentence of the summary holds the error
        changed.update(range(j1, j2))
    return next(iter(changed)) if len(changed) == 1 else None


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    domain = options.get("domain") or path.stem.removeprefix("summedits_")
    rater = options.get("rater") or RATER
    text = read_json_text(path, limits)
    items: list[ItemRecord] = []
    unplaced = 0
    for i, obj, line, _ in json_entries(path, text):
        if not isinstance(obj, dict):
            raise ImportFailure(path, line, f"[{i}]", "expected an object")
        f = Fields(path, line, obj)
        item_id = f.get("id", (str, int))
        document = f.text("doc")
        summary = f.text("summary")
        original = f.get("original_summary", str, required=False, default="")
        label = f.get("label", int)
        if label not in (0, 1):
            raise f.fail("label", f"{label} is not 0 or 1")
        steps = sentences(summary)
        labels = []
        if label == 1:
            labels.append(LabelRecord(rater=rater, step_labels=[1] * len(steps), first_error=-1))
        else:
            edited = edited_sentence(steps, sentences(original)) if original.strip() else None
            if edited is None:
                unplaced += 1
            else:
                labels.append(
                    LabelRecord(
                        rater=rater,
                        step_labels=step_labels_from_first_error(edited, len(steps)),
                        first_error=edited,
                    )
                )
        items.append(
            ItemRecord(
                external_id=f"summedits/{item_id}",
                kind="reasoning",
                line=line,
                problem=document,
                steps=[StepRecord(s) for s in steps],
                outcome=label == 1,
                metadata={
                    "domain": domain,
                    "original_summary": original,
                    "edit_types": obj.get("edit_types") or [],
                    "split": obj.get("split"),
                },
                labels=labels,
            )
        )
    if not items:
        raise ImportFailure(path, None, None, "no records")
    warnings = []
    if unplaced:
        warnings.append(
            f"{path.name}: {unplaced} inconsistent summaries differ from their original in no single "
            "sentence; imported with their outcome and without step labels"
        )
    return ImportResult(items, warnings)
