"""A trained SPRM: featurizer + step head (+ trajectory head) + its card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from judges.sprm.calibrate import apply_calibration
from judges.sprm.data import Solution
from judges.sprm.features import Featurizer, TraceFeatures
from judges.sprm.head import SPRMHead
from judges.sprm.score import geometric_mean, head_scores
from judges.sprm.trajectory import (
    ALIGNMENT_WEIGHT,
    alignment,
    combine,
    has_trajectory,
    trajectory_features,
)

__all__ = ["SPRMModel", "ScoredSolution"]


@dataclass
class ScoredSolution:
    step_scores: np.ndarray  # P(step correct), one per step
    score: float  # geometric mean over all steps
    thinking_score: float | None = None  # geometric mean over thinking steps
    response_score: float | None = None
    alignment: float | None = None
    trajectory_score: float | None = None


@dataclass
class SPRMModel:
    featurizer: Featurizer
    head: SPRMHead
    card: dict[str, Any] = field(default_factory=dict)
    trajectory_head: SPRMHead | None = None
    alignment_weight: float = ALIGNMENT_WEIGHT
    calibration: dict[str, float] | None = None  # {"a", "b"}: applied to every step score

    def score(self, solutions: Sequence[Solution]) -> list[ScoredSolution]:
        return self.score_features(solutions, self.featurizer.build(solutions))

    def score_features(
        self, solutions: Sequence[Solution], feats: Sequence[TraceFeatures]
    ) -> list[ScoredSolution]:
        sizes = [len(f.x) for f in feats]
        if sum(sizes):
            flat = head_scores(self.head, np.concatenate([f.x for f in feats if len(f.x)]))
            if self.calibration is not None:
                flat = apply_calibration(flat, self.calibration["a"], self.calibration["b"])
        else:
            flat = np.zeros(0)
        splits = np.split(flat, np.cumsum(sizes)[:-1]) if sizes else []
        out = []
        for sol, feat, scores in zip(solutions, feats, splits, strict=True):
            sections = [st.section for st in sol.steps]
            scored = ScoredSolution(step_scores=scores, score=geometric_mean(scores))
            if has_trajectory(sections):
                sec = np.asarray(sections)
                scored.thinking_score = geometric_mean(scores[sec == "trajectory"])
                scored.response_score = geometric_mean(scores[sec == "response"])
                scored.alignment = alignment(feat, sections)
                prob = None
                if self.trajectory_head is not None:
                    row = torch.from_numpy(trajectory_features(feat, sections)[None, :])
                    self.trajectory_head.eval()
                    with torch.no_grad():
                        prob = float(torch.sigmoid(self.trajectory_head(row))[0])
                scored.trajectory_score = combine(scored.alignment, prob, self.alignment_weight)
            out.append(scored)
        return out
