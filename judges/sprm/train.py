"""Training the step head: SPR, ORM and last-step variants, deterministic by seed.

Training reads features and outcome labels only; a solution's human step labels
are never passed in. Every epoch logs the fraction of positive and of negative
steps the loss kept; an SPR epoch that kept no step of a class present in the
data marks the run as collapsed (MetaStone-S1's filter can lock in: once the
head leans negative, no positive step agrees with its pseudo-label). By default the
filter's centre follows the most recent training logits (``filter_centre="balanced"``,
see :mod:`judges.sprm.loss`), which keeps both classes in the loss; ``"zero"`` is
MetaStone-S1's filter at logit 0.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from judges.sprm.calibrate import apply_calibration, fit_product_calibration
from judges.sprm.data import Solution, split_by_group
from judges.sprm.features import Featurizer, TraceFeatures
from judges.sprm.finetune import FinetunedFeaturizer
from judges.sprm.head import SPRMHead
from judges.sprm.loss import (
    LossOutput,
    balanced_filter_centre,
    global_class_weights,
    last_step_loss,
    orm_loss,
    spr_loss,
)
from judges.sprm.model import SPRMModel
from judges.sprm.score import head_scores, outcome_threshold
from judges.sprm.trajectory import has_trajectory, train_trajectory_head, trajectory_features

__all__ = [
    "BALANCES",
    "ENCODERS",
    "FILTER_CENTRES",
    "VARIANTS",
    "EpochLog",
    "TrainConfig",
    "TrainResult",
    "calibration_split",
    "data_hash",
    "fit",
    "train_finetune",
    "train_head",
]

VARIANTS = ("sprm", "orm", "last_step")
ENCODERS = ("frozen", "finetune")
# "global": class weights fixed from the training steps' outcomes (each class half
# of the loss); "batch": MetaStone-S1's per-batch weights over the kept steps.
BALANCES = ("global", "batch")
# where the SPR filter compares a step's logit: "balanced": the crossing of kept shares
# over the most recent training logits (loss.balanced_filter_centre); "zero": MetaStone-S1's 0
FILTER_CENTRES = ("balanced", "zero")


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
    balance: str = "global"
    filter_centre: str = "balanced"
    filter_window: int = 2048  # "balanced": steps of recent logits the centre is taken from
    calibrate: bool = True  # fit the product calibration on training outcomes
    encoder: str = "frozen"  # "finetune": MiniLM trained end to end (judges.sprm.finetune)
    encoder_lr: float = 3e-5  # finetune only: the encoder's learning rate (the head's is lr)
    trace_batch: int = 8  # finetune only: traces per update
    # share of the training problems kept out of the head's (and encoder's) training and
    # used only to fit the calibration and the outcome threshold (0: fit on the training
    # solutions themselves, which a fine-tuned encoder has learnt, so the fit is too flat)
    calibration_holdout: float = 0.0

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r} (known: {', '.join(VARIANTS)})")
        if self.encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {self.encoder!r} (known: {', '.join(ENCODERS)})")
        if self.balance not in BALANCES:
            raise ValueError(f"unknown balance {self.balance!r} (known: {', '.join(BALANCES)})")
        if self.filter_centre not in FILTER_CENTRES:
            raise ValueError(
                f"unknown filter_centre {self.filter_centre!r} (known: {', '.join(FILTER_CENTRES)})"
            )
        if self.filter_window < 1:
            raise ValueError("filter_window must be at least 1")
        if self.trace_batch < 1:
            raise ValueError("trace_batch must be at least 1")
        if self.epochs < 1:
            raise ValueError("epochs must be at least 1")
        if not 0.0 <= self.calibration_holdout < 1.0:
            raise ValueError(f"calibration_holdout must be in [0, 1), got {self.calibration_holdout}")


@dataclass
class EpochLog:
    epoch: int
    phase: str  # "warmup", "sprm", "orm" or "last_step"
    loss: float
    kept_pos: float  # fraction of positive steps the loss counted
    kept_neg: float
    collapsed: bool
    centre: float | None = None  # sprm epochs: the filter's mean centre (logit) over the batches


@dataclass
class TrainResult:
    head: SPRMHead
    history: list[EpochLog] = field(default_factory=list)
    # finetune: the trained encoder's features of the training solutions that have
    # steps, from the activation cache (saves a full forward pass over them)
    features: list[TraceFeatures] | None = None

    @property
    def collapsed_epochs(self) -> list[int]:
        return [e.epoch for e in self.history if e.collapsed]

    @property
    def collapsed(self) -> bool:
        return bool(self.collapsed_epochs)


def _phase(config: TrainConfig, epoch: int) -> str:
    if config.variant == "sprm":
        return "warmup" if epoch < config.warmup_epochs else "sprm"
    return config.variant


def _loss(
    phase: str,
    logits: torch.Tensor,
    y: torch.Tensor,
    is_last: torch.Tensor,
    class_weights: tuple[float, float] | None,
    centre: float = 0.0,
) -> LossOutput:
    if phase == "sprm":
        return spr_loss(logits, y, class_weights, centre)
    if phase == "last_step":
        return last_step_loss(logits, y, is_last, class_weights)
    return orm_loss(logits, y, class_weights)


class _Tally:
    """Loss and kept counts of one epoch."""

    def __init__(self) -> None:
        self.total, self.n, self.kept_pos, self.kept_neg, self.n_pos, self.n_neg = 0.0, 0, 0, 0, 0, 0
        self.centres: list[float] = []

    def add(self, out: LossOutput, n: int, centre: float) -> None:
        self.centres.append(centre)
        self.total += float(out.loss.detach()) * n
        self.n += n
        self.kept_pos += out.kept_pos
        self.kept_neg += out.kept_neg
        self.n_pos += out.n_pos
        self.n_neg += out.n_neg

    def log(self, epoch: int, phase: str) -> EpochLog:
        collapsed = phase == "sprm" and (
            (self.n_pos > 0 and self.kept_pos == 0) or (self.n_neg > 0 and self.kept_neg == 0)
        )
        return EpochLog(
            epoch=epoch,
            phase=phase,
            loss=self.total / max(self.n, 1),
            kept_pos=self.kept_pos / self.n_pos if self.n_pos else float("nan"),
            kept_neg=self.kept_neg / self.n_neg if self.n_neg else float("nan"),
            collapsed=collapsed,
            centre=float(np.mean(self.centres)) if phase == "sprm" and self.centres else None,
        )


class _FilterCentre:
    """The SPR filter's centre before each batch: with ``filter_centre="balanced"``,
    :func:`balanced_filter_centre` of the last `filter_window` training steps' logits
    (training mode, the warm-up's included), so it follows the head as it moves
    within an epoch; 0 otherwise. Reads outcome labels only."""

    def __init__(self, config: TrainConfig) -> None:
        self.on = config.filter_centre == "balanced"
        self.window = config.filter_window
        self.z: deque[np.ndarray] = deque()
        self.y: deque[np.ndarray] = deque()
        self.n = 0

    def value(self, phase: str) -> float:
        if phase != "sprm" or not self.on or not self.z:
            return 0.0
        return balanced_filter_centre(np.concatenate(self.z), np.concatenate(self.y))

    def add(self, logits: torch.Tensor, y: torch.Tensor) -> None:
        if not self.on:
            return
        self.z.append(logits.detach().float().numpy().ravel())
        self.y.append(y.numpy().ravel())
        self.n += len(self.z[-1])
        while self.n - len(self.z[0]) >= self.window:
            self.n -= len(self.z.popleft())
            self.y.popleft()


def _class_weights(config: TrainConfig, y: np.ndarray) -> tuple[float, float] | None:
    if config.balance == "batch":
        return None
    n_pos = int((y > 0.5).sum())
    return global_class_weights(n_pos, len(y) - n_pos)


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
    weights = _class_weights(config, y.numpy())
    result = TrainResult(head=head)
    centres = _FilterCentre(config)
    for epoch in range(config.epochs):
        phase = _phase(config, epoch)
        head.train()
        order = torch.from_numpy(rng.permutation(len(x)))
        tally = _Tally()
        for start in range(0, len(x), config.batch_size):
            idx = order[start : start + config.batch_size]
            logits = head(x[idx])
            centre = centres.value(phase)
            out = _loss(phase, logits, y[idx], is_last[idx], weights, centre)
            opt.zero_grad()
            out.loss.backward()
            opt.step()
            tally.add(out, len(idx), centre)
            centres.add(logits, y[idx])
        log = tally.log(epoch, phase)
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


def train_finetune(
    solutions: Sequence[Solution],
    featurizer: FinetunedFeaturizer,
    config: TrainConfig,
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
    on_checkpoint: Callable[[int, SPRMHead], None] | None = None,
) -> TrainResult:
    """Train MiniLM and a fresh head end to end on outcome labels, `config.trace_batch`
    traces an update (AdamW; encoder at `encoder_lr`, head at `lr`; gradients clipped
    at norm 1). `on_batch(n_traces)` after each update, `on_checkpoint(epoch, head)`
    after each epoch (the featurizer holds the encoder's weights)."""
    sols = [s for s in solutions if s.steps]
    if not sols:
        raise ValueError("no steps to train on")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    step_y = np.concatenate([np.full(len(s.steps), float(bool(s.outcome)), np.float32) for s in sols])
    weights = _class_weights(config, step_y)
    head = SPRMHead(featurizer.dim, dropout=config.dropout)
    # the frozen layers' output of every pass, computed once (the activation cache)
    lower = []
    for start in range(0, len(sols), 16):
        chunk = sols[start : start + 16]
        lower += [(start + si, h, b, w) for si, h, b, w in featurizer.lower_states(chunk)]
    by_solution: list[list[tuple[int, torch.Tensor, torch.Tensor, list[int]]]] = [[] for _ in sols]
    for item in lower:
        by_solution[item[0]].append(item)
    opt = torch.optim.AdamW(
        [
            {"params": featurizer.trainable_parameters(), "lr": config.encoder_lr},
            {"params": list(head.parameters()), "lr": config.lr},
        ],
        weight_decay=config.weight_decay,
    )
    params = [p for group in opt.param_groups for p in group["params"]]
    result = TrainResult(head=head)
    centres = _FilterCentre(config)
    for epoch in range(config.epochs):
        phase = _phase(config, epoch)
        featurizer.encoder.train()
        head.train()
        tally = _Tally()
        order = rng.permutation(len(sols))
        for start in range(0, len(sols), config.trace_batch):
            picked = order[start : start + config.trace_batch]
            batch = [sols[i] for i in picked]
            passes = [(k, h, b, w) for k, i in enumerate(picked) for _, h, b, w in by_solution[i]]
            states = featurizer.upper_states([len(s.steps) for s in batch], passes)
            logits = head(torch.cat(states))
            y = torch.from_numpy(
                np.concatenate([np.full(len(b.steps), float(bool(b.outcome)), np.float32) for b in batch])
            )
            is_last = torch.from_numpy(
                np.concatenate([np.arange(len(b.steps)) == len(b.steps) - 1 for b in batch])
            )
            centre = centres.value(phase)
            out = _loss(phase, logits, y, is_last, weights, centre)
            opt.zero_grad()
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            tally.add(out, len(y), centre)
            centres.add(logits, y)
            if on_batch is not None:
                on_batch(len(batch))
        featurizer.weights_changed()
        log = tally.log(epoch, phase)
        result.history.append(log)
        if on_epoch is not None:
            on_epoch(log)
        if on_checkpoint is not None:
            featurizer.encoder.eval()
            head.eval()
            on_checkpoint(epoch, head)
    featurizer.encoder.eval()
    head.eval()
    result.features = []
    with torch.no_grad():
        for start in range(0, len(sols), 16):
            idx = range(start, min(start + 16, len(sols)))
            passes = [(k, h, b, w) for k, i in enumerate(idx) for _, h, b, w in by_solution[i]]
            for x in featurizer.upper_states([len(sols[i].steps) for i in idx], passes):
                arr = x.numpy().astype(np.float32)
                result.features.append(TraceFeatures(x=arr, step_emb=arr))
    return result


def calibration_split(
    solutions: Sequence[Solution], config: TrainConfig
) -> tuple[list[Solution], list[Solution]]:
    """(solutions trained on, solutions the calibration is fitted on): a seeded share
    `config.calibration_holdout` of whole problems held out, or (all, []) at 0."""
    if config.calibration_holdout <= 0:
        return list(solutions), []
    # its own salt: the data may be the train side of split_by_group with this very seed
    train, held = split_by_group(
        list(solutions), test_fraction=config.calibration_holdout, seed=config.seed, salt="calibration:"
    )
    if not any(s.steps for s in held) or not any(s.steps for s in train):
        raise ValueError(
            f"calibration_holdout {config.calibration_holdout} leaves no problem with steps "
            "on one side; use more problems or another fraction"
        )
    return train, held


def fit(
    solutions: Sequence[Solution],
    featurizer: Featurizer,
    config: TrainConfig,
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
    on_checkpoint: Callable[[int, SPRMHead], None] | None = None,
) -> SPRMModel:
    """Train (the head on cached frozen features, or, with ``config.encoder ==
    "finetune"``, the encoder and the head end to end), then fit the calibration and
    the outcome threshold on the training outcomes, and the trajectory head when the
    data has thinking-trajectory items; return the model with its card."""
    if any(s.outcome is None for s in solutions):
        raise ValueError("every training solution needs an outcome label")
    solutions, held = calibration_split(solutions, config)
    outcomes = [bool(s.outcome) for s in solutions]
    if config.encoder == "finetune":
        if not isinstance(featurizer, FinetunedFeaturizer):
            raise ValueError("encoder 'finetune' needs a FinetunedFeaturizer")
        result = train_finetune(solutions, featurizer, config, on_epoch, on_batch, on_checkpoint)
        cached = iter(result.features or [])
        empty = np.zeros((0, featurizer.dim), np.float32)
        feats = [next(cached) if s.steps else TraceFeatures(x=empty, step_emb=empty) for s in solutions]
    else:
        if isinstance(featurizer, FinetunedFeaturizer):
            raise ValueError("a FinetunedFeaturizer trains with encoder 'finetune'")
        feats = featurizer.build(solutions)
        result = train_head([f.x for f in feats], outcomes, config, on_epoch)
    # the held-out calibration solutions are scored by the trained featurizer, never trained on
    cal = (featurizer.build(held), [bool(s.outcome) for s in held]) if held else (feats, outcomes)
    return _finish(solutions, featurizer, feats, outcomes, result, config, cal)


def _finish(
    solutions: Sequence[Solution],
    featurizer: Featurizer,
    feats: Sequence[TraceFeatures],
    outcomes: list[bool],
    result: TrainResult,
    config: TrainConfig,
    cal: tuple[Sequence[TraceFeatures], list[bool]],
) -> SPRMModel:
    """The card, with the calibration and outcome threshold fitted on `cal` (the
    held-out calibration solutions' features and outcomes, or the training ones)."""
    cal_feats, cal_outcomes = cal
    sizes = [len(f.x) for f in cal_feats if len(f.x)]
    cal_scores = head_scores(result.head, np.concatenate([f.x for f in cal_feats if len(f.x)]))
    per_solution = np.split(cal_scores, np.cumsum(sizes)[:-1])
    with_steps = [o for f, o in zip(cal_feats, cal_outcomes, strict=True) if len(f.x)]
    calibration = fit_product_calibration(per_solution, with_steps) if config.calibrate else None
    if calibration is not None:
        per_solution = [apply_calibration(p, calibration["a"], calibration["b"]) for p in per_solution]
    minima = [float(part.min()) for part in per_solution]
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
        # sigmoid(a logit + b), fitted on training outcomes (see judges.sprm.calibrate)
        "calibration": calibration,
        "n_calibration_solutions": len(with_steps),
        "train_positive_rate": float(np.mean(outcomes)),
        "trajectory": {"trained_head": traj_head is not None, "n_items": len(traj_idx)},
    }
    return SPRMModel(
        featurizer=featurizer, head=result.head, card=card, trajectory_head=traj_head, calibration=calibration
    )
