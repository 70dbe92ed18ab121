"""The tidy ratings table that reports are built from.

One row per rating:

=============  ======  ==========================================================
column         type    meaning
=============  ======  ==========================================================
``unit``       str     what was rated, unique within (domain, level, criterion):
                       a step (``"<item>:<step index>"``), an item (first error,
                       rubric criterion, trajectory or response rating)
``item``       str     the item the unit belongs to; the bootstrap resamples
                       items, so steps of one item stay together
``rater``      str     a person's or a judge configuration's stable id
``rater_kind`` str     ``human`` (annotated in the study), ``external`` (human
                       labels imported from a dataset) or ``judge`` (an AI judge)
``domain``     str     the study domain (e.g. ``math``, ``summaries``)
``level``      str     ``step_label`` | ``first_error`` | ``rubric`` | ``trajectory``
                       | ``pairwise`` (a preference on a pair, per criterion)
``criterion``  str     rubric criterion name; for ``step_label`` the step's
                       section (``trajectory`` or ``response``, so thinking and
                       final-response steps are analysed apart; ``""`` allowed);
                       for ``trajectory`` what was rated as a whole
                       (``trajectory``); ``""`` for ``first_error``
``value``      float   step label -1/0/+1 (or a judge's continuous step score in
                       [0, 1], e.g. an SPRM's P(step correct)); first error =
                       0-based index of the earliest wrong step, -1 for none;
                       rubric or trajectory rating on its scale; a pair's
                       preference +1 (response A), -1 (B), 0 (tie)
=============  ======  ==========================================================

``human`` and ``external`` raters are both people: they form the human panel.
A rater with several ratings of the same unit keeps the last one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a table is made: the schema alone must not load it
    import pandas as pd

__all__ = [
    "COLUMNS",
    "HUMAN_KINDS",
    "LEVELS",
    "RATER_KINDS",
    "empty_tidy",
    "pivot",
    "validate_tidy",
]

COLUMNS: tuple[str, ...] = (
    "unit",
    "item",
    "rater",
    "rater_kind",
    "domain",
    "level",
    "criterion",
    "value",
)
LEVELS: tuple[str, ...] = ("step_label", "first_error", "rubric", "trajectory", "pairwise")
RATER_KINDS: tuple[str, ...] = ("human", "external", "judge")
HUMAN_KINDS: tuple[str, ...] = ("human", "external")


def empty_tidy() -> pd.DataFrame:
    """An empty table with the schema's columns."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=float if c == "value" else str) for c in COLUMNS})


def validate_tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Check the schema and return a normalised copy (string ids, float values).

    Raises
    ------
    ValueError
        ``"missing columns: ..."``, ``"unknown level(s): ..."``,
        ``"unknown rater_kind(s): ..."``, ``"a rater is both a judge and a person: ..."``.
    """
    import pandas as pd

    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    out = df.loc[:, list(COLUMNS)].copy()
    for c in COLUMNS:
        if c != "value":
            out[c] = out[c].fillna("").astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="raise").astype(float)
    # unique() first: iterating a string column value by value is slow (pyarrow strings).
    bad_levels = sorted(set(out["level"].unique()) - set(LEVELS))
    if bad_levels:
        raise ValueError(f"unknown level(s): {', '.join(bad_levels)}")
    bad_kinds = sorted(set(out["rater_kind"].unique()) - set(RATER_KINDS))
    if bad_kinds:
        raise ValueError(f"unknown rater_kind(s): {', '.join(bad_kinds)}")
    is_judge = out["rater_kind"].eq("judge").groupby(out["rater"])
    mixed = is_judge.any() & ~is_judge.all()
    both = sorted(mixed[mixed].index)
    if both:
        raise ValueError(f"a rater is both a judge and a person: {', '.join(both)}")
    return out


def pivot(rows: pd.DataFrame, raters: Sequence[str], units: Sequence[str]) -> np.ndarray:
    """Ratings of ``raters`` (rows) on ``units`` (columns); NaN where missing."""
    sub = rows[rows["rater"].isin(raters)].drop_duplicates(["rater", "unit"], keep="last")
    wide = sub.pivot(index="rater", columns="unit", values="value")
    wide = wide.reindex(index=list(raters), columns=list(units))
    return wide.to_numpy(dtype=float)
