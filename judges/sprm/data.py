"""Training and evaluation data of the SPRM: plain dataclasses, no Django."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

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
    solutions: list[Solution], *, test_fraction: float = 0.2, seed: int = 0, salt: str = ""
) -> tuple[list[Solution], list[Solution]]:
    """(train, test) with whole problems on one side.

    A group goes to test when ``sha256(f"{salt}{seed}:{group}")``, read as a number in
    [0, 1), is below `test_fraction`: the side of a problem depends only on its key
    and the seed, never on what else is in the data, so one task's split is the
    same whether it is read alone or with others. A split made inside another one's
    side (the calibration hold-out inside `--split train`) needs its own `salt`: with
    the same seed and hash, every problem left on the train side would stay there.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")

    def in_test(group: str) -> bool:
        digest = hashlib.sha256(f"{salt}{seed}:{group}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < test_fraction

    side = {g: in_test(g) for g in {s.group for s in solutions}}
    train = [s for s in solutions if not side[s.group]]
    test = [s for s in solutions if side[s.group]]
    return train, test
