import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from judges.sprm.loss import balanced_filter_centre, last_step_loss, orm_loss, spr_loss, spr_weights


def bce(z: float, y: float) -> float:
    p = 1 / (1 + math.exp(-z))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_spr_weights_keep_steps_whose_pseudo_label_agrees():
    z = torch.tensor([2.0, -1.0, 0.5, -3.0])
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    assert spr_weights(z, y).tolist() == [True, False, False, True]


def test_spr_loss_matches_the_metastone_formula_by_hand():
    # kept: step 0 (z>0, y=1), step 3 (z<0, y=0), step 4 (z>0, y=1); dropped: 1, 2
    z = torch.tensor([2.0, -1.0, 0.5, -3.0, 0.2])
    y = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0])
    out = spr_loss(z, y)
    p, n = 2 + 1, 1 + 1  # kept positives + 1, kept negatives + 1
    c_pos, c_neg = 1.5 * n / (p + n), p / (p + n)
    num = c_pos * (bce(2.0, 1) + bce(0.2, 1)) + c_neg * bce(-3.0, 0)
    den = 2 * c_pos + c_neg + 1e-5
    assert math.isclose(float(out.loss), num / den, rel_tol=1e-6)
    assert (out.kept_pos, out.kept_neg, out.n_pos, out.n_neg) == (2, 1, 3, 2)


def test_filtered_steps_get_no_gradient():
    z = torch.tensor([2.0, -1.0, 0.5, -3.0], requires_grad=True)
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    spr_loss(z, y).loss.backward()
    assert z.grad is not None
    assert z.grad[1] == 0 and z.grad[2] == 0
    assert z.grad[0] != 0 and z.grad[3] != 0


def test_orm_keeps_every_step_with_the_same_balancing():
    z = torch.tensor([2.0, -1.0, 0.5])
    y = torch.tensor([1.0, 1.0, 0.0])
    out = orm_loss(z, y)
    p, n = 3, 2
    c_pos, c_neg = 1.5 * n / (p + n), p / (p + n)
    num = c_pos * (bce(2.0, 1) + bce(-1.0, 1)) + c_neg * bce(0.5, 0)
    assert math.isclose(float(out.loss), num / (2 * c_pos + c_neg + 1e-5), rel_tol=1e-6)
    assert (out.kept_pos, out.kept_neg) == (2, 1)


def test_last_step_loss_reads_only_last_steps():
    z = torch.tensor([5.0, -1.0, 0.3])
    y = torch.tensor([0.0, 1.0, 1.0])
    last = torch.tensor([False, False, True])
    out = last_step_loss(z, y, last)
    expected = F.binary_cross_entropy_with_logits(torch.tensor(0.3), torch.tensor(1.0))
    # one kept positive: P = 2, N = 1, c = 1.5 * 1 / 3 = 0.5; loss = bce * c / (c + eps)
    assert math.isclose(float(out.loss), float(expected) * 0.5 / (0.5 + 1e-5), rel_tol=1e-6)
    assert (out.kept_pos, out.kept_neg) == (1, 0)


def _kept_shares(z, y, t):
    pos = y > 0.5
    return float(np.mean(z[pos] > t)), float(np.mean(z[~pos] < t))


def test_balanced_filter_centre_keeps_equal_shares_of_both_classes():
    # positives 0, 1, 3 and negatives -2, -1, 2: only t in (0, 1) keeps 2/3 of each
    # (t = -0.5 keeps 3/3 and 2/3; t = 1.5 keeps 1/3 and 2/3)
    z = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    y = np.array([0, 0, 1, 1, 0, 1])
    t = balanced_filter_centre(z, y)
    assert t == 0.5  # midway between neighbouring logits
    assert _kept_shares(z, y, t) == (2 / 3, 2 / 3)
    assert _kept_shares(z, y, -0.5) == (1.0, 2 / 3)
    assert _kept_shares(z, y, 1.5) == (1 / 3, 2 / 3)


@pytest.mark.parametrize("seed", range(5))
def test_balanced_filter_centre_matches_a_brute_force_search(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=200) - 1.0
    y = (rng.random(200) < 0.15).astype(float)
    t = balanced_filter_centre(z, y)
    grid = np.linspace(z.min() - 1, z.max() + 1, 20001)
    best = min(abs(np.subtract(*_kept_shares(z, y, g))) for g in grid)
    assert abs(np.subtract(*_kept_shares(z, y, t))) == pytest.approx(best, abs=1e-12)


def test_balanced_filter_centre_is_zero_without_both_classes_and_checks_shapes():
    assert balanced_filter_centre(np.array([1.0, -2.0]), np.array([1, 1])) == 0.0
    assert balanced_filter_centre(np.array([1.0, -2.0]), np.array([0, 0])) == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        balanced_filter_centre(np.zeros(3), np.zeros(2))


def test_spr_weights_compare_with_the_centre():
    z = torch.tensor([2.0, -1.0, 0.5, -3.0])
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    assert spr_weights(z, y, centre=-1.5).tolist() == [True, True, False, True]
    assert spr_weights(z, y, centre=1.0).tolist() == [True, False, True, True]
