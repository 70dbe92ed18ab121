"""analysis.prm against scikit-learn and against small cases computed by hand."""

import re

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from analysis import prm


def raises(msg):
    return pytest.raises(ValueError, match=re.escape(msg))


# --- AUROC ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_equals_scikit_learn_with_ties_and_weights(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 8, 200) / 8  # many ties
    labels = rng.integers(0, 2, 200)
    weights = rng.integers(1, 4, 200).astype(float)
    assert prm.auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert prm.auroc(scores, labels, weights) == pytest.approx(
        roc_auc_score(labels, scores, sample_weight=weights), abs=1e-12
    )


def test_auroc_by_hand():
    # positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4, 0.8>0.1, 0.4=0.4, 0.4>0.1) = 3.5/4
    assert prm.auroc([0.8, 0.4, 0.4, 0.1], [1, 1, 0, 0]) == 0.875


def test_step_auroc_drops_unlabelled_steps_and_resamples_traces():
    scores = [0.9, 0.2, 0.99, 0.8, 0.7, 0.1]
    labels = [1, 0, np.nan, 1, 1, 0]  # step 2 comes after an error: unlabelled
    traces = [0, 0, 0, 1, 1, 1]
    res = prm.step_auroc(scores, labels, traces, n_boot=200, seed=1)
    assert res.value == roc_auc_score([1, 0, 1, 1, 0], [0.9, 0.2, 0.8, 0.7, 0.1])
    assert res.n_units == 5 and res.extra["n_clusters"] == 2
    assert res.ci[0] <= res.value <= res.ci[1]


def test_one_cluster_gives_a_degenerate_interval():
    rng = np.random.default_rng(0)
    scores, labels = rng.random(30), rng.integers(0, 2, 30)
    res = prm.step_auroc(scores, labels, np.zeros(30), n_boot=50)
    assert res.ci[0] == res.ci[1] == res.value  # every replicate draws the same trace


def test_bootstrap_is_seeded():
    rng = np.random.default_rng(3)
    scores, labels = rng.random(60), rng.integers(0, 2, 60)
    a = prm.step_auroc(scores, labels, n_boot=100, seed=5)
    b = prm.step_auroc(scores, labels, np.arange(60), n_boot=100, seed=5)
    c = prm.step_auroc(scores, labels, n_boot=100, seed=6)
    assert a == b
    assert a.ci != c.ci


def test_step_auroc_errors():
    with raises("AUROC needs both correct and erroneous labelled steps"):
        prm.step_auroc([0.1, 0.2], [1, np.nan])
    with raises("labels must be 0, 1 or NaN"):
        prm.step_auroc([0.1, 0.2], [1, 2])
    with raises("inputs must have the same length, got scores=2, labels=3"):
        prm.step_auroc([0.1, 0.2], [1, 0, 1])
    with raises("n_boot must be at least 1, got 0"):
        prm.step_auroc([0.1, 0.2], [1, 0], n_boot=0)
    with raises("confidence must be in (0, 1), got 1.0"):
        prm.step_auroc([0.1, 0.2], [1, 0], confidence=1.0)


# --- first errors and ProcessBench ---------------------------------------------------


def test_labels_from_first_error_follow_processbench():
    np.testing.assert_array_equal(prm.labels_from_first_error(1, 4), [1, 0, np.nan, np.nan])
    np.testing.assert_array_equal(prm.labels_from_first_error(-1, 2), [1, 1])
    with raises("first_error must be in [-1, 3), got 3"):
        prm.labels_from_first_error(3, 3)


def test_predicted_first_error_is_the_first_step_below_threshold():
    got = prm.predicted_first_errors([[0.9, 0.3, 0.1], [0.6, 0.7], [0.2]], threshold=0.5)
    assert got.tolist() == [1, -1, 0]
    with raises("threshold must be in [0, 1], got 2"):
        prm.predicted_first_errors([[0.1]], threshold=2)


