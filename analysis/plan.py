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

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis.tidy import HUMAN_KINDS, validate_tidy

__all__ = [
    "RHO_GRID",
    "alt_test_items",
    "judge_only_plan",
    "labels_for_width",
    "labels_for_width_from_judge",
    "plan_summary",
    "plan_table",
]

RHO_GRID: tuple[float, ...] = (0.0, 0.5, 0.8)  # assumed judge-human correlations without a pilot


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
    _check_target(n_units, width, alpha)
    cov = float(np.mean((y - y.mean()) * (yhat - yhat.mean())))
    return _labels_from_moments(float(y.var()), float(yhat.var()), cov, n_units, width, alpha)


def _check_target(n_units: int, width: float, alpha: float) -> None:
    if not width > 0:
        raise ValueError(f"width must be positive (got {width})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1 (got {alpha})")
    if n_units < 2:
        raise ValueError(f"n_units must be at least 2 (got {n_units})")


def _labels_from_moments(
    var_y: float, var_h: float, cov: float, n_units: int, width: float, alpha: float
) -> tuple[int | None, int | None]:
    """The smallest ``n`` reaching ``width``, human-only and PPI++, from the moments (module docstring)."""
    z = norm.ppf(1 - alpha / 2)
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


def labels_for_width_from_judge(
    yhat: Any, n_units: int, width: float, rho: float, alpha: float = 0.05
) -> tuple[int | None, int | None]:
    """Human labels needed for a target width before any person has labelled (no pilot).

    Assumptions (stated by ``plan_study``): the human values have the variance
    of the judge's values on the ``n_units`` judged units, ``var(y) =
    var(yhat)``, and judge and people correlate at ``rho`` across units, so
    ``cov = rho var(yhat)``. The answer is then :func:`labels_for_width` at
    those moments. ``rho = 0`` gives PPI++ no gain (its lambda is 0).
    """
    yhat = np.asarray(yhat, dtype=float)
    if yhat.ndim != 1 or yhat.shape[0] < 2:
        raise ValueError(f"yhat must be 1-D with at least 2 judged units (got shape {yhat.shape})")
    if not np.isfinite(yhat).all():
        raise ValueError("the judge's labels hold a missing or infinite value")
    if not -1 <= rho <= 1:
        raise ValueError(f"rho must lie in [-1, 1] (got {rho})")
    _check_target(n_units, width, alpha)
    var_h = float(yhat.var())
    return _labels_from_moments(var_h, var_h, rho * var_h, n_units, width, alpha)


def alt_test_items(
    epsilon: float, *, annotators: int = 3, q: float = 0.05, power: float = 0.8, sd: float = 1.0
) -> int:
    """Items per annotator for the alternative-annotator test to pass with probability ``power``.

    The test (:func:`analysis.replacement.alt_test`) rejects ``H0: mean(d) >=
    epsilon`` per annotator with a one-sided t-test on ``d_i = W^h_i - W^f_i``
    and Benjamini-Yekutieli at ``q`` over the annotators. Assumed: the judge
    is exactly as good as a person (``E[d] = 0``: a judge that is better
    needs fewer), ``sd(d) = sd`` (1 is the largest possible for ``d`` in
    {-1, 0, 1}; ties lower it), and every annotator is to be beaten, so each
    p-value must clear BY's strictest common threshold ``q / c(m)``, ``c(m) =
    sum_{i<=m} 1/i``, and all ``m`` are beaten with probability ``power``
    (annotators' differences taken as independent: each one's power is
    ``power^(1/m)``). Normal approximation, one-sided:
    ``n = ((z_{1 - q/c(m)} + z_{power^(1/m)}) sd / epsilon)^2``, at least 30 (the
    test's t-test minimum). Every item needs the ``annotators`` people's labels
    (the leave-one-out needs two others), so the study needs this many items
    at overlap ``k >= annotators``.
    """
    if not 0 < epsilon <= 1:
        raise ValueError(f"epsilon must lie in (0, 1] (got {epsilon})")
    if annotators < 3:
        raise ValueError(f"the alternative-annotator test needs at least 3 annotators (got {annotators})")
    if not 0 < q < 1 or not 0 < power < 1:
        raise ValueError(f"q and power must lie strictly between 0 and 1 (got {q}, {power})")
    if not sd > 0:
        raise ValueError(f"sd must be positive (got {sd})")
    c_m = float(np.sum(1.0 / np.arange(1, annotators + 1)))
    n = ((norm.ppf(1 - q / c_m) + norm.ppf(power ** (1 / annotators))) * sd / epsilon) ** 2
    return max(30, int(np.ceil(n)))


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


def _judged(table: pd.DataFrame) -> Iterator[tuple[Any, Any, Any, pd.DataFrame, str]]:
    """Per item-level (domain, level, criterion) and judge: the unit values (:func:`_unit_values`)."""
    df = validate_tidy(table)
    for (domain, level, criterion), rows in df.groupby(["domain", "level", "criterion"], sort=True):
        if level == "step_label":
            continue
        units = _unit_values(rows, str(level))
        for judge in [c for c in units.columns if c != "__human__"]:
            yield domain, level, criterion, units, judge


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
    out = []
    for domain, level, criterion, units, judge in _judged(table):
        human = units["__human__"]
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


