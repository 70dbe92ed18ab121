"""Reliability diagram data and expected calibration error."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.calibration import reliability


def test_bins_by_hand():
    scores = [0.05, 0.15, 0.15, 0.95, 0.85, np.nan]
    correct = [0, 0, 1, 1, 1, 1]
    r = reliability(scores, correct, n_bins=10)
    assert r.n == 5
    assert r.count[0] == 1 and r.count[1] == 2 and r.count[8] == 1 and r.count[9] == 1
    assert r.mean_score[1] == pytest.approx(0.15) and r.share_correct[1] == pytest.approx(0.5)
    assert r.mean_score[4] is None
    expected = (1 * 0.05 + 2 * 0.35 + 1 * 0.15 + 1 * 0.05) / 5
    assert r.ece == pytest.approx(expected)


def test_a_calibrated_scorer_has_small_ece():
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    assert reliability(p, rng.random(20000) < p).ece < 0.02
    assert reliability(p, rng.random(20000) < 0.5).ece > 0.2


def test_scores_outside_unit_interval_raise():
    with pytest.raises(ValueError, match=r"^scores must lie in \[0, 1\]$"):
        reliability([1.5], [1])


def test_one_binning_rule_for_the_report_and_the_prm_metrics():
    """Regression: calibration.py binned [a, b) and prm.py (a, b], so these scores
    gave ECE 0.167 in the report and 0.200 in evaluate_sprm. The rule is (a, b]
    (Guo et al. 2017): 0.1 lies in the first of ten bins, 1.0 in the last."""
    from analysis import prm

    scores = [0.0, 0.0, 0.0, 0.1, 0.9, 1.0]
    correct = [0, 0, 0, 0, 1, 0]
    # bin 1: {0, 0, 0, 0.1}, none correct: |0.025 - 0| * 4/6; bin 9: 0.9 correct: 0.1/6;
    # bin 10: 1.0 wrong: 1/6  -> (0.1 + 0.1 + 1) / 6 = 0.2
    report_side = reliability(scores, correct)
    prm_side = prm.calibration(scores, correct, n_boot=10)
    assert report_side.ece == pytest.approx(0.2)
    assert prm_side.ece.value == pytest.approx(0.2)
    assert report_side.count == prm_side.counts.tolist() == [4, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    from analysis.calibration import bin_index

    assert bin_index(np.array([0.0, 0.1, 0.3, 0.30000000000000004, 1.0]), 10).tolist() == [0, 0, 2, 3, 9]
