"""Calibrating step scores from outcome labels alone, and the first-error rule
that reads the calibrated scores.

Calibration. A solution's final answer is right only if every step is right, so
read calibrated step scores as P(step correct) and the outcome as their product:

    p_i = sigmoid(a * logit(s_i) + b),   P(outcome correct) = prod_i p_i,

and fit ``(a, b)`` (``a > 0``, so the ranking of steps, hence step AUROC, is
unchanged) by maximising the likelihood of the **training outcomes** under that
product (Platt scaling through the product). No step label is read. Without it a
head trained on data where 85% of outcomes are wrong scores most steps low,
although most steps before a first mistake are right.

First error (:func:`map_first_error`). Under the same model, a trace is
predicted erroneous when ``prod_i p_i < 0.5``, and its first error is the most
probable one, ``argmax_i prod_{j<i} p_j (1 - p_i)``: a step is blamed when it is
unlikely *and* the steps before it are likely. The old rule (the first step
below a threshold) blames step 0 whenever every score is low.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["apply_calibration", "fit_product_calibration", "map_first_error", "to_logits"]

_EPS = 1e-6


def to_logits(scores: np.ndarray) -> np.ndarray:
    s = np.clip(np.asarray(scores, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(s / (1 - s))


def apply_calibration(scores: np.ndarray, a: float, b: float) -> np.ndarray:
    """Calibrated step scores ``sigmoid(a * logit(s) + b)``."""
    z = a * to_logits(scores) + b
    return 1.0 / (1.0 + np.exp(-z))


def fit_product_calibration(step_scores: Sequence[np.ndarray], outcomes: Sequence[bool]) -> dict[str, float]:
    """``{"a", "b", "train_nll", "train_nll_uncalibrated"}`` fitted on outcomes
    (see the module doc); mean negative log-likelihood per solution."""
    pairs = [(np.asarray(s), bool(o)) for s, o in zip(step_scores, outcomes, strict=True) if len(s)]
    if not pairs:
        raise ValueError("no solution with steps to calibrate on")
    z = torch.tensor(np.concatenate([to_logits(s) for s, _ in pairs]), dtype=torch.float64)
    seg = torch.tensor(np.concatenate([np.full(len(s), i) for i, (s, _) in enumerate(pairs)]))
    y = torch.tensor([float(o) for _, o in pairs], dtype=torch.float64)

    def nll(log_a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        logp_step = torch.nn.functional.logsigmoid(torch.exp(log_a) * z + b)
        logp = torch.zeros(len(pairs), dtype=torch.float64).index_add(0, seg, logp_step)
        logp = torch.clamp(logp, max=-1e-12)
        log1m = torch.log(-torch.expm1(logp))  # log(1 - P)
        return -(y * logp + (1 - y) * log1m).mean()

    log_a = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    before = float(nll(log_a, b).detach())
    opt = torch.optim.LBFGS([log_a, b], lr=0.5, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nll(log_a, b)
        loss.backward()
        return loss

    opt.step(closure)
    after = float(nll(log_a, b).detach())
    if not np.isfinite(after) or after > before:  # keep the identity when the fit fails
        return {"a": 1.0, "b": 0.0, "train_nll": before, "train_nll_uncalibrated": before}
    return {
        "a": float(torch.exp(log_a.detach())),
        "b": float(b.detach()),
        "train_nll": after,
        "train_nll_uncalibrated": before,
    }


def map_first_error(step_scores: Sequence[float] | np.ndarray) -> int:
    """-1 when ``prod p_i >= 0.5``, else ``argmax_i sum_{j<i} log p_j + log(1 - p_i)``."""
    p = np.clip(np.asarray(step_scores, dtype=np.float64), _EPS, 1 - _EPS)
    if p.size == 0:
        return -1
    logp = np.log(p)
    if logp.sum() >= np.log(0.5):
        return -1
    before = np.concatenate([[0.0], np.cumsum(logp)[:-1]])
    return int(np.argmax(before + np.log1p(-p)))
