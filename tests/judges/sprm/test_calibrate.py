"""Calibration on outcomes through the product of step scores, and the MAP first error."""

import numpy as np
import pytest
from scipy.optimize import minimize

from judges.sprm.calibrate import apply_calibration, fit_product_calibration, map_first_error, to_logits


def synthetic(a: float, b: float, n: int = 3000, seed: int = 0):
    """Raw scores whose calibrated value sigmoid(a logit + b) is each step's true
    P(correct); the outcome is correct when every step is."""
    rng = np.random.default_rng(seed)
    scores, outcomes = [], []
    for _ in range(n):
        raw = 1 / (1 + np.exp(-rng.normal(1.0, 2.0, rng.integers(2, 6))))
        p = apply_calibration(raw, a, b)
        scores.append(raw)
        outcomes.append(bool((rng.random(len(p)) < p).all()))
    return scores, outcomes


def scipy_fit(scores, outcomes):
    """A second implementation: the same likelihood, minimised by scipy."""
    z = [to_logits(s) for s in scores]
    y = np.asarray(outcomes, float)

    def nll(theta):
        a, b = np.exp(theta[0]), theta[1]
        logp = np.array([-np.logaddexp(0, -(a * zi + b)).sum() for zi in z])
        logp = np.minimum(logp, -1e-12)
        return -np.mean(y * logp + (1 - y) * np.log(-np.expm1(logp)))

    res = minimize(
        nll, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000}
    )
    return np.exp(res.x[0]), res.x[1]


def test_the_fit_recovers_known_parameters_and_agrees_with_scipy():
    scores, outcomes = synthetic(a=0.6, b=1.5)
    fit = fit_product_calibration(scores, outcomes)
    a2, b2 = scipy_fit(scores, outcomes)
    assert fit["a"] == pytest.approx(a2, rel=1e-3) and fit["b"] == pytest.approx(b2, abs=1e-3)
    assert fit["a"] == pytest.approx(0.6, abs=0.1) and fit["b"] == pytest.approx(1.5, abs=0.25)
    assert fit["train_nll"] < fit["train_nll_uncalibrated"]


def test_calibration_keeps_the_order_of_steps():
    s = np.array([0.1, 0.4, 0.5, 0.9])
    out = apply_calibration(s, 0.3, 2.0)
    assert np.all(np.diff(out) > 0)
    np.testing.assert_allclose(apply_calibration(s, 1.0, 0.0), s)


def test_map_first_error_by_hand():
    assert map_first_error([0.99, 0.95, 0.9]) == -1  # product 0.846 >= 0.5: no error
    # all low: the old rule would blame step 0; MAP blames the lowest step after likely ones
    assert map_first_error([0.9, 0.85, 0.2, 0.1]) == 2
    assert map_first_error([0.1, 0.9, 0.9]) == 0
    # P(first error at i) = prod_{j<i} p_j (1 - p_i): 0.3 / 0.7*0.6=0.42 / 0.7*0.4*0.7=0.196
    assert map_first_error([0.7, 0.4, 0.3]) == 1
    assert map_first_error([]) == -1
