import math

import numpy as np
import pytest

from judges.sprm.score import best_of_n, first_below, geometric_mean


def test_geometric_mean_by_hand():
    assert geometric_mean([0.5, 0.8, 0.9]) == pytest.approx((0.5 * 0.8 * 0.9) ** (1 / 3))
    assert geometric_mean([1.0, 1.0]) == 1.0
    assert geometric_mean([0.0, 1.0]) == pytest.approx(1e-6)  # floored at 1e-12
    assert math.isnan(geometric_mean([]))


def test_geometric_mean_punishes_one_bad_step_more_than_the_arithmetic_mean():
    scores = np.array([0.99, 0.99, 0.05])
    assert geometric_mean(scores) < scores.mean()


def test_best_of_n_picks_the_highest_first_on_ties():
    assert best_of_n([0.2, 0.7, 0.5]) == 1
    assert best_of_n([0.7, 0.7]) == 0
    with pytest.raises(ValueError, match="best_of_n needs at least one solution"):
        best_of_n([])


def test_first_below_is_the_predicted_first_error():
    assert first_below([0.9, 0.4, 0.2], 0.5) == 1
    assert first_below([0.9, 0.6], 0.5) == -1
    assert first_below([0.5], 0.5) == -1  # at the threshold counts as correct


def test_outcome_threshold_maximises_balanced_accuracy_by_hand():
    from judges.sprm.score import outcome_threshold

    minima = [0.9, 0.7, 0.4, 0.35, 0.1]
    outcomes = [True, True, False, True, False]
    # t = 0.35: predicts T T T T F -> TPR 3/3, TNR 1/2 -> 0.75
    # t = 0.5 or 0.7: predicts T T F F F -> TPR 2/3, TNR 2/2 -> 0.833 (ties: the smaller t)
    t, bal = outcome_threshold(minima, outcomes)
    assert t == 0.5 and bal == pytest.approx(5 / 6)
    t, _ = outcome_threshold([0.9, 0.8, 0.4, 0.1], [True, True, False, False])
    assert t == 0.5  # candidates 0.5 and 0.8 both separate perfectly
    t, _ = outcome_threshold([0.9, 0.45, 0.3, 0.1], [True, True, False, False])
    assert t == 0.45
    assert outcome_threshold([0.2, 0.3], [True, True])[0] == 0.5  # one class: the default
