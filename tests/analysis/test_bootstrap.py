"""The vectorised bootstrap gives what a naive resampling loop gives."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest

from analysis.agreement import cohen_kappa, gwet_ac1, krippendorff_alpha
from analysis.bootstrap import percentile_ci, resample_index_sets, resampled_sums


def test_resampled_sums_are_count_weighted_sums_of_the_drawn_rows():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(17, 4))
    sums = resampled_sums(features, n_resamples=5, seed=11)
    draws = np.random.default_rng(11).integers(0, 17, size=(5, 17))
    expected = np.stack([features[d].sum(axis=0) for d in draws])
    np.testing.assert_allclose(sums, expected)


def test_profile_multinomial_has_the_unit_bootstrap_distribution():
    # 300 units sharing 3 feature profiles: resampling profiles by multinomial
    # counts must match resampling the 300 units one by one.
    profiles = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 5.0]])
    mult = np.array([200, 70, 30])
    units = np.repeat(profiles, mult, axis=0)
    a = resampled_sums(profiles, n_resamples=4000, seed=1, multiplicity=mult)
    b = resampled_sums(units, n_resamples=4000, seed=2)
    np.testing.assert_allclose(a.mean(axis=0), units.sum(axis=0), rtol=0.01)
    np.testing.assert_allclose(a.std(axis=0), b.std(axis=0), rtol=0.06)


def _naive_alpha_ci(x, level, n_resamples, seed, clusters=None):
    reps = []
    for idx in resample_index_sets(x.shape[1], n_resamples=n_resamples, seed=seed, clusters=clusters):
        try:
            reps.append(krippendorff.alpha(reliability_data=x[:, idx], level_of_measurement=level))
        except ValueError:
            reps.append(np.nan)
    return percentile_ci(np.array(reps), 0.95)[0]


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_alpha_ci_matches_a_naive_loop_over_the_package(level):
    rng = np.random.default_rng(5)
    truth = rng.integers(1, 5, size=120)
    x = np.where(rng.random((3, 120)) < 0.7, truth, rng.integers(1, 5, size=(3, 120))).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan
    ours = krippendorff_alpha(x, level, ci=0.95, n_resamples=1000, seed=0)
    naive = _naive_alpha_ci(x, level, 1000, seed=1)
    assert ours.ci == pytest.approx(naive, abs=0.03)
    assert ours.ci[0] < ours.value < ours.ci[1]


def test_cluster_bootstrap_matches_naive_cluster_loop_and_is_wider():
    rng = np.random.default_rng(9)
    n_items, steps = 30, 5
    clusters = np.repeat(np.arange(n_items), steps)
    # Whole items are easy or hard: ratings within an item are correlated.
    item_noise = rng.random(n_items)[clusters]
    truth = rng.integers(0, 2, size=n_items * steps)
    flip = rng.random((3, truth.size)) < item_noise * 0.6
    x = np.where(flip, 1 - truth, truth).astype(float)
    ours = krippendorff_alpha(x, "nominal", ci=0.95, clusters=clusters, seed=0)
    naive = _naive_alpha_ci(x, "nominal", 600, seed=1, clusters=clusters)
    assert ours.ci == pytest.approx(naive, abs=0.04)
    units = krippendorff_alpha(x, "nominal", ci=0.95, seed=0)
    assert ours.ci[1] - ours.ci[0] > units.ci[1] - units.ci[0]
    assert "clusters (30)" in ours.ci_method


def test_seeded_and_reproducible():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(4, 80)).astype(float)
    for fn in (
        lambda s: krippendorff_alpha(x, "ordinal", ci=0.9, seed=s),
        lambda s: gwet_ac1(x, categories=[0, 1, 2], ci=0.9, seed=s),
        lambda s: cohen_kappa(x[0], x[1], labels=[0, 1, 2], ci=0.9, seed=s),
    ):
        assert fn(4).ci == fn(4).ci
        assert fn(4).ci != fn(5).ci
        assert fn(4).ci_method.startswith("90% percentile bootstrap")


def test_resamples_without_variation_are_counted_not_faked():
    x = np.array([[1, 1, 1, 1, 1, 2], [1, 1, 1, 1, 1, 2]], dtype=float)
    r = krippendorff_alpha(x, "nominal", ci=0.95, n_resamples=400, seed=0)
    # A resample without the one differing unit has a single value: undefined.
    assert r.extra["n_resamples_undefined"] > 0
    assert r.value == pytest.approx(1.0)


@pytest.mark.parametrize("method", ["kendall", "spearman", "pearson"])
def test_vectorised_correlation_replicates_equal_scipy_on_each_resample(method):
    from scipy import stats

    from analysis.correlation import _pooled_replicates

    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, 60).astype(float)  # many ties
    y = x + rng.integers(-2, 3, 60)
    fn = {"kendall": stats.kendalltau, "spearman": stats.spearmanr, "pearson": stats.pearsonr}
    ours = _pooled_replicates(x, y, method, 25, seed=3)
    ref = [fn[method](x[i], y[i]).statistic for i in resample_index_sets(60, n_resamples=25, seed=3)]
    np.testing.assert_allclose(ours, ref, atol=1e-12)


@pytest.mark.parametrize("method", ["kendall", "spearman"])
def test_cluster_correlation_replicates_equal_scipy_on_each_cluster_resample(method):
    from scipy import stats

    from analysis.correlation import _pooled_replicates

    rng = np.random.default_rng(1)
    clusters = np.repeat(np.arange(12), 4)
    x = rng.integers(0, 4, 48).astype(float)
    y = x + rng.normal(size=48)
    fn = {"kendall": stats.kendalltau, "spearman": stats.spearmanr}[method]
    ours = _pooled_replicates(x, y, method, 20, seed=5, clusters=clusters)
    draws = resample_index_sets(48, n_resamples=20, seed=5, clusters=clusters)
    ref = [fn(x[i], y[i]).statistic for i in draws]
    np.testing.assert_allclose(ours, ref, atol=1e-12)
