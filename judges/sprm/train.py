"""Training the step head: SPR, ORM and last-step variants, deterministic by seed.

Training reads features and outcome labels only; a solution's human step labels
are never passed in. Every epoch logs the fraction of positive and of negative
steps the loss kept; an SPR epoch that kept no step of a class present in the
data marks the run as collapsed (MetaStone-S1's filter can lock in: once the
head leans negative, no positive step agrees with its pseudo-label).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from judges.sprm.data import Solution
from judges.sprm.features import Featurizer
from judges.sprm.head import SPRMHead
from judges.sprm.loss import last_step_loss, orm_loss, spr_loss
from judges.sprm.model import SPRMModel
from judges.sprm.score import head_scores, outcome_threshold
from judges.sprm.trajectory import has_trajectory, train_trajectory_head, trajectory_features

__all__ = ["VARIANTS", "EpochLog", "TrainConfig", "TrainResult", "data_hash", "fit", "train_head"]

VARIANTS = ("sprm", "orm", "last_step")


@dataclass
class TrainConfig:
    variant: str = "sprm"
    epochs: int = 10  # total, warm-up included, so all variants see as many epochs
    warmup_epochs: int = 1  # plain-BCE (orm loss) epochs first; sprm only
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 256  # steps per batch
    dropout: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r} (known: {', '.join(VARIANTS)})")
        if self.epochs < 1:
            raise ValueError("epochs must be at least 1")


@dataclass
class EpochLog:
    epoch: int
    phase: str  # "warmup", "sprm", "orm" or "last_step"
    loss: float
    kept_pos: float  # fraction of positive steps the loss counted
    kept_neg: float
    collapsed: bool


@dataclass
class TrainResult:
    head: SPRMHead
    history: list[EpochLog] = field(default_factory=list)

    @property
    def collapsed_epochs(self) -> list[int]:
        return [e.epoch for e in self.history if e.collapsed]

    @property
    def collapsed(self) -> bool:
        return bool(self.collapsed_epochs)


def train_head(
    features: Sequence[np.ndarray],
    outcomes: Sequence[bool],
    config: TrainConfig,
    on_epoch: Callable[[EpochLog], None] | None = None,
) -> TrainResult:
    """Train a fresh head on per-solution (n_steps, dim) features and outcome labels."""
    if len(features) != len(outcomes):
        raise ValueError("features and outcomes differ in length")
    feats = [f for f in features if len(f)]
    outs = [o for f, o in zip(features, outcomes, strict=True) if len(f)]
    if not feats:
        raise ValueError("no steps to train on")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    x = torch.from_numpy(np.concatenate(feats).astype(np.float32))
    y = torch.from_numpy(
        np.concatenate([np.full(len(f), float(o), np.float32) for f, o in zip(feats, outs, strict=True)])
    )
    is_last = torch.from_numpy(np.concatenate([np.arange(len(f)) == len(f) - 1 for f in feats]))
    head = SPRMHead(x.shape[1], dropout=config.dropout)
    opt = torch.optim.Adam(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    result = TrainResult(head=head)
    for epoch in range(config.epochs):
        if config.variant == "sprm":
            phase = "warmup" if epoch < config.warmup_epochs else "sprm"
        else:
            phase = config.variant
        head.train()
        order = torch.from_numpy(rng.permutation(len(x)))
        total, kept_pos, kept_neg, n_pos, n_neg = 0.0, 0, 0, 0, 0
        for start in range(0, len(x), config.batch_size):
            idx = order[start : start + config.batch_size]
            logits = head(x[idx])
            if phase == "sprm":
                out = spr_loss(logits, y[idx])
            elif phase == "last_step":
                out = last_step_loss(logits, y[idx], is_last[idx])
            else:
                out = orm_loss(logits, y[idx])
            opt.zero_grad()
            out.loss.backward()
            opt.step()
            total += float(out.loss.detach()) * len(idx)
            kept_pos += out.kept_pos
            kept_neg += out.kept_neg
            n_pos += out.n_pos
            n_neg += out.n_neg
        collapsed = phase == "sprm" and ((n_pos > 0 and kept_pos == 0) or (n_neg > 0 and kept_neg == 0))
        log = EpochLog(
            epoch=epoch,
            phase=phase,
            loss=total / len(x),
            kept_pos=kept_pos / n_pos if n_pos else float("nan"),
            kept_neg=kept_neg / n_neg if n_neg else float("nan"),
            collapsed=collapsed,
        )
        result.history.append(log)
        if on_epoch is not None:
            on_epoch(log)
    head.eval()
    return result


def data_hash(solutions: Sequence[Solution]) -> str:
    """sha256 of what training reads: problems, step texts, outcomes (not step labels)."""
    digest = hashlib.sha256()
    for s in solutions:
        record = [s.problem, [st.text for st in s.steps], [st.section for st in s.steps], s.outcome]
        digest.update(json.dumps(record, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def fit(
    solutions: Sequence[Solution],
    featurizer: Featurizer,
    config: TrainConfig,
    on_epoch: Callable[[EpochLog], None] | None = None,
) -> SPRMModel:
    """Encode (through the cache), train the step head, and the trajectory head when
    the data has thinking-trajectory items; return the model with its card."""
    if any(s.outcome is None for s in solutions):
        raise ValueError("every training solution needs an outcome label")
    feats = featurizer.build(solutions)
    outcomes = [bool(s.outcome) for s in solutions]
    result = train_head([f.x for f in feats], outcomes, config, on_epoch)
    train_scores = head_scores(result.head, np.concatenate([f.x for f in feats if len(f.x)]))
    sizes = [len(f.x) for f in feats if len(f.x)]
    minima = [float(part.min()) for part in np.split(train_scores, np.cumsum(sizes)[:-1])]
    with_steps = [o for f, o in zip(feats, outcomes, strict=True) if len(f.x)]
    threshold, balanced = outcome_threshold(minima, with_steps)
    traj_idx = [i for i, s in enumerate(solutions) if has_trajectory([st.section for st in s.steps])]
    traj_head = None
    if traj_idx:
        rows = np.stack(
            [trajectory_features(feats[i], [st.section for st in solutions[i].steps]) for i in traj_idx]
        )
        traj_head = train_trajectory_head(rows, [outcomes[i] for i in traj_idx], seed=config.seed)
    card: dict[str, Any] = {
        "format": "concordance-sprm/1",
        "encoder_id": featurizer.encoder_id,
        "featurizer": featurizer.spec(),
        "feature_dim": featurizer.dim,
        "variant": config.variant,
        "data_hash": data_hash(solutions),
        "n_solutions": len(solutions),
        "n_steps": int(sum(len(f.x) for f in feats)),
        "n_positive_solutions": int(sum(outcomes)),
        "hyperparameters": asdict(config),
        "training": {
            "history": [asdict(e) for e in result.history],
            "collapsed": result.collapsed,
            "collapsed_epochs": result.collapsed_epochs,
            "final_loss": result.history[-1].loss,
        },
        # chosen from training outcomes only (see score.outcome_threshold)
        "outcome_threshold": {"value": threshold, "train_balanced_accuracy": balanced},
        "trajectory": {"trained_head": traj_head is not None, "n_items": len(traj_idx)},
    }
    return SPRMModel(featurizer=featurizer, head=result.head, card=card, trajectory_head=traj_head)
