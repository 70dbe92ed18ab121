import math

import torch
import torch.nn.functional as F

from judges.sprm.loss import last_step_loss, orm_loss, spr_loss, spr_weights


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