def test_first_error_accuracy_by_hand():
    res = prm.first_error_accuracy([0, -1, 2, 1], [0, -1, 1, 1], n_boot=100)
    assert res.value == 0.75 and res.n_units == 4


def test_processbench_f1_by_hand():
    predicted = [1, -1, 0, -1, 2]
    true = [1, -1, 2, 0, -1]
    res = prm.processbench_f1(predicted, true, n_boot=200)
    # erroneous traces 0, 2, 3: one exact hit -> acc1 = 1/3
    # correct traces 1, 4: trace 1 predicted -1 -> acc2 = 1/2
    assert res.acc1.value == pytest.approx(1 / 3)
    assert res.acc2.value == pytest.approx(1 / 2)
    assert res.f1.value == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert (res.acc1.n_units, res.acc2.n_units, res.f1.n_units) == (3, 2, 5)
    # replicates without a correct trace are dropped and counted
    assert prm.as_metric_dict(res.f1)["n_boot_valid"] == 200 - res.f1.extra["n_resamples_undefined"]


def test_processbench_needs_both_kinds_of_trace():
    with raises("ProcessBench F1 needs at least one trace without an error"):
        prm.processbench_f1([0, 1], [0, 1])
    with raises("ProcessBench F1 needs at least one trace with an error"):
        prm.processbench_f1([0, -1], [-1, -1])
    with raises("first-error indices must be -1 or a 0-based step index"):
        prm.first_error_accuracy([-2], [0])


# --- calibration ------------------------------------------------------------------


def test_calibration_bins_match_scikit_learn():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random(300), 2)  # includes values on bin edges
    labels = (rng.random(300) < scores).astype(float)
    res = prm.calibration(scores, labels, n_bins=10, n_boot=50)
    frac, mean = calibration_curve(labels, scores, n_bins=10, strategy="uniform")
    filled = res.counts > 0
    np.testing.assert_allclose(res.frac_correct[filled], frac)
    np.testing.assert_allclose(res.mean_score[filled], mean)
    assert res.brier.value == pytest.approx(brier_score_loss(labels, scores))
    assert res.counts.sum() == 300


def test_ece_by_hand():
    res = prm.calibration([0.1, 0.2, 0.8, 0.9], [0, 1, 1, 1], n_bins=2, n_boot=10)
    # bin 1: mean score 0.15, 1/2 correct -> |0.5 - 0.15| * 2/4; bin 2: |1 - 0.85| * 2/4
    assert res.ece.value == pytest.approx(0.35 * 0.5 + 0.15 * 0.5)
    assert res.brier.value == pytest.approx((0.01 + 0.64 + 0.04 + 0.01) / 4)
    with raises("scores must be probabilities in [0, 1]"):
        prm.calibration([1.2], [1])


# --- Best-of-N ----------------------------------------------------------------------


def test_best_of_n_by_hand_with_ties_and_small_groups():
    scores = [0.9, 0.5, 0.3, 0.3, 0.1, 0.7]
    correct = [0, 1, 1, 0, 1, 1]
    groups = ["a", "a", "b", "b", "b", "c"]  # c has one solution: no choice, left out
    res = prm.best_of_n_accuracy(scores, correct, groups, n_boot=100)
    assert res.value == pytest.approx((0.0 + 0.5) / 2)  # b: tie between a right and a wrong one
    assert res.n_units == 2


def test_random_oracle_and_majority_vote_by_hand():
    correct = [1, 1, 0, 0, 1, 1, 0]
    groups = ["a", "a", "a", "b", "b", "c", "c"]
    answers = ["4", "4", "5", "1", "2", None, None]
    assert prm.random_choice_accuracy(correct, groups, n_boot=10).value == pytest.approx(
        (2 / 3 + 1 / 2 + 1 / 2) / 3
    )
    assert prm.oracle_accuracy(correct, groups, n_boot=10).value == 1.0
    # a: "4" wins (right); b: "1" and "2" tie (0.5); c: nobody answered -> random (0.5)
    assert prm.majority_vote_accuracy(answers, correct, groups, n_boot=10).value == pytest.approx(
        (1 + 0.5 + 0.5) / 3
    )


