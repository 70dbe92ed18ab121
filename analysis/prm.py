"""Metrics of a process reward model (PRM) against human step labels.

Conventions
-----------
- A step score is the PRM's probability that the step is **correct**.
- Step labels: ``1`` correct, ``0`` erroneous, ``NaN`` unlabelled. Under the
  ProcessBench convention (Zheng et al. 2024, arXiv 2412.06559) steps after a
  trace's first error are unlabelled; :func:`labels_from_first_error` builds them.
- A first-error index is 0-based, ``-1`` for a trace without an error.
- Every metric returns the toolkit's :class:`analysis.result.AgreementResult`
  (``extra["n_clusters"]``: clusters resampled). Its confidence interval is a
  percentile bootstrap that resamples whole clusters (traces, or problems for
  Best-of-N) with replacement, all their units with them (Zapf et al. 2016 on
  resampling units, not pairs), drawn by :func:`analysis.bootstrap.resample_counts`
  like every other interval in :mod:`analysis`. A replicate in which a statistic
  is undefined (e.g. no erroneous step drawn) is dropped and counted
  (``extra["n_resamples_undefined"]``). :func:`as_metric_dict` gives the flat
  dict that ``evaluate_sprm --json`` prints.
- Calibration bins follow :func:`analysis.calibration.bin_index` (``(a, b]``).

Every function is pure, seeded and Django-free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.bootstrap import resample_counts
from analysis.calibration import bin_edges, bin_index
from analysis.result import AgreementResult, with_bootstrap_ci

__all__ = [
    "CalibrationResult",
    "ProcessBenchResult",
    "as_metric_dict",
    "auroc",
    "best_of_n_accuracy",
    "calibration",
    "first_error_accuracy",
    "labels_from_first_error",
    "majority_vote_accuracy",
    "oracle_accuracy",
    "predicted_first_errors",
    "processbench_f1",
    "random_choice_accuracy",
    "step_auroc",
    "weighted_vote_accuracy",
]


def as_metric_dict(result: AgreementResult) -> dict[str, float | int]:
    """The flat dict of ``evaluate_sprm --json``: value, ci_low, ci_high (NaN when
    undefined), n_units, n_clusters, n_boot_valid (replicates with a defined value)."""
    nan = float("nan")
    low, high = result.ci if result.ci is not None else (nan, nan)
    n_resamples = int(result.extra.get("n_resamples", 0))
    return {
        "value": nan if result.value is None else result.value,
        "ci_low": low,
        "ci_high": high,
        "n_units": result.n_units,
        "n_clusters": int(result.extra.get("n_clusters", 0)),
        "n_boot_valid": n_resamples - int(result.extra.get("n_resamples_undefined", 0)),
    }


@dataclass(frozen=True)
class ProcessBenchResult:
    """ProcessBench's acc1 (traces with an error), acc2 (correct traces) and F1."""

    acc1: AgreementResult
    acc2: AgreementResult
    f1: AgreementResult


@dataclass(frozen=True)
class CalibrationResult:
    """Reliability diagram bins with ECE and Brier score.

    Attributes
    ----------
    bin_edges : ndarray, shape (n_bins + 1,)
    counts : ndarray, shape (n_bins,)
        Steps per bin.
    mean_score : ndarray, shape (n_bins,)
        Mean predicted P(correct) per bin (NaN for an empty bin).
    frac_correct : ndarray, shape (n_bins,)
        Observed fraction of correct steps per bin (NaN for an empty bin).
    ece : AgreementResult
        ``sum_b (n_b / n) |frac_correct_b - mean_score_b|`` (Naeini et al. 2015).
    brier : AgreementResult
        ``mean((score - label)^2)`` (Brier 1950).
    """

    bin_edges: np.ndarray
    counts: np.ndarray
    mean_score: np.ndarray
    frac_correct: np.ndarray
    ece: AgreementResult
    brier: AgreementResult


# --- input checks -------------------------------------------------------------


