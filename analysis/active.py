"""Active inference: estimate a mean when people label the items a rule chose.

Each of the ``N`` items ``i`` is labelled by a person with a probability
``pi_i`` fixed before the draw (independent Bernoulli draws ``xi_i``), and a
judge labelled all ``N``. Write ``w_i = xi_i / pi_i`` (0 for an unlabelled
item) and ``r_i = y_i - lambda * yhat_i``.

**Hajek (self-normalised) estimator, the default.**

    theta_lambda = lambda * mean_i yhat_i + sum_i w_i r_i / sum_i w_i

the judge's mean over all items plus the weighted mean of the human-minus-judge
residual over the labelled ones (a ratio estimator; Sarndal, Swensson & Wretman,
*Model Assisted Survey Sampling*, 1992, ch. 5; the mean-estimation case of
Zrnic & Candes, "Active Statistical Inference", ICML 2024, with the correction
term normalised by the realised total weight ``N_hat = sum_i w_i`` instead of
``N``). It is consistent, not exactly unbiased (bias O(1/n)). Under a uniform
``pi`` and ``lambda = 0`` it is the sample mean of the labels, exactly.

Its linearised variance: with ``R = sum w r / N_hat`` and the per-item
influence values

    e_i = lambda * (yhat_i - mean yhat) + w_i * (r_i - R) * N / N_hat,

which sum to 0, the variance is ``G / (G - 1) * sum_g E_g^2 / N^2`` over the
cluster totals ``E_g = sum_{i in g} e_i`` of ``G`` clusters (each item its own
cluster when none are given: ``sum_i e_i^2 / (N (N - 1))``). The interval is
``theta +- z_(1-alpha/2) * se`` (normal approximation, as in the paper). The
variance treats the items as draws from a population (no finite-population
correction), like the rest of ``analysis``.

**Finite population** (``finite=True``): when the estimand is the
mean over these ``N`` items themselves, the judge's mean over them is a known
constant and the design-based (Poisson-sampling) variance is
``sum_g E_g^2 / N^2`` with ``e_i = sqrt(1 - pi_i) * w_i * (r_i - R) * N / N_hat``
(the Taylor variance of the ratio under Poisson sampling, Sarndal et al. ch. 5):
items sure to be labelled add nothing. For HT, ``e_i = sqrt(1 - pi_i) * w_i * r_i``.

**Horvitz-Thompson estimator** (``estimator="ht"``, the paper's form)

    theta_lambda = mean_i [ lambda * yhat_i + w_i * r_i ]

is exactly unbiased, but not self-normalised: under Bernoulli draws the number
of labels is random and its variance includes about ``var(sum w) * mean(r)^2 / N^2``,
so where the residual's mean is far from 0 (a weak judge, ratings far from 0)
it is wider than the sample mean of the same labels. Its variance is the same
formula with ``e_i = z_i - theta``, ``z_i = lambda * yhat_i + w_i * r_i``.

**Tuned lambda.** Either way ``e_i = a_i + lambda * b_i`` is linear in lambda
(for Hajek ``a_i = w_i (y_i - R_y) N / N_hat`` and ``b_i = (yhat_i - mean yhat)
- w_i (yhat_i - R_yhat) N / N_hat``, with ``R_y``, ``R_yhat`` the weighted means
over the labelled items), so the estimated variance is quadratic in lambda
with plug-in minimiser ``lambda = -sum_g A_g B_g / sum_g B_g^2`` over the
cluster totals, clipped to ``[0, 1]``; 0 where the judge does not vary. It is
estimated on the same draws, as in PPI++; asymptotically the interval is then
never wider than the human-only one. Under a uniform ``pi`` with ``n`` labels
drawn, the Hajek estimate at ``lambda`` is PPI++ (``ppi_py``) at
``(1 - n / N) * lambda`` with the unlabelled items as its unlabelled set: the
judge's mean over all items already contains the labelled ones.

**Human-only.** The ``human_only_*`` fields are the Hajek estimate at
``lambda = 0``, the weighted mean of the labels, whichever estimator is asked.

**Clusters** (steps of traces, labelled a trace at a time): give each item its
cluster; ``pi`` and the draw must then be the same for every item of a cluster.

**Inclusion probabilities.** :func:`inclusion_probabilities` spends an expected
budget of ``budget`` labels in proportion to an uncertainty signal, with a
floor so that no item is nearly never labelled (a tiny ``pi`` makes ``1 / pi``
and the variance explode) and a cap at 1. The paper's rule is ``pi``
proportional to an estimate of ``|y - yhat|`` (or of the square root of its
conditional mean square), mixed with uniform: the signal should be on that
scale. A raw disagreement score with no offset (0 where the judges agree)
sends items to the floor whose residual is not small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from analysis.ppi import _check_alpha, _vector

__all__ = ["ESTIMATORS", "ActiveEstimate", "active_mean_ci", "inclusion_probabilities"]

ESTIMATORS = ("hajek", "ht")


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


@dataclass(frozen=True)
class _Parts:
    """An estimator linear in lambda: ``theta = e0 + lambda * e1``, and the
    centred unit (or cluster) totals ``a + lambda * b`` of its linearisation."""

    e0: float
    e1: float
    a: np.ndarray
    b: np.ndarray

    def fit(self, lam: float, scale: float) -> tuple[float, float]:
        est = self.e0 + lam * self.e1
        se = float(np.sqrt(scale * ((self.a + lam * self.b) ** 2).sum()))
        return est, se


@dataclass(frozen=True)
class _Draw:
    """One draw: the labels (0 where unlabelled), the judge, the weights ``xi / pi``,
    the inclusion probabilities and the cluster codes, sizes and count."""

    y0: np.ndarray
    yhat: np.ndarray
    w: np.ndarray
    pi: np.ndarray
    codes: np.ndarray | None
    sizes: np.ndarray
    n_groups: int

    def totals(self, values: np.ndarray) -> np.ndarray:
        return _totals(values, self.codes, self.n_groups)

    def hajek(self, finite: bool) -> _Parts:
        w, y0, yhat = self.w, self.y0, self.yhat
        n_hat = float(w.sum())
        ry, rh = float((w * y0).sum()) / n_hat, float((w * yhat).sum()) / n_hat
        judge_mean = float(yhat.mean())
        s = yhat.shape[0] / n_hat
        if finite:
            # The items are the population: the judge's mean over them is a constant,
            # and a labelled item adds (1 - pi) of its term (Poisson sampling).
            k = np.sqrt(1.0 - self.pi) * w * s
            a, b = self.totals(k * (y0 - ry)), self.totals(-k * (yhat - rh))
        else:
            a = self.totals(w * (y0 - ry) * s)
            b = self.totals((yhat - judge_mean) - w * (yhat - rh) * s)
        return _Parts(ry, judge_mean - rh, a, b)

    def ht(self, finite: bool) -> _Parts:
        w, y0, yhat = self.w, self.y0, self.yhat
        big_n = yhat.shape[0]
        e0, e1 = float((y0 * w).sum() / big_n), float((yhat * (1.0 - w)).sum() / big_n)
        if finite:
            k = np.sqrt(1.0 - self.pi) * w
            return _Parts(e0, e1, self.totals(k * y0), self.totals(-k * yhat))
        a, b = self.totals(y0 * w), self.totals(yhat * (1.0 - w))
        # Centred totals: a cluster's total minus its size times the overall mean.
        return _Parts(e0, e1, a - self.sizes * a.sum() / big_n, b - self.sizes * b.sum() / big_n)


def active_mean_ci(
    y: Any,
    yhat: Any,
    labelled: Any,
    pi: Any,
    *,
    alpha: float = 0.05,
    lam: float | None = None,
    clusters: Any = None,
    estimator: str = "hajek",
    finite: bool = False,
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
    estimator : {"hajek", "ht"}
        ``"hajek"`` (default) the self-normalised estimator, ``"ht"`` the
        Horvitz-Thompson one (module docstring). The ``human_only_*`` fields
        are the lambda = 0 Hajek interval with either.
    finite : bool
        ``False`` (default): the items are draws from a population and the
        estimand is its mean. ``True``: the estimand is the mean over these
        ``N`` items, with the design-based variance (module docstring), which
        shrinks to 0 as every ``pi`` reaches 1.

    Returns
    -------
    ActiveEstimate
    """
    alpha = _check_alpha(alpha)
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)} (got {estimator!r})")
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

    finite = bool(finite)
    draw = _Draw(np.where(xi, y, 0.0), yhat, np.where(xi, 1.0 / pi, 0.0), pi, codes, sizes, n_groups)
    hajek = draw.hajek(finite)
    parts = hajek if estimator == "hajek" else draw.ht(finite)
    if lam is None:
        bb = float((parts.b * parts.b).sum())
        # A constant judge carries no information (bb is then 0 up to rounding).
        varies = bb > 0 and np.ptp(yhat) > 0
        lam_used = float(np.clip(-(parts.a * parts.b).sum() / bb, 0.0, 1.0)) if varies else 0.0
    else:
        lam_used = float(lam)
    scale = (1.0 if finite else n_groups / (n_groups - 1)) / big_n**2
    z = norm.ppf(1 - float(alpha) / 2)
    est, se = parts.fit(lam_used, scale)
    h_est, h_se = hajek.fit(0.0, scale)
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
