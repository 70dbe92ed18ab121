"""The Alternative Annotator Test and the judge-human vs human-human gap."""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.replacement import agreement_gap, alt_test, benjamini_yekutieli


def _panel(seed: int, n: int = 80, humans: int = 4, judge_accuracy: float = 0.9):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    h = np.where(rng.random((humans, n)) < 0.7, truth, rng.integers(0, 3, (humans, n)))
    judge = np.where(rng.random(n) < judge_accuracy, truth, rng.integers(0, 3, n))
    return h.astype(float), judge.astype(float)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_benjamini_yekutieli_matches_statsmodels(seed):
    p = np.random.default_rng(seed).random(12) ** 3
    expected, *_ = multipletests(p, alpha=0.05, method="fdr_by")
    np.testing.assert_array_equal(benjamini_yekutieli(p, 0.05), expected)


def test_alt_test_per_annotator_figures_by_hand():
    h, judge = _panel(3, n=40)
    h[1, :5] = np.nan  # annotator 1 skipped five instances
    eps = 0.15
    res = alt_test(h, judge, epsilon=eps, annotator_names=["a", "b", "c", "d"])
    p_values = []
    for j, comp in enumerate(res.annotators):
        ws_f, ws_h = [], []
        for i in range(h.shape[1]):
            if np.isnan(h[j, i]):
                continue
            others = [h[k, i] for k in range(4) if k != j and not np.isnan(h[k, i])]
            s_f = np.mean([judge[i] == o for o in others])
            s_h = np.mean([h[j, i] == o for o in others])
            ws_f.append(float(s_f >= s_h))
            ws_h.append(float(s_h >= s_f))
        assert comp.n_instances == len(ws_f)
        assert comp.rho_judge == pytest.approx(np.mean(ws_f))
        assert comp.rho_human == pytest.approx(np.mean(ws_h))
        # The paper's paired one-sided t-test of rho_f > rho_h - epsilon.
        p = stats.ttest_rel(np.array(ws_h) - eps, ws_f, alternative="less").pvalue
        assert comp.p_value == pytest.approx(p, rel=1e-9)
        p_values.append(p)
    won = benjamini_yekutieli(p_values, 0.05)
    assert [c.won for c in res.annotators] == list(won)
    assert res.winning_rate == pytest.approx(np.mean(won))
    assert res.passed == (np.mean(won) >= 0.5)
    assert res.advantage_probability == pytest.approx(np.mean([c.rho_judge for c in res.annotators]))
    assert res.annotators[1].annotator == "b" and res.annotators[1].n_instances == 35


def test_a_good_judge_passes_and_a_random_one_fails():
    h, good = _panel(4, n=120, judge_accuracy=0.95)
    _, rand = _panel(4, n=120, judge_accuracy=0.0)
    assert alt_test(h, good, epsilon=0.1).passed is True
    bad = alt_test(h, rand, epsilon=0.1)
    assert bad.passed is False and bad.winning_rate == 0.0
    # A larger epsilon can only help the judge.
    assert alt_test(h, rand, epsilon=0.9).winning_rate >= bad.winning_rate


def test_alt_test_needs_three_annotators():
    h, judge = _panel(5, humans=2)
    res = alt_test(h, judge)
    assert res.passed is None and res.winning_rate is None
    assert res.reason == "needs at least 3 human annotators, has 2"


def test_alt_test_on_scores_uses_neg_rmse():
    rng = np.random.default_rng(6)
    truth = rng.random(60) * 4 + 1
    h = truth + rng.normal(scale=0.8, size=(3, 60))
    close = truth + rng.normal(scale=0.1, size=60)
    far = truth + 2.0
    assert alt_test(h, close, alignment="neg_rmse").passed is True
    assert alt_test(h, far, alignment="neg_rmse").passed is False


def test_agreement_gap_matches_pairwise_package_alphas():
    h, judge = _panel(7, n=60)
    gap = agreement_gap(h, judge, level="nominal", n_resamples=300)
    hh = np.mean(
        [
            krippendorff.alpha(reliability_data=h[[a, b]], level_of_measurement="nominal")
            for a, b in itertools.combinations(range(4), 2)
        ]
    )
    jh = np.mean(
        [
            krippendorff.alpha(reliability_data=np.vstack([h[a], judge]), level_of_measurement="nominal")
            for a in range(4)
        ]
    )
    assert gap.human_human == pytest.approx(hh, abs=1e-9)
    assert gap.judge_human == pytest.approx(jh, abs=1e-9)
    assert gap.difference == pytest.approx(jh - hh, abs=1e-9)
    assert gap.difference_ci[0] < gap.difference < gap.difference_ci[1]
    assert gap.verdict == "better than people"  # the judge is closer to the truth


def test_agreement_gap_interval_scores_and_undefined_case():
    rng = np.random.default_rng(8)
    truth = rng.random(200)
    h = truth + rng.normal(scale=0.2, size=(3, 200))
    worse = truth + rng.normal(scale=0.6, size=200)
    gap = agreement_gap(h, worse, level="interval", n_resamples=300)
    assert gap.verdict == "worse than people"
    flat = agreement_gap(np.ones((3, 5)), np.ones(5), level="nominal")
    assert flat.verdict is None and "undefined" in flat.reason


def test_too_many_distinct_values_are_refused_not_allocated():
    rng = np.random.default_rng(9)
    h = rng.integers(1, 6, size=(3, 4000)).astype(float)
    judge = rng.random(4000) * 4 + 1  # 4000 distinct scores on an ordinal level
    gap = agreement_gap(h, judge, level="ordinal", n_resamples=10)
    assert gap.verdict is None and "too many for pairwise ordinal alpha" in gap.reason


