"""analysis.plan: labels for a target width, checked against the widths analysis.ppi gives."""

from __future__ import annotations

import re

import numpy as np
import pytest

from analysis.plan import labels_for_width, plan_table
from analysis.ppi import classical_mean_ci, ppi_rows
from tests.analysis.tidy_factory import make_tidy


def _population(seed: int = 0, size: int = 4000, noise: float = 0.5):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=size)
    return y, y + rng.normal(0, noise, size=size)


def test_human_only_is_the_classical_formula():
    y, yhat = _population()
    human, _ = labels_for_width(y[:200], yhat[:200], 4000, width=0.2)
    sd = y[:200].std()
    assert human == int(np.ceil((2 * 1.959963984540054 * sd / 0.2) ** 2))
    lo, hi = classical_mean_ci(y[:human])
    assert hi - lo == pytest.approx(0.2, rel=0.15)  # the plan holds on new labels, up to the pilot's noise


def test_ppi_plan_reaches_the_width_in_simulation():
    """Label the planned number of units, 400 times: the mean PPI++ width is close to the target."""
    y, yhat = _population()
    human, ppi = labels_for_width(y[:300], yhat[:300], 4000, width=0.1)
    assert human is not None and ppi is not None and ppi < human / 2  # a good judge saves labels
    rng = np.random.default_rng(1)
    order = rng.random((400, 4000)).argsort(axis=1)
    rows = ppi_rows(y[order[:, :ppi]], yhat[order[:, :ppi]], yhat[order[:, ppi:]])
    lo, hi = rows.ci(0.05)
    assert np.mean(hi - lo) == pytest.approx(0.1, rel=0.08)


def test_useless_judge_saves_nothing_and_unreachable_is_none():
    rng = np.random.default_rng(2)
    y = rng.normal(size=500)
    human, ppi = labels_for_width(y, rng.normal(size=500), 4000, width=0.2)
    assert ppi is not None and abs(ppi - human) <= 0.1 * human
    assert labels_for_width(y, y, 50, width=0.01) == (None, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1.0], [1.0], 10, 0.1), "the pilot needs at least 2 units with both labels (got 1)"),
        (([1.0, 2], [1.0], 10, 0.1), "y and yhat must be 1-D of one length (got (2,) and (1,))"),
        (([1.0, 2], [1.0, 2], 10, 0), "width must be positive (got 0)"),
        (([1.0, np.nan], [1.0, 2], 10, 0.1), "the pilot holds a missing or infinite value"),
        (([1.0, 2], [1.0, 2], 1, 0.1), "n_units must be at least 2 (got 1)"),
    ],
)
def test_bad_input(args, message):
    with pytest.raises(ValueError) as exc:
        labels_for_width(*args)
    assert str(exc.value) == message


def test_plan_table_per_domain_and_judge():
    plan = plan_table(make_tidy(n_items=40), width=1.0)
    assert set(plan["level"]) == {"first_error", "rubric"}  # steps are planned through first errors
    rub = plan[(plan.level == "rubric") & (plan.criterion == "coherence")].iloc[0]
    assert (rub["judge"], rub["n_units"], rub["n_pilot"]) == ("critic", 40, 40)
    # A critic that tracks the humans' rating closely: fewer labels with PPI.
    assert 2 <= rub["ppi"] < rub["human_only"] <= 40
    narrow = plan_table(make_tidy(n_items=40), width=0.05)
    assert narrow[["human_only", "ppi"]].isna().all().all()  # 40 items cannot give that width


def test_judge_only_plan_matches_the_closed_form() -> None:
    from scipy.stats import norm

    from analysis.plan import labels_for_width_from_judge

    rng = np.random.default_rng(3)
    yhat = rng.normal(2, 1.5, size=400)
    z = norm.ppf(0.975)
    human, ppi0 = labels_for_width_from_judge(yhat, 400, 0.4, rho=0.0)
    # human-only: the smallest n with 2 z sd / sqrt(n) <= width, sd the judge's (assumed the people's)
    assert human == int(np.ceil((2 * z * yhat.std() / 0.4) ** 2))
    assert ppi0 == human  # rho 0: lambda 0, no gain
    needed = [labels_for_width_from_judge(yhat, 400, 0.4, rho=r)[1] for r in (0.0, 0.5, 0.8, 1.0)]
    assert needed == sorted(needed, reverse=True) and needed[2] < human
    # the same as a pilot whose moments are exactly var(y) = var(yhat), cov = rho var(yhat)
    y_equiv = 0.8 * (yhat - yhat.mean()) + np.sqrt(1 - 0.8**2) * _orthogonal(yhat, rng)
    assert labels_for_width(y_equiv, yhat, 400, 0.4) == labels_for_width_from_judge(yhat, 400, 0.4, rho=0.8)


