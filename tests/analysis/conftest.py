"""Shared test data for analysis/: the published reference values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.shared_data import shared_data_dir

REFERENCE_FILE = shared_data_dir() / "agreement" / "reference_values.json"


@pytest.fixture(scope="session")
def reference() -> dict[str, dict]:
    entries = json.loads(REFERENCE_FILE.read_text())
    return {e["name"]: e for e in entries}


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
