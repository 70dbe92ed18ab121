"""Prediction-powered estimates of a mean that people would give (PPI and PPI++).

A study has human labels ``y`` on ``n`` items, the judge's labels ``yhat`` on
the same items, and the judge's labels ``yhat_unlabeled`` on ``N`` items that
no person labelled. The prediction-powered estimate of the mean human label
(Angelopoulos, Bates, Fannjiang, Jordan & Zrnic, "Prediction-powered
inference", Science 382, 2023; with the power-tuning parameter lambda of
Angelopoulos, Duchi & Zrnic, "PPI++: Efficient prediction-powered inference",
arXiv 2311.01453, 2023) is

    theta_lambda = lambda * mean(yhat_unlabeled) + mean(y - lambda * yhat)

with the normal-approximation interval ``theta_lambda +- z_(1-alpha/2) * se``,

    se^2 = var(lambda * yhat_unlabeled) / N + var(y - lambda * yhat) / n

(variances with divisor ``n`` and ``N``, as in ``ppi_py``). ``lambda = 1`` is
plain PPI, ``lambda = 0`` the classical human-only interval
``mean(y) +- z * sd(y) / sqrt(n)``. The tuned lambda (PPI++, eq. 6 and
``ppi_py._calc_lam_glm`` for the mean, whose inverse Hessian is 1) is

    lambda = cov(y, yhat) / ((1 + n / N) * var(yhat, yhat_unlabeled))

(covariance over the labelled items with divisor ``n``; variance of all
``n + N`` judge labels with divisor ``n + N - 1``), clipped to ``[0, 1]``. It
minimises the estimated variance, so asymptotically the interval is never
wider than the human-only one (lambda = 0 is always a candidate); in a finite
sample it can be wider by the estimation noise of lambda, which is why
:func:`ppi_mean` reports both. Where the judge's labels do not vary, lambda is
0 (``ppi_py`` returns NaN there).

This module matches ``ppi_py`` 0.2.3 (``ppi_mean_pointestimate``,
``ppi_mean_ci``, ``classical_mean_ci``) by hand; the tests check it against
that package to 1e-9. ``ppi_py`` is not imported at run time: it pulls numba,
scikit-learn and statsmodels, and silences every warning of the process on
import (``warnings.simplefilter("ignore")``).

**Effective number of human labels.** ``n_effective = n * se_classical^2 /
se_ppi^2``: the number of human labels the human-only interval would need to
be as narrow as the prediction-powered one (both standard errors estimated on
the same ``n`` labels). "Your 200 labels are worth 340 with this judge" reads
``n = 200, n_effective = 340``.

**Nested units (steps in traces).** The sampling unit is the trace: a person
labels every step of a trace, and steps of one trace are not independent. The
share of traces with an error is a trace-level mean (one 0/1 value a trace).
The share of wrong steps is estimated by :func:`ppi_clustered_mean`: each
trace becomes one value, its number of wrong steps divided by the mean number
of steps a trace has (over all traces, labelled or not: known without any
label), whose mean over traces is the share of wrong steps over all steps; the
variance is then between traces, a cluster-robust variance, never one that
treats the steps of a trace as independent.

**Binary labels, rare disagreement.** Where ``y`` and ``yhat`` are both 0/1
and the judge agrees with people on most labelled items, the residual
``y - lambda * yhat`` is mostly constant and the normal interval above is
too narrow at small ``n`` (its variance is estimated from a handful of
discordant items, often none), as the Wald interval for a difference of
paired proportions is. ``binary="agresti-min"`` or ``"bonett-price"``
estimates the residual's variance from the labelled 2x2 table of ``(y,
yhat)`` with pseudo-counts added (see :func:`ppi_rows`); the estimate and
lambda are PPI++'s, unchanged. ``"bonett-price-centred"`` also centres the
interval on the adjusted table as the papers do (Bonett-Price's at lambda =
1, Agresti-Coull's at lambda = 0), which the variance-only options do not:
at lambda ~0 they keep the human-only Wald interval's under-coverage.

All intervals assume the labelled items are a uniform random sample of the
items (drawn independently of the labels), and rest on the normal
approximation, which needs enough human labels: below about 50 the coverage
should be checked, not assumed (docs/results/ppi_coverage.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis.result import AgreementResult, undefined

# Pseudo-counts added to the labelled 2x2 table of (y, yhat), in the cell order
# (1, 1), (1, 0), (0, 1), (0, 0), by the adjusted Wald intervals for a
# difference of paired proportions: Agresti & Min (2005) add 0.5 to every
# cell, Bonett & Price (2012) add 1 to each discordant cell.
BINARY_METHODS: dict[str, tuple[float, float, float, float]] = {
    "agresti-min": (0.5, 0.5, 0.5, 0.5),
    "bonett-price": (0.0, 1.0, 1.0, 0.0),
}
# The option that also centres the interval on the adjusted table, as the papers do
# (its pseudo-counts depend on lambda and on the level; see ppi_rows).
CENTRED = "bonett-price-centred"
# Every value ``binary=`` accepts besides None.
BINARY_OPTIONS: tuple[str, ...] = (*BINARY_METHODS, CENTRED)

__all__ = [
    "BINARY_METHODS",
    "BINARY_OPTIONS",
    "CENTRED",
    "PPIRows",
    "classical_mean_ci",
    "ppi_by_group",
    "ppi_clustered_mean",
    "ppi_lambda",
    "ppi_mean",
    "ppi_mean_ci",
    "ppi_mean_pointestimate",
    "ppi_rows",
]


def _vector(name: str, values: Any, *, min_len: int = 0, allow_nan: bool = False) -> np.ndarray:
    """A one-dimensional float array of at least ``min_len`` finite values (``allow_nan``:
    NaN allowed, infinity still refused)."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (got shape {arr.shape})")
    if arr.shape[0] < min_len:
        raise ValueError(f"{name} needs at least {min_len} values (got {arr.shape[0]})")
    bad = np.flatnonzero(np.isinf(arr) if allow_nan else ~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} holds a missing or infinite value at position {int(bad[0])}")
    return arr


