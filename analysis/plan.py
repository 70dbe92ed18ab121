"""How many human labels a study needs for a target interval width, with and without PPI.

From a pilot (the units that carry both human labels and the judge's), the
variances and the covariance of the human value ``y`` and the judge's value
``yhat`` are estimated (divisor ``n``, as :mod:`analysis.ppi`). For ``n``
human labels among ``T`` judged units (``N = T - n`` judge-only):

- human-only: ``width(n) = 2 z sd(y) / sqrt(n)``;
- PPI++: ``width(n) = 2 z sqrt((var(y) - 2 lambda cov + lambda^2 var(yhat)) / n
  + lambda^2 var(yhat) / N)`` with ``lambda = cov / ((1 + n/N) var(yhat))``
  clipped to [0, 1] (:func:`analysis.ppi.ppi_lambda` at the pilot's moments).

The answer is the smallest ``n`` (at least 2) whose width is at most the
target, or ``None`` when even labelling every judged unit does not reach it.
Plug-in estimates from a pilot are themselves uncertain: a plan is a guide,
not a guarantee (a pilot of 30 or more labelled units is advised).

Units are item-level (a rubric rating, a trajectory rating, "the trace has an
error" from first errors). Step labels are not planned here: steps nest in
traces, and the trace-level share (first errors) is what to plan on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis.tidy import HUMAN_KINDS, validate_tidy

__all__ = ["labels_for_width", "plan_table"]


def labels_for_width(
    y: Any, yhat: Any, n_units: int, width: float, alpha: float = 0.05
) -> tuple[int | None, int | None]:
    """Human labels needed for a ``1 - alpha`` interval of total width ``width``.

    Parameters
    ----------
    y, yhat : array_like, shape (p,)
        The pilot: human and judge values on the same ``p >= 2`` units.
    n_units : int
        Units the judge labels (labelled by people or not), ``T``.
    width : float
        Target total width (high - low) of the interval, > 0.
    alpha : float
        Error level.

    Returns
    -------
    (human_only, ppi) : tuple of int or None
        ``None`` where ``n_units`` labels do not reach the width.
    """
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    if y.ndim != 1 or y.shape != yhat.shape:
        raise ValueError(f"y and yhat must be 1-D of one length (got {y.shape} and {yhat.shape})")
    if y.shape[0] < 2:
        raise ValueError(f"the pilot needs at least 2 units with both labels (got {y.shape[0]})")
    if not np.isfinite(y).all() or not np.isfinite(yhat).all():
        raise ValueError("the pilot holds a missing or infinite value")
    if not width > 0:
        raise ValueError(f"width must be positive (got {width})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1 (got {alpha})")
    if n_units < 2:
        raise ValueError(f"n_units must be at least 2 (got {n_units})")
    z = norm.ppf(1 - alpha / 2)
    var_y, var_h = y.var(), yhat.var()
    cov = float(np.mean((y - y.mean()) * (yhat - yhat.mean())))
    n = np.arange(2, n_units + 1, dtype=float)
    human = 2 * z * np.sqrt(var_y / n)
    big_n = n_units - n
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(
            (big_n > 0) & (var_h > 0), cov / ((1 + n / np.where(big_n > 0, big_n, 1)) * max(var_h, 1e-300)), 0
        )
        lam = np.clip(lam, 0, 1)
        unl = np.where(big_n > 0, lam**2 * var_h / np.where(big_n > 0, big_n, 1), 0.0)
    ppi = 2 * z * np.sqrt(np.maximum((var_y - 2 * lam * cov + lam**2 * var_h) / n + unl, 0))

    def first(widths: np.ndarray) -> int | None:
        ok = np.flatnonzero(widths <= width)
        return None if ok.size == 0 else int(n[ok[0]])

    return first(human), first(ppi)


def _unit_values(rows: pd.DataFrame, level: str) -> pd.DataFrame:
    """Per unit: the human value (mean over people) and each judge's value."""
    value = rows["value"]
    if level == "first_error":
        value = (value >= 0).astype(float)  # the trace has an error
    frame = rows.assign(v=value)
    human = frame[frame["rater_kind"].isin(HUMAN_KINDS)].groupby("unit")["v"].mean()
    if level == "first_error":
        human = (human > 0.5).astype(float).where(human != 0.5)  # the majority; a tie is no label
    judges = frame[frame["rater_kind"] == "judge"].pivot_table(index="unit", columns="rater", values="v")
    return judges.join(human.rename("__human__"), how="outer")


def plan_table(table: pd.DataFrame, *, width: float, alpha: float = 0.05) -> pd.DataFrame:
    """The plan per (domain, level, criterion, judge) of a tidy ratings table.

    Returns
    -------
    DataFrame
        Columns ``domain, level, criterion, judge, n_units`` (units the judge
        labelled), ``n_pilot`` (of them, with a human value), ``n_human``
        (units with a human value), ``human_only``, ``ppi`` (labels needed;
        ``None``: not reachable with the study's units) and ``note``.
    """
    df = validate_tidy(table)
    out = []
    for (domain, level, criterion), rows in df.groupby(["domain", "level", "criterion"], sort=True):
        if level == "step_label":
            continue
        units = _unit_values(rows, str(level))
        human = units["__human__"]
        for judge in [c for c in units.columns if c != "__human__"]:
            judged = units[judge].notna()
            pilot = judged & human.notna()
            row: dict[str, Any] = {
                "domain": domain,
                "level": level,
                "criterion": criterion,
                "judge": judge,
                "n_units": int(judged.sum()),
                "n_pilot": int(pilot.sum()),
                "n_human": int(human.notna().sum()),
                "human_only": None,
                "ppi": None,
                "note": "",
            }
            if row["n_pilot"] < 2 or row["n_units"] < 2:
                row["note"] = (
                    f"needs a pilot of 2 or more units with human and judge labels (has {row['n_pilot']})"
                )
            else:
                row["human_only"], row["ppi"] = labels_for_width(
                    human[pilot].to_numpy(), units.loc[pilot, judge].to_numpy(), row["n_units"], width, alpha
                )
                if row["n_pilot"] < 30:
                    row["note"] = f"pilot of {row['n_pilot']} units: a rough guide"
            out.append(row)
    return pd.DataFrame(
        out,
        columns=[
            "domain",
            "level",
            "criterion",
            "judge",
            "n_units",
            "n_pilot",
            "n_human",
            "human_only",
            "ppi",
            "note",
        ],
    )
