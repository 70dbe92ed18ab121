"""Rank correlations pooled and averaged per group (G-Eval's per-document averaging)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.agreement import correlation, kendall, spearman


@pytest.fixture
def grouped():
    rng = np.random.default_rng(2)
    groups = np.repeat([f"doc{i}" for i in range(15)], 6)
    x = rng.integers(1, 6, groups.size).astype(float)
    y = x + rng.normal(scale=1.5, size=groups.size)
    x[groups == "doc3"] = 2.0  # a constant group: its correlation is undefined
    return x, y, groups


@pytest.mark.parametrize("method", ["kendall", "spearman", "pearson"])
def test_pooled_matches_scipy(grouped, method):
    x, y, _ = grouped
    fn = {"kendall": stats.kendalltau, "spearman": stats.spearmanr, "pearson": stats.pearsonr}[method]
    assert correlation(x, y, method=method).value == pytest.approx(fn(x, y).statistic, abs=1e-12)


@pytest.mark.parametrize(("fn", "ref"), [(kendall, stats.kendalltau), (spearman, stats.spearmanr)])
def test_per_group_mean_skips_and_counts_undefined_groups(grouped, fn, ref):
    x, y, groups = grouped
    res = fn(x, y, groups=groups, ci=0.95, n_resamples=300)
    per_doc = [ref(x[groups == g], y[groups == g]).statistic for g in np.unique(groups) if g != "doc3"]
    assert res.value == pytest.approx(np.mean(per_doc), abs=1e-12)
    assert res.extra == {"n_groups": 15, "n_groups_undefined": 1, "n_resamples_undefined": 0}
    assert res.ci[0] < res.value < res.ci[1]
    assert res.ci_method.endswith("bootstrap over groups (15), 300 resamples")
    assert res.statistic.endswith("[per-group mean]")


def test_missing_pairs_dropped_and_constant_side_undefined():
    r = kendall([1, 2, None, 4, 5], [2, 1, 3, float("nan"), 6])
    assert r.n_units == 3 and r.n_dropped == 2
    assert r.value == pytest.approx(stats.kendalltau([1, 2, 5], [2, 1, 6]).statistic)
    flat = spearman([1, 1, 1], [1, 2, 3], ci=0.9)
    assert flat.value is None and flat.ci is None and "constant" in flat.reason


def test_shared_resample_weights_give_the_coefficient_of_each_resample():
    """Replicates from the weighted contingency table equal scipy on the expanded resample."""
    from analysis.bootstrap import grouped_sums, unit_weights
    from analysis.correlation import _contingency_replicates

    rng = np.random.default_rng(5)
    x = rng.integers(1, 6, 150).astype(float)
    y = (x + rng.integers(0, 3, 150)) / 3
    w = unit_weights(150, n_resamples=20, seed=2, clusters=np.arange(150) // 3)
    for method, fn in (("kendall", stats.kendalltau), ("spearman", stats.spearmanr)):
        reps = _contingency_replicates(x, y, method, w)
        for b in range(20):
            idx = np.repeat(np.arange(150), w[b].astype(int))
            assert reps[b] == pytest.approx(fn(x[idx], y[idx]).statistic, abs=1e-12)
    res = kendall(x, y, ci=0.95, weights=w)
    assert res.ci_method == "95% percentile bootstrap over pairs, 20 resamples"
    codes = np.array([2, 0, 2, 1])
    np.testing.assert_array_equal(grouped_sums(np.array([[1.0, 2, 3, 4]]), codes, 4), [[2, 4, 4, 0]])


def test_rank_correlations_use_every_resample_as_kendall_and_spearman_do() -> None:
    """One contingency table for both coefficients gives the intervals that each
    coefficient's own function gives with the same resample counts (all of them)."""
    from analysis.bootstrap import unit_weights
    from analysis.correlation import rank_correlations

    rng = np.random.default_rng(5)
    x = rng.integers(1, 6, 120).astype(float)
    y = np.clip(x + rng.integers(-2, 3, 120), 1, 5)
    w = unit_weights(120, n_resamples=200, seed=3)
    both = rank_correlations(x, y, weights=w)
    for name, fn in (("kendall", kendall), ("spearman", spearman)):
        alone = fn(x, y, weights=w, ci=0.95)
        assert both[name].value == pytest.approx(alone.value, abs=1e-12)
        assert both[name].ci == pytest.approx(alone.ci, abs=1e-12)
