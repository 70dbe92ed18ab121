"""Paired bootstrap differences of GSM8K Best-of-4 accuracy between selectors.

Selectors: each model's argmax of the solution score (``sprm``, ``orm``,
``last_step``), each model's score-weighted vote over final answers
(``<variant>_vote``), majority vote, and a random pick.

Scores the held-out problems (the same seeded split as the experiment) with the
trained models (default: the frozen ones in models/, embeddings from the cache; any
others, fine-tuned included, with ``--model NAME=DIR``), takes each
problem's expected accuracy under each selector (ties broken at random in
expectation), and resamples problems once for all selectors, so that the
differences are paired.

    python docs/results/sprm_paired.py [--data ../shared/data/gsm8k/example_model_solutions.jsonl]
    python docs/results/sprm_paired.py --model sprm=models/ft-gsm8k-sprm --model orm=models/ft-gsm8k-orm

Pairs that name a selector not given are skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analysis import prm  # noqa: E402
from judges.sprm.data import split_by_group  # noqa: E402
from judges.sprm.io import load_model  # noqa: E402
from studyapp.importers.solutions import read_solutions  # noqa: E402


def vote(test: list, members: list[int], weights: np.ndarray, correct: np.ndarray) -> float:
    """Expected accuracy of the answer with the largest summed weight (ties at random)."""
    totals: dict[str, float] = {}
    for i in members:
        if test[i].final_answer:
            totals[test[i].final_answer] = totals.get(test[i].final_answer, 0.0) + float(weights[i])
    if not totals:
        return float(correct[members].mean())
    top = max(totals.values())
    tied = [a for a, t in totals.items() if t >= top - 1e-12 * max(abs(top), 1.0)]
    return float(np.mean([np.mean([correct[i] for i in members if test[i].final_answer == a]) for a in tied]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--data", default=str(ROOT / ".." / "shared" / "data" / "gsm8k" / "example_model_solutions.jsonl")
    )
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        metavar="NAME=DIR",
        help="a model directory under a selector name; repeatable (default: models/gsm8k-<variant>)",
    )
    args = parser.parse_args()
    models = (
        dict(m.split("=", 1) for m in args.model)
        if args.model
        else {v: str(ROOT / "models" / f"gsm8k-{v}") for v in ("sprm", "orm", "last_step")}
    )
    _, test = split_by_group(read_solutions([args.data], "gsm8k_solutions"), test_fraction=0.2, seed=0)
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(test):
        groups.setdefault(s.group, []).append(i)
    correct = np.array([bool(s.outcome) for s in test], dtype=float)
    per_problem: dict[str, np.ndarray] = {}
    for variant, model_dir in models.items():
        model = load_model(model_dir, cache_dir=ROOT / "runs" / "sprm-cache")
        scores = np.array([s.score for s in model.score(test)])
        per_problem[variant] = np.array(
            [correct[m][scores[m] == scores[m].max()].mean() for m in groups.values()]
        )
        per_problem[f"{variant}_vote"] = np.array([vote(test, m, scores, correct) for m in groups.values()])
        # the same weighted vote by analysis.prm, a second implementation
        check = prm.weighted_vote_accuracy(
            [t.final_answer or None for t in test],
            scores,
            correct.astype(bool),
            [t.group for t in test],
            n_boot=100,
        )
        assert abs(check.value - per_problem[f"{variant}_vote"].mean()) < 1e-9, (variant, check.value)
    per_problem["random"] = np.array([correct[m].mean() for m in groups.values()])
    ones = np.ones(len(test))
    per_problem["majority_vote"] = np.array([vote(test, m, ones, correct) for m in groups.values()])
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(groups), (args.n_boot, len(groups)))
    print(f"{len(groups)} problems; Best-of-4 accuracy [95% CI]:")
    for name, v in per_problem.items():
        lo, hi = np.quantile(v[idx].mean(axis=1), [0.025, 0.975])
        print(f"  {name}: {v.mean():.3f} [{lo:.3f}, {hi:.3f}]")
    print("paired differences [95% CI]:")
    for a, b in [("sprm", "orm"), ("sprm", "last_step"), ("sprm", "random"), ("sprm", "majority_vote"),
                 ("orm", "random"), ("majority_vote", "orm"), ("sprm_vote", "majority_vote"),
                 ("sprm_vote", "sprm"), ("orm_vote", "majority_vote"), ("last_step_vote", "majority_vote"),
                 ("sprm_vote", "orm_vote")]:  # fmt: skip
        if a not in per_problem or b not in per_problem:
            continue
        d = per_problem[a] - per_problem[b]
        lo, hi = np.quantile(d[idx].mean(axis=1), [0.025, 0.975])
        print(f"  {a} - {b}: {d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]")


if __name__ == "__main__":
    main()
