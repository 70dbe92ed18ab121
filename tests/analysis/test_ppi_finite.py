"""The finite-population option of analysis.ppi (the survey difference estimator).

Second implementation: the textbook formulas written out directly; Monte Carlo
coverage on fixed synthetic finite sets, labelled subsets drawn without
replacement, the truth the mean of all items.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from analysis.ppi import classical_mean_ci, ppi_mean_ci, ppi_rows


def test_finite_interval_matches_direct_computation() -> None:
    rng = np.random.default_rng(4)
    z = norm.ppf(0.975)
    for n, rest in ((10, 30), (60, 40), (200, 5)):
        y = rng.normal(size=n)
        yhat = y + rng.normal(scale=0.7, size=n)
        yu = rng.normal(size=rest)
        big_n = n + rest
        for lam in (0.0, 0.4, 1.0):
            resid = [y[i] - lam * yhat[i] for i in range(n)]
            mean_r = sum(resid) / n
            s2 = sum((r - mean_r) ** 2 for r in resid) / (n - 1)
            est = lam * (sum(yhat) + sum(yu)) / big_n + mean_r
            half = z * ((1 - n / big_n) * s2 / n) ** 0.5
            assert ppi_mean_ci(y, yhat, yu, lam=lam, finite=True) == pytest.approx(
                (est - half, est + half), abs=1e-12
            )
        s2y = sum((v - y.mean()) ** 2 for v in y) / (n - 1)
        half = z * ((1 - n / big_n) * s2y / n) ** 0.5
        assert classical_mean_ci(y, population_size=big_n) == pytest.approx(
            (y.mean() - half, y.mean() + half)
        )
        tuned = ppi_rows(y[None], yhat[None], yu[None], finite=True).lam[0]
        cov = np.cov(y, yhat)
        assert tuned == pytest.approx(np.clip(cov[0, 1] / cov[1, 1], 0, 1), abs=1e-12)


def test_default_is_unchanged_and_finite_is_narrower() -> None:
    rng = np.random.default_rng(8)
    y = rng.normal(size=50)
    yhat = y + rng.normal(size=50)
    yu = rng.normal(size=50)
    assert ppi_mean_ci(y, yhat, yu) == ppi_mean_ci(y, yhat, yu, finite=False)
    wide = ppi_mean_ci(y, yhat, yu, lam=1.0)
    narrow = ppi_mean_ci(y, yhat, yu, lam=1.0, finite=True)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    # The whole set labelled: nothing is left to estimate.
    low, high = classical_mean_ci(y, population_size=50)
    assert low == pytest.approx(high) == pytest.approx(y.mean())


@pytest.mark.parametrize("share", [0.2, 0.5])
def test_finite_coverage_on_fixed_synthetic_sets(share: float) -> None:
    rng = np.random.default_rng(17)
    big_n, reps = 400, 1000
    truth_y = rng.gamma(2.0, size=big_n)
    judge = truth_y + rng.normal(scale=1.0, size=big_n)
    target = truth_y.mean()
    n = int(share * big_n)
    hits = {"ppi": 0, "human": 0, "ppi_default": 0}
    for _ in range(reps):
        idx = rng.permutation(big_n)
        lab, unl = idx[:n], idx[n:]
        low, high = ppi_mean_ci(truth_y[lab], judge[lab], judge[unl], finite=True)
        hits["ppi"] += low <= target <= high
        low, high = classical_mean_ci(truth_y[lab], population_size=big_n)
        hits["human"] += low <= target <= high
        low, high = ppi_mean_ci(truth_y[lab], judge[lab], judge[unl])
        hits["ppi_default"] += low <= target <= high
    assert 0.93 <= hits["ppi"] / reps <= 0.97
    assert 0.93 <= hits["human"] / reps <= 0.97
    # Without the correction the interval over-covers this design.
    assert hits["ppi_default"] / reps > 0.97


def test_population_size_bad_input() -> None:
    with pytest.raises(ValueError, match="population_size must be a whole number of at least n = 3"):
        classical_mean_ci([1.0, 2.0, 3.0], population_size=2)
    with pytest.raises(ValueError, match="population_size must be a whole number"):
        classical_mean_ci([1.0, 2.0, 3.0], population_size=3.5)  # type: ignore[arg-type]
