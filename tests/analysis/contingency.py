"""Reshape published example data into raters x units matrices."""

from __future__ import annotations

import numpy as np


def table_to_pairs(table: list[list[int]]) -> tuple[list[int], list[int]]:
    """Expand a contingency table (rows = rater A, cols = rater B, categories 1..k)."""
    a: list[int] = []
    b: list[int] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i + 1] * count
            b += [j + 1] * count
    return a, b


def counts_to_raters(counts: list[list[int]]) -> np.ndarray:
    """Subjects x categories counts (categories 1..q) -> raters x subjects matrix."""
    columns = []
    for row in counts:
        col: list[int] = []
        for k, c in enumerate(row):
            col += [k + 1] * c
        columns.append(col)
    return np.array(columns, dtype=float).T
