"""Reading ratings: the raters x units matrix every statistic takes.

Like the ``krippendorff`` package, data are ``raters x units`` (array-like,
``None`` or NaN for a missing rating). This module turns them into a float
matrix, drops units with fewer than two ratings (counting those with exactly
one) and counts ratings per category.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "PairableRatings",
    "as_ratings_matrix",
    "category_counts",
    "nominal_codes",
    "pairable",
    "row_types",
]


def as_ratings_matrix(data: Any) -> np.ndarray:
    """Return ``data`` as a float ``raters x units`` matrix with NaN for missing.

    Raises
    ------
    ValueError
        ``"data must be a 2-D raters x units matrix"`` for other shapes,
        ``"ratings must be numeric (map labels to numbers first)"`` for
        non-numeric values.
    """
    if isinstance(data, np.ndarray) and data.dtype.kind in "fiub":
        x = data.astype(float, copy=False)
    else:
        obj = _object_matrix(data)
        missing = np.array([v is None for v in obj.ravel()], dtype=bool).reshape(obj.shape)
        obj[missing] = np.nan
        try:
            x = obj.astype(float)
        except (TypeError, ValueError) as exc:
            raise ValueError("ratings must be numeric (map labels to numbers first)") from exc
    if x.ndim != 2:
        raise ValueError("data must be a 2-D raters x units matrix")
    if np.isinf(x).any():
        raise ValueError("ratings must be finite (NaN or None for missing)")
    return x


def _object_matrix(data: Any) -> np.ndarray:
    try:
        obj = np.array(data, dtype=object)
    except ValueError as exc:
        raise ValueError("data must be a 2-D raters x units matrix") from exc
    if obj.ndim != 2:
        raise ValueError("data must be a 2-D raters x units matrix")
    return obj


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def nominal_codes(
    data: Any, categories: Sequence[Any] | np.ndarray | None = None
) -> tuple[np.ndarray, list[Any] | None, np.ndarray | None]:
    """Nominal ratings as a float matrix: labels given as strings become codes.

    Numeric ``data`` are returned as :func:`as_ratings_matrix` gives them, with
    ``categories`` unchanged (as floats, or None). Data holding strings ("yes" /
    "no", "M" / "F") are coded ``0 .. k-1`` in the order of ``categories`` (the
    declared labels) or, without them, of the sorted observed labels; the
    returned categories are then the codes and the labels are returned beside
    them, so a nominal statistic never depends on how the labels are spelled
    as numbers.

    Returns
    -------
    x : ndarray, shape (raters, units)
    categories : list of float or None
        What to pass on as the declared categories.
    labels : ndarray of object or None
        ``labels[code]`` for coded data; None for numeric data.

    Raises
    ------
    ValueError
        ``"label {v!r} is not one of the declared categories"``;
        ``"data must be a 2-D raters x units matrix"``.
    """
    if isinstance(data, np.ndarray) and data.dtype.kind in "fiub":
        cats = None if categories is None else [float(c) for c in categories]
        return as_ratings_matrix(data), cats, None
    obj = _object_matrix(data)
    present = [v for v in obj.ravel() if not _is_missing(v)]
    declared = [] if categories is None else list(categories)
    if not any(isinstance(v, str) for v in [*present, *declared]):
        cats = None if categories is None else [float(c) for c in categories]
        return as_ratings_matrix(data), cats, None
    labels = list(categories) if categories is not None else sorted({str(v) for v in present})
    index = {str(lab): i for i, lab in enumerate(labels)}
    if len(index) != len(labels):
        raise ValueError("categories must be distinct")
    x = np.full(obj.shape, np.nan)
    for pos, v in np.ndenumerate(obj):
        if _is_missing(v):
            continue
        code = index.get(str(v))
        if code is None:
            raise ValueError(f"label {v!r} is not one of the declared categories")
        x[pos] = code
    return x, [float(i) for i in range(len(labels))], np.array(labels, dtype=object)


@dataclass(frozen=True)
class PairableRatings:
    """Units with at least two ratings.

    Attributes
    ----------
    x : ndarray, shape (raters, units)
        The kept units.
    keep : ndarray of bool, shape (all units,)
        Which of the input units were kept.
    n_single : int
        Units dropped because they held exactly one rating.
    n_empty : int
        Units with no rating at all.
    """

    x: np.ndarray
    keep: np.ndarray
    n_single: int
    n_empty: int

    @property
    def n_units(self) -> int:
        return int(self.x.shape[1])


def pairable(x: np.ndarray) -> PairableRatings:
    """Keep the units of ``x`` (raters x units) with two or more ratings."""
    m = np.zeros(x.shape[1], dtype=np.int64)
    for row in x:  # few raters, many units: no raters x units temporary
        m += ~np.isnan(row)
    keep = m >= 2
    return PairableRatings(
        x=x[:, keep],
        keep=keep,
        n_single=int(np.sum(m == 1)),
        n_empty=int(np.sum(m == 0)),
    )


def category_counts(x: np.ndarray, categories: Sequence[float] | np.ndarray) -> np.ndarray:
    """Count each unit's ratings per category.

    Parameters
    ----------
    x : ndarray, shape (raters, units)
        Ratings, NaN for missing.
    categories : sequence of float
        The declared categories, sorted ascending.

    Returns
    -------
    ndarray of int64, shape (units, len(categories))

    Raises
    ------
    ValueError
        ``"rating {v} is not one of the declared categories"``.
    """
    cats = np.asarray(categories, dtype=float)
    n_units = x.shape[1]
    observed = ~np.isnan(x)
    unit_idx = np.broadcast_to(np.arange(n_units), x.shape)[observed]
    vals = x[observed]
    pos = np.searchsorted(cats, vals)
    pos_c = np.clip(pos, 0, len(cats) - 1)
    bad = cats[pos_c] != vals
    if bad.any():
        raise ValueError(f"rating {vals[bad][0]:g} is not one of the declared categories")
    flat = np.bincount(unit_idx * len(cats) + pos_c, minlength=n_units * len(cats))
    return flat.reshape(n_units, len(cats)).astype(np.int64)


def row_types(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group identical rows.

    Returns ``(types, inverse, multiplicity)``: ``types[inverse] == rows`` and
    ``multiplicity[t]`` is how many rows equal ``types[t]``. Rows are compared
    bytewise, which is exact for integer counts.
    """
    rows = np.ascontiguousarray(rows)
    if rows.shape[0] == 0:
        return rows, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse, counts = np.unique(void, return_index=True, return_inverse=True, return_counts=True)
    return rows[first], inverse.ravel(), counts