def _orthogonal(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A vector with mean 0, uncorrelated with x, with x's variance (divisor n)."""
    xc = x - x.mean()
    e = rng.normal(size=x.shape)
    e -= e.mean()
    e -= (e @ xc) / (xc @ xc) * xc
    return e * xc.std() / e.std()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"yhat": [1.0], "n_units": 10, "width": 1, "rho": 0.5}, "at least 2 judged units"),
        ({"yhat": [1.0, np.nan], "n_units": 10, "width": 1, "rho": 0.5}, "missing or infinite"),
        ({"yhat": [1.0, 2.0], "n_units": 10, "width": 1, "rho": 1.5}, "rho must lie in [-1, 1]"),
        ({"yhat": [1.0, 2.0], "n_units": 10, "width": -1, "rho": 0.5}, "width must be positive"),
    ],
)
def test_judge_only_bad_input(kwargs, message) -> None:
    from analysis.plan import labels_for_width_from_judge

    with pytest.raises(ValueError, match=re.escape(message)):
        labels_for_width_from_judge(**kwargs)


def test_alt_test_items_reach_the_power_by_simulation() -> None:
    """Second implementation: simulate d = W_h - W_f at the assumptions (E d = 0, sd 1), t-test per
    annotator, Benjamini-Yekutieli over three, as analysis.replacement runs them."""
    from scipy import stats

    from analysis.plan import alt_test_items
    from analysis.replacement import benjamini_yekutieli

    eps, m = 0.2, 3
    n = alt_test_items(eps, annotators=m)
    assert n == alt_test_items(eps, annotators=m, power=0.8) and n > alt_test_items(0.3, annotators=m)
    rng = np.random.default_rng(0)
    sims, all_beaten, passed = 1000, 0, 0
    for _ in range(sims):
        d = rng.choice([-1.0, 1.0], size=(m, n))
        p = [stats.ttest_1samp(row, eps, alternative="less").pvalue for row in d]
        rejected = np.asarray(benjamini_yekutieli(p, q=0.05), dtype=bool)
        all_beaten += bool(rejected.all())
        passed += rejected.mean() >= 0.5
    assert 0.75 <= all_beaten / sims <= 0.9  # the target: 0.8 for all three beaten (normal approximation)
    assert passed / sims >= all_beaten / sims


def test_alt_test_items_bad_input() -> None:
    from analysis.plan import alt_test_items

    with pytest.raises(ValueError, match="at least 3 annotators"):
        alt_test_items(0.1, annotators=2)
    with pytest.raises(ValueError, match=re.escape("epsilon must lie in (0, 1]")):
        alt_test_items(0)


