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
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
from scipy import stats

from analysis.bootstrap import grouped_sums, resample_counts, resample_index_sets
from analysis.result import AgreementResult, undefined, with_bootstrap_ci

__all__ = ["correlation", "kendall", "rank_correlations", "spearman"]

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


# Kendall replicates use an n x n sign matrix up to this many pairs, a loop above.
_KENDALL_MATRIX_MAX = 2000
# Replicates come from the weighted contingency table of the two scores' distinct
# values while it has at most this many cells (ratings on a scale, means of a few ratings).
_CONTINGENCY_MAX_CELLS = 40_000


def _contingency_replicates(x: np.ndarray, y: np.ndarray, method: str, w: np.ndarray) -> np.ndarray | None:
    """Kendall's tau-b or Spearman's rho of every weighted resample (see :func:`_table_coefficients`)."""
    both = _table_coefficients(x, y, w)
    return None if both is None else both[method]


def _table_coefficients(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    rows: np.ndarray | None = None,
    methods: tuple[str, ...] = ("kendall", "spearman"),
) -> dict[str, np.ndarray] | None:
    """Kendall's tau-b and Spearman's rho of every weighted resample, from one contingency table.

    ``T[b, i, j]`` is the weight of the pairs with the i-th distinct x and the
    j-th distinct y. Kendall: ``S = sum_ij T_ij (sum_{k>i, l>j} T_kl - sum_{k>i, l<j} T_kl)``,
    ``tau_b = S / sqrt((n0 - n1)(n0 - n2))`` with ``n0 = N(N-1)/2`` and ``n1, n2``
    the pairs tied in x, in y. Spearman: Pearson's r of the weighted mid-ranks of
    the levels over the cells. Exactly the duplicated-pairs formulas of
    :func:`_pooled_replicates`, at a cost independent of the number of pairs.
    None when the table would be too large. ``rows``: the column of ``w`` of
    each pair (default: pair ``i`` is column ``i``), so no copy of ``w`` is made.
    ``methods``: the coefficients wanted.
    """
    xs, xi = np.unique(x, return_inverse=True)
    ys, yi = np.unique(y, return_inverse=True)
    lx, ly = xs.size, ys.size
    if lx * ly > _CONTINGENCY_MAX_CELLS:
        return None
    t = grouped_sums(w, xi.ravel() * ly + yi.ravel(), lx * ly, rows).reshape(-1, lx, ly)
    rows, cols = t.sum(axis=2), t.sum(axis=1)
    total = rows.sum(axis=1)
    # S = sum_{i<k} sum_{j,l} T_ij T_kl sign(l - j): the rows below each row (one cumulative
    # sum), times the sign matrix of the second score, against the row itself. Both are
    # symmetric in x and y, so the score with fewer levels takes the sign matrix.
    tt = t if ly <= lx else t.transpose(0, 2, 1)
    below = _rows_below(tt)  # sum over k > i
    m = tt.shape[2]
    sign = np.sign(np.arange(m)[None, :] - np.arange(m)[:, None]).astype(float)  # sign(l - j)
    s_ = np.einsum("bij,bij->b", tt, below @ sign.T)
    n0 = total * (total - 1) / 2
    n1 = (rows * (rows - 1)).sum(axis=1) / 2
    n2 = (cols * (cols - 1)).sum(axis=1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.sqrt((n0 - n1) * (n0 - n2))
        tau = np.where(den > 0, s_ / np.where(den > 0, den, 1), np.nan)
    if "spearman" not in methods:
        return {"kendall": tau}
    rank_x = np.cumsum(rows, axis=1) - rows + (rows + 1) / 2
    rank_y = np.cumsum(cols, axis=1) - cols + (cols + 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = (rows * rank_x).sum(axis=1, keepdims=True) / total[:, None]
        my = (cols * rank_y).sum(axis=1, keepdims=True) / total[:, None]
        dx, dy = rank_x - mx, rank_y - my
        cov = (np.matmul(t, dy[:, :, None])[:, :, 0] * dx).sum(axis=1)
        vx = (rows * dx * dx).sum(axis=1)
        vy = (cols * dy * dy).sum(axis=1)
        rd = np.sqrt(vx * vy)
        rho = np.where(rd > 1e-12 * np.maximum(vx + vy, 1e-300), cov / rd, np.nan)
    return {"kendall": tau, "spearman": rho}


def _rows_below(t: np.ndarray) -> np.ndarray:
    """``out[:, i] = sum_{k > i} t[:, k]`` of a (B, a, m) array.

    A running sum over the few levels of a scale: numpy's cumsum along a middle
    axis of a reversed view is 2-3x slower. The counts are integers, so every
    order of summation gives the same sums.
    """
    a = t.shape[1]
    if a > 64:
        return np.cumsum(t[:, ::-1], axis=1)[:, ::-1] - t
    out = np.empty_like(t)
    acc = np.zeros((t.shape[0], t.shape[2]))
    for i in range(a - 1, -1, -1):
        out[:, i] = acc
        acc += t[:, i]
    return out


def _floats(v: Any) -> np.ndarray:
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v
    return np.asarray([np.nan if e is None else e for e in np.asarray(v, dtype=object)], dtype=float)


def rank_correlations(
    x: Any,
    y: Any,
    *,
    weights: np.ndarray,
    ci: float = 0.95,
    methods: tuple[Method, ...] = ("kendall", "spearman"),
) -> dict[str, AgreementResult]:
    """Kendall's tau-b and Spearman's rho of paired scores with intervals from shared ``weights``.

    One contingency table gives both coefficients on the data and on every
    resample of ``weights`` (shape (n_resamples, units), e.g.
    :func:`analysis.bootstrap.unit_weights`). Scores with many distinct values
    fall back to :func:`correlation`. Same results as :func:`kendall` and
    :func:`spearman` with ``weights=``. ``methods``: ``("kendall",)`` skips Spearman's rho.
    """
    xa, ya = _floats(x), _floats(y)
    keep = ~(np.isnan(xa) | np.isnan(ya))
    n, n_dropped = int(keep.sum()), int((~keep).sum())
    point = _table_coefficients(xa[keep], ya[keep], np.ones((1, n)), methods=methods) if n >= 2 else None
    table = (
        _table_coefficients(xa[keep], ya[keep], weights, np.flatnonzero(keep), methods)
        if point is not None
        else None
    )
    if point is None or table is None:
        return {m: correlation(xa, ya, method=m, ci=ci, weights=weights) for m in methods}
    out = {}
    for method, reps in table.items():
        value = point[method][0]
        if np.isnan(value):
            out[method] = undefined(
                method,
                "fewer than two pairs or a constant side: correlation undefined",
                n_units=n,
                n_dropped=n_dropped,
            )
            continue
        out[method] = with_bootstrap_ci(
            method,
            float(value),
            n_units=n,
            n_dropped=n_dropped,
            replicates=reps,
            level=ci,
            resampled="pairs",
        )
    return out


def _pooled_replicates(
    x: np.ndarray,
    y: np.ndarray,
    method: str,
    n_resamples: int,
    seed: int | None,
    clusters: np.ndarray | None = None,
) -> np.ndarray:
    """Bootstrap replicates of the pooled coefficient, vectorised over resamples.

    A replicate is the coefficient of the sample in which pair ``i`` appears
    ``W[b, i]`` times. Duplicated pairs are ties, so: Spearman = weighted Pearson
    of weighted mid-ranks; Kendall tau-b = ``w' S w / sqrt((n0 - n1)(n0 - n2))``
    with ``S_ij = sign(x_i - x_j) sign(y_i - y_j)`` over ordered pairs (halved),
    ``n0 = N(N - 1)/2`` and ``n1, n2`` the pairs tied in x, in y.
    """
    n = x.size
    if method == "kendall" and n > _KENDALL_MATRIX_MAX:
        return np.array(
            [
                _coef(x[i], y[i], method)
                for i in resample_index_sets(n, n_resamples=n_resamples, seed=seed, clusters=clusters)
            ]
        )
    out = []
    if method == "kendall":
        conc = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
        # Tie groups: pairs tied in x number sum_g (W_g^2 - W_g) / 2 over x's tie groups.
        gx = np.unique(x, return_inverse=True)[1].ravel()
        gy = np.unique(y, return_inverse=True)[1].ravel()
        for w in _unit_weights(n, n_resamples, seed, clusters):
            total = w.sum(axis=1)
            s_ = ((w @ conc) * w).sum(axis=1) / 2  # BLAS matmul, not einsum
            n0 = total * (total - 1) / 2
            n1 = (_group_sums(w, gx) ** 2).sum(axis=1) / 2 - total / 2
            n2 = (_group_sums(w, gy) ** 2).sum(axis=1) / 2 - total / 2
            with np.errstate(invalid="ignore", divide="ignore"):
                den = np.sqrt((n0 - n1) * (n0 - n2))
                out.append(np.where(den > 0, s_ / np.where(den > 0, den, 1), np.nan))
        return np.concatenate(out)
    for w in _unit_weights(n, n_resamples, seed, clusters):
        if method == "spearman":
            a, b = _weighted_midranks(x, w), _weighted_midranks(y, w)
        else:
            a, b = np.broadcast_to(x, w.shape), np.broadcast_to(y, w.shape)
        out.append(_weighted_pearson(a, b, w))
    return np.concatenate(out)


def _unit_weights(
    n: int, n_resamples: int, seed: int | None, clusters: np.ndarray | None
) -> Iterator[np.ndarray]:
    """Chunks of per-unit draw counts; with clusters, a unit counts as often as its cluster."""
    if clusters is None:
        yield from resample_counts(n, n_resamples=n_resamples, seed=seed)
        return
    _, inv = np.unique(clusters, return_inverse=True)
    inv = inv.ravel()
    for w in resample_counts(int(inv.max()) + 1, n_resamples=n_resamples, seed=seed):
        yield w[:, inv]


def _group_sums(w: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Sum the columns of ``w`` (B, n) within ``groups`` (n,) -> (B, n_groups)."""
    out = np.zeros((w.shape[0], int(groups.max()) + 1))
    for g in np.unique(groups):
        out[:, g] = w[:, groups == g].sum(axis=1)
    return out


def _weighted_midranks(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mid-rank of each ``v[i]`` in the sample holding ``w[b, i]`` copies of it."""
    order = np.argsort(v, kind="stable")
    sv = v[order]
    starts = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])
    group = np.cumsum(np.r_[True, sv[1:] != sv[:-1]]) - 1
    cum = np.cumsum(w[:, order], axis=1)
    ends = np.r_[starts[1:], sv.size] - 1
    upto = cum[:, ends]  # weight up to and including each tie group
    below = np.concatenate([np.zeros((w.shape[0], 1)), upto[:, :-1]], axis=1)
    mid = below + (upto - below + 1) / 2
    ranks = np.empty_like(w)
    ranks[:, order] = mid[:, group]
    return ranks


def _weighted_pearson(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    total = w.sum(axis=1, keepdims=True)
    ma = (w * a).sum(axis=1, keepdims=True) / total
    mb = (w * b).sum(axis=1, keepdims=True) / total
    da, db = a - ma, b - mb
    cov = (w * da * db).sum(axis=1)
    va = (w * da * da).sum(axis=1)
    vb = (w * db * db).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.sqrt(va * vb)
        return np.where(den > 1e-12 * np.maximum(va + vb, 1e-300), cov / den, np.nan)


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
    clusters: Any = None,
    weights: np.ndarray | None = None,
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
    clusters : array-like, optional
        For the pooled coefficient: a cluster label per pair (e.g. the item of a
        step); the bootstrap then resamples whole clusters.
    weights : ndarray, shape (n_resamples, units), optional
        For the pooled coefficient: the bootstrap count of every pair in every
        replicate (:func:`analysis.bootstrap.unit_weights`), shared with other
        statistics so their intervals are paired; replaces drawing them here.

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
    kept_clusters = None
    if clusters is not None:
        c = np.asarray(clusters, dtype=object)
        if c.shape != keep.shape:
            raise ValueError("clusters must have one label per pair")
        kept_clusters = c[keep].astype(str)
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
        reps = None
        if weights is not None:
            w = np.asarray(weights, dtype=float)
            reps = _contingency_replicates(xa, ya, method, w if keep.all() else w[:, keep])
            if reps is None:
                raise ValueError("weights= needs scores with few distinct values (a contingency table)")
        if reps is None and method != "pearson":
            counts = np.vstack(list(_unit_weights(n, n_resamples, seed, kept_clusters)))
            reps = _contingency_replicates(xa, ya, method, counts)
        if reps is None:
            reps = _pooled_replicates(xa, ya, method, n_resamples, seed, kept_clusters)
        return with_bootstrap_ci(
            statistic,
            value,
            n_units=n,
            n_dropped=n_dropped,
            replicates=reps,
            level=ci,
            resampled="pairs" if kept_clusters is None else f"clusters ({len(set(kept_clusters))})",
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
