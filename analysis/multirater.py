"""Multi-rater agreement on category counts: percent agreement, Fleiss' kappa, Gwet's AC1/AC2.

All three share Gwet's framework (Gwet 2014, *Handbook of Inter-Rater
Reliability*, 4th ed., ch. 2-4; the formulas of the ``irrCAC`` package). For
unit ``i`` with ``r_i`` ratings, ``r_ik`` of them in category ``k``, and
agreement weights ``w`` (identity unless weighted), ``r*_ik = sum_l w_kl r_il``:

    p_a = mean over units with r_i >= 2 of  sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))
    pi_k = mean over units with r_i >= 1 of  r_ik / r_i

    Fleiss' kappa (generalised to missing ratings):   p_e = sum_kl w_kl pi_k pi_l
    Gwet's AC1 / AC2:   p_e = T_w / (q (q - 1)) * sum_k pi_k (1 - pi_k),  T_w = sum_kl w_kl

    coefficient = (p_a - p_e) / (1 - p_e);  percent agreement = unweighted p_a.

Units with one rating are dropped from ``p_a`` (and counted in
``n_dropped``) but, as in Gwet's definition, their rating still informs the
category prevalences ``pi_k``. ``q`` is the number of *declared* categories:
AC1 depends on it, so declare the schema's full scale (e.g. -1/0/+1 for step
labels even when 0 never occurs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from analysis.bootstrap import cluster_sums, resampled_sums
from analysis.ratings import category_counts, nominal_codes, row_types
from analysis.result import AgreementResult, undefined, with_bootstrap_ci

__all__ = ["agreement_weights", "fleiss_kappa", "gwet_ac1", "gwet_ac2", "percent_agreement"]

Weights = Literal["identity", "linear", "quadratic"]


def agreement_weights(categories: Sequence[float] | np.ndarray, kind: Weights) -> np.ndarray:
    """Agreement weights ``w_kl`` (1 on the diagonal) over numeric ``categories``.

    ``linear``: ``1 - |k - l| / (max - min)``; ``quadratic``:
    ``1 - (k - l)^2 / (max - min)^2`` (Gwet 2014, table 3.6.1), distances
    taken on the category values.
    """
    c = np.asarray(categories, dtype=float)
    if kind == "identity":
        return np.eye(len(c))
    span = c.max() - c.min() if len(c) > 1 else 1.0
    diff = np.abs(c[:, None] - c[None, :]) / span
    if kind == "linear":
        return 1.0 - diff
    if kind == "quadratic":
        return 1.0 - diff**2
    raise ValueError("weights must be one of identity, linear, quadratic")


def percent_agreement(
    data: Any,
    *,
    ci: float | None = None,
    n_resamples: int = 1000,
    seed: int | None = 0,
    clusters: Any = None,
) -> AgreementResult:
    """Share of agreeing rater pairs, averaged over units with two or more ratings.

    Parameters and returns as :func:`gwet_ac1`. Ties (equal values) count as
    agreement; nothing is chance-corrected.
    """
    return _gwet_family(data, "percent_agreement", None, "identity", ci, n_resamples, seed, clusters)


def fleiss_kappa(
    data: Any,
    *,
    categories: Sequence[float] | np.ndarray | None = None,
    ci: float | None = None,
    n_resamples: int = 1000,
    seed: int | None = 0,
    clusters: Any = None,
) -> AgreementResult:
    """Fleiss' (1971) kappa, generalised to missing ratings as in Gwet (2014).

    With complete data (every unit rated by the same number of raters) this
    is exactly Fleiss' kappa: ``(P_bar - Pe_bar) / (1 - Pe_bar)``.
    """
    return _gwet_family(data, "fleiss_kappa", categories, "identity", ci, n_resamples, seed, clusters)


def gwet_ac1(
    data: Any,
    *,
    categories: Sequence[float] | np.ndarray | None = None,
    ci: float | None = None,
    n_resamples: int = 1000,
    seed: int | None = 0,
    clusters: Any = None,
) -> AgreementResult:
    """Gwet's AC1 (Gwet 2008, Br J Math Stat Psychol 61:29-48).

    Parameters
    ----------
    data : array-like, shape (raters, units)
        Numeric category codes, ``None``/NaN for missing.
    categories : sequence of float, optional
        The declared categories; default the observed values. Every rating
        must be one of them.
    ci, n_resamples, seed, clusters
        Bootstrap interval as in :func:`analysis.alpha.krippendorff_alpha`.

    Returns
    -------
    AgreementResult
        ``value`` None when no unit has two ratings, when fewer than two
        categories are declared, or when all ratings are identical (the
        formula would give 1.0, but there is no variation to assess chance
        agreement against).
    """
    return _gwet_family(data, "gwet_ac1", categories, "identity", ci, n_resamples, seed, clusters)


def gwet_ac2(
    data: Any,
    *,
    categories: Sequence[float] | np.ndarray | None = None,
    weights: Weights = "quadratic",
    ci: float | None = None,
    n_resamples: int = 1000,
    seed: int | None = 0,
    clusters: Any = None,
) -> AgreementResult:
    """Gwet's AC2: AC1 with agreement weights over ordered categories (see module doc)."""
    return _gwet_family(data, "gwet_ac2", categories, weights, ci, n_resamples, seed, clusters)


