"""The interface every AI judge implements, and the registry that builds one from a spec."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from judges.config import UNKNOWN_KIND, ConfigProblem, JudgeConfigError, JudgeConfigModel
from judges.types import PairwiseTask, ReasoningTask, SummaryTask, Verdict

Task = ReasoningTask | SummaryTask | PairwiseTask

# kind in a study spec -> "module:Class"; a class is built with `Class.from_config(config)`.
JUDGE_KINDS: dict[str, str] = {
    "critic": "judges.critic.judge:CriticJudge",
    "sprm": "judges.sprm.judge:SPRMJudge",
}
# kind -> its configuration (a `JudgeConfigModel`), light to import: no torch, no HTTP client
JUDGE_CONFIGS: dict[str, str] = {
    "critic": "judges.critic.config:CriticConfig",
    "sprm": "judges.sprm.config:SPRMConfig",
}


@runtime_checkable
class Judge(Protocol):
    """An AI judge: stateless over items, built from a plain config mapping."""

    kind: str
    item_kinds: tuple[str, ...]  # the item kinds it judges: "reasoning", "summary", "pairwise"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Judge: ...

    def version(self) -> str:
        """A content hash of everything that changes the judge's output
        (model, prompts, parameters, weights): a new version is a new judge."""
        ...

    def judge(self, tasks: Sequence[Task]) -> list[Verdict]:
        """One verdict per task, in order; failures are verdicts with ok=False."""
        ...


def _load(target: str) -> Any:
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def judge_config_problems(
    kind: str, config: Mapping[str, Any], *, ready: bool = True, env: Mapping[str, str] | None = None
) -> list[ConfigProblem]:
    """Everything wrong with `config` for a judge of `kind` (empty when nothing is):
    the mapping itself, then, with `ready`, what it names (files, environment)."""
    if kind not in JUDGE_CONFIGS:
        known = ", ".join(sorted(JUDGE_CONFIGS))
        return [ConfigProblem(f"unknown judge kind {kind!r} (known: {known})", code=UNKNOWN_KIND)]
    try:
        checked: JudgeConfigModel = _load(JUDGE_CONFIGS[kind]).from_mapping(config)
    except JudgeConfigError as exc:
        return exc.problems
    return checked.readiness(env) if ready else []


def build_judge(kind: str, config: Mapping[str, Any]) -> Judge:
    """Build the judge of `kind` from `config`; `JudgeConfigError` (a ValueError) for
    anything that keeps it from being built, each problem on its config key."""
    if problems := judge_config_problems(kind, config):
        raise JudgeConfigError(problems)
    judge: Judge = _load(JUDGE_KINDS[kind]).from_config(config)
    return judge
