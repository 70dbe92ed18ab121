"""Cohen's kappa for two raters, unweighted or weighted, over a declared label set.

Definition (Cohen 1960; weighted: Cohen 1968): with ``p_ij`` the joint
proportions over the ``k`` labels, agreement weights ``w_ij`` (1 on the
diagonal), ``p_o = sum w_ij p_ij`` and ``p_e = sum w_ij p_i. p_.j``,

    kappa = (p_o - p_e) / (1 - p_e).

Weights: ``linear`` ``1 - |i - j| / (k - 1)`` (Cicchetti & Allison 1971),
``quadratic`` ``1 - (i - j)^2 / (k - 1)^2`` (Fleiss & Cohen 1973), with ``i, j``
the *positions in the declared labels*: scikit-learn measures distance by
position among the labels it observed, so a scale whose middle value never
occurs is silently shrunk unless ``labels=`` covers the whole scale. Without
``labels``, numeric ratings use their values as positions.

The asymptotic standard error ``ase`` is that of Fleiss, Cohen & Everitt
(1969), as printed by SAS PROC FREQ.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from analysis.bootstrap import cluster_sums, resampled_sums
from analysis.result import AgreementResult, undefined, with_bootstrap_ci

__all__ = ["cohen_kappa", "confusion_table"]


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def confusion_table(
    a: Sequence[Any] | np.ndarray, b: Sequence[Any] | np.ndarray, labels: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of (a, b) label pairs, rows = ``a``; pairs with a missing side are left out.

    Returns ``(table, kept)`` with ``kept`` the boolean mask of pairs used.

    Raises
    ------
    ValueError
        ``"a and b must have the same length"``; ``"label {v!r} is not in labels"``.
    """
    a = list(np.asarray(a, dtype=object).ravel())
    b = list(np.asarray(b, dtype=object).ravel())
    if len(a) != len(b):
        raise ValueError("a and b must have the same length")
    index = {_key(lab): i for i, lab in enumerate(labels)}
    kept = np.array([not (_is_missing(x) or _is_missing(y)) for x, y in zip(a, b, strict=True)], dtype=bool)
    table = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for x, y, k in zip(a, b, kept, strict=True):
        if not k:
            continue
        try:
            table[index[_key(x)], index[_key(y)]] += 1
        except KeyError as exc:
            raise ValueError(f"label {exc.args[0]!r} is not in labels") from None
    return table, kept


