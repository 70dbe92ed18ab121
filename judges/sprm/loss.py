"""The SPR loss of MetaStone-S1 and its ablation variants.

Self-supervised process reward loss (Wang et al., "Test-Time Scaling with
Reflective Generative Model", MetaStone-S1, arXiv 2507.01951, Sec. 3; code
MetaStone-AI/MetaStone-S1). Every step ``i`` of a solution takes the solution's
outcome label ``y`` (1 if the final answer is correct). With the head's logit
``z_i`` the step counts only when its own pseudo-label agrees with ``y``:

    w_i = 1[(z_i > 0 and y = 1) or (z_i < 0 and y = 0)]

Kept steps are class-balanced: with ``P = sum_i w_i y_i + 1`` and
``N = sum_i w_i (1 - y_i) + 1``

    c_i = 1.5 N / (P + N)   if y_i = 1
    c_i =     P / (P + N)   if y_i = 0

    L = sum_i BCE(sigmoid(z_i), y_i) w_i c_i / (sum_i w_i c_i + 1e-5)

(the paper writes the unbalanced form ``L = (1/N) sum_i w_i BCE(score_i, y)``; the
balancing is from the released code). Sums run over the steps of a batch.

**Filter centre.** The filter above compares the logit with 0. When most training
outcomes are of one class, a head after warm-up puts nearly every step on that
class's side of 0, the filter then keeps almost no step of the other class, and the
SPR epochs only push further (measured: GSM8K kept 0.7% of the positive steps,
BIG-Bench Mistake 20-54%). ``spr_weights(..., centre=t)`` compares with ``t``
instead; training (``TrainConfig.filter_centre = "balanced"``, the default) sets
``t`` before each batch to :func:`balanced_filter_centre` of the most recent
training logits (``filter_window`` steps), the point where the filter keeps the
same share of positive as of negative steps, so both classes stay in the loss. (A
centre fixed for an epoch lagged: a fine-tuned head moved within its one SPR epoch
until the filter kept 39% of the positive steps against 94% of the negative.) It
reads only outcome labels.

Variants, trained by the same code with the same balancing so that the ablation
changes only which steps count:

- ``orm``: outcome supervision, ``w_i = 1`` for every step (no filter);
- ``last_step``: ``w_i = 1`` only for each solution's last step;
- plain-BCE warm-up: the ``orm`` loss, used for the first epochs of an SPR run
  because a fresh head's pseudo-labels are noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "LossOutput",
    "balanced_bce",
    "balanced_filter_centre",
    "global_class_weights",
    "last_step_loss",
    "orm_loss",
    "spr_loss",
    "spr_weights",
]

EPS = 1e-5


@dataclass
class LossOutput:
    loss: torch.Tensor
    kept_pos: int  # positive steps that counted
    kept_neg: int
    n_pos: int  # positive steps in the batch
    n_neg: int


def balanced_bce(
    logits: torch.Tensor,
    y: torch.Tensor,
    w: torch.Tensor,
    class_weights: tuple[float, float] | None = None,
) -> LossOutput:
    """``sum BCE w c / (sum w c + 1e-5)`` with MetaStone-S1's class weights ``c``.

    With `class_weights` ``(c_pos, c_neg)`` (fixed over the training set, see
    :func:`global_class_weights`) the loss is ``sum BCE w c / (sum w + 1e-5)``
    instead: per-batch weights cancel in a batch that holds one class only, which
    with small batches and 85% negative outcomes is most batches.
    """
    y = y.float()
    w = w.float()
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    if class_weights is None:
        p = (w * y).sum() + 1
        n = (w * (1 - y)).sum() + 1
        c = torch.where(y > 0.5, 1.5 * n / (p + n), p / (p + n))
        loss = (bce * w * c).sum() / ((w * c).sum() + EPS)
    else:
        c = torch.where(y > 0.5, class_weights[0], class_weights[1])
        loss = (bce * w * c).sum() / (w.sum() + EPS)
    kept = w > 0.5
    pos = y > 0.5
    return LossOutput(
        loss=loss,
        kept_pos=int((kept & pos).sum()),
        kept_neg=int((kept & ~pos).sum()),
        n_pos=int(pos.sum()),
        n_neg=int((~pos).sum()),
    )


def global_class_weights(n_pos: int, n_neg: int) -> tuple[float, float]:
    """``(c_pos, c_neg) = (n / 2 n_pos, n / 2 n_neg)`` over the training steps
    (each class carries half of the loss); 1 for a class that is absent."""
    n = n_pos + n_neg
    return (n / (2 * n_pos) if n_pos else 1.0, n / (2 * n_neg) if n_neg else 1.0)


def spr_weights(logits: torch.Tensor, y: torch.Tensor, centre: float = 0.0) -> torch.Tensor:
    """``w_i = 1[(z_i > t and y = 1) or (z_i < t and y = 0)]`` with ``t = centre``
    (MetaStone-S1: 0); no gradient."""
    z = logits.detach()
    pos = y > 0.5
    return ((z > centre) & pos) | ((z < centre) & ~pos)


def balanced_filter_centre(logits: np.ndarray, y: np.ndarray) -> float:
    """The centre ``t`` at which the SPR filter keeps as large a share of the positive
    steps (``z > t``) as of the negative ones (``z < t``): the crossing of the two
    shares, taken midway between neighbouring logits. 0 when a class is absent."""
    z = np.asarray(logits, dtype=np.float64).ravel()
    pos = np.asarray(y, dtype=np.float64).ravel() > 0.5
    if z.shape != pos.shape:
        raise ValueError("logits and y differ in shape")
    zp, zn = np.sort(z[pos]), np.sort(z[~pos])
    if not len(zp) or not len(zn):
        return 0.0
    u = np.unique(z)
    cands = np.concatenate([[u[0] - 1.0], (u[:-1] + u[1:]) / 2, [u[-1] + 1.0]])
    kept_pos = 1.0 - np.searchsorted(zp, cands, side="right") / len(zp)  # share of zp > t
    kept_neg = np.searchsorted(zn, cands, side="left") / len(zn)  # share of zn < t
    gap = np.abs(kept_pos - kept_neg)
    best = np.flatnonzero(gap == gap.min())
    return float(np.median(cands[best]))


def spr_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    class_weights: tuple[float, float] | None = None,
    centre: float = 0.0,
) -> LossOutput:
    """The SPR loss: balanced BCE over the steps whose pseudo-label (the logit against
    `centre`) agrees with y."""
    return balanced_bce(logits, y, spr_weights(logits, y, centre), class_weights)


def orm_loss(
    logits: torch.Tensor, y: torch.Tensor, class_weights: tuple[float, float] | None = None
) -> LossOutput:
    """Outcome supervision: every step takes y, nothing is filtered."""
    return balanced_bce(logits, y, torch.ones_like(y, dtype=torch.bool), class_weights)


def last_step_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    is_last: torch.Tensor,
    class_weights: tuple[float, float] | None = None,
) -> LossOutput:
    """Only each solution's last step is trained, towards y."""
    return balanced_bce(logits, y, is_last.bool(), class_weights)