def _gwet_family(
    data: Any,
    kind: str,
    categories: Sequence[float] | np.ndarray | None,
    weights: Weights,
    ci: float | None,
    n_resamples: int,
    seed: int | None,
    clusters: Any,
) -> AgreementResult:
    statistic = kind if kind != "gwet_ac2" else f"gwet_ac2[{weights}]"
    x, categories, labels = nominal_codes(data, categories)
    if labels is not None and weights != "identity":
        raise ValueError("weighted agreement needs numeric categories, not labels")
    if clusters is not None:
        clusters = np.asarray(clusters)
        if clusters.shape != (x.shape[1],):
            raise ValueError("clusters must have one label per unit")
    r = np.sum(~np.isnan(x), axis=0)
    rated = r >= 1
    x = x[:, rated]
    r = r[rated]
    n_two = int(np.sum(r >= 2))
    n_single = int(np.sum(r == 1))
    if n_two == 0:
        return undefined(statistic, "no unit has two or more ratings", n_dropped=n_single)
    observed = np.unique(x[~np.isnan(x)])
    if categories is None:
        cats = observed
    else:
        cats = np.unique(np.asarray(categories, dtype=float))
        if cats.size != len(categories):
            raise ValueError("categories must be distinct")
    counts = category_counts(x, cats)  # raises on undeclared ratings
    if kind != "percent_agreement":
        if observed.size == 1:
            pa_val = 1.0
            return undefined(
                statistic,
                "all ratings are identical: no variation, chance-corrected agreement is undefined",
                n_units=n_two,
                n_dropped=n_single,
                percent_agreement=pa_val,
            )
        if cats.size < 2:
            return undefined(
                statistic, "fewer than two categories declared", n_units=n_two, n_dropped=n_single
            )
    w = agreement_weights(cats, weights)
    types, inverse, mult = row_types(counts)
    feats = _unit_features(types.astype(float), w)
    value = float(_finish(feats.T @ mult, kind, w)[0])
    sums = (mult @ feats)[None]
    extra = _extras(sums, kind, w)
    extra["n_categories"] = int(cats.size)
    if ci is None:
        return _result(statistic, value, n_two, n_single, extra)
    if clusters is None:
        reps_sums = resampled_sums(feats, n_resamples=n_resamples, seed=seed, multiplicity=mult)
        resampled = "units"
    else:
        per_cluster = cluster_sums(feats[inverse], clusters[rated])
        reps_sums = resampled_sums(per_cluster, n_resamples=n_resamples, seed=seed)
        resampled = f"clusters ({len(per_cluster)})"
    return with_bootstrap_ci(
        statistic,
        None if np.isnan(value) else value,
        n_units=n_two,
        n_dropped=n_single,
        replicates=_finish(reps_sums.T, kind, w),
        level=ci,
        resampled=resampled,
        extra=extra,
        reason=None if not np.isnan(value) else "chance agreement is 1: coefficient undefined",
    )


def _unit_features(counts: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per unit: [has two ratings, weighted pairwise agreement, r_ik / r_i for each k]."""
    r = counts.sum(axis=1)
    two = r >= 2
    weighted = counts @ w.T  # r*_ik
    with np.errstate(invalid="ignore", divide="ignore"):
        pa_i = np.where(two, (counts * (weighted - 1)).sum(axis=1) / (r * (r - 1)), 0.0)
    pi_i = counts / r[:, None]
    return np.column_stack([two.astype(float), pa_i, pi_i, np.ones(len(r))])


def _pa_pe(sums: np.ndarray, kind: str, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sums`` has shape (p, B): summed unit features of B samples."""
    n_two, pa_sum, pi_sum, n = sums[0], sums[1], sums[2:-1], sums[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = pa_sum / n_two
        pi = pi_sum / n
        q = w.shape[0]
        if kind == "fleiss_kappa":
            pe = np.einsum("kb,kl,lb->b", pi, w, pi)
        else:
            pe = w.sum() / (q * (q - 1)) * (pi * (1 - pi)).sum(axis=0)
    return pa, pe


def _finish(sums: np.ndarray, kind: str, w: np.ndarray) -> np.ndarray:
    if sums.ndim == 1:
        sums = sums[:, None]
    pa, pe = _pa_pe(sums, kind, w)
    if kind == "percent_agreement":
        return pa
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pe < 1 - 1e-12, (pa - pe) / (1 - pe), np.nan)


def _extras(sums: np.ndarray, kind: str, w: np.ndarray) -> dict[str, Any]:
    pa, pe = _pa_pe(sums.T, kind, w)
    out: dict[str, Any] = {"p_a": float(pa[0])}
    if kind != "percent_agreement":
        out["p_e"] = float(pe[0])
    return out


def _result(
    statistic: str, value: float, n_units: int, n_dropped: int, extra: dict[str, Any]
) -> AgreementResult:
    if np.isnan(value):
        return undefined(
            statistic,
            "chance agreement is 1: coefficient undefined",
            n_units=n_units,
            n_dropped=n_dropped,
            **extra,
        )
    return with_bootstrap_ci(statistic, value, n_units=n_units, n_dropped=n_dropped, extra=extra)