def test_best_of_n_errors():
    with raises("no group has at least 2 solutions"):
        prm.best_of_n_accuracy([0.1, 0.2], [1, 0], ["a", "b"])
    with raises("correct must be boolean (0 or 1)"):
        prm.oracle_accuracy([2, 0], ["a", "a"])


# --- one toolkit ------------------------------------------------------------------


def test_every_metric_returns_the_shared_result_type():
    """Regression: prm had its own MetricResult; now every analysis statistic is an AgreementResult."""
    from analysis.result import AgreementResult

    scores = [0.9, 0.2, 0.8, 0.7, 0.1, 0.6]
    labels = [1, 0, 1, 1, 0, 1]
    traces = [0, 0, 1, 1, 2, 2]
    results = [
        prm.step_auroc(scores, labels, traces, n_boot=20),
        prm.first_error_accuracy([0, -1, 1], [0, -1, 0], n_boot=20),
        prm.calibration(scores, labels, traces, n_boot=20).ece,
        prm.best_of_n_accuracy(scores, labels, traces, n_boot=20),
    ]
    for res in results:
        assert isinstance(res, AgreementResult)
        assert res.ci_method == "95% percentile bootstrap over clusters, 20 resamples"
        assert set(prm.as_metric_dict(res)) == {
            "value",
            "ci_low",
            "ci_high",
            "n_units",
            "n_clusters",
            "n_boot_valid",
        }


def test_resamples_come_from_analysis_bootstrap():
    """The same seed draws the same clusters as every other interval of the toolkit."""
    from analysis.bootstrap import percentile_ci, resample_counts

    hit = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    res = prm.first_error_accuracy(hit.astype(int), np.ones(7, dtype=int), n_boot=300, seed=4)
    w = np.vstack(list(resample_counts(7, n_resamples=300, seed=4)))
    expected, _ = percentile_ci((w @ hit) / w.sum(axis=1), 0.95)
    assert res.ci == pytest.approx(expected)


def test_weighted_vote_by_hand():
    # problem 0: "5" has two votes but less weight than "6"; problem 1: a tie of weights
    answers = ["5", "5", "6", "7", "8", None]
    weights = [0.2, 0.2, 0.9, 0.5, 0.5, 1.0]
    correct = [True, True, False, False, True, False]
    groups = [0, 0, 0, 1, 1, 1]
    result = prm.weighted_vote_accuracy(answers, weights, correct, groups, n_boot=10)
    assert result.value == pytest.approx((0.0 + 0.5) / 2)  # "6" wrong; tie 7/8 -> 0.5
    assert prm.majority_vote_accuracy(answers, correct, groups, n_boot=10).value == pytest.approx(
        (1.0 + 0.5) / 2
    )


def test_weighted_vote_with_equal_weights_is_majority_vote():
    rng = np.random.default_rng(3)
    n = 400
    answers = [None if rng.random() < 0.1 else str(rng.integers(0, 4)) for _ in range(n)]
    correct = rng.random(n) < 0.4
    groups = np.repeat(np.arange(n // 4), 4)
    for w in (np.ones(n), np.full(n, 0.3)):
        a = prm.weighted_vote_accuracy(answers, w, correct, groups, n_boot=200, seed=1)
        b = prm.majority_vote_accuracy(answers, correct, groups, n_boot=200, seed=1)
        assert a.value == pytest.approx(b.value) and a.ci == pytest.approx(b.ci)


def test_weighted_vote_refuses_bad_weights():
    with pytest.raises(ValueError, match="non-negative"):
        prm.weighted_vote_accuracy(["a", "b"], [0.5, -1.0], [True, False], [0, 0], n_boot=10)
    with pytest.raises(ValueError, match="same length"):
        prm.weighted_vote_accuracy(["a", "b"], [0.5], [True, False], [0, 0], n_boot=10)