def test_plan_summary_is_the_tables_as_json_with_null_for_unreachable() -> None:
    """At width 0.5 and 40 items the first errors are reachable and the ratings are not: pandas holds
    the mixed columns as floats with NaN, the summary as ints and None, and json refuses no NaN."""
    import json

    import pandas as pd

    from analysis.plan import RHO_GRID, alt_test_items, judge_only_plan, plan_summary

    table = make_tidy(n_items=40)
    summary = plan_summary(table, width=0.5, epsilon=0.15, annotators=4, overlap=3)
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary
    pilot = plan_table(table, width=0.5)
    assert pilot["human_only"].isna().any() and pilot["human_only"].notna().any()  # the case under test
    assert [r["human_only"] for r in summary["pilot"]] == [
        None if pd.isna(v) else int(v) for v in pilot["human_only"]
    ]
    assert [r["ppi"] for r in summary["pilot"]] == [None if pd.isna(v) else int(v) for v in pilot["ppi"]]
    first, coherence, _ = summary["pilot"]
    assert first == {
        "domain": "math",
        "level": "first_error",
        "criterion": "",
        "judge": "critic",
        "n_units": 40,
        "n_pilot": 40,
        "n_human": 40,
        "human_only": int(pilot["human_only"].iloc[0]),
        "ppi": int(pilot["ppi"].iloc[0]),
        "note": "",
    }
    assert (coherence["criterion"], coherence["human_only"], coherence["ppi"]) == ("coherence", None, None)
    assert all(type(r["human_only"]) is int for r in summary["pilot"] if r["human_only"] is not None)

    judge = judge_only_plan(table, width=0.5)
    rows = summary["judge_only"]["rows"]
    assert summary["judge_only"]["rho_grid"] == list(RHO_GRID)
    assert [r["sd_judge"] for r in rows] == pytest.approx(list(judge["sd_judge"]))
    for row, (_, expected) in zip(rows, judge.iterrows(), strict=True):
        cells = [expected["human_only"]] + [expected[f"ppi_rho={rho:g}"] for rho in RHO_GRID]
        assert [row["human_only"], *row["ppi"]] == [None if pd.isna(v) else int(v) for v in cells]
    assert rows[1]["ppi"] == [None, None, None] and None not in rows[0]["ppi"]

    assert summary["alt_test"] == {
        "epsilon": 0.15,
        "annotators": 4,
        "items": alt_test_items(0.15, annotators=4),
        "overlap": 3,
    }
    assert (summary["width"], summary["alpha"]) == (0.5, 0.05)
    assert summary["assumptions"] and all(isinstance(a, str) for a in summary["assumptions"])


def test_plan_summary_of_an_empty_table_and_a_judge_without_a_pilot() -> None:
    import json

    import pandas as pd

    from analysis.plan import alt_test_items, plan_summary
    from analysis.tidy import COLUMNS

    empty = plan_summary(pd.DataFrame(columns=list(COLUMNS)), width=1.0, epsilon=0.1, overlap=1)
    assert empty["pilot"] == [] and empty["judge_only"]["rows"] == []
    assert empty["alt_test"] == {"epsilon": 0.1, "annotators": 3, "items": alt_test_items(0.1), "overlap": 1}
    # epsilon 0 (a valid spec value): no number of items gives the test its power
    assert (
        plan_summary(pd.DataFrame(columns=list(COLUMNS)), width=1.0, epsilon=0, overlap=1)["alt_test"][
            "items"
        ]
        is None
    )

    judged = make_tidy(n_items=10)
    judged = judged[judged["rater_kind"] == "judge"]  # no person has labelled yet
    summary = plan_summary(judged, width=1.0, epsilon=0.1, overlap=3)
    json.dumps(summary, allow_nan=False)
    assert {(r["n_pilot"], r["human_only"], r["ppi"]) for r in summary["pilot"]} == {(0, None, None)}
    assert (
        summary["pilot"][0]["note"] == "needs a pilot of 2 or more units with human and judge labels (has 0)"
    )
    # the judge's labels alone still plan the first errors (reachable in 10 units; the ratings are not)
    first, *ratings = summary["judge_only"]["rows"]
    assert (first["level"], first["human_only"], first["ppi"]) == ("first_error", 3, [3, 2, 2])
    assert all(r["ppi"] == [None, None, None] for r in ratings)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0.0}, "width must be positive (got 0.0)"),
        ({"width": float("nan")}, "width must be positive (got nan)"),
        ({"alpha": 1.0}, "alpha must lie strictly between 0 and 1 (got 1.0)"),
        ({"epsilon": 1.5}, "epsilon must lie in [0, 1] (got 1.5)"),
        ({"annotators": 2}, "the alternative-annotator test needs at least 3 annotators (got 2)"),
    ],
)
def test_plan_summary_bad_input(kwargs, message) -> None:
    from analysis.plan import plan_summary

    args = {"width": 1.0, "epsilon": 0.1, "overlap": 3, **kwargs}
    with pytest.raises(ValueError) as exc:
        plan_summary(make_tidy(n_items=5), **args)
    assert str(exc.value) == message