def judge_only_plan(
    table: pd.DataFrame, *, width: float, alpha: float = 0.05, rhos: tuple[float, ...] = RHO_GRID
) -> pd.DataFrame:
    """The plan per (domain, level, criterion, judge) from the judge's labels alone.

    Returns
    -------
    DataFrame
        Columns ``domain, level, criterion, judge, n_units, sd_judge`` and, per
        ``rho`` of ``rhos``, ``ppi_rho=<rho>`` (labels needed with PPI++ at that
        assumed correlation); ``human_only`` (labels needed without PPI, the
        same at every ``rho``). ``None``: not reachable with the study's units.
    """
    out = []
    for domain, level, criterion, units, judge in _judged(table):
        values = units[judge].dropna().to_numpy()
        row: dict[str, Any] = {
            "domain": domain,
            "level": level,
            "criterion": criterion,
            "judge": judge,
            "n_units": len(values),
            "sd_judge": float(values.std()) if len(values) else None,
            "human_only": None,
        }
        for rho in rhos:
            row[f"ppi_rho={rho:g}"] = None
        if len(values) >= 2:
            for rho in rhos:
                row["human_only"], row[f"ppi_rho={rho:g}"] = labels_for_width_from_judge(
                    values, len(values), width, rho, alpha
                )
        out.append(row)
    columns = ["domain", "level", "criterion", "judge", "n_units", "sd_judge", "human_only"]
    return pd.DataFrame(out, columns=columns + [f"ppi_rho={rho:g}" for rho in rhos])


PLAN_ASSUMPTIONS: tuple[str, ...] = (
    "Plug-in estimates from the current labels: a plan is a guide, not a guarantee "
    "(a pilot of 30 or more units with human and judge labels is advised).",
    "Step labels are planned through first errors (the trace has an error).",
    "From the judge's labels alone: the human values have the judge's variance, and judge and people "
    "correlate at the assumed rho (rho 0: PPI gains nothing).",
    "Alternative-annotator test: the judge is exactly as good as a person (a better one needs fewer), "
    "sd of the paired difference 1 (the largest; ties lower it), annotators independent; an 80% chance "
    "that the judge beats every annotator (q = 0.05, Benjamini-Yekutieli).",
)


def _count(v: Any) -> int | None:
    """A number of labels or units, ``None`` (not reachable) for None or NaN."""
    return None if v is None or v != v else int(v)


def _text(v: Any) -> str | None:
    return None if v is None or v != v else str(v)


def plan_summary(
    table: pd.DataFrame,
    *,
    width: float,
    alpha: float = 0.05,
    epsilon: float,
    annotators: int = 3,
    overlap: int,
) -> dict[str, Any]:
    """The whole plan of a tidy ratings table as JSON-able data (``plan_study``, the live dashboard).

    Parameters
    ----------
    table : DataFrame
        A tidy ratings table (:mod:`analysis.tidy`); may be empty.
    width, alpha : float
        Target total width of a ``1 - alpha`` interval.
    epsilon : float
        The alternative-annotator test's margin, in [0, 1]; at 0 no number of
        items reaches the power (``alt_test.items`` is ``None``).
    annotators : int
        People per item for the alternative-annotator test (3 or more).
    overlap : int
        The study's annotators per item ``k``, reported beside ``annotators``.

    Returns
    -------
    dict
        ``width``, ``alpha``; ``pilot``: the rows of :func:`plan_table`
        (``domain, level, criterion, judge, n_units, n_pilot, n_human,
        human_only, ppi, note``); ``judge_only``: ``rho_grid`` (:data:`RHO_GRID`)
        and the rows of :func:`judge_only_plan` with ``ppi`` a list aligned
        with ``rho_grid``; ``alt_test``: ``epsilon, annotators, items,
        overlap`` (:func:`alt_test_items`); ``assumptions``: sentences. Labels
        needed that the study's units do not reach, and missing numbers, are
        ``None`` (JSON null), never NaN. An empty table plans nothing: ``pilot``
        and ``judge_only.rows`` are ``[]``.
    """
    width, alpha, epsilon = float(width), float(alpha), float(epsilon)
    if not width > 0:
        raise ValueError(f"width must be positive (got {width})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1 (got {alpha})")
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon must lie in [0, 1] (got {epsilon})")
    pilot: list[dict[str, Any]] = []
    judge_only: list[dict[str, Any]] = []
    if len(table):
        for r in plan_table(table, width=width, alpha=alpha).to_dict("records"):
            pilot.append(
                {
                    **_keys(r),
                    "n_pilot": int(r["n_pilot"]),
                    "n_human": int(r["n_human"]),
                    "human_only": _count(r["human_only"]),
                    "ppi": _count(r["ppi"]),
                    "note": str(r["note"]),
                }
            )
        for r in judge_only_plan(table, width=width, alpha=alpha, rhos=RHO_GRID).to_dict("records"):
            sd = r["sd_judge"]
            judge_only.append(
                {
                    **_keys(r),
                    "sd_judge": None if sd is None or sd != sd else float(sd),
                    "human_only": _count(r["human_only"]),
                    "ppi": [_count(r[f"ppi_rho={rho:g}"]) for rho in RHO_GRID],
                }
            )
    items = alt_test_items(epsilon, annotators=annotators) if epsilon > 0 else None
    return {
        "width": width,
        "alpha": alpha,
        "pilot": pilot,
        "judge_only": {"rho_grid": [float(rho) for rho in RHO_GRID], "rows": judge_only},
        "alt_test": {
            "epsilon": epsilon,
            "annotators": int(annotators),
            "items": items,
            "overlap": int(overlap),
        },
        "assumptions": list(PLAN_ASSUMPTIONS),
    }


def _keys(row: dict[str, Any]) -> dict[str, Any]:
    """A plan row's (domain, level, criterion, judge) and judged units, as JSON values."""
    return {
        "domain": _text(row["domain"]),
        "level": _text(row["level"]),
        "criterion": _text(row["criterion"]),
        "judge": _text(row["judge"]),
        "n_units": int(row["n_units"]),
    }
