"""Imported reasoning items as SPRM training/evaluation data (`judges.sprm.data.Solution`).

The step texts are kept exactly as the importer gives them (the ``given`` split
rule), so the embedding cache is keyed by the same strings every time. Human step
labels (BIG-Bench Mistake's ``mistake_index``) are attached for evaluation only;
training reads problems, steps and outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from judges.sprm.data import Solution
from judges.sprm.steps import steps_from_list
from studyapp.importers import read_items
from studyapp.importers.records import ItemRecord

__all__ = ["SPRM_FORMATS", "read_solutions", "solutions_from_records"]

# Formats whose items are reasoning traces with outcome labels: what train_sprm and
# evaluate_sprm read (`--format`). The human step labels of the labelled ones are
# attached for evaluation only.
SPRM_FORMATS = (
    "gsm8k_solutions",
    "bigbench_mistake",
    "native",
    "processbench",
    "mr_ben",
    "roscoe",
    "summedits",
)


def solutions_from_records(items: Sequence[ItemRecord]) -> list[Solution]:
    """Reasoning items with steps become solutions; summary items are skipped.

    The group (the problem, for Best-of-N and for splits) is the item's
    ``metadata["problem_id"]`` when the format has several solutions a problem,
    else the item itself.
    """
    out = []
    for item in items:
        if item.kind != "reasoning" or not item.steps:
            continue
        human = next((lab for lab in item.labels if lab.step_labels is not None), None)
        out.append(
            Solution(
                problem=item.problem,
                steps=steps_from_list([s.text for s in item.steps], [s.section for s in item.steps]),
                outcome=item.outcome,
                group=str(item.metadata.get("problem_id") or item.external_id),
                step_labels=list(human.step_labels) if human and human.step_labels else None,
                final_answer=item.final_answer or None,
                item_id=item.external_id,
            )
        )
    return out


def read_solutions(paths: Sequence[str | Path], fmt: str) -> list[Solution]:
    """Read every file with the format's importer (one task a file for BIG-Bench Mistake)."""
    solutions: list[Solution] = []
    for path in paths:
        solutions += solutions_from_records(read_items(path, fmt).items)
    return solutions
