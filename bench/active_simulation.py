"""Active against uniform allocation of human labels on real data, at equal budget.

    python bench/active_simulation.py [--reps 1000] [--seed 0] [--sprm-dir DIR] [--out FILE]

For each real dataset the recorded human labels of all items are the truth
and the estimand is their mean over the items. At an expected human budget of
5, 10, 20 or 50% of the items, each repetition draws the labelled items by
independent Bernoulli(pi) draws, with ``pi`` either uniform (the budget's
share for every item) or :func:`analysis.active.inclusion_probabilities` of
an uncertainty signal (floor 0.2), and computes
:func:`analysis.active.active_mean_ci` (tuned lambda) and its human-only
(inverse-probability) interval, at 95%. Printed per setting: coverage and
mean width of active, uniform (PPI++ under Bernoulli draws), human-only
(uniform draws, no judge: the inverse-probability estimator, lambda = 0, whose
variance includes the random number of labels, and the sample mean of the
labels with ``sd / sqrt(n)``), and the share of labels active saves at equal
width: ``1 - (width_active / width_uniform)^2`` (widths scale as
``1 / sqrt(labels)``, so uniform allocation would need ``(w_u / w_a)^2``
times the budget for active's width; negative: active needs more).

Signals and judges (fixed before the first run, nothing tuned):

- **HANNA** (960 stories, per criterion): the judge is the mean of the 20
  LLM-prompt ratings of a story, the uncertainty their standard deviation.
- **SQuALITY** (300 summaries, per criterion): human = the first reviewer,
  judge = the mean of the other two, uncertainty = their absolute difference
  (NaN, i.e. the mean, where only one other reviewer exists).
- **BIG-Bench Mistake** (with ``--sprm-dir``): judge = the SPRM's flag (a step
  scored below 0.5), uncertainty = ``0.5 - |min step score - 0.5|`` (closeness
  of the trace's lowest step score to the threshold).

The intervals assume draws from a population, as ``active_mean_ci`` does; on
a finite set at 50% they have no finite-population correction and are
expected to over-cover.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import norm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bench/ is on sys.path as the script's folder; bench is not a package.
from ppi_coverage import BBM_TASKS, bbm_records, sprm_min_scores, squality_reviews  # noqa: E402

from analysis.active import active_mean_ci, inclusion_probabilities  # noqa: E402
from analysis.hanna import CRITERIA, load_hanna  # noqa: E402

FRACTIONS = (0.05, 0.10, 0.20, 0.50)


@dataclass(frozen=True)
class Signal:
    dataset: str
    criterion: str
    y: np.ndarray  # human value of every item
    yhat: np.ndarray  # judge value of every item
    uncertainty: np.ndarray


def hanna_signals() -> list[Signal]:
    data = load_hanna()
    out = []
    for abbrev, name in CRITERIA.items():
        cols = [col for _, crit, _, col in data.llm_columns() if crit == abbrev]
        judges = np.vstack([data.values(c).ravel() for c in cols])
        y = data.values(name).ravel()
        ok = np.isfinite(y) & np.isfinite(judges).any(axis=0)
        out.append(
            Signal("HANNA", name, y[ok], np.nanmean(judges[:, ok], axis=0), np.nanstd(judges[:, ok], axis=0))
        )
    return out


def squality_signals() -> list[Signal]:
    return [Signal("SQuALITY", crit, y, h, u) for crit, (y, h, u) in squality_reviews().items()]


def bbm_signals(sprm_dir: Path) -> list[Signal]:
    out = []
    for task in BBM_TASKS:
        recs = bbm_records(task)
        scores = sprm_min_scores(task, recs, sprm_dir)
        if scores is None:
            continue
        y = np.array([float(r["mistake_index"] is not None) for r in recs])
        out.append(
            Signal(
                f"BIG-Bench Mistake {task}",
                "trace has an error",
                y,
                (scores < 0.5).astype(float),
                0.5 - np.abs(scores - 0.5),
            )
        )
    return out


def simulate(sig: Signal, fraction: float, reps: int, rng: np.random.Generator) -> dict[str, float]:
    big = sig.y.shape[0]
    budget = fraction * big
    designs = {
        "active": inclusion_probabilities(sig.uncertainty, budget=budget),
        "uniform": np.full(big, fraction),
    }
    truth = sig.y.mean()
    keys = ("a_cov", "a_w", "u_cov", "u_w", "h_cov", "h_w", "m_cov", "m_w", "a_n")
    res: dict[str, list[float]] = {k: [] for k in keys}
    skipped = 0
    z = norm.ppf(0.975)
    for _ in range(reps):
        ests = {}
        for name, pi in designs.items():
            xi = rng.random(big) < pi
            if xi.sum() < 2:
                break
            ests[name] = (active_mean_ci(np.where(xi, sig.y, np.nan), sig.yhat, xi, pi), xi)
        if len(ests) < 2:
            skipped += 1
            continue
        a, xi_a = ests["active"]
        u, xi_u = ests["uniform"]
        labels = sig.y[xi_u]
        half = z * labels.std(ddof=1) / np.sqrt(labels.size)
        res["m_cov"].append(labels.mean() - half <= truth <= labels.mean() + half)
        res["m_w"].append(2 * half)
        res["a_cov"].append(a.low <= truth <= a.high)
        res["a_w"].append(a.high - a.low)
        res["u_cov"].append(u.low <= truth <= u.high)
        res["u_w"].append(u.high - u.low)
        res["h_cov"].append(u.human_only_low <= truth <= u.human_only_high)
        res["h_w"].append(u.human_only_high - u.human_only_low)
        res["a_n"].append(int(xi_a.sum()))
    out = {k: float(np.mean(v)) for k, v in res.items()}
    out["budget"] = budget
    out["N"] = big
    out["skipped"] = skipped
    out["pi_max"] = float(designs["active"].max())
    out["pi_min"] = float(designs["active"].min())
    return out


def run(reps: int, seed: int, sprm_dir: Path | None) -> str:
    rng = np.random.default_rng(seed)
    lines = [
        f"{reps} repetitions a setting, seed {seed}, 95% intervals, floor 0.2; Monte Carlo sd of a "
        f"coverage near 95%: {100 * np.sqrt(0.95 * 0.05 / reps):.2f} points",
        "",
        "| dataset | criterion | N | % budget | expected labels | active pi min / max | active cov "
        "| active width | uniform cov | uniform width | human-only cov | human-only width "
        "| sample-mean cov | sample-mean width | labels saved at equal width |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    signals = hanna_signals() + squality_signals() + (bbm_signals(sprm_dir) if sprm_dir else [])
    for sig in signals:
        for frac in FRACTIONS:
            r = simulate(sig, frac, reps, rng)
            saved = 1 - (r["a_w"] / r["u_w"]) ** 2
            flag = " <50" if r["budget"] < 50 else ""
            skip = f" ({int(r['skipped'])} reps with < 2 labels dropped)" if r["skipped"] else ""
            lines.append(
                f"| {sig.dataset} | {sig.criterion} | {int(r['N'])} | {frac:.0%} "
                f"| {r['budget']:.0f}{flag}{skip} "
                f"| {r['pi_min']:.3f} / {r['pi_max']:.3f} | {r['a_cov']:.3f} | {r['a_w']:.3f} "
                f"| {r['u_cov']:.3f} | {r['u_w']:.3f} | {r['h_cov']:.3f} | {r['h_w']:.3f} "
                f"| {r['m_cov']:.3f} | {r['m_w']:.3f} | {saved:+.1%} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sprm-dir", type=Path, default=None, help="folder with bbm-no-<task>-sprm models")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    start = time.perf_counter()
    text = run(args.reps, args.seed, args.sprm_dir)
    text += f"\n({time.perf_counter() - start:.1f} s)\n"
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
