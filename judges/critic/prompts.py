"""Prompt templates kept as files and versioned by the hash of their content.

A template is a pair of files `<name>.system.txt` and `<name>.user.txt`
(`string.Template` syntax: `$name`), so JSON examples in a prompt need no
escaping. Its version is the SHA-256 of both texts: editing a prompt makes a
new judge configuration instead of silently changing old judgments.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from string import Template

from judges.types import Criterion, PairwiseTask, Persona, ReasoningTask, SummaryTask

PROMPT_DIR = Path(__file__).parent / "prompts"
STEP_CRITIQUE = "step_critique"
RUBRIC_RATING = "rubric_rating"
PAIRWISE_PREFERENCE = "pairwise_preference"
TEMPLATES = (STEP_CRITIQUE, RUBRIC_RATING, PAIRWISE_PREFERENCE)


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str
    user: str

    @functools.cached_property
    def version(self) -> str:
        digest = hashlib.sha256(f"{self.system}\0{self.user}".encode()).hexdigest()
        return f"{self.name}@{digest[:16]}"

    @classmethod
    def load(cls, name: str, directory: Path | str | None = None) -> PromptTemplate:
        """Read `<name>.system.txt` and `<name>.user.txt` from `directory` (default: built-in)."""
        base = Path(directory) if directory is not None else PROMPT_DIR
        system = (base / f"{name}.system.txt").read_text(encoding="utf-8")
        user = (base / f"{name}.user.txt").read_text(encoding="utf-8")
        return cls(name=name, system=system.strip(), user=user)

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The chat messages with `values` substituted; a missing value is a KeyError."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": Template(self.user).substitute(values).strip()},
        ]


def _tagged_steps(task: ReasoningTask, section: str) -> str:
    steps = [s for s in task.steps if s.section == section]
    if not steps:
        return "(none)"
    return "\n\n".join(f"<step_{s.index}>\n{s.text}\n</step_{s.index}>" for s in steps)


def step_critique_values(task: ReasoningTask) -> dict[str, str]:
    """Template values for a step critique: the sections are kept apart, steps numbered."""
    return {
        "problem": task.problem,
        "trajectory": _tagged_steps(task, "trajectory"),
        "response": _tagged_steps(task, "response"),
        "last_index": str(len(task.steps) - 1),
    }


def _criterion_block(c: Criterion) -> str:
    lines = [f"- name: {c.name}", f"  description: {c.description}"]
    lines.append(f"  scale: integer from {c.scale_min} to {c.scale_max}")
    if c.anchors:
        anchors = "; ".join(f"{k} = {v}" for k, v in sorted(c.anchors.items()))
        lines.append(f"  anchors: {anchors}")
    return "\n".join(lines)


def rubric_values(task: SummaryTask) -> dict[str, str]:
    """Template values for a rubric rating from the task's persona."""
    persona: Persona = task.persona
    return {
        "persona_name": persona.name,
        "persona_description": persona.description,
        "persona_prompt": persona.prompt,
        "document": task.document,
        "summary": task.summary,
        "criteria": "\n".join(_criterion_block(c) for c in task.criteria),
        "answer_format": _rubric_answer_format(task),
    }


def _rubric_answer_format(task: SummaryTask) -> str:
    """The answer's form with the rubric's own keys (the schema in `judges.critic.schema`)."""
    entries = ", ".join(
        f'"{c.name}": {{"rationale": "<short reason>", '
        f'"score": <integer from {c.scale_min} to {c.scale_max}>}}'
        for c in task.criteria
    )
    return "{" + entries + "}"


def pair_choices(task: PairwiseTask) -> tuple[str, ...]:
    """The answers a preference may take on `task`: A and B, and tie when the study allows it."""
    return ("A", "B", "tie") if task.allow_tie else ("A", "B")


def pairwise_values(task: PairwiseTask, order: str) -> dict[str, str]:
    """Template values for a pair shown in `order` (`ab`: response A first, `ba`: B first).
    The slots are called A and B as shown; the judge maps a `ba` answer back."""
    first, second = (
        (task.response_a, task.response_b) if order == "ab" else (task.response_b, task.response_a)
    )
    choices = pair_choices(task)
    said = {"A": '"A" (Response A is better)', "B": '"B" (Response B is better)', "tie": '"tie" (neither)'}
    legal = " or ".join(f'"{c}"' for c in choices)
    entries = ", ".join(
        f'"{c.name}": {{"rationale": "<short reason>", "preference": <{legal}>}}' for c in task.criteria
    )
    return {
        "prompt": task.prompt,
        "first": first,
        "second": second,
        "criteria": "\n".join(f"- name: {c.name}\n  description: {c.description}" for c in task.criteria),
        "choices": ", ".join(said[c] for c in choices) + ".",
        "answer_format": "{" + entries + "}",
    }
