"""Evaluating a trained SPRM beside trivial baselines on the same data.

Step level (where solutions carry human step labels, ProcessBench convention:
steps after the first error are unlabelled): step AUROC, first-error accuracy,
ProcessBench F1 (acc1, acc2) and calibration of the model's step scores, next to

- ``position_prior``: step score ``1 - i / n`` (later steps less likely correct);
  it uses no learning, and under the ProcessBench convention it is strong;
- ``random``: uniform step scores (seeded);
- ``always_correct``: every step scores 1 (predicts no error anywhere).

Solution level (where a problem has several solutions with outcome labels):
Best-of-N accuracy of the geometric-mean score (argmax) and of PRM-weighted
voting over final answers (``weighted_vote``: each solution votes for its answer
with its geometric-mean score), next to random choice, the oracle and majority
vote over final answers.

First errors are predicted two ways: the first step below the threshold
(``processbench``, ``first_error_accuracy``, as before), and for a model the
most probable first error under its calibrated scores
(``model_first_error_map``, :func:`judges.sprm.calibrate.map_first_error`).

All intervals are bootstrap 95% intervals over traces (step level) or problems
(Best-of-N), from :mod:`analysis.prm`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis import prm
from judges.sprm.calibrate import map_first_error
from judges.sprm.data import Solution
from judges.sprm.model import SPRMModel
from judges.sprm.score import geometric_mean

__all__ = ["BASELINES", "baseline_step_scores", "evaluate", "evaluate_scores"]

BASELINES = ("position_prior", "random", "always_correct")


def baseline_step_scores(name: str, solutions: Sequence[Solution], seed: int = 0) -> list[np.ndarray]:
    """Step scores of a trivial baseline, one array per solution."""
    if name == "position_prior":
        return [1.0 - np.arange(len(s.steps)) / len(s.steps) for s in solutions]
    if name == "random":
        rng = np.random.default_rng(seed)
        return [rng.random(len(s.steps)) for s in solutions]
    if name == "always_correct":
        return [np.ones(len(s.steps)) for s in solutions]
    raise ValueError(f"unknown baseline {name!r} (known: {', '.join(BASELINES)})")


def _labels(sol: Solution) -> np.ndarray:
    assert sol.step_labels is not None
    return np.array([np.nan if v is None else (1.0 if v == 1 else 0.0) for v in sol.step_labels], dtype=float)


def _first_error_metrics(
    solutions: Sequence[Solution], pred: np.ndarray, kw: dict[str, Any]
) -> dict[str, Any]:
    true = np.array([s.first_error for s in solutions])
    out: dict[str, Any] = {
        "first_error_accuracy": prm.as_metric_dict(prm.first_error_accuracy(pred, true, **kw))
    }
    try:
        pb = prm.processbench_f1(pred, true, **kw)
        out["processbench"] = {
            "acc1": prm.as_metric_dict(pb.acc1),
            "acc2": prm.as_metric_dict(pb.acc2),
            "f1": prm.as_metric_dict(pb.f1),
        }
    except ValueError as exc:
        out["processbench"] = {"error": str(exc)}
    return out


def _step_metrics(
    solutions: Sequence[Solution],
    scores: Sequence[np.ndarray],
    *,
    threshold: float,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    flat_s = np.concatenate(scores)
    flat_y = np.concatenate([_labels(s) for s in solutions])
    trace = np.concatenate([np.full(len(s.steps), i) for i, s in enumerate(solutions)])
    kw: dict[str, Any] = {"n_boot": n_boot, "seed": seed}
    out: dict[str, Any] = {}
    try:
        out["step_auroc"] = prm.as_metric_dict(prm.step_auroc(flat_s, flat_y, trace, **kw))
    except ValueError as exc:
        out["step_auroc"] = {"error": str(exc)}
    out.update(_first_error_metrics(solutions, prm.predicted_first_errors(scores, threshold), kw))
    cal = prm.calibration(flat_s, flat_y, trace, **kw)
    out["calibration"] = {
        "ece": prm.as_metric_dict(cal.ece),
        "brier": prm.as_metric_dict(cal.brier),
        "bins": {
            "edges": cal.bin_edges.tolist(),
            "counts": cal.counts.tolist(),
            "mean_score": [None if np.isnan(v) else float(v) for v in cal.mean_score],
            "frac_correct": [None if np.isnan(v) else float(v) for v in cal.frac_correct],
        },
    }
    return out


def evaluate_scores(
    solutions: Sequence[Solution],
    step_scores: Sequence[np.ndarray],
    *,
    threshold: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """All metrics of one set of step scores (the model's or a baseline's)."""
    out: dict[str, Any] = {}
    labelled = [i for i, s in enumerate(solutions) if s.step_labels is not None and s.steps]
    if labelled:
        out.update(
            _step_metrics(
                [solutions[i] for i in labelled],
                [np.asarray(step_scores[i]) for i in labelled],
                threshold=threshold,
                n_boot=n_boot,
                seed=seed,
            )
        )
    with_outcome = [i for i, s in enumerate(solutions) if s.outcome is not None and s.steps]
    groups = [solutions[i].group for i in with_outcome]
    if with_outcome and max(np.unique(groups, return_counts=True)[1]) >= 2:
        sol_scores = [geometric_mean(step_scores[i]) for i in with_outcome]
        correct = [bool(solutions[i].outcome) for i in with_outcome]
        out["best_of_n"] = prm.as_metric_dict(
            prm.best_of_n_accuracy(sol_scores, correct, groups, n_boot=n_boot, seed=seed)
        )
        answers = [solutions[i].final_answer for i in with_outcome]
        if any(a is not None for a in answers):
            out["weighted_vote"] = prm.as_metric_dict(
                prm.weighted_vote_accuracy(answers, sol_scores, correct, groups, n_boot=n_boot, seed=seed)
            )
    return out


def evaluate(
    model: SPRMModel,
    solutions: Sequence[Solution],
    *,
    threshold: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """The model's metrics and the baselines' on the same solutions (JSON-ready)."""
    if not solutions:
        raise ValueError("no solutions to evaluate")
    scored = model.score(solutions)
    kw: dict[str, Any] = {"threshold": threshold, "n_boot": n_boot, "seed": seed}
    report: dict[str, Any] = {
        "n_solutions": len(solutions),
        "n_steps": int(sum(len(s.steps) for s in solutions)),
        "n_labelled_traces": sum(s.step_labels is not None for s in solutions),
        "threshold": threshold,
        "variant": model.card.get("variant"),
        "collapsed": model.card.get("training", {}).get("collapsed"),
        "model": evaluate_scores(solutions, [s.step_scores for s in scored], **kw),
        "outcome_threshold": model.card.get("outcome_threshold", {}).get("value"),
        "baselines": {
            name: evaluate_scores(solutions, baseline_step_scores(name, solutions, seed), **kw)
            for name in BASELINES
        },
    }
    t_out = report["outcome_threshold"]
    if t_out is not None and report["n_labelled_traces"]:
        # first errors at the threshold fitted on training outcomes (no step label read)
        at_t = evaluate_scores(solutions, [s.step_scores for s in scored], **(kw | {"threshold": t_out}))
        report["model_at_outcome_threshold"] = {
            k: at_t[k] for k in ("first_error_accuracy", "processbench") if k in at_t
        }
    labelled = [i for i, s in enumerate(solutions) if s.step_labels is not None and s.steps]
    if labelled:
        pred = np.array([map_first_error(scored[i].step_scores) for i in labelled])
        report["model_first_error_map"] = _first_error_metrics(
            [solutions[i] for i in labelled], pred, {"n_boot": n_boot, "seed": seed}
        )
    report["calibration"] = model.card.get("calibration")
    report["encoder"] = model.card.get("hyperparameters", {}).get("encoder", "frozen")
    with_outcome = [s for s in solutions if s.outcome is not None and s.steps]
    groups = [s.group for s in with_outcome]
    if with_outcome and max(np.unique(groups, return_counts=True)[1]) >= 2:
        correct = [bool(s.outcome) for s in with_outcome]
        bkw: dict[str, Any] = {"n_boot": n_boot, "seed": seed}
        report["best_of_n_baselines"] = {
            "random_choice": prm.as_metric_dict(prm.random_choice_accuracy(correct, groups, **bkw)),
            "oracle": prm.as_metric_dict(prm.oracle_accuracy(correct, groups, **bkw)),
            "majority_vote": prm.as_metric_dict(
                prm.majority_vote_accuracy([s.final_answer for s in with_outcome], correct, groups, **bkw)
            ),
        }
    return report
