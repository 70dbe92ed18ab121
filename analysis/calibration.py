"""Reliability of continuous step scores against human labels.

A process reward model gives each step a score in [0, 1] meant as P(step
correct). Against the human label (correct = 1, wrong = 0) a reliability
diagram bins the scores into ``n_bins`` equal-width bins and shows, per bin,
the mean score beside the observed share of correct steps; the expected
calibration error is ``ECE = sum_b (n_b / n) |mean score_b - share correct_b|``
(Naeini et al. 2015; Guo et al. 2017).

**The binning rule** (one for the whole toolkit; :func:`analysis.prm.calibration`
uses :func:`bin_index` too): bin ``m`` of ``M`` is ``((m-1)/M, m/M]``, closed on
the right, the first bin also holding 0. This is the interval of Guo et al.
(2017, Sec. 2) and of scikit-learn's ``calibration_curve(strategy="uniform")``;
a score on an edge belongs to the bin below it (0.1 of 10 bins is in the
first). Edges are the correctly rounded ``m / M``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Reliability", "bin_edges", "bin_index", "reliability"]


def bin_edges(n_bins: int) -> np.ndarray:
    """``n_bins + 1`` equal-width edges of [0, 1]: ``m / n_bins``."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    return np.arange(n_bins + 1) / n_bins


def bin_index(scores: np.ndarray, n_bins: int) -> np.ndarray:
    """The 0-based bin of each score in [0, 1] under the rule above (``(a, b]``, 0 in the first)."""
    inner = bin_edges(n_bins)[1:-1]
    return np.searchsorted(inner, np.asarray(scores, dtype=float), side="left")


@dataclass(frozen=True)
class Reliability:
    bin_edges: list[float]
    mean_score: list[float | None]
    share_correct: list[float | None]
    count: list[int]
    ece: float | None
    n: int

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(float(v), 6)

        return {
            "bin_edges": [r(e) for e in self.bin_edges],
            "mean_score": [r(v) for v in self.mean_score],
            "share_correct": [r(v) for v in self.share_correct],
            "count": self.count,
            "ece": r(self.ece),
            "n": self.n,
        }


def reliability(scores: Any, correct: Any, *, n_bins: int = 10) -> Reliability:
    """Reliability diagram data of ``scores`` (n,) against boolean ``correct`` (n,).

    Pairs with a NaN side are left out. Scores outside [0, 1] raise ValueError
    ``"scores must lie in [0, 1]"``.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(correct, dtype=float)
    ok = ~(np.isnan(s) | np.isnan(y))
    s, y = s[ok], y[ok]
    if s.size and (s.min() < 0 or s.max() > 1):
        raise ValueError("scores must lie in [0, 1]")
    edges = bin_edges(n_bins)
    idx = bin_index(s, n_bins)
    count = np.bincount(idx, minlength=n_bins)
    sum_s = np.bincount(idx, weights=s, minlength=n_bins)
    sum_y = np.bincount(idx, weights=y, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_s = sum_s / count
        share = sum_y / count
    ece = float(np.nansum(count / s.size * np.abs(mean_s - share))) if s.size else None
    return Reliability(
        bin_edges=edges.tolist(),
        mean_score=[None if c == 0 else float(v) for v, c in zip(mean_s, count, strict=True)],
        share_correct=[None if c == 0 else float(v) for v, c in zip(share, count, strict=True)],
        count=count.astype(int).tolist(),
        ece=ece,
        n=int(s.size),
    )
