"""analysis.plan: labels for a target width, checked against the widths analysis.ppi gives."""

from __future__ import annotations

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
