"""The step-score head of MetaStone-S1 (arXiv 2507.01951).

``Linear(d, 2d) -> ReLU -> Dropout(0.5) -> Linear(2d, 1)``; the step score is the
sigmoid of the logit. The forward pass returns logits, so that the loss can use
the numerically stable ``binary_cross_entropy_with_logits``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SPRMHead"]


class SPRMHead(nn.Module):
    def __init__(self, in_dim: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.net = nn.Sequential(
            nn.Linear(in_dim, 2 * in_dim),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(2 * in_dim, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, in_dim) features -> (n,) logits."""
        return self.net(x).squeeze(-1)
