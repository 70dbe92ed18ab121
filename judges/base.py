"""The interface every AI judge implements, and the registry that builds one from a spec."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from judges.types import ReasoningTask, SummaryTask, Verdict

Task = ReasoningTask | SummaryTask

# kind in a study spec -> "module:Class"; a class is built with `Class.from_config(config)`.
JUDGE_KINDS: dict[str, str] = {
    "critic": "judges.critic.judge:CriticJudge",
    "sprm": "judges.sprm.judge:SPRMJudge",
}


@runtime_checkable
class Judge(Protocol):
    """An AI judge: stateless over items, built from a plain config mapping."""

    kind: str
    item_kinds: tuple[str, ...]  # the item kinds it judges: "reasoning", "summary"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Judge: ...

    def version(self) -> str:
        """A content hash of everything that changes the judge's output
        (model, prompts, parameters, weights): a new version is a new judge."""
        ...

    def judge(self, tasks: Sequence[Task]) -> list[Verdict]:
        """One verdict per task, in order; failures are verdicts with ok=False."""
        ...


def build_judge(kind: str, config: Mapping[str, Any]) -> Judge:
    """Build the judge of `kind` from `config`; ValueError for an unknown kind."""
    try:
        target = JUDGE_KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(JUDGE_KINDS))
        raise ValueError(f"unknown judge kind {kind!r} (known: {known})") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls.from_config(config)
