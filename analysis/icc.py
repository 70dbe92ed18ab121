"""Intraclass correlation coefficients (Shrout & Fleiss 1979; McGraw & Wong 1996).

From the two-way ANOVA of an ``n`` units x ``k`` raters table (complete
data): ``MSR`` (between units), ``MSC`` (between raters), ``MSE`` (residual),
``MSW = (SSC + SSE) / (n (k - 1))`` (within units, one-way):

=========  ==================================================  ===================
kind       formula                                             Shrout & Fleiss
=========  ==================================================  ===================
``1,1``    (MSR - MSW) / (MSR + (k-1) MSW)                     ICC(1,1)
``A,1``    (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE)/n)    ICC(2,1)
``C,1``    (MSR - MSE) / (MSR + (k-1) MSE)                     ICC(3,1)
``1,k``    (MSR - MSW) / MSR                                   ICC(1,k)
``A,k``    (MSR - MSE) / (MSR + (MSC - MSE)/n)                 ICC(2,k)
``C,k``    (MSR - MSE) / MSR                                   ICC(3,k)
=========  ==================================================  ===================

``A`` (absolute agreement) counts a rater's systematic bias (a judge that
scores everything one point higher) as disagreement; ``C`` (consistency)
does not. Report both for a judge against people. Confidence intervals are
the F-based ones of McGraw & Wong (1996) (as R ``psych::ICC`` and pingouin).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy import stats

from analysis.ratings import as_ratings_matrix
from analysis.result import AgreementResult, undefined

__all__ = ["ICC_KINDS", "icc"]

Kind = Literal["1,1", "A,1", "C,1", "1,k", "A,k", "C,k"]
ICC_KINDS: tuple[str, ...] = ("1,1", "A,1", "C,1", "1,k", "A,k", "C,k")


def icc(data: Any, kind: Kind = "A,1", *, ci: float | None = 0.95) -> AgreementResult:
    """Intraclass correlation of ``data`` (raters x units).

    Parameters
    ----------
    data : array-like, shape (raters, units)
        Ratings; units with any missing rating are dropped (ANOVA needs a
        complete table) and counted in ``n_dropped``.
    kind : {"1,1", "A,1", "C,1", "1,k", "A,k", "C,k"}
        See the module table.
    ci : float or None
        Confidence level of the F-based interval.

    Returns
    -------
    AgreementResult
        ``extra`` holds ``F``, ``df1``, ``df2``, ``pval`` and the mean squares.
        ``value`` None with fewer than two complete units, fewer than two raters
        or no variance.
    """
    if kind not in ICC_KINDS:
        raise ValueError("kind must be one of 1,1, A,1, C,1, 1,k, A,k, C,k")
    statistic = f"icc[{kind}]"
    x = as_ratings_matrix(data)
    complete = ~np.isnan(x).any(axis=0)
    y = x[:, complete].T  # units x raters
    n, k = y.shape
    n_dropped = int((~complete).sum())
    if k < 2:
        return undefined(statistic, "fewer than two raters", n_units=n, n_dropped=n_dropped)
    if n < 2:
        return undefined(
            statistic, "fewer than two units rated by every rater", n_units=n, n_dropped=n_dropped
        )
    grand = y.mean()
    ss_r = k * ((y.mean(axis=1) - grand) ** 2).sum()
    ss_c = n * ((y.mean(axis=0) - grand) ** 2).sum()
    ss_t = ((y - grand) ** 2).sum()
    ss_e = ss_t - ss_r - ss_c
    msr = ss_r / (n - 1)
    msc = ss_c / (k - 1)
    mse = ss_e / ((n - 1) * (k - 1))
    msw = (ss_c + ss_e) / (n * (k - 1))
    if ss_t <= 1e-12 * max(1.0, float((y**2).sum())):
        return undefined(
            statistic,
            "all ratings are identical: no variance, ICC is undefined",
            n_units=n,
            n_dropped=n_dropped,
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        value, f_stat, df1, df2 = _point(kind, msr, msc, mse, msw, n, k)
    extra: dict[str, Any] = {"msr": msr, "msc": msc, "mse": mse, "msw": msw, "k": k}
    if not np.isfinite(value):
        return undefined(
            statistic, "zero denominator: ICC is undefined", n_units=n, n_dropped=n_dropped, **extra
        )
    extra.update(F=f_stat, df1=df1, df2=df2, pval=float(stats.f.sf(f_stat, df1, df2)))
    interval = None
    method = None
    if ci is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            low, high = _interval(kind, value, msr, msc, mse, msw, n, k, ci)
        if np.isfinite(low) and np.isfinite(high):
            interval = (float(low), float(high))
            method = f"{round(ci * 100, 3):g}% F-based interval (McGraw & Wong 1996)"
    return AgreementResult(
        statistic=statistic,
        value=float(value),
        n_units=n,
        n_dropped=n_dropped,
        ci=interval,
        ci_method=method,
        extra=extra,
    )


def _point(
    kind: str, msr: float, msc: float, mse: float, msw: float, n: int, k: int
) -> tuple[float, float, int, int]:
    """(ICC, F, df1, df2); ICC is NaN when its denominator vanishes (rounding noise)."""
    if kind in ("1,1", "1,k"):
        num = msr - msw
        den = msr + (k - 1) * msw if kind == "1,1" else msr
        f_stat, df1, df2 = msr / msw, n - 1, n * (k - 1)
    else:
        num = msr - mse
        den = {
            "A,1": msr + (k - 1) * mse + k * (msc - mse) / n,
            "C,1": msr + (k - 1) * mse,
            "A,k": msr + (msc - mse) / n,
            "C,k": msr,
        }[kind]
        f_stat, df1, df2 = msr / mse, n - 1, (n - 1) * (k - 1)
    scale = abs(msr) + abs(msc) + abs(mse) + abs(msw)
    value = num / den if abs(den) > 1e-10 * scale else float("nan")
    return value, f_stat, df1, df2


def _interval(
    kind: str,
    value: float,
    msr: float,
    msc: float,
    mse: float,
    msw: float,
    n: int,
    k: int,
    level: float,
) -> tuple[float, float]:
    q = 1 - (1 - level) / 2
    if kind in ("1,1", "1,k"):
        f_obs = msr / msw
        fl = f_obs / stats.f.ppf(q, n - 1, n * (k - 1))
        fu = f_obs * stats.f.ppf(q, n * (k - 1), n - 1)
        if kind == "1,1":
            return (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)
        return 1 - 1 / fl, 1 - 1 / fu
    df_e = (n - 1) * (k - 1)
    if kind in ("C,1", "C,k"):
        f_obs = msr / mse
        fl = f_obs / stats.f.ppf(q, n - 1, df_e)
        fu = f_obs * stats.f.ppf(q, df_e, n - 1)
        if kind == "C,1":
            return (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)
        return 1 - 1 / fl, 1 - 1 / fu
    # Absolute agreement: Satterthwaite df (McGraw & Wong 1996, table 7).
    icc1 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    fj = msc / mse
    vn = df_e * (k * icc1 * fj + n * (1 + (k - 1) * icc1) - k * icc1) ** 2
    vd = (n - 1) * k**2 * icc1**2 * fj**2 + (n * (1 + (k - 1) * icc1) - k * icc1) ** 2
    v = vn / vd
    fu = stats.f.ppf(q, n - 1, v)
    fl = stats.f.ppf(q, v, n - 1)
    low = n * (msr - fu * mse) / (fu * (k * msc + (k * n - k - n) * mse) + n * msr)
    high = n * (fl * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fl * msr)
    if kind == "A,1":
        return low, high
    return low * k / (1 + low * (k - 1)), high * k / (1 + high * (k - 1))
