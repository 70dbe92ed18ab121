"""Krippendorff's alpha at the nominal, ordinal, interval and ratio levels.

Definition (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability",
sections C-F): with units holding ``m_u >= 2`` ratings, the coincidence matrix
is ``o_ck = sum_u (n_uc n_uk - [c == k] n_uc) / (m_u - 1)``, ``n_c = sum_k
o_ck``, ``n = sum_c n_c`` (the pairable values) and

    alpha = 1 - D_o / D_e,
    D_o = (1/n) sum_ck o_ck delta2_ck,
    D_e = 1/(n (n-1)) sum_ck n_c n_k delta2_ck,

with ``delta2`` the level's metric: nominal ``[c != k]``; ordinal ``(sum_{g=c}^k
n_g - (n_c + n_k)/2)^2``; interval ``(c - k)^2``; ratio ``((c - k)/(c + k))^2``.

For interval data the same alpha has a closed form that never builds a
values x values matrix (and so works on continuous scores such as a process
reward model's step probabilities):

    D_o = (1/n) sum_u 2 m_u / (m_u - 1) SS_u,    D_e = 2/(n - 1) SS,

``SS_u`` the sum of squared deviations from unit ``u``'s mean and ``SS`` that
from the mean of all pairable values.

The ``krippendorff`` package (0.9.0) gives the point estimate where it is
cheap (it allocates units x values x values); the coincidence sums here give
the same value and the bootstrap replicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from analysis.bootstrap import cluster_sums, resampled_sums
from analysis.ratings import as_ratings_matrix, category_counts, nominal_codes, pairable, row_types
from analysis.result import AgreementResult, undefined, with_bootstrap_ci

__all__ = ["LEVELS", "AlphaFeatures", "alpha_features", "krippendorff_alpha"]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
# Above this many distinct values a level other than interval is refused:
# the coincidence matrix would be values x values.
MAX_CATEGORIES = 1000
# Per-profile coincidence features (profiles x values^2) above this are refused.
MAX_FEATURE_ELEMENTS = 50_000_000
# The krippendorff package is used for the point estimate while its
# units x values x values array stays below this many elements.
_PACKAGE_MAX_ELEMENTS = 4_000_000


def krippendorff_alpha(
    data: Any,
    level: Level = "nominal",
    *,
    ci: float | None = None,
    n_resamples: int = 1000,
    seed: int | None = 0,
    clusters: Any = None,
    engine: Literal["auto", "package", "native"] = "auto",
) -> AgreementResult:
    """Krippendorff's alpha with an optional bootstrap confidence interval.

    Parameters
    ----------
    data : array-like, shape (raters, units)
        Ratings; ``None``/NaN for missing. Units with a single rating carry no
        pairable value: they are dropped and counted in ``n_dropped``.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement (the distance metric).
    ci : float, optional
        Confidence level (e.g. 0.95) of a percentile bootstrap interval.
    n_resamples : int
        Bootstrap replicates.
    seed : int or None
        Seed of the bootstrap.
    clusters : array-like, shape (units,), optional
        A cluster label per unit (e.g. the item a step belongs to): resample
        whole clusters instead of units.
    engine : {"auto", "package", "native"}
        Point estimate from the ``krippendorff`` package (``"package"``), from
        the coincidence sums (``"native"``), or the package when its memory
        use is small (``"auto"``). Interval data with many distinct values
        always use the closed form.

    Returns
    -------
    AgreementResult
        ``value`` None with a ``reason`` when no unit has two ratings or all
        ratings are identical (``D_e = 0``).

    Raises
    ------
    ValueError
        ``"level must be one of nominal, ordinal, interval, ratio"``;
        ``"clusters must have one label per unit"``; too many distinct values
        for a categorical level.
    """
    if level not in LEVELS:
        raise ValueError("level must be one of nominal, ordinal, interval, ratio")
    statistic = f"krippendorff_alpha[{level}]"
    # Nominal labels may be strings ("yes" / "no"); other levels need numbers.
    x = nominal_codes(data)[0] if level == "nominal" else as_ratings_matrix(data)
    if clusters is not None:
        clusters = np.asarray(clusters)
        if clusters.shape != (x.shape[1],):
            raise ValueError("clusters must have one label per unit")
    pr = pairable(x)
    if pr.n_units == 0:
        return undefined(statistic, "no unit has two or more ratings", n_dropped=pr.n_single)
    flat = pr.x[~np.isnan(pr.x)]
    kept_clusters = None if clusters is None else clusters[pr.keep]
    if level == "interval" and np.unique(flat[:10_000]).size > 50:
        # Continuous scores: skip sorting millions of values.
        return _interval_closed_form(pr.x, statistic, pr, ci, n_resamples, seed, kept_clusters)
    values = np.unique(flat)
    if values.size == 1:
        return undefined(
            statistic,
            "all ratings are identical: expected disagreement is 0, alpha is undefined",
            n_units=pr.n_units,
            n_dropped=pr.n_single,
            percent_agreement=1.0,
        )
    if level == "ratio" and values.min() < 0:
        raise ValueError("ratio alpha needs non-negative values")
    if level == "interval" and values.size > 50:
        return _interval_closed_form(pr.x, statistic, pr, ci, n_resamples, seed, kept_clusters)
    if values.size > MAX_CATEGORIES:
        raise ValueError(
            f"{values.size} distinct values: too many for {level} alpha "
            f"(at most {MAX_CATEGORIES}); use level='interval' for continuous scores"
        )
    counts = category_counts(pr.x, values)
    types, inverse, mult = row_types(counts)
    if len(types) * values.size**2 > MAX_FEATURE_ELEMENTS:
        raise ValueError(
            f"{values.size} distinct values in {len(types)} rating profiles: too many for "
            f"{level} alpha; round the ratings to their scale or use level='interval'"
        )
    m = types.sum(axis=1)
    # Coincidence matrix of each count profile, flattened: (types, V*V).
    o_types = (
        types[:, :, None] * types[:, None, :] - np.einsum("tc,ck->tck", types, np.eye(len(values)))
    ) / (m - 1)[:, None, None]
    o_types = o_types.reshape(len(types), -1)
    o = (mult @ o_types).reshape(len(values), len(values))
    native = float(_alpha_from_coincidences(o[None], values, level)[0])
    value = native
    engine_used = "native coincidence sums"
    use_package = engine == "package" or (
        engine == "auto" and pr.n_units * values.size**2 <= _PACKAGE_MAX_ELEMENTS
    )
    if use_package:
        import krippendorff

        value = float(
            krippendorff.alpha(reliability_data=pr.x, level_of_measurement=level, value_domain=values)
        )
        engine_used = "krippendorff 0.9.0"
    extra: dict[str, Any] = {
        "n_pairable_values": float(o.sum()),
        "engine": engine_used,
        "observed_disagreement": float(_do_de(o[None], values, level)[0][0]),
        "expected_disagreement": float(_do_de(o[None], values, level)[1][0]),
    }
    if ci is None:
        return with_bootstrap_ci(statistic, value, n_units=pr.n_units, n_dropped=pr.n_single, extra=extra)
    if kept_clusters is None:
        sums = resampled_sums(o_types, n_resamples=n_resamples, seed=seed, multiplicity=mult)
        resampled = "units"
    else:
        per_unit = o_types[inverse]
        per_cluster = cluster_sums(per_unit, kept_clusters)
        ctypes, _, cmult = row_types(per_cluster)
        if len(ctypes) * 4 < len(per_cluster):
            sums = resampled_sums(ctypes, n_resamples=n_resamples, seed=seed, multiplicity=cmult)
        else:
            sums = resampled_sums(per_cluster, n_resamples=n_resamples, seed=seed)
        resampled = f"clusters ({len(per_cluster)})"
    reps = _alpha_from_coincidences(sums.reshape(-1, len(values), len(values)), values, level)
    return with_bootstrap_ci(
        statistic,
        value,
        n_units=pr.n_units,
        n_dropped=pr.n_single,
        replicates=reps,
        level=ci,
        resampled=resampled,
        extra=extra,
    )


def _delta2(n_c: np.ndarray, values: np.ndarray, level: str) -> np.ndarray:
    """Squared distances, shape (B, V, V); ``n_c`` (B, V) matters for ordinal only."""
    v = values
    if level == "nominal":
        d = 1.0 - np.eye(len(v))
        return np.broadcast_to(d, (n_c.shape[0], len(v), len(v)))
    if level == "ordinal":
        # sum_{g=c}^{k} n_g - (n_c + n_k)/2 equals the difference of mid-ranks.
        mid = np.cumsum(n_c, axis=1) - n_c / 2.0
        return (mid[:, None, :] - mid[:, :, None]) ** 2
    if level == "interval":
        d = (v[:, None] - v[None, :]) ** 2
        return np.broadcast_to(d, (n_c.shape[0], len(v), len(v)))
    s = v[:, None] + v[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(s == 0, 0.0, ((v[:, None] - v[None, :]) / np.where(s == 0, 1, s)) ** 2)
    return np.broadcast_to(d, (n_c.shape[0], len(v), len(v)))


def _do_de(o: np.ndarray, values: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray]:
    n_c = o.sum(axis=2)
    n = n_c.sum(axis=1)
    d2 = _delta2(n_c, values, level)
    do = np.einsum("bck,bck->b", o, d2) / n
    de = np.einsum("bc,bk,bck->b", n_c, n_c, d2) / (n * (n - 1))
    return do, de


def _alpha_from_coincidences(o: np.ndarray, values: np.ndarray, level: str) -> np.ndarray:
    """Alpha for each of B coincidence matrices ``o`` (B, V, V); NaN where D_e = 0."""
    do, de = _do_de(o, values, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(de > 0, 1.0 - do / np.where(de > 0, de, 1.0), np.nan)


def _interval_closed_form(
    x: np.ndarray,
    statistic: str,
    pr: Any,
    ci: float | None,
    n_resamples: int,
    seed: int | None,
    clusters: np.ndarray | None,
) -> AgreementResult:
    # Row loops (few raters, many units) avoid raters x units temporaries.
    # Centring on any constant leaves alpha unchanged and keeps sums small.
    sample = x[~np.isnan(x)][:10_000] if x.shape[1] <= 10_000 else x[:, :10_000]
    centre = float(np.nanmean(sample))
    m = np.zeros(x.shape[1])
    s1 = np.zeros(x.shape[1])
    s2 = np.zeros(x.shape[1])
    for row in x:
        ok = ~np.isnan(row)
        z = np.where(ok, row - centre, 0.0)
        m += ok
        s1 += z
        s2 += z * z
    unit_mean = s1 / m
    ss_u = np.zeros(x.shape[1])
    for row in x:
        dev = row - centre - unit_mean
        ss_u += np.where(np.isnan(dev), 0.0, dev * dev)
    d_u = 2.0 * m * ss_u / (m - 1.0)
    features = np.column_stack([m, s1, s2, d_u])
    value = float(_interval_alpha_from_sums(features.sum(axis=0)[None])[0])
    extra: dict[str, Any] = {"n_pairable_values": float(m.sum()), "engine": "closed form"}
    if ci is None:
        return with_bootstrap_ci(statistic, value, n_units=pr.n_units, n_dropped=pr.n_single, extra=extra)
    resampled = "units"
    if clusters is not None:
        features = cluster_sums(features, clusters)
        resampled = f"clusters ({len(features)})"
    sums = resampled_sums(features, n_resamples=n_resamples, seed=seed)
    return with_bootstrap_ci(
        statistic,
        value,
        n_units=pr.n_units,
        n_dropped=pr.n_single,
        replicates=_interval_alpha_from_sums(sums),
        level=ci,
        resampled=resampled,
        extra=extra,
    )


def _interval_alpha_from_sums(sums: np.ndarray) -> np.ndarray:
    """Interval alpha from summed (m, sum x, sum x^2, D_u) rows, shape (B, 4)."""
    n, s1, s2, d = sums.T
    ss = s2 - s1 * s1 / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ss > 1e-12 * np.maximum(s2, 1.0), 1.0 - (n - 1) * d / (2 * n * ss), np.nan)


@dataclass(frozen=True)
class AlphaFeatures:
    """Per-unit features whose column sums determine alpha.

    ``features[u]`` is unit ``u``'s flattened coincidence matrix (categorical
    levels) or its ``(m, sum x, sum x^2, D_u)`` (interval closed form); units
    with fewer than two ratings have a zero row. Alpha of any weighted set of
    units is ``alpha(weights @ features)``: this is what makes paired,
    vectorised bootstraps of several alphas over the same resampled units possible.
    """

    features: np.ndarray
    level: str
    values: np.ndarray | None

    def alpha(self, sums: np.ndarray) -> np.ndarray:
        """Alpha for each row of ``sums`` (B, p); NaN where undefined."""
        sums = np.atleast_2d(sums)
        if self.values is None:
            return _interval_alpha_from_sums(sums)
        v = len(self.values)
        return _alpha_from_coincidences(sums.reshape(-1, v, v), self.values, self.level)


def alpha_features(data: Any, level: Level = "nominal", *, values: Any = None) -> AlphaFeatures:
    """Per-unit alpha features of ``data`` (raters x units); see :class:`AlphaFeatures`.

    ``values`` fixes the value domain (categorical levels), so that features of
    different rater subsets on the same scale can be summed side by side. Interval
    data without ``values`` use the closed form.
    """
    if level not in LEVELS:
        raise ValueError("level must be one of nominal, ordinal, interval, ratio")
    x = as_ratings_matrix(data)
    m = np.sum(~np.isnan(x), axis=0)
    if level == "interval" and values is None:
        observed = ~np.isnan(x)
        mf = m.astype(float)
        z = np.where(observed, x, 0.0)
        s1 = z.sum(axis=0)
        s2 = (z * z).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s1 / mf
            ss_u = np.where(observed, (x - mean) ** 2, 0.0).sum(axis=0)
            d_u = 2.0 * mf * ss_u / (mf - 1.0)
        feats = np.column_stack([mf, s1, s2, d_u])
        feats[m < 2] = 0.0
        return AlphaFeatures(features=feats, level=level, values=None)
    if values is None:
        values = np.unique(x[~np.isnan(x)])
    values = np.asarray(values, dtype=float)
    counts = category_counts(x, values).astype(float)
    mm = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        o = (
            counts[:, :, None] * counts[:, None, :] - np.einsum("uc,ck->uck", counts, np.eye(len(values)))
        ) / (mm - 1)[:, None, None]
    o[mm < 2] = 0.0
    return AlphaFeatures(features=o.reshape(len(counts), -1), level=level, values=values)
