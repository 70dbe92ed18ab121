"""Step scores, the solution score and Best-of-N selection.

The solution score is the geometric mean of the step scores (MetaStone-S1,
arXiv 2507.01951); Best-of-N picks the solution with the highest score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from judges.sprm.head import SPRMHead

__all__ = ["best_of_n", "first_below", "geometric_mean", "head_scores", "outcome_threshold"]

_FLOOR = 1e-12


def head_scores(head: SPRMHead, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Sigmoid step scores of the head (eval mode, no dropout) for (n, dim) features."""
    head.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            chunk = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size]))
            out.append(torch.sigmoid(head(chunk)).numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def geometric_mean(step_scores: Sequence[float] | np.ndarray) -> float:
    """``exp(mean(log s_i))``; scores are floored at 1e-12. NaN for no steps."""
    s = np.asarray(step_scores, dtype=np.float64)
    if s.size == 0:
        return float("nan")
    return float(np.exp(np.mean(np.log(np.clip(s, _FLOOR, 1.0)))))


def best_of_n(solution_scores: Sequence[float]) -> int:
    """Index of the highest-scoring solution (the first on ties)."""
    if len(solution_scores) == 0:
        raise ValueError("best_of_n needs at least one solution")
    return int(np.argmax(np.asarray(solution_scores, dtype=np.float64)))


def first_below(step_scores: Sequence[float] | np.ndarray, threshold: float) -> int:
    """The predicted first error: the first step scored below `threshold`, -1 if none."""
    below = np.nonzero(np.asarray(step_scores) < threshold)[0]
    return int(below[0]) if below.size else -1


def outcome_threshold(
    min_step_scores: Sequence[float] | np.ndarray, outcomes: Sequence[bool] | np.ndarray
) -> tuple[float, float]:
    """A step threshold chosen from outcome labels alone.

    A solution is predicted correct when its lowest step score is at or above
    ``t``; ``t`` maximises the balanced accuracy of that prediction against the
    outcomes (ties: the smallest such ``t``). Candidates are the observed minima
    and 0.5. Returns ``(t, balanced accuracy)``. No step label is read, so the
    threshold may be fitted on training data and used for first-error prediction.
    """
    m = np.asarray(min_step_scores, dtype=np.float64)
    y = np.asarray(outcomes, dtype=bool)
    if m.shape != y.shape or m.size == 0:
        raise ValueError("min_step_scores and outcomes must be non-empty and of equal length")
    if y.all() or not y.any():
        return 0.5, float("nan")
    cands = np.unique(np.append(m, 0.5))
    pred = m[None, :] >= cands[:, None]  # (n_candidates, n_solutions)
    tpr = (pred & y).sum(axis=1) / y.sum()
    tnr = (~pred & ~y).sum(axis=1) / (~y).sum()
    bal = (tpr + tnr) / 2
    best = int(np.argmax(bal))
    return float(cands[best]), float(bal[best])
