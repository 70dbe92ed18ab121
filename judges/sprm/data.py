"""Training and evaluation data of the SPRM: plain dataclasses, no Django."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from judges.types import ReasoningTask, Step


@dataclass
class Solution:
    """One solution to a problem, split into steps.

    `outcome` is True when the final answer is correct (None when unknown);
    `group` keys the problem, so that several solutions of one problem form a
    Best-of-N group and a train/test split never divides a problem.
    `step_labels` holds human step labels (+1 correct, -1 wrong, None unlabelled,
    e.g. after the first error under the ProcessBench convention); training never
    reads them.
    """

    problem: str
    steps: list[Step]
    outcome: bool | None
    group: str
    step_labels: list[int | None] | None = None
    final_answer: str | None = None
    item_id: str = ""
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def first_error(self) -> int | None:
        """0-based index of the first step labelled -1, -1 if every labelled step is
        correct, None when the solution has no step labels."""
        if self.step_labels is None:
            return None
        for i, label in enumerate(self.step_labels):
            if label == -1:
                return i
        return -1


def step_labels_from_first_error(first_error: int, n_steps: int) -> list[int | None]:
    """ProcessBench convention: +1 before the first error, -1 at it, unlabelled after."""
    if first_error < -1 or first_error >= n_steps:
        raise ValueError(f"first_error {first_error} is outside [-1, {n_steps})")
    if first_error == -1:
        return [1] * n_steps
    return [1] * first_error + [-1] + [None] * (n_steps - first_error - 1)


def solution_from_task(task: ReasoningTask) -> Solution:
    """A judge's input as an unlabelled solution (outcome unknown)."""
    return Solution(
        problem=task.problem,
        steps=list(task.steps),
        outcome=None,
        group=task.item_id,
        item_id=task.item_id,
    )


def split_by_group(
    solutions: list[Solution], *, test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Solution], list[Solution]]:
    """(train, test) with whole problems on one side: a seeded permutation of the
    sorted group keys, the first ``round(test_fraction * n_groups)`` go to test."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    groups = sorted({s.group for s in solutions})
    order = np.random.default_rng(seed).permutation(len(groups))
    n_test = round(test_fraction * len(groups))
    test_groups = {groups[i] for i in order[:n_test]}
    train = [s for s in solutions if s.group not in test_groups]
    test = [s for s in solutions if s.group in test_groups]
    return train, test
