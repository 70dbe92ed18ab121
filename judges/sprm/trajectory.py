"""Trajectory-aware scoring for thinking-trajectory + response items.

After ReasonFlux-PRM (Zou et al., arXiv 2506.18896; code Gen-Verse/ReasonFlux):
an output is ``y = s + a``, a thinking trajectory ``s`` (the ``<think>`` block)
and a final response ``a``. The step head scores thinking steps and response
steps alike (reported separately); on top of that a trajectory-level score is

    trajectory_score = alpha * (1 + alignment) / 2 + (1 - alpha) * head_prob

- ``alignment``: mean cosine similarity of each thinking step's embedding with the
  mean embedding of the response steps (ReasonFlux-PRM's alignment term: does the
  thinking lead to the answer that is given), in [-1, 1], mapped to [0, 1];
- ``head_prob``: a trajectory head (the same MLP as the step head) on
  ``[mean thinking embedding; mean response embedding; alignment]``, trained on
  outcome labels with plain class-balanced BCE;
- ``alpha`` = 0.5 by default (:data:`ALIGNMENT_WEIGHT`): equal weight, since
  neither term is validated against trajectory labels here. Without a trained
  trajectory head (no trajectory items in the training data) the score is the
  alignment term alone.

ReasonFlux-PRM's third step-level term (a judge model rating each thinking step)
is left out: the point of this model is to need no judge and no step labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from judges.sprm.features import TraceFeatures
from judges.sprm.head import SPRMHead
from judges.sprm.loss import orm_loss

__all__ = [
    "ALIGNMENT_WEIGHT",
    "alignment",
    "combine",
    "has_trajectory",
    "train_trajectory_head",
    "trajectory_features",
]

ALIGNMENT_WEIGHT = 0.5


def _masks(sections: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    sec = np.asarray(sections)
    return sec == "trajectory", sec == "response"


def has_trajectory(sections: Sequence[str]) -> bool:
    """True when the item has both thinking steps and response steps."""
    think, resp = _masks(sections)
    return bool(think.any() and resp.any())


def alignment(feat: TraceFeatures, sections: Sequence[str]) -> float:
    """Mean cosine of thinking-step embeddings with the mean response embedding."""
    think, resp = _masks(sections)
    t = feat.step_emb[think].astype(np.float64)
    r = feat.step_emb[resp].astype(np.float64).mean(axis=0)
    t_norm = np.linalg.norm(t, axis=1)
    r_norm = np.linalg.norm(r)
    cos = (t @ r) / np.maximum(t_norm * r_norm, 1e-12)
    return float(np.mean(cos))


def trajectory_features(feat: TraceFeatures, sections: Sequence[str]) -> np.ndarray:
    """``[mean thinking emb; mean response emb; alignment]`` (2d + 1 values)."""
    think, resp = _masks(sections)
    return np.concatenate(
        [
            feat.step_emb[think].mean(axis=0),
            feat.step_emb[resp].mean(axis=0),
            [alignment(feat, sections)],
        ]
    ).astype(np.float32)


def train_trajectory_head(
    rows: np.ndarray, outcomes: Sequence[bool], *, seed: int, epochs: int = 20, lr: float = 1e-3
) -> SPRMHead:
    """Fit the trajectory head on outcome labels (full-batch Adam, seeded)."""
    torch.manual_seed(seed)
    head = SPRMHead(rows.shape[1])
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    x = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
    y = torch.tensor([float(o) for o in outcomes])
    head.train()
    for _ in range(epochs):
        opt.zero_grad()
        out = orm_loss(head(x), y)
        out.loss.backward()
        opt.step()
    head.eval()
    return head


def combine(align: float, head_prob: float | None, alpha: float = ALIGNMENT_WEIGHT) -> float:
    """The documented weighting of the alignment term and the trajectory head."""
    align01 = (1.0 + align) / 2.0
    if head_prob is None:
        return float(align01)
    return float(alpha * align01 + (1.0 - alpha) * head_prob)
