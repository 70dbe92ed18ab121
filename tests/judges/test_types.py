"""judges.types: the plain data judges take and return."""

import re

import numpy as np
import pytest

from analysis import prm
from judges.types import step_labels_from_first_error


@pytest.mark.parametrize("n_steps", [0, 1, 3])
@pytest.mark.parametrize("first_error", [-2, -1, 0, 1, 2, 3])
def test_one_first_error_rule_for_judges_and_analysis(first_error, n_steps):
    """Regression: judges.types had its own copy (it returned [] for 0 steps where
    analysis refused them). judges derives from analysis now: same labels, same errors."""
    try:
        expected = prm.labels_from_first_error(first_error, n_steps)
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc))):
            step_labels_from_first_error(first_error, n_steps)
        return
    got = step_labels_from_first_error(first_error, n_steps)
    assert got == [None if np.isnan(v) else (1 if v == 1 else -1) for v in expected]
