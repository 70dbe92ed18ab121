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