def _check_alpha(alpha: float) -> float:
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1 (got {alpha})")
    return float(alpha)


def _inputs(y: Any, yhat: Any, yhat_unlabeled: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = _vector("y", y, min_len=2)
    yhat = _vector("yhat", yhat, min_len=0)
    if y.shape != yhat.shape:
        raise ValueError(f"y and yhat must have the same length (got {y.shape[0]} and {yhat.shape[0]})")
    yhat_unlabeled = _vector("yhat_unlabeled", yhat_unlabeled, min_len=1)
    return y, yhat, yhat_unlabeled


class PPIRows:
    """Row-wise PPI++ over many samples at once (one sample a row).

    Attributes are 1-D arrays with one entry per row: ``value``, ``se``,
    ``lam`` (the lambda used), ``classical_value``, ``classical_se``, and the
    intervals' centres ``centre`` and ``classical_centre`` (the estimates,
    except with ``binary="bonett-price-centred"``, whose intervals are built
    for one level only: ``alpha``, else None).
    """

    def __init__(
        self,
        value: np.ndarray,
        se: np.ndarray,
        lam: np.ndarray,
        classical_value: np.ndarray,
        classical_se: np.ndarray,
        *,
        centre: np.ndarray | None = None,
        classical_centre: np.ndarray | None = None,
        alpha: float | None = None,
    ) -> None:
        self.value = value
        self.se = se
        self.lam = lam
        self.classical_value = classical_value
        self.classical_se = classical_se
        self.centre = value if centre is None else centre
        self.classical_centre = classical_value if classical_centre is None else classical_centre
        self.alpha = alpha

    def _z(self, alpha: float) -> float:
        alpha = _check_alpha(alpha)
        if self.alpha is not None and alpha != self.alpha:
            raise ValueError(
                f"these intervals were adjusted for alpha = {self.alpha:g}; "
                f"compute them again with alpha = {alpha:g}"
            )
        return float(norm.ppf(1 - alpha / 2))

    def ci(self, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of the prediction-powered intervals."""
        z = self._z(alpha)
        return self.centre - z * self.se, self.centre + z * self.se

    def classical_ci(self, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of the human-only intervals."""
        z = self._z(alpha)
        return self.classical_centre - z * self.classical_se, self.classical_centre + z * self.classical_se


def ppi_rows(
    y: np.ndarray,
    yhat: np.ndarray,
    yhat_unlabeled: np.ndarray,
    lam: float | None = None,
    *,
    finite: bool = False,
    binary: str | None = None,
    alpha: float = 0.05,
) -> PPIRows:
    """PPI++ estimates for each row of 2-D arrays (the vectorised core).

    Parameters
    ----------
    y, yhat : ndarray, shape (r, n)
        Human labels and the judge's labels on the same ``n`` items, one
        sample per row; ``n >= 2``.
    yhat_unlabeled : ndarray, shape (r, N)
        The judge's labels on ``N >= 1`` items without a human label.
    lam : float, optional
        Fixed lambda for every row; ``None`` tunes it per row (PPI++, clipped
        to ``[0, 1]``).
    finite : bool
        The finite-population interval (:func:`ppi_mean_ci`); default off,
        ``ppi_py``'s semantics.
    binary : {None, "agresti-min", "bonett-price", "bonett-price-centred"}
        ``None`` (default): the normal interval of PPI++. Otherwise ``y``,
        ``yhat`` and ``yhat_unlabeled`` must all be 0/1, and the residual's
        variance is that of the labelled 2x2 table of ``(y, yhat)`` after
        pseudo-counts ``a_ij`` are added to its cells: with counts
        ``c_ij = n_ij + a_ij``, ``n~ = n + sum(a_ij)`` and residual values
        ``r_ij = i - lambda * j``, ``v~ = sum c_ij (r_ij - rbar~)^2 / n~``
        (``rbar~ = sum c_ij r_ij / n~``), and ``se^2 = var(lambda *
        yhat_unlabeled) / N + v~ / n~`` (``finite``: ``(1 - n/(n+N)) v~ /
        (n~ - 1)``). ``"agresti-min"`` adds 0.5 to every cell (Agresti & Min,
        "Simple improved confidence intervals for comparing matched
        proportions", Statistics in Medicine 24, 2005); ``"bonett-price"``
        adds 1 to each discordant cell (Bonett & Price, "Adjusted Wald
        confidence interval for a difference of binomial proportions based
        on paired data", J. Educational and Behavioral Statistics 37, 2012).
        With ``lambda = 1`` the residual's part is exactly their interval's
        variance for the difference ``P(y=1) - P(yhat=1)``; the point
        estimate and lambda stay PPI++'s (the intervals are centred on it,
        not on the adjusted table's mean). It assumes what the normal
        interval does (a uniform random labelled sample, a normal
        approximation) and only guards its variance against rare
        disagreement; without pseudo-counts (``n~ = n``) it is the normal
        interval, and it approaches it as ``n`` grows. The human-only
        interval is unchanged. Where lambda is near 0 the result is the
        human-only Wald interval with a slightly larger variance, and it keeps
        that interval's under-coverage for a share near 0 or 1 at small ``n``
        (docs/results/ppi_coverage.md, the SPRM judge).

        ``"bonett-price-centred"`` also centres the intervals as the papers
        do, on the adjusted table's mean, and makes the human-only interval
        Agresti-Coull's (Agresti & Coull, "Approximate is better than 'exact'
        for interval estimation of binomial proportions", The American
        Statistician 52, 1998; recommended for small ``n`` by Brown, Cai &
        DasGupta, "Interval estimation for a binomial proportion",
        Statistical Science 16, 2001). With ``h = z^2 / 2`` (``z`` of
        ``alpha``) its pseudo-counts are ``(1 - lambda) * (h/2, h/2, h/2,
        h/2) + lambda * (0, 1, 1, 0)``: at ``lambda = 1`` Bonett & Price's,
        so the interval is theirs for ``P(y=1) - P(yhat=1)`` (centre ``(n10 -
        n01) / (n + 2)``) shifted by the judge's mean and widened by its
        variance; at ``lambda = 0`` ``h`` pseudo-successes and ``h``
        pseudo-failures, so it is Agresti-Coull's interval for ``P(y=1)``
        (centre ``(x + h) / (n + 2h)``, variance ``p~(1 - p~) / (n + 2h)``).
        Between the two the linear blend is this module's choice, not a
        published one. The interval is centred on ``lambda * (judge's mean)
        + rbar~``; ``value`` stays the PPI++ estimate (``centre`` holds the
        centre), and the rows' intervals hold for ``alpha`` only.
        ``finite``: the variances are divided by ``n~ - 1`` and multiplied
        by ``1 - n/(n+N)``, the human-only one too.
    alpha : float
        The level the ``"bonett-price-centred"`` pseudo-counts are built for
        (ignored otherwise).

    Returns
    -------
    PPIRows
    """
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    yu = np.asarray(yhat_unlabeled, dtype=float)
    if y.ndim != 2 or yhat.shape != y.shape or yu.ndim != 2 or yu.shape[0] != y.shape[0]:
        raise ValueError(
            "y and yhat must be (r, n) arrays of one shape and yhat_unlabeled an (r, N) array "
            f"(got {y.shape}, {yhat.shape} and {yu.shape})"
        )
    n, big_n = y.shape[1], yu.shape[1]
    if n < 2 or big_n < 1:
        raise ValueError(f"need n >= 2 human-labelled and N >= 1 unlabelled items (got n={n}, N={big_n})")
    alpha = _check_alpha(alpha)
    if binary is not None:
        _check_binary(binary, y, yhat, yu)
    rows = _finite_rows(y, yhat, yu, lam) if finite else _iid_rows(y, yhat, yu, lam)
    if binary is None:
        return rows
    fpc = 1.0 - n / (n + big_n)
    if binary == CENTRED:
        half = float(norm.ppf(1 - alpha / 2)) ** 2 / 2
        w = rows.lam[:, None]
        pseudo = (1 - w) * np.full(4, half / 2) + w * np.array([0.0, 1.0, 1.0, 0.0])
    else:
        pseudo = np.broadcast_to(np.asarray(BINARY_METHODS[binary]), (y.shape[0], 4))
    mean_r, var_r, n_tilde = _adjusted_residual_moments(y, yhat, rows.lam, pseudo)
    if finite:
        se = np.sqrt(fpc * var_r / (n_tilde - 1))
    else:
        se = np.sqrt(rows.lam**2 * yu.var(axis=1) / big_n + var_r / n_tilde)
    if binary != CENTRED:
        return PPIRows(rows.value, se, rows.lam, rows.classical_value, rows.classical_se)
    # Agresti-Coull for the human-only interval: h successes and h failures added.
    n_c = n + 2 * half
    p_c = (y.sum(axis=1) + half) / n_c
    var_c = p_c * (1 - p_c)
    classical_se = np.sqrt(fpc * var_c / (n_c - 1)) if finite else np.sqrt(var_c / n_c)
    centre = rows.value - (y - rows.lam[:, None] * yhat).mean(axis=1) + mean_r
    return PPIRows(
        rows.value,
        se,
        rows.lam,
        rows.classical_value,
        classical_se,
        centre=centre,
        classical_centre=p_c,
        alpha=alpha,
    )


def _check_binary(binary: str, y: np.ndarray, yhat: np.ndarray, yu: np.ndarray) -> None:
    if binary not in BINARY_OPTIONS:
        raise ValueError(f"binary must be None or one of {sorted(BINARY_OPTIONS)} (got {binary!r})")
    for name, arr in (("y", y), ("yhat", yhat), ("yhat_unlabeled", yu)):
        bad = np.flatnonzero((arr != 0) & (arr != 1))
        if bad.size:
            value = float(arr.ravel()[bad[0]])
            raise ValueError(f"binary={binary!r} needs 0/1 labels, but {name} holds {value:g}")


def _adjusted_residual_moments(
    y: np.ndarray, yhat: np.ndarray, lam: np.ndarray, pseudo: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the mean and variance (divisor ``n~``) of ``y - lam * yhat`` over the labelled
    2x2 table with ``pseudo`` (shape (r, 4)) added to its cells (1,1), (1,0), (0,1), (0,0),
    and ``n~``."""
    n11 = (y * yhat).sum(axis=1)
    n10 = (y * (1 - yhat)).sum(axis=1)
    n01 = ((1 - y) * yhat).sum(axis=1)
    counts = np.stack([n11, n10, n01, y.shape[1] - n11 - n10 - n01], axis=1) + pseudo
    values = np.stack([1 - lam, np.ones_like(lam), -lam, np.zeros_like(lam)], axis=1)
    n_tilde = y.shape[1] + pseudo.sum(axis=1)
    mean = (counts * values).sum(axis=1) / n_tilde
    return mean, (counts * (values - mean[:, None]) ** 2).sum(axis=1) / n_tilde, n_tilde


def _iid_rows(y: np.ndarray, yhat: np.ndarray, yu: np.ndarray, lam: float | None) -> PPIRows:
    """PPI++ of ``ppi_py``, row-wise: labelled and unlabelled items independent draws."""
    n, big_n = y.shape[1], yu.shape[1]
    if lam is None:
        yc = y - y.mean(axis=1, keepdims=True)
        hc = yhat - yhat.mean(axis=1, keepdims=True)
        cov = (yc * hc).sum(axis=1) / n
        var_all = np.concatenate([yhat, yu], axis=1).var(axis=1, ddof=1)
        denom = (1 + n / big_n) * var_all
        with np.errstate(divide="ignore", invalid="ignore"):
            lam_rows = np.where(denom > 0, cov / np.where(denom > 0, denom, 1.0), 0.0)
        lam_rows = np.clip(lam_rows, 0.0, 1.0)
    else:
        lam_rows = np.full(y.shape[0], float(lam))
    lam_col = lam_rows[:, None]
    rect = y - lam_col * yhat
    value = lam_rows * yu.mean(axis=1) + rect.mean(axis=1)
    se = np.sqrt((lam_col * yu).var(axis=1) / big_n + rect.var(axis=1) / n)
    return PPIRows(
        value=value,
        se=se,
        lam=lam_rows,
        classical_value=y.mean(axis=1),
        classical_se=y.std(axis=1) / np.sqrt(n),
    )


def _finite_rows(y: np.ndarray, yhat: np.ndarray, yu: np.ndarray, lam: float | None) -> PPIRows:
    """The difference (model-assisted) estimator of survey sampling, row-wise.

    The ``n`` labelled items are a simple random sample without replacement of
    the ``n + N`` items, the judge labelled all of them, and the target is the
    mean human label of those items. The judge's mean over all items is then
    known exactly and the only sampling error is the residual's:
    ``se^2 = (1 - n / (n + N)) * S^2(y - lambda * yhat) / n`` (``S^2`` with
    divisor ``n - 1``; Sarndal, Swensson & Wretman, "Model Assisted Survey
    Sampling", 1992, section 6.3). The tuned lambda minimises that residual
    variance, ``cov(y, yhat) / var(yhat)`` over the labelled items, clipped to
    ``[0, 1]`` (0 where the judge's labels do not vary).
    """
    n = y.shape[1]
    fpc = 1.0 - n / (n + yu.shape[1])
    if lam is None:
        yc = y - y.mean(axis=1, keepdims=True)
        hc = yhat - yhat.mean(axis=1, keepdims=True)
        var_h = (hc * hc).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam_rows = np.where(var_h > 0, (yc * hc).sum(axis=1) / np.where(var_h > 0, var_h, 1.0), 0.0)
        lam_rows = np.clip(lam_rows, 0.0, 1.0)
    else:
        lam_rows = np.full(y.shape[0], float(lam))
    lam_col = lam_rows[:, None]
    rect = y - lam_col * yhat
    all_mean = (yhat.sum(axis=1) + yu.sum(axis=1)) / (n + yu.shape[1])
    return PPIRows(
        value=lam_rows * all_mean + rect.mean(axis=1),
        se=np.sqrt(fpc * rect.var(axis=1, ddof=1) / n),
        lam=lam_rows,
        classical_value=y.mean(axis=1),
        classical_se=np.sqrt(fpc * y.var(axis=1, ddof=1) / n),
    )


def _one(
    y: Any,
    yhat: Any,
    yhat_unlabeled: Any,
    lam: float | None,
    finite: bool = False,
    binary: str | None = None,
    alpha: float = 0.05,
) -> PPIRows:
    y, yhat, yu = _inputs(y, yhat, yhat_unlabeled)
    return ppi_rows(
        y[None, :], yhat[None, :], yu[None, :], lam=lam, finite=finite, binary=binary, alpha=alpha
    )


def ppi_lambda(y: Any, yhat: Any, yhat_unlabeled: Any) -> float:
    """The PPI++ power-tuning parameter for a mean, clipped to ``[0, 1]``.

    Parameters
    ----------
    y, yhat : array_like, shape (n,)
        Human labels and the judge's labels on the same items.
    yhat_unlabeled : array_like, shape (N,)
        The judge's labels on the items without a human label.

    Returns
    -------
    float
        ``cov(y, yhat) / ((1 + n/N) var(yhat ++ yhat_unlabeled))``, clipped;
        0 where the judge's labels do not vary.
    """
    return float(_one(y, yhat, yhat_unlabeled, None).lam[0])


def ppi_mean_pointestimate(y: Any, yhat: Any, yhat_unlabeled: Any, lam: float | None = None) -> float:
    """The prediction-powered estimate of the mean human label.

    Arguments as :func:`ppi_mean_ci`; ``lam=None`` tunes lambda (PPI++),
    ``lam=1`` is plain PPI, ``lam=0`` the human-only mean.
    """
    return float(_one(y, yhat, yhat_unlabeled, lam).value[0])


def ppi_mean_ci(
    y: Any,
    yhat: Any,
    yhat_unlabeled: Any,
    alpha: float = 0.05,
    lam: float | None = None,
    *,
    finite: bool = False,
    binary: str | None = None,
) -> tuple[float, float]:
    """Prediction-powered confidence interval for the mean human label.

    The argument meanings of ``ppi_py.ppi_mean_ci`` (two-sided, no weights).

    Parameters
    ----------
    y : array_like, shape (n,)
        Gold-standard (human) labels, ``n >= 2``.
    yhat : array_like, shape (n,)
        The judge's labels on the same items.
    yhat_unlabeled : array_like, shape (N,)
        The judge's labels on the items without a human label, ``N >= 1``.
    alpha : float
        Error level: the interval targets coverage ``1 - alpha``.
    lam : float, optional
        Power-tuning parameter; ``None`` (default) tunes it (PPI++).
    finite : bool
        ``False`` (default, ``ppi_py``): the items are a sample of a larger
        population whose mean is the target. ``True``: the target is the mean
        human label of these ``n + N`` items, the ``n`` labelled ones drawn
        without replacement; the interval is the difference estimator's with
        the finite-population correction ``1 - n / (n + N)`` (see
        ``_finite_rows``), and lambda is tuned for it.
    binary : {None, "agresti-min", "bonett-price", "bonett-price-centred"}
        ``None`` (default, ``ppi_py``): the normal interval. Otherwise, for
        0/1 labels only, the residual's variance from the labelled 2x2 table
        with pseudo-counts (adjusted Wald; :func:`ppi_rows`), for a judge
        that rarely disagrees with people and few human labels;
        ``"bonett-price-centred"`` also centres the interval on the adjusted
        table (as the papers do) and, at lambda = 0, is Agresti-Coull's.

    Returns
    -------
    (low, high) : tuple of float

    Raises
    ------
    ValueError
        For arrays that are not 1-D, of mismatched length, too short, or
        holding NaN or infinity, for ``alpha`` outside (0, 1), for an
        unknown ``binary`` and for a label other than 0 or 1 with ``binary``.
    """
    alpha = _check_alpha(alpha)
    low, high = _one(y, yhat, yhat_unlabeled, lam, finite, binary, alpha).ci(alpha)
    return float(low[0]), float(high[0])


def classical_mean_ci(
    y: Any, alpha: float = 0.05, *, population_size: int | None = None
) -> tuple[float, float]:
    """The human-only interval ``mean(y) +- z * sd(y) / sqrt(n)`` (sd with divisor n).

    ``ppi_py.classical_mean_ci`` without weights. With ``population_size`` (the
    ``N >= n`` items the ``n`` labelled ones were drawn from without
    replacement, the target their mean) the standard error is
    ``sqrt((1 - n / N) * S^2 / n)`` with ``S^2`` of divisor ``n - 1``.
    """
    alpha = _check_alpha(alpha)
    y = _vector("y", y, min_len=2)
    z = norm.ppf(1 - alpha / 2)
    n = y.shape[0]
    if population_size is None:
        half = z * y.std() / np.sqrt(n)
    else:
        if int(population_size) != population_size or population_size < n:
            raise ValueError(
                f"population_size must be a whole number of at least n = {n} (got {population_size})"
            )
        half = z * np.sqrt((1 - n / population_size) * y.var(ddof=1) / n)
    return float(y.mean() - half), float(y.mean() + half)


def ppi_mean(
    y: Any,
    yhat: Any,
    yhat_unlabeled: Any,
    alpha: float = 0.05,
    lam: float | None = None,
    statistic: str = "ppi_mean",
    *,
    finite: bool = False,
    binary: str | None = None,
) -> AgreementResult:
    """PPI++ estimate and interval, the human-only ones beside it, and the effective n.

    Arguments as :func:`ppi_mean_ci` (``finite`` and ``binary`` too). Fewer than two human labels, or no
    unlabelled item, give an undefined result (with the reason) instead of an
    error, so that a report can show it.

    Returns
    -------
    AgreementResult
        ``value`` and ``ci``: the prediction-powered estimate; ``n_units``: the
        human-labelled items; ``extra``: ``lambda``, ``se``,
        ``n_unlabeled``, ``classical_value``, ``classical_ci`` (list),
        ``classical_se``, ``n_effective`` (``n * se_classical^2 / se^2``,
        ``None`` where ``se`` is 0) and ``width_ratio`` (PPI width over
        human-only width); with ``binary="bonett-price-centred"`` also
        ``ci_centre`` (the interval's centre; ``value`` stays PPI++'s).
    """
    alpha = _check_alpha(alpha)
    y_arr = np.asarray(y, dtype=float).ravel()
    yu_arr = np.asarray(yhat_unlabeled, dtype=float).ravel()
    if y_arr.shape[0] < 2:
        return undefined(
            statistic,
            f"fewer than 2 human-labelled items ({y_arr.shape[0]})",
            n_units=int(y_arr.shape[0]),
            n_unlabeled=int(yu_arr.shape[0]),
        )
    if yu_arr.shape[0] < 1:
        return undefined(
            statistic,
            "no item without a human label: the human-only mean is the estimate",
            n_units=int(y_arr.shape[0]),
            n_unlabeled=0,
        )
    rows = _one(y, yhat, yhat_unlabeled, lam, finite, binary, alpha)
    low, high = rows.ci(alpha)
    c_low, c_high = rows.classical_ci(alpha)
    n = int(y_arr.shape[0])
    se, c_se = float(rows.se[0]), float(rows.classical_se[0])
    n_eff = None if se == 0 else n * c_se**2 / se**2
    ratio = None if c_se == 0 else se / c_se
    level = round((1 - alpha) * 100, 3)
    return AgreementResult(
        statistic=statistic,
        value=float(rows.value[0]),
        n_units=n,
        ci=(float(low[0]), float(high[0])),
        ci_method=(
            f"{level:g}% normal interval, prediction-powered (PPI++, lambda "
            + ("tuned" if lam is None else "fixed")
            + (", finite population" if finite else "")
            + ("" if binary is None else f", {binary} adjusted variance for 0/1 labels")
            + (", centred on the adjusted table; human-only: Agresti-Coull" if binary == CENTRED else "")
            + ")"
        ),
        extra={
            **({"ci_centre": float(rows.centre[0])} if binary == CENTRED else {}),
            "lambda": float(rows.lam[0]),
            "se": se,
            "n_unlabeled": int(yu_arr.shape[0]),
            "classical_value": float(rows.classical_value[0]),
            "classical_ci": [float(c_low[0]), float(c_high[0])],
            "classical_se": c_se,
            "n_effective": n_eff,
            "width_ratio": ratio,
        },
    )


def ppi_clustered_mean(
    y: Any,
    yhat: Any,
    clusters: Any,
    yhat_unlabeled: Any,
    clusters_unlabeled: Any,
    alpha: float = 0.05,
    lam: float | None = None,
) -> AgreementResult:
    """PPI++ for a share over nested units (steps in traces), clustered by trace.

    Every step of a human-labelled trace carries a human label; the traces
    were sampled, not the steps. Each trace ``t`` becomes one value
    ``sum of its labels / mean steps a trace has``, the mean steps taken over
    all traces, labelled or not; the mean of those values over traces is the
    mean over all steps (for 0/1 labels, the share of wrong steps), and
    :func:`ppi_mean` on them gives a between-trace (cluster-robust) variance.

    Parameters
    ----------
    y, yhat : array_like, shape (s,)
        Human and judge labels of the steps of the human-labelled traces.
    clusters : array_like, shape (s,)
        The trace of each of those steps.
    yhat_unlabeled : array_like, shape (S,)
        The judge's labels of the steps of the other traces.
    clusters_unlabeled : array_like, shape (S,)
        Their traces (no trace may appear on both sides).
    alpha, lam
        As :func:`ppi_mean_ci`.

    Returns
    -------
    AgreementResult
        As :func:`ppi_mean`, ``n_units`` counting traces; ``extra`` adds
        ``n_steps`` and ``n_steps_unlabeled``.
    """
    y, yhat = _vector("y", y, min_len=1), _vector("yhat", yhat, min_len=1)
    yu = _vector("yhat_unlabeled", yhat_unlabeled, min_len=1)
    c_lab = np.asarray(clusters).ravel()
    c_unl = np.asarray(clusters_unlabeled).ravel()
    if not (y.shape == yhat.shape == c_lab.shape):
        raise ValueError(
            "y, yhat and clusters must have the same length "
            f"(got {y.shape[0]}, {yhat.shape[0]} and {c_lab.shape[0]})"
        )
    if c_unl.shape != yu.shape:
        raise ValueError(
            "yhat_unlabeled and clusters_unlabeled must have the same length "
            f"(got {yu.shape[0]} and {c_unl.shape[0]})"
        )
    lab = (
        pd.DataFrame({"c": c_lab, "y": y, "h": yhat})
        .groupby("c", sort=False)
        .agg(y=("y", "sum"), h=("h", "sum"), m=("y", "size"))
    )
    unl = pd.DataFrame({"c": c_unl, "h": yu}).groupby("c", sort=False).agg(h=("h", "sum"), m=("h", "size"))
    both = lab.index.intersection(unl.index)
    if len(both):
        raise ValueError(f"trace {both[0]} has steps on both the labelled and the unlabelled side")
    mean_steps = (lab["m"].sum() + unl["m"].sum()) / (len(lab) + len(unl))
    result = ppi_mean(
        lab["y"].to_numpy() / mean_steps,
        lab["h"].to_numpy() / mean_steps,
        unl["h"].to_numpy() / mean_steps,
        alpha=alpha,
        lam=lam,
        statistic="ppi_clustered_mean",
    )
    extra = dict(
        result.extra, n_steps=int(y.shape[0]), n_steps_unlabeled=int(yu.shape[0]), clustered_by="trace"
    )
    return AgreementResult(
        statistic=result.statistic,
        value=result.value,
        n_units=result.n_units,
        ci=result.ci,
        reason=result.reason,
        ci_method=None if result.ci_method is None else result.ci_method + ", clustered by trace",
        extra=extra,
    )


def ppi_by_group(
    frame: pd.DataFrame,
    *,
    by: Sequence[str],
    human: str = "human",
    judge: str = "judge",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """:func:`ppi_mean` for each group of a long table (per domain, criterion, judge).

    Parameters
    ----------
    frame : DataFrame
        One row per item and group: the columns ``by``, ``human`` (the item's
        human value, e.g. the mean of its human ratings; NaN where no person
        labelled it) and ``judge`` (the judge's value; rows where it is NaN
        are left out and counted in ``n_dropped``).
    by : sequence of str
        The grouping columns.

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, ``value``, ``low``, ``high``,
        ``classical_value``, ``classical_low``, ``classical_high``,
        ``lambda``, ``n`` (human-labelled items), ``n_unlabeled``,
        ``n_effective``, ``n_dropped`` and ``reason`` (why a value is
        missing).
    """
    alpha = _check_alpha(alpha)
    missing = [c for c in [*by, human, judge] if c not in frame.columns]
    if missing:
        raise ValueError(f"frame has no column {missing[0]!r}")
    rows = []
    for key, group in frame.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        judged = group[group[judge].notna()]
        labelled = judged[judged[human].notna()]
        res = ppi_mean(
            labelled[human].to_numpy(float),
            labelled[judge].to_numpy(float),
            judged.loc[judged[human].isna(), judge].to_numpy(float),
            alpha=alpha,
        )
        ex = res.extra
        cci = ex.get("classical_ci") or [None, None]
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "value": res.value,
                "low": None if res.ci is None else res.ci[0],
                "high": None if res.ci is None else res.ci[1],
                "classical_value": ex.get("classical_value"),
                "classical_low": cci[0],
                "classical_high": cci[1],
                "lambda": ex.get("lambda"),
                "n": res.n_units,
                "n_unlabeled": ex.get("n_unlabeled"),
                "n_effective": ex.get("n_effective"),
                "n_dropped": int(group[judge].isna().sum()),
                "reason": res.reason,
            }
        )
    return pd.DataFrame(rows)