def _check_boot(n_boot: int, confidence: float) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _as_1d(name: str, values: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _same_length(**arrays: np.ndarray) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise ValueError(f"inputs must have the same length, got {listing}")


def _cluster_index(clusters: Sequence[object] | np.ndarray | None, n: int) -> np.ndarray:
    if clusters is None:
        return np.arange(n)
    arr = np.asarray(clusters)
    if arr.shape != (n,):
        raise ValueError(f"clusters must have shape ({n},), got {arr.shape}")
    _, inverse = np.unique(arr, return_inverse=True)
    return inverse.ravel()


# --- the bootstrap ------------------------------------------------------------


def _result(
    statistic: str,
    stat: Callable[[np.ndarray], float],
    cluster_idx: np.ndarray,
    n_units: int,
    *,
    n_boot: int,
    seed: int,
    confidence: float,
) -> AgreementResult:
    """``stat(unit_weights)`` on the data and over bootstrap resamples of the clusters."""
    n_clusters = int(cluster_idx.max()) + 1 if len(cluster_idx) else 0
    value = stat(np.ones(len(cluster_idx)))
    reps = np.empty(n_boot)
    start = 0
    for counts in resample_counts(n_clusters, n_resamples=n_boot, seed=seed):
        for row in counts:
            r = stat(row[cluster_idx])
            reps[start] = r if np.isfinite(r) else np.nan
            start += 1
    return with_bootstrap_ci(
        statistic,
        value if np.isfinite(value) else None,
        n_units=n_units,
        n_dropped=0,
        replicates=reps,
        level=confidence,
        resampled="clusters",
        extra={"n_clusters": n_clusters, "n_resamples": n_boot},
        reason=None if np.isfinite(value) else "undefined on these data",
    )


# --- step labels ----------------------------------------------------------------


def labels_from_first_error(first_error: int, n_steps: int) -> np.ndarray:
    """ProcessBench step labels of one trace.

    Parameters
    ----------
    first_error : int
        0-based index of the first wrong step, -1 for none.
    n_steps : int

    Returns
    -------
    ndarray, shape (n_steps,)
        1.0 before the first error, 0.0 at it, NaN after it (unlabelled).
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps}")
    if not -1 <= first_error < n_steps:
        raise ValueError(f"first_error must be in [-1, {n_steps}), got {first_error}")
    labels = np.ones(n_steps)
    if first_error >= 0:
        labels[first_error] = 0.0
        labels[first_error + 1 :] = np.nan
    return labels


# --- AUROC ----------------------------------------------------------------------


def _weighted_auroc(levels: np.ndarray, y: np.ndarray, w: np.ndarray, n_levels: int) -> float:
    wp = np.bincount(levels, weights=w * y, minlength=n_levels)
    wn = np.bincount(levels, weights=w * (1.0 - y), minlength=n_levels)
    total_p, total_n = wp.sum(), wn.sum()
    if total_p == 0 or total_n == 0:
        return float("nan")
    below = np.cumsum(wn) - wn
    return float(np.sum(wp * (below + 0.5 * wn)) / (total_p * total_n))


def auroc(
    scores: Sequence[float] | np.ndarray,
    labels: Sequence[float] | np.ndarray,
    sample_weight: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Area under the ROC curve, ties counted one half (Mann-Whitney form).

    ``AUROC = sum_{i: y=1} sum_{j: y=0} w_i w_j (1[s_i > s_j] + 0.5 1[s_i = s_j])
    / (W_1 W_0)`` (Hanley & McNeil 1982), equal to scikit-learn's
    ``roc_auc_score``.

    Parameters
    ----------
    scores : array_like, shape (n,)
    labels : array_like, shape (n,)
        1 for the positive class, 0 for the negative class.
    sample_weight : array_like, shape (n,), optional

    Returns
    -------
    float
        NaN when one class has no (weighted) member.
    """
    s = _as_1d("scores", scores)
    y = _as_1d("labels", labels)
    w = np.ones(len(s)) if sample_weight is None else _as_1d("sample_weight", sample_weight)
    _same_length(scores=s, labels=y, sample_weight=w)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    uniq, levels = np.unique(s, return_inverse=True)
    return _weighted_auroc(levels.ravel(), y, w, len(uniq))


def step_auroc(
    scores: Sequence[float] | np.ndarray,
    labels: Sequence[float] | np.ndarray,
    clusters: Sequence[object] | np.ndarray | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Step-level AUROC of P(correct) scores against human step labels.

    Parameters
    ----------
    scores : array_like, shape (n_steps,)
        The PRM's P(step correct).
    labels : array_like, shape (n_steps,)
        1 correct, 0 erroneous, NaN unlabelled (ignored).
    clusters : array_like, shape (n_steps,), optional
        Trace of each step; the bootstrap resamples traces. Default: steps.

    Returns
    -------
    AgreementResult
        ``n_units`` counts labelled steps.
    """
    _check_boot(n_boot, confidence)
    s = _as_1d("scores", scores)
    y = _as_1d("labels", labels)
    _same_length(scores=s, labels=y)
    cl = _cluster_index(clusters, len(s))
    keep = ~np.isnan(y)
    s, y, cl = s[keep], y[keep], cl[keep]
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0, 1 or NaN")
    if not (np.any(y == 1) and np.any(y == 0)):
        raise ValueError("AUROC needs both correct and erroneous labelled steps")
    if np.any(np.isnan(s)):
        raise ValueError("scores must not be NaN")
    _, cl = np.unique(cl, return_inverse=True)
    uniq, levels = np.unique(s, return_inverse=True)
    levels = levels.ravel()
    return _result(
        "step_auroc",
        lambda w: _weighted_auroc(levels, y, w, len(uniq)),
        cl.ravel(),
        len(s),
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
    )


# --- first errors -------------------------------------------------------------------


def predicted_first_errors(
    step_scores: Sequence[Sequence[float] | np.ndarray], threshold: float = 0.5
) -> np.ndarray:
    """A PRM's first-error prediction per trace: its first step scored below
    `threshold`, -1 if none (ProcessBench, arXiv 2412.06559, Sec. 4.1).

    Returns
    -------
    ndarray of int, shape (n_traces,)
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    out = np.full(len(step_scores), -1, dtype=int)
    for i, scores in enumerate(step_scores):
        below = np.nonzero(np.asarray(scores, dtype=np.float64) < threshold)[0]
        if below.size:
            out[i] = int(below[0])
    return out


def _first_errors(predicted: Sequence[int] | np.ndarray, true: Sequence[int] | np.ndarray):
    p = np.asarray(predicted)
    t = np.asarray(true)
    if p.ndim != 1 or t.ndim != 1:
        raise ValueError("predicted and true must be one-dimensional")
    _same_length(predicted=p, true=t)
    if len(t) == 0:
        raise ValueError("no traces given")
    if np.any(p < -1) or np.any(t < -1):
        raise ValueError("first-error indices must be -1 or a 0-based step index")
    return p.astype(int), t.astype(int)


def first_error_accuracy(
    predicted: Sequence[int] | np.ndarray,
    true: Sequence[int] | np.ndarray,
    clusters: Sequence[object] | np.ndarray | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Fraction of traces whose first error (or -1) is located exactly
    (BIG-Bench Mistake's mistake-location accuracy, Tyen et al. 2023, arXiv 2311.08516).

    Parameters
    ----------
    predicted, true : array_like of int, shape (n_traces,)
    clusters : array_like, shape (n_traces,), optional
        Resampling unit; default each trace.
    """
    _check_boot(n_boot, confidence)
    p, t = _first_errors(predicted, true)
    hit = (p == t).astype(np.float64)
    return _result(
        "first_error_accuracy",
        lambda w: float(np.sum(w * hit) / np.sum(w)),
        _cluster_index(clusters, len(t)),
        len(t),
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
    )


def _pb_parts(hit: np.ndarray, err: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    w_err, w_ok = np.sum(w * err), np.sum(w * ~err)
    acc1 = np.sum(w * hit * err) / w_err if w_err > 0 else np.nan
    acc2 = np.sum(w * hit * ~err) / w_ok if w_ok > 0 else np.nan
    if np.isnan(acc1) or np.isnan(acc2):
        return float(acc1), float(acc2), float("nan")
    f1 = 0.0 if acc1 + acc2 == 0 else 2 * acc1 * acc2 / (acc1 + acc2)
    return float(acc1), float(acc2), float(f1)


def processbench_f1(
    predicted: Sequence[int] | np.ndarray,
    true: Sequence[int] | np.ndarray,
    clusters: Sequence[object] | np.ndarray | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> ProcessBenchResult:
    """ProcessBench's metric (Zheng et al. 2024, arXiv 2412.06559, Sec. 4.1).

    ``acc1`` = exact-match accuracy of the first-error index on traces with an
    error, ``acc2`` = accuracy on correct traces (prediction must be -1),
    ``F1 = 2 acc1 acc2 / (acc1 + acc2)`` (0 when both are 0).

    Parameters
    ----------
    predicted, true : array_like of int, shape (n_traces,)
    clusters : array_like, shape (n_traces,), optional

    Returns
    -------
    ProcessBenchResult
        ``acc1.n_units`` counts erroneous traces, ``acc2.n_units`` correct ones;
        ``f1.n_units`` all traces. Few correct traces make acc2's interval wide.
    """
    _check_boot(n_boot, confidence)
    p, t = _first_errors(predicted, true)
    err = t != -1
    if not err.any():
        raise ValueError("ProcessBench F1 needs at least one trace with an error")
    if err.all():
        raise ValueError("ProcessBench F1 needs at least one trace without an error")
    hit = (p == t).astype(np.float64)
    cl = _cluster_index(clusters, len(t))
    kw: dict[str, Any] = {"n_boot": n_boot, "seed": seed, "confidence": confidence}
    acc1 = _result("processbench_acc1", lambda w: _pb_parts(hit, err, w)[0], cl, int(err.sum()), **kw)
    acc2 = _result("processbench_acc2", lambda w: _pb_parts(hit, err, w)[1], cl, int((~err).sum()), **kw)
    f1 = _result("processbench_f1", lambda w: _pb_parts(hit, err, w)[2], cl, len(t), **kw)
    return ProcessBenchResult(acc1=acc1, acc2=acc2, f1=f1)


# --- calibration --------------------------------------------------------------------


def calibration(
    scores: Sequence[float] | np.ndarray,
    labels: Sequence[float] | np.ndarray,
    clusters: Sequence[object] | np.ndarray | None = None,
    *,
    n_bins: int = 10,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> CalibrationResult:
    """Reliability bins, expected calibration error and Brier score of step scores.

    Bins are ``n_bins`` equal-width intervals of [0, 1] under the toolkit's one
    rule, :func:`analysis.calibration.bin_index`: closed on the right (``(a, b]``;
    the first bin also holds 0), as Guo et al. (2017) and scikit-learn's
    ``calibration_curve(strategy="uniform")``.

    Parameters
    ----------
    scores : array_like, shape (n_steps,)
        P(step correct), in [0, 1].
    labels : array_like, shape (n_steps,)
        1 correct, 0 erroneous, NaN unlabelled (ignored).
    clusters : array_like, shape (n_steps,), optional
    n_bins : int
    """
    _check_boot(n_boot, confidence)
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    s = _as_1d("scores", scores)
    y = _as_1d("labels", labels)
    _same_length(scores=s, labels=y)
    cl = _cluster_index(clusters, len(s))
    keep = ~np.isnan(y)
    s, y, cl = s[keep], y[keep], cl[keep]
    if len(s) == 0:
        raise ValueError("no labelled steps")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0, 1 or NaN")
    if np.any((s < 0) | (s > 1)) or np.any(np.isnan(s)):
        raise ValueError("scores must be probabilities in [0, 1]")
    _, cl = np.unique(cl, return_inverse=True)
    cl = cl.ravel()
    edges = bin_edges(n_bins)
    bins = bin_index(s, n_bins)

    def per_bin(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        counts = np.bincount(bins, weights=w, minlength=n_bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_s = np.bincount(bins, weights=w * s, minlength=n_bins) / counts
            frac = np.bincount(bins, weights=w * y, minlength=n_bins) / counts
        return counts, mean_s, frac

    def ece(w: np.ndarray) -> float:
        counts, mean_s, frac = per_bin(w)
        filled = counts > 0
        return float(np.sum(counts[filled] * np.abs(frac[filled] - mean_s[filled])) / counts.sum())

    def brier(w: np.ndarray) -> float:
        return float(np.sum(w * (s - y) ** 2) / np.sum(w))

    counts, mean_s, frac = per_bin(np.ones(len(s)))
    kw: dict[str, Any] = {"n_boot": n_boot, "seed": seed, "confidence": confidence}
    return CalibrationResult(
        bin_edges=edges,
        counts=counts.astype(int),
        mean_score=mean_s,
        frac_correct=frac,
        ece=_result("expected_calibration_error", ece, cl, len(s), **kw),
        brier=_result("brier_score", brier, cl, len(s), **kw),
    )


# --- Best-of-N ------------------------------------------------------------------------


def _groups(groups: Sequence[object] | np.ndarray, n: int, min_group_size: int) -> list[np.ndarray]:
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"groups must have shape ({n},), got {g.shape}")
    _, inverse = np.unique(g, return_inverse=True)
    inverse = inverse.ravel()
    members = [np.nonzero(inverse == k)[0] for k in range(inverse.max() + 1)] if n else []
    members = [m for m in members if len(m) >= min_group_size]
    if not members:
        raise ValueError(f"no group has at least {min_group_size} solutions")
    return members


def _group_mean(
    statistic: str, values: np.ndarray, n_boot: int, seed: int, confidence: float
) -> AgreementResult:
    idx = np.arange(len(values))
    return _result(
        statistic,
        lambda w: float(np.sum(w * values) / np.sum(w)),
        idx,
        len(values),
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
    )


def _correct_array(correct: Sequence[bool] | np.ndarray) -> np.ndarray:
    c = np.asarray(correct)
    if c.ndim != 1:
        raise ValueError("correct must be one-dimensional")
    if not np.all((c == 0) | (c == 1)):
        raise ValueError("correct must be boolean (0 or 1)")
    return c.astype(np.float64)


def best_of_n_accuracy(
    scores: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    groups: Sequence[object] | np.ndarray,
    *,
    min_group_size: int = 2,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Accuracy of picking each problem's highest-scored solution.

    Ties at the maximum are broken uniformly at random in expectation: a problem
    contributes the mean correctness of its tied top solutions. The bootstrap
    resamples problems.

    Parameters
    ----------
    scores : array_like, shape (n_solutions,)
    correct : array_like of bool, shape (n_solutions,)
    groups : array_like, shape (n_solutions,)
        Problem of each solution.
    min_group_size : int
        Problems with fewer solutions are left out (default 2: a choice must exist).
    """
    _check_boot(n_boot, confidence)
    s = _as_1d("scores", scores)
    c = _correct_array(correct)
    _same_length(scores=s, correct=c)
    if np.any(np.isnan(s)):
        raise ValueError("scores must not be NaN")
    values = []
    for m in _groups(groups, len(s), min_group_size):
        top = s[m] == s[m].max()
        values.append(c[m][top].mean())
    return _group_mean("best_of_n_accuracy", np.asarray(values), n_boot, seed, confidence)


def random_choice_accuracy(
    correct: Sequence[bool] | np.ndarray,
    groups: Sequence[object] | np.ndarray,
    *,
    min_group_size: int = 2,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Expected accuracy of a uniformly random pick per problem (mean correctness)."""
    _check_boot(n_boot, confidence)
    c = _correct_array(correct)
    values = np.asarray([c[m].mean() for m in _groups(groups, len(c), min_group_size)])
    return _group_mean("random_choice_accuracy", values, n_boot, seed, confidence)


def oracle_accuracy(
    correct: Sequence[bool] | np.ndarray,
    groups: Sequence[object] | np.ndarray,
    *,
    min_group_size: int = 2,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Fraction of problems with at least one correct solution (the ceiling of any pick)."""
    _check_boot(n_boot, confidence)
    c = _correct_array(correct)
    values = np.asarray([c[m].max() for m in _groups(groups, len(c), min_group_size)])
    return _group_mean("oracle_accuracy", values, n_boot, seed, confidence)


def weighted_vote_accuracy(
    answers: Sequence[str | None],
    weights: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    groups: Sequence[object] | np.ndarray,
    *,
    min_group_size: int = 2,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Accuracy of picking, per problem, the final answer with the largest summed
    weight (weighted self-consistency: a verifier's solution scores as votes,
    Li et al. 2023, arXiv 2206.02336; Uesato et al. 2022).

    Equal weights give :func:`majority_vote_accuracy`. Solutions without an answer
    or with a NaN weight do not vote; ties at the maximum (to 1e-12 relative) are
    broken uniformly at random in expectation, as there. A problem where nobody
    votes contributes its random-choice accuracy.
    """
    _check_boot(n_boot, confidence)
    c = _correct_array(correct)
    w = np.asarray(weights, dtype=np.float64)
    if len(answers) != len(c) or w.shape != c.shape:
        raise ValueError(
            "inputs must have the same length, got "
            f"answers={len(answers)}, weights={w.size}, correct={len(c)}"
        )
    if np.any(w[~np.isnan(w)] < 0):
        raise ValueError("weights must be non-negative")
    values = []
    for m in _groups(groups, len(c), min_group_size):
        totals: dict[str, float] = {}
        for i in m:
            if answers[i] is not None and not np.isnan(w[i]):
                totals[answers[i]] = totals.get(answers[i], 0.0) + float(w[i])  # type: ignore[index]
        if not totals:
            values.append(c[m].mean())
            continue
        top = max(totals.values())
        tied = [a for a, t in totals.items() if t >= top - 1e-12 * max(abs(top), 1.0)]
        values.append(np.mean([np.mean([c[i] for i in m if answers[i] == a]) for a in tied]))
    return _group_mean(
        "weighted_vote_accuracy", np.asarray(values, dtype=np.float64), n_boot, seed, confidence
    )


def majority_vote_accuracy(
    answers: Sequence[str | None],
    correct: Sequence[bool] | np.ndarray,
    groups: Sequence[object] | np.ndarray,
    *,
    min_group_size: int = 2,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AgreementResult:
    """Accuracy of picking the most frequent final answer per problem
    (self-consistency, Wang et al. 2023, arXiv 2203.11171).

    Solutions without an answer (None) do not vote. Ties between answers are broken
    uniformly at random in expectation: a problem contributes the mean, over the
    tied answers, of the correctness of that answer's solutions. A problem where no
    solution has an answer contributes its random-choice accuracy.
    """
    _check_boot(n_boot, confidence)
    c = _correct_array(correct)
    if len(answers) != len(c):
        raise ValueError(f"inputs must have the same length, got answers={len(answers)}, correct={len(c)}")
    values = []
    for m in _groups(groups, len(c), min_group_size):
        votes = Counter(answers[i] for i in m if answers[i] is not None)
        if not votes:
            values.append(c[m].mean())
            continue
        top = max(votes.values())
        tied = [a for a, k in votes.items() if k == top]
        values.append(np.mean([np.mean([c[i] for i in m if answers[i] == a]) for a in tied]))
    return _group_mean(
        "majority_vote_accuracy", np.asarray(values, dtype=np.float64), n_boot, seed, confidence
    )
