"""Rank correlations between two raters, pooled or averaged per group.

``pooled``: one coefficient over all (x, y) pairs. ``groups``: one
coefficient per group (e.g. per source document, as G-Eval, Liu et al. 2023,
reports summary-level correlations), then their unweighted mean over the
groups where it is defined (at least two pairs, neither side constant).
Kendall's coefficient is tau-b (ties corrected), Spearman's is Pearson's r on
mid-ranks; both from ``scipy.stats``.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from scipy import stats

from analysis.bootstrap import resample_index_sets
from analysis.result import AgreementResult, undefined, with_bootstrap_ci

__all__ = ["correlation", "kendall", "spearman"]

Method = Literal["kendall", "spearman", "pearson"]


def _coef(x: np.ndarray, y: np.ndarray, method: str) -> float:
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "kendall":
            return float(stats.kendalltau(x, y, variant="b").statistic)
        if method == "spearman":
            return float(stats.spearmanr(x, y).statistic)
        return float(stats.pearsonr(x, y).statistic)


def _per_group(x: np.ndarray, y: np.ndarray, inv: np.ndarray, method: str) -> np.ndarray:
    """Coefficient of each group (NaN where undefined), groups in label order."""
    order = np.argsort(inv, kind="stable")
    bounds = np.flatnonzero(np.diff(inv[order])) + 1
    return np.array([_coef(x[idx], y[idx], method) for idx in np.split(order, bounds)])


def correlation(
    x: Any,
    y: Any,
    *,
    method: Method = "kendall",
    groups: Any = None,
    ci: float | None = None,
    n_resamples: int = 1000,
    seed: int | None = 0,
) -> AgreementResult:
    """Correlation of ``x`` and ``y`` (paired, shape (units,)).

    Parameters
    ----------
    x, y : array-like of float
        Paired scores; a pair with a missing side is dropped and counted.
    method : {"kendall", "spearman", "pearson"}
    groups : array-like, optional
        A group label per pair: average the per-group coefficients.
    ci : float, optional
        Percentile bootstrap over pairs, or over groups when ``groups`` is given.

    Returns
    -------
    AgreementResult
        ``value`` None when fewer than two pairs remain, a side is constant,
        or (grouped) no group has a defined coefficient.
    """
    if method not in ("kendall", "spearman", "pearson"):
        raise ValueError("method must be one of kendall, spearman, pearson")
    xa = np.asarray([np.nan if v is None else v for v in np.asarray(x, dtype=object)], dtype=float)
    ya = np.asarray([np.nan if v is None else v for v in np.asarray(y, dtype=object)], dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError("x and y must be 1-D and of the same length")
    keep = ~(np.isnan(xa) | np.isnan(ya))
    n_dropped = int((~keep).sum())
    xa, ya = xa[keep], ya[keep]
    n = int(xa.size)
    statistic = method if groups is None else f"{method}[per-group mean]"
    if groups is None:
        value = _coef(xa, ya, method)
        if np.isnan(value):
            return undefined(
                statistic,
                "fewer than two pairs or a constant side: correlation undefined",
                n_units=n,
                n_dropped=n_dropped,
            )
        if ci is None:
            return with_bootstrap_ci(statistic, value, n_units=n, n_dropped=n_dropped)
        reps = np.array(
            [
                _coef(xa[i], ya[i], method)
                for i in resample_index_sets(n, n_resamples=n_resamples, seed=seed)
            ]
        )
        return with_bootstrap_ci(
            statistic,
            value,
            n_units=n,
            n_dropped=n_dropped,
            replicates=reps,
            level=ci,
            resampled="pairs",
        )
    g = np.asarray(groups, dtype=object)
    if g.shape != keep.shape:
        raise ValueError("groups must have one label per pair")
    _, inv = np.unique(g[keep].astype(str), return_inverse=True)
    inv = inv.ravel()
    per_group = _per_group(xa, ya, inv, method)
    defined = ~np.isnan(per_group)
    n_undef = int((~defined).sum())
    value = float(per_group[defined].mean()) if defined.any() else float("nan")
    extra = {"n_groups": int(per_group.size), "n_groups_undefined": n_undef}
    if np.isnan(value):
        return undefined(
            statistic, "no group has a defined correlation", n_units=n, n_dropped=n_dropped, **extra
        )
    if ci is None:
        return with_bootstrap_ci(statistic, value, n_units=n, n_dropped=n_dropped, extra=extra)
    # Resampling groups leaves each group's coefficient unchanged: a replicate
    # is the mean of the drawn groups' coefficients (a group drawn twice counts twice).
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, per_group.size, size=(n_resamples, per_group.size))
    drawn = per_group[draws]
    ok = ~np.isnan(drawn)
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = np.where(ok, drawn, 0.0).sum(axis=1) / ok.sum(axis=1)
    return with_bootstrap_ci(
        statistic,
        value,
        n_units=n,
        n_dropped=n_dropped,
        replicates=reps,
        level=ci,
        resampled=f"groups ({per_group.size})",
        extra=extra,
    )


def kendall(x: Any, y: Any, **kwargs: Any) -> AgreementResult:
    """Kendall's tau-b; see :func:`correlation`."""
    return correlation(x, y, method="kendall", **kwargs)


def spearman(x: Any, y: Any, **kwargs: Any) -> AgreementResult:
    """Spearman's rho; see :func:`correlation`."""
    return correlation(x, y, method="spearman", **kwargs)
