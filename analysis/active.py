"""Active inference: estimate a mean when people label the items a rule chose.

Each of the ``N`` items ``i`` is labelled by a person with a probability
``pi_i`` fixed before the draw (independent Bernoulli draws ``xi_i``), and a
judge labelled all ``N``. The active-inference estimator of the mean human label
(Zrnic & Candes, "Active Statistical Inference", ICML 2024, eq. for the mean
with power tuning) is

    theta_lambda = mean_i [ lambda * yhat_i + (y_i - lambda * yhat_i) * xi_i / pi_i ]

which is unbiased for any ``lambda`` and any ``pi_i > 0``: the second term is
an inverse-probability (Horvitz-Thompson) correction of the judge. ``lambda = 0``
is inverse-probability weighting of the human labels alone (the human-only
estimate); with a uniform ``pi_i = n / N`` and ``lambda = 1`` it is PPI.

**Variance.** Write ``z_i = a_i + lambda * b_i`` with ``a_i = y_i xi_i / pi_i``
and ``b_i = yhat_i (1 - xi_i / pi_i)``. Without clusters the estimated variance
of ``theta`` is ``sum_i (z_i - theta)^2 / (N (N - 1))``, and the interval is
``theta +- z_(1-alpha/2) * se`` (normal approximation, as in the paper).

**Tuned lambda.** The variance is quadratic in lambda; its plug-in minimiser is
``lambda = -sum_g A~_g B~_g / sum_g B~_g^2`` over the same centred unit (or
cluster) totals used by the variance (``A~``, ``B~`` the centred totals of
``a`` and ``b``), clipped to ``[0, 1]``; 0 where ``b`` does not vary. It is
estimated on the same draws, as in PPI++; asymptotically the interval is then
never wider than the human-only one.

**Clusters** (steps of traces, labelled a trace at a time): with cluster totals
``Z_g = sum_{i in g} z_i`` and sizes ``m_g``, the residuals
``e_g = Z_g - theta * m_g`` give the cluster-robust (linearised ratio) variance
``G / (G - 1) * sum_g e_g^2 / N^2``; without clusters each item is its own
cluster and this is the formula above.

**Inclusion probabilities.** :func:`inclusion_probabilities` spends an expected
budget of ``budget`` labels in proportion to an uncertainty signal (the judges'
disagreement), with a floor so that no item is nearly never labelled (a tiny
``pi`` makes ``1 / pi`` and the variance explode) and a cap at 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from analysis.ppi import _check_alpha, _vector

__all__ = ["ActiveEstimate", "active_mean_ci", "inclusion_probabilities"]


@dataclass(frozen=True)
class ActiveEstimate:
    """An active-inference estimate of a mean, with the human-only one beside it.

    ``n`` is the number of items, ``n_labelled`` the number a person labelled,
    ``effective_n`` the human labels the human-only estimator would need for the
    same variance (``n_labelled * se_human^2 / se^2``), ``lam`` the lambda used.
    """

    estimate: float
    low: float
    high: float
    lam: float
    n: int
    n_labelled: int
    effective_n: float
    human_only_estimate: float
    human_only_low: float
    human_only_high: float


def inclusion_probabilities(uncertainty: Any, *, budget: float, floor: float = 0.2) -> np.ndarray:
    """Inclusion probabilities that spend ``budget`` expected labels by uncertainty.

    Parameters
    ----------
    uncertainty : array_like, shape (N,)
        Non-negative uncertainty of each item (e.g. the spread of several
        judges' labels); NaN (no signal) is replaced by the mean of the others.
    budget : float
        Expected number of human labels, ``0 < budget <= N``.
    floor : float
        Share of the uniform probability every item keeps, ``0 < floor <= 1``:
        each ``pi_i >= floor * budget / N``. ``floor = 1`` is uniform.

    Returns
    -------
    ndarray, shape (N,)
        ``pi_i = clip(c * u_i, floor * budget / N, 1)`` with ``c`` chosen so
        that ``sum(pi) == budget``: proportional to the uncertainty between the
        floor and the cap of 1 (the excess of capped items is spread over the
        rest). All-equal (or all-zero) uncertainty gives ``budget / N``; if
        the budget exceeds what scaling can reach (every uncertain item at 1),
        the items with zero uncertainty share the remainder equally.
    """
    u = np.asarray(uncertainty, dtype=float)
    if u.ndim != 1 or u.shape[0] == 0:
        raise ValueError(f"uncertainty must be a non-empty one-dimensional array (got shape {u.shape})")
    if np.isinf(u).any():
        raise ValueError(
            f"uncertainty holds an infinite value at position {int(np.flatnonzero(np.isinf(u))[0])}"
        )
    nan = np.isnan(u)
    if nan.all():
        raise ValueError("uncertainty holds no finite value (all are NaN)")
    if (u[~nan] < 0).any():
        raise ValueError(
            f"uncertainty must be non-negative (position {int(np.flatnonzero(u < 0)[0])} is {u[u < 0][0]})"
        )
    u = np.where(nan, u[~nan].mean(), u)
    big_n = u.shape[0]
    budget = float(budget)
    if not np.isfinite(budget) or not 0.0 < budget <= big_n:
        raise ValueError(f"budget must lie in (0, N] with N = {big_n} items (got {budget})")
    floor = float(floor)
    if not 0.0 < floor <= 1.0:
        raise ValueError(
            f"floor must lie in (0, 1]: an item with probability 0 is never labelled (got {floor})"
        )
    lo = floor * budget / big_n
    if u.max() <= 0 or np.ptp(u) == 0 or lo >= 1.0:
        return np.full(big_n, budget / big_n)

    zero = u <= 0
    if budget >= lo * zero.sum() + (~zero).sum():
        # Scaling cannot lift items without uncertainty off the floor: cap the
        # others at 1 and share the rest of the budget equally among them.
        return np.where(zero, (budget - (~zero).sum()) / max(int(zero.sum()), 1), 1.0)

    def total(c: float) -> float:
        return float(np.clip(c * u, lo, 1.0).sum())

    # sum(clip(c u, lo, 1)) is non-decreasing in c: bracket, bisect, then solve
    # the linear piece exactly with the items at the floor and the cap fixed.
    c_lo, c_hi = 0.0, 1.0 / u[u > 0].min()
    for _ in range(200):
        mid = 0.5 * (c_lo + c_hi)
        if total(mid) < budget:
            c_lo = mid
        else:
            c_hi = mid
    c = 0.5 * (c_lo + c_hi)
    for _ in range(big_n + 1):
        raw = c * u
        at_lo, at_hi = raw <= lo, raw >= 1.0
        free = ~(at_lo | at_hi)
        if not free.any():
            break
        c_new = (budget - lo * at_lo.sum() - at_hi.sum()) / u[free].sum()
        if c_new == c:
            break
        c = c_new
    pi = np.clip(c * u, lo, 1.0)
    # Remove the last rounding error from the items strictly inside the bounds.
    inside = (pi > lo) & (pi < 1.0)
    if inside.any():
        pi[inside] += (budget - pi.sum()) / inside.sum()
    return pi


def _totals(values: np.ndarray, codes: np.ndarray | None, n_groups: int) -> np.ndarray:
    return values if codes is None else np.bincount(codes, weights=values, minlength=n_groups)


def active_mean_ci(
    y: Any,
    yhat: Any,
    labelled: Any,
    pi: Any,
    *,
    alpha: float = 0.05,
    lam: float | None = None,
    clusters: Any = None,
) -> ActiveEstimate:
    """Active-inference estimate and normal interval of the mean human label.

    Parameters
    ----------
    y : array_like, shape (N,)
        Human labels; read only where ``labelled`` is true (NaN allowed elsewhere).
    yhat : array_like, shape (N,)
        The judge's label of every item.
    labelled : array_like of bool, shape (N,)
        The Bernoulli(``pi``) draws: which items a person labelled.
    pi : array_like, shape (N,)
        Inclusion probabilities in (0, 1], fixed before each draw.
    alpha : float
        The interval has nominal coverage ``1 - alpha``.
    lam : float, optional
        Fixed lambda; ``None`` tunes it (module docstring), clipped to [0, 1].
    clusters : array_like, shape (N,), optional
        A cluster label per item (trace ids when items are steps) for a
        cluster-robust variance; the number of clusters must be at least 2.

    Returns
    -------
    ActiveEstimate
    """
    alpha = _check_alpha(alpha)
    yhat = _vector("yhat", yhat)
    big_n = yhat.shape[0]
    y = _vector("y", y, allow_nan=True)
    pi = _vector("pi", pi)
    xi_raw = np.asarray(labelled)
    if xi_raw.ndim != 1:
        raise ValueError(f"labelled must be one-dimensional (got shape {xi_raw.shape})")
    if xi_raw.dtype != bool:
        if not np.isin(xi_raw, [0, 1]).all():
            raise ValueError("labelled must hold booleans (or 0/1)")
        xi_raw = xi_raw.astype(bool)
    xi = xi_raw
    for name, arr in (("y", y), ("labelled", xi), ("pi", pi)):
        if arr.shape[0] != big_n:
            raise ValueError(f"{name} must have one value per item: {big_n} as yhat (got {arr.shape[0]})")
    if big_n < 2:
        raise ValueError(f"need at least 2 items (got {big_n})")
    if ((pi <= 0) | (pi > 1)).any():
        k = int(np.flatnonzero((pi <= 0) | (pi > 1))[0])
        raise ValueError(f"pi must lie in (0, 1] (position {k} is {pi[k]})")
    missing = xi & np.isnan(y)
    if missing.any():
        raise ValueError(f"y is missing at labelled position {int(np.flatnonzero(missing)[0])}")
    n_labelled = int(xi.sum())
    if n_labelled < 2:
        raise ValueError(f"need at least 2 labelled items (got {n_labelled})")
    if lam is not None and not np.isfinite(float(lam)):
        raise ValueError(f"lam must be a finite number (got {lam})")

    codes: np.ndarray | None = None
    sizes = np.ones(big_n)
    n_groups = big_n
    if clusters is not None:
        cl = np.asarray(clusters)
        if cl.ndim != 1 or cl.shape[0] != big_n:
            raise ValueError(f"clusters must have one label per item: {big_n} (got shape {cl.shape})")
        _, codes = np.unique(cl, return_inverse=True)
        n_groups = int(codes.max()) + 1
        if n_groups < 2:
            raise ValueError("clusters must name at least 2 clusters")
        sizes = np.bincount(codes, minlength=n_groups).astype(float)

    w = np.where(xi, 1.0 / pi, 0.0)
    a = _totals(np.where(xi, y, 0.0) * w, codes, n_groups)
    b = _totals(yhat * (1.0 - w), codes, n_groups)
    # Centred totals: a cluster's total minus its size times the overall mean.
    a_c = a - sizes * a.sum() / big_n
    b_c = b - sizes * b.sum() / big_n
    if lam is None:
        bb = float((b_c * b_c).sum())
        lam_used = float(np.clip(-(a_c * b_c).sum() / bb, 0.0, 1.0)) if bb > 0 else 0.0
    else:
        lam_used = float(lam)
    scale = n_groups / (n_groups - 1) / big_n**2
    z = norm.ppf(1 - float(alpha) / 2)

    def fit(lm: float) -> tuple[float, float]:
        est = float((a.sum() + lm * b.sum()) / big_n)
        se = float(np.sqrt(scale * ((a_c + lm * b_c) ** 2).sum()))
        return est, se

    est, se = fit(lam_used)
    h_est, h_se = fit(0.0)
    eff = n_labelled * h_se**2 / se**2 if se > 0 else float("inf")
    return ActiveEstimate(
        estimate=est,
        low=est - z * se,
        high=est + z * se,
        lam=lam_used,
        n=big_n,
        n_labelled=n_labelled,
        effective_n=float(eff),
        human_only_estimate=h_est,
        human_only_low=h_est - z * h_se,
        human_only_high=h_est + z * h_se,
    )