def _key(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def cohen_kappa(
    a: Sequence[Any] | np.ndarray,
    b: Sequence[Any] | np.ndarray,
    *,
    weights: Literal["linear", "quadratic"] | None = None,
    labels: Sequence[Any] | None = None,
    ci: float | None = None,
    n_resamples: int = 1000,
    seed: int | None = 0,
    clusters: Any = None,
) -> AgreementResult:
    """Cohen's kappa between raters ``a`` and ``b``.

    Parameters
    ----------
    a, b : sequence, shape (units,)
        Labels; ``None``/NaN for missing (the pair is dropped and counted).
    weights : {None, "linear", "quadratic"}
        Unweighted kappa, or weighted kappa with distances by label position.
    labels : sequence, optional
        The full ordered label set (the scale). Default: the sorted observed
        labels; then weighted kappa needs numeric labels and uses their values.
    ci, n_resamples, seed, clusters
        Percentile bootstrap over pairs (or clusters of pairs).

    Returns
    -------
    AgreementResult
        ``extra`` holds ``p_o``, ``p_e``, ``ase``, ``percent_agreement`` and the
        confusion ``table``. ``value`` None when no pair is complete or ``p_e = 1``.
    """
    if weights not in (None, "linear", "quadratic"):
        raise ValueError("weights must be None, 'linear' or 'quadratic'")
    statistic = "cohen_kappa" if weights is None else f"cohen_kappa[{weights}]"
    a_list = list(np.asarray(a, dtype=object).ravel())
    b_list = list(np.asarray(b, dtype=object).ravel())
    if len(a_list) != len(b_list):
        raise ValueError("a and b must have the same length")
    if labels is None:
        seen = {_key(v) for v in a_list + b_list if not _is_missing(v)}
        try:
            labels = sorted(seen)
        except TypeError as exc:
            raise ValueError("labels of mixed types: pass labels=") from exc
        positions = (
            np.asarray(labels, dtype=float)
            if weights is not None
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in labels)
            else None
        )
        if weights is not None and positions is None:
            raise ValueError("weighted kappa on non-numeric labels needs labels=")
    else:
        labels = [_key(v) for v in labels]
        if len(set(labels)) != len(labels):
            raise ValueError("labels must be distinct")
        positions = np.arange(len(labels), dtype=float)
    table, kept = confusion_table(a_list, b_list, labels)
    n = int(table.sum())
    n_dropped = int((~kept).sum())
    if n == 0:
        return undefined(statistic, "no pair with both ratings", n_dropped=n_dropped)
    k = len(labels)
    w = _weights(positions if positions is not None else np.arange(k, dtype=float), weights)
    p = table / n
    value, p_o, p_e = (float(v[0]) for v in _kappa(p.reshape(1, k, k), w))
    extra: dict[str, Any] = {
        "p_o": p_o,
        "p_e": p_e,
        "percent_agreement": float(np.trace(p)),
        "labels": [str(v) for v in labels],
        "table": table.tolist(),
    }
    if math.isnan(value):
        return undefined(
            statistic,
            "chance agreement p_e is 1 (all ratings in one category): kappa is undefined",
            n_units=n,
            n_dropped=n_dropped,
            **extra,
        )
    extra["ase"] = _ase(p, w, value, p_e, n)
    if ci is None:
        return with_bootstrap_ci(statistic, value, n_units=n, n_dropped=n_dropped, extra=extra)
    flat = table.ravel()
    if clusters is None:
        cells = np.eye(k * k)
        sums = resampled_sums(cells, n_resamples=n_resamples, seed=seed, multiplicity=flat)
        resampled = "pairs"
    else:
        clusters = np.asarray(clusters, dtype=object)
        if clusters.shape != (len(a_list),):
            raise ValueError("clusters must have one label per unit")
        idx = {_key(lab): i for i, lab in enumerate(labels)}
        cell = np.array(
            [idx[_key(x)] * k + idx[_key(y)] for x, y, kk in zip(a_list, b_list, kept, strict=True) if kk]
        )
        per_cluster = cluster_sums(np.eye(k * k)[cell], clusters[kept].astype(str))
        sums = resampled_sums(per_cluster, n_resamples=n_resamples, seed=seed)
        resampled = f"clusters ({len(per_cluster)})"
    reps = _kappa((sums / sums.sum(axis=1, keepdims=True)).reshape(-1, k, k), w)[0]
    return with_bootstrap_ci(
        statistic,
        value,
        n_units=n,
        n_dropped=n_dropped,
        replicates=reps,
        level=ci,
        resampled=resampled,
        extra=extra,
    )


def _weights(pos: np.ndarray, weights: str | None) -> np.ndarray:
    if weights is None or len(pos) < 2:
        return np.eye(len(pos))
    d = np.abs(pos[:, None] - pos[None, :]) / (pos.max() - pos.min())
    return 1.0 - d if weights == "linear" else 1.0 - d**2


def _kappa(p: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = p.sum(axis=2)
    cols = p.sum(axis=1)
    p_o = np.einsum("bij,ij->b", p, w)
    p_e = np.einsum("bi,bj,ij->b", rows, cols, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(p_e < 1 - 1e-12, (p_o - p_e) / (1 - p_e), np.nan)
    return kappa, p_o, p_e


def _ase(p: np.ndarray, w: np.ndarray, kappa: float, p_e: float, n: int) -> float:
    """Fleiss, Cohen & Everitt (1969) asymptotic standard error of (weighted) kappa."""
    rows = p.sum(axis=1)
    cols = p.sum(axis=0)
    w_row = w @ cols  # weighted mean over columns for each row category
    w_col = rows @ w
    term = (p * (w - (w_row[:, None] + w_col[None, :]) * (1 - kappa)) ** 2).sum()
    var = (term - (kappa - p_e * (1 - kappa)) ** 2) / (n * (1 - p_e) ** 2)
    return float(math.sqrt(max(var, 0.0)))
