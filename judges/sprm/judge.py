"""`SPRMJudge`: a trained SPRM behind the Judge protocol of `judges.base`.

Config: ``{"model_dir": ..., "threshold": 0.5, "batch_size": 64, "cache_dir": None}``
(`judges.sprm.config.SPRMConfig`); ``"threshold": "outcome"`` takes the threshold the
model fitted on its training outcomes (``card.json`` ``outcome_threshold``), which
read no step label. A model that is missing or cannot be loaded is a
`JudgeConfigError` on ``model_dir`` that says what is wrong with it.
For each reasoning task the verdict carries continuous step scores, step labels
thresholded at `threshold` (+1 at or above, -1 below), the first step below the
threshold as `first_error` (-1 if none), the geometric-mean solution `score`, and
for items with thinking-trajectory steps a `trajectory_score`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judges.base import Task
from judges.config import MODEL_INVALID, ConfigProblem, JudgeConfigError
from judges.sprm.config import CARD_FILE, WEIGHTS_FILE, SPRMConfig
from judges.sprm.data import solution_from_task
from judges.sprm.io import load_model
from judges.sprm.model import SPRMModel
from judges.sprm.score import first_below
from judges.sprm.train import VARIANTS
from judges.types import ReasoningTask, Verdict

__all__ = ["SPRMJudge"]


class SPRMJudge:
    kind = "sprm"
    item_kinds = ("reasoning",)

    def __init__(
        self,
        model: SPRMModel,
        *,
        model_dir: str | Path,
        threshold: float = 0.5,
        batch_size: int = 64,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.model_dir = Path(model_dir)
        self.threshold = float(threshold)
        self.batch_size = int(batch_size)
        self._version: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SPRMJudge:
        cfg = SPRMConfig.from_mapping(config)
        if problems := cfg.readiness():
            raise JudgeConfigError(problems)
        try:
            model = load_model(cfg.model_dir, cache_dir=cfg.cache_dir)
        except Exception as exc:  # a card or weights load_model cannot use, an encoder not here
            why = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            message = f"cannot load the model in {cfg.model_dir}: {why}"
            raise JudgeConfigError([ConfigProblem(message, ("model_dir",), MODEL_INVALID)]) from exc
        variant = model.card["variant"]
        if variant not in VARIANTS:
            raise JudgeConfigError(
                [
                    ConfigProblem(
                        f"the model in {cfg.model_dir} is variant {variant!r}, which this judge cannot run "
                        f"(it runs {', '.join(VARIANTS)})",
                        ("model_dir",),
                        MODEL_INVALID,
                    )
                ]
            )
        threshold = model.card["outcome_threshold"]["value"] if cfg.threshold == "outcome" else cfg.threshold
        return cls(model, model_dir=cfg.model_dir, threshold=float(threshold), batch_size=cfg.batch_size)

    def version(self) -> str:
        """sha256 of the weights, the card and the threshold."""
        if self._version is not None:
            return self._version
        digest = hashlib.sha256()
        digest.update((self.model_dir / WEIGHTS_FILE).read_bytes())
        digest.update((self.model_dir / CARD_FILE).read_bytes())
        digest.update(json.dumps({"threshold": self.threshold}).encode())
        self._version = digest.hexdigest()
        return self._version

    def judge(self, tasks: Sequence[Task]) -> list[Verdict]:
        verdicts: list[Verdict | None] = [None] * len(tasks)
        todo: list[int] = []
        for i, task in enumerate(tasks):
            if not isinstance(task, ReasoningTask):
                verdicts[i] = Verdict(ok=False, error="the SPRM judges reasoning items only")
            elif not task.steps:
                verdicts[i] = Verdict(ok=False, error="the item has no steps to score")
            else:
                todo.append(i)
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            solutions = [solution_from_task(tasks[i]) for i in batch]  # type: ignore[arg-type]
            for i, scored in zip(batch, self.model.score(solutions), strict=True):
                scores = [float(s) for s in scored.step_scores]
                verdicts[i] = Verdict(
                    ok=True,
                    step_scores=scores,
                    step_labels=[1 if s >= self.threshold else -1 for s in scores],
                    first_error=first_below(scores, self.threshold),
                    score=scored.score,
                    trajectory_score=scored.trajectory_score,
                    raw={
                        "thinking_score": scored.thinking_score,
                        "response_score": scored.response_score,
                        "alignment": scored.alignment,
                    },
                    prompt_version=self.version(),
                )
        return [v for v in verdicts if v is not None]