def test_fewer_than_30_instances_use_the_wilcoxon_signed_rank_test():
    """Regression: under 30 instances the t-test ran with a note; the authors advise Wilcoxon."""
    h, judge = _panel(8, n=20)
    eps = 0.1
    res = alt_test(h, judge, epsilon=eps)
    for j, comp in enumerate(res.annotators):
        others = np.delete(h, j, axis=0)
        s_f = (others == judge).mean(axis=0)
        s_h = (others == h[j]).mean(axis=0)
        d = (s_h >= s_f).astype(float) - (s_f >= s_h).astype(float)
        assert comp.test == "Wilcoxon signed-rank" and comp.n_instances == 20
        assert comp.p_value == pytest.approx(stats.wilcoxon(d - eps, alternative="less").pvalue)
        assert comp.note == "fewer than 30 instances: Wilcoxon signed-rank test"


def test_benjamini_yekutieli_pooled_over_domains():
    """One FDR step over every domain x annotator p-value (the authors' FAQ), omega per domain."""
    from analysis.replacement import alt_test_pooled

    a = alt_test(*_panel(9, n=60, judge_accuracy=0.95), epsilon=0.1)
    b = alt_test(*_panel(10, n=60, judge_accuracy=0.6), epsilon=0.1)
    pooled = alt_test_pooled([a, b], q=0.05)
    p = [c.p_value for r in (a, b) for c in r.annotators]
    won = benjamini_yekutieli(p, 0.05)
    assert [c.won for r in pooled for c in r.annotators] == list(won)
    assert [r.winning_rate for r in pooled] == [np.mean(won[:4]), np.mean(won[4:])]
    assert pooled[0].fdr_family == "pooled over 2 groups (8 annotators)"
    # alone, each group corrects over its own four annotators
    assert a.fdr_family == "the annotators of this group"


def test_the_winning_rate_over_the_epsilon_grid():
    h, judge = _panel(11, n=80, judge_accuracy=0.75)
    res = alt_test(h, judge, epsilon=0.15)
    assert res.epsilons == (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
    grid = dict(zip(res.epsilons, res.winning_rate_grid, strict=True))
    assert grid[0.15] == res.winning_rate
    assert list(grid.values()) == sorted(grid.values())  # a larger margin can only help the judge
    assert [g["epsilon"] for g in res.to_dict()["epsilon_grid"]] == list(res.epsilons)


def test_an_annotator_with_no_instance_to_compare_on_is_counted_not_a_crash():
    """Regression: a person whose only ratings are on items no other person rated (early in
    a live study) has no instance to compare on; the test raised IndexError on the grid."""
    h, judge = _panel(12, n=60, judge_accuracy=0.95)
    newcomer = np.full((1, h.shape[1] + 1), np.nan)
    newcomer[0, -1] = 1.0  # the only person on the last instance
    panel = np.vstack([np.hstack([h, np.full((h.shape[0], 1), np.nan)]), newcomer])
    res = alt_test(panel, np.append(judge, 1.0), epsilon=0.1)
    late = res.annotators[-1]
    assert (late.n_instances, late.note, late.won) == (0, "no instance to compare on", False)
    assert late.p_values_grid == (None,) * len(res.epsilons)
    # counted as an annotator the judge did not beat
    assert res.winning_rate == sum(a.won for a in res.annotators) / len(res.annotators)
    assert res.winning_rate_grid[res.epsilons.index(0.1)] == res.winning_rate


def test_labels_as_strings_in_the_alternative_annotator_test():
    h, judge = _panel(12, n=40)
    names = np.array(["no", "maybe", "yes"], dtype=object)
    as_text = alt_test(names[h.astype(int)], names[judge.astype(int)], epsilon=0.1)
    assert as_text.to_dict() == alt_test(h, judge, epsilon=0.1).to_dict()


def test_the_gap_compares_like_with_like_on_the_judges_units():
    """Regression: the human-human side used every unit, the judge side only those it rated."""
    h, judge = _panel(13, n=120)
    judge[:60] = np.nan  # the judge rated half of the units
    gap = agreement_gap(h, judge, level="nominal", n_resamples=200)
    hh = np.mean(
        [
            krippendorff.alpha(reliability_data=h[[a, b], 60:], level_of_measurement="nominal")
            for a, b in itertools.combinations(range(4), 2)
        ]
    )
    assert gap.n_units == 60
    assert gap.human_human == pytest.approx(hh)


def test_gaps_of_two_judges_share_one_resample_matrix():
    from analysis.bootstrap import unit_weights

    h, good = _panel(14, n=100, judge_accuracy=0.9)
    _, poor = _panel(14, n=100, judge_accuracy=0.5)
    w = unit_weights(100, n_resamples=300, seed=3)
    cache: dict = {}
    a = agreement_gap(h, good, level="ordinal", weights=w, cache=cache)
    b = agreement_gap(h, poor, level="ordinal", weights=w, cache=cache)
    assert len(cache) == 1  # the human-human replicates were computed once
    assert a.human_human_ci == b.human_human_ci
    assert a.ci_method == "95% paired percentile bootstrap over units, 300 resamples"
    alone = agreement_gap(h, good, level="ordinal", n_resamples=300, seed=3)
    assert alone.difference_ci == pytest.approx(a.difference_ci)
