"""Active against uniform allocation of human labels on real data, at equal budget.

    python bench/active_simulation.py [--reps 1000] [--seed 0] [--sprm-dir DIR] [--out FILE]

For each real dataset the recorded human labels of all items are the truth
and the estimand is their mean over the items. At an expected human budget of
5, 10, 20 or 50% of the items, each repetition draws the labelled items by
independent Bernoulli(pi) draws under three designs, each estimated with
:func:`analysis.active.active_mean_ci` (Hajek, tuned lambda) at 95%:

- **active**: ``pi`` = :func:`analysis.active.inclusion_probabilities` of the
  raw uncertainty signal (floor 0.2, cap 1), as a study would deploy it; its
  Horvitz-Thompson width (``estimator="ht"``) on the same draw is printed too,
  and its finite-population interval (``finite=True``: the
  estimand is the mean over these items, as it is here).
- **calibrated**: the paper's rule, ``pi`` proportional to an estimate of
  ``|y - yhat|``: :func:`calibrated_uncertainty`, a cross-fitted line of
  ``|y - yhat|`` on the signal (5 folds), same floor and cap. It uses the other
  folds' human labels, a pilot as large as the data: an upper bound on what
  calibrating the signal buys, not a deployable design.
- **uniform**: ``pi`` = the budget's share for every item (PPI++ under
  Bernoulli draws); its human-only interval (Hajek at lambda 0, the labels'
  sample mean) is the *human-only* column.

Printed per setting: coverage and mean width of each, Spearman's rho between
the signal and ``|y - yhat|`` (does the signal predict the judge's error?),
and the share of labels a design saves at equal width,
``1 - (width / width_uniform)^2`` (widths scale as ``1 / sqrt(labels)``;
negative: the design needs more labels than uniform for the same width).

Signals and judges (nothing tuned on the results):

- **HANNA** (960 stories, per criterion): the judge is the mean of the 20
  LLM-prompt ratings of a story, the uncertainty their standard deviation.
- **SQuALITY** (300 summaries, per criterion): human = the first reviewer,
  judge = the mean of the other two, uncertainty = their absolute difference
  (NaN, i.e. the mean, where only one other reviewer exists).
- **BIG-Bench Mistake** (300 traces a task; human = the trace has an error):
  the outcome judge (1 when the final answer is wrong), uncertainty ``1 - flag``
  (a wrong answer implies an error; a right one can hide one). With
  ``--sprm-dir``: the SPRM's flag (a step scored below 0.5), uncertainty
  ``0.5 - |min step score - 0.5|``.

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
from scipy.stats import spearmanr

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


def bbm_signals(sprm_dir: Path | None) -> list[Signal]:
    """Per task: the outcome judge (final answer wrong) with ``1 - flag`` as its
    uncertainty, and with ``sprm_dir`` the SPRM's flag and threshold closeness."""
    out = []
    for task in BBM_TASKS:
        recs = bbm_records(task)
        y = np.array([float(r["mistake_index"] is not None) for r in recs])
        outcome = np.array([float(str(r["answer"]).strip() != str(r["target"]).strip()) for r in recs])
        out.append(Signal(f"BIG-Bench Mistake {task}", "error (outcome)", y, outcome, 1.0 - outcome))
        scores = sprm_min_scores(task, recs, sprm_dir) if sprm_dir else None
        if scores is not None:
            out.append(
                Signal(
                    f"BIG-Bench Mistake {task}",
                    "error (SPRM)",
                    y,
                    (scores < 0.5).astype(float),
                    0.5 - np.abs(scores - 0.5),
                )
            )
    return out


def calibrated_uncertainty(sig: Signal, folds: int, rng: np.random.Generator) -> np.ndarray:
    """Cross-fitted estimate of ``E[|y - yhat| | uncertainty]``: the paper's rule wants
    ``pi`` proportional to the expected absolute residual, not to a raw signal.

    A least-squares line of ``|y - yhat|`` on the signal, fitted on the other
    ``folds - 1`` folds of items, predicts each fold (clipped at 0). It uses every
    other item's human label: a pilot as large as the data, so an upper bound on
    what calibrating the signal can buy, not a deployable design.
    """
    u = np.where(np.isnan(sig.uncertainty), np.nanmean(sig.uncertainty), sig.uncertainty)
    resid = np.abs(sig.y - sig.yhat)
    fold = rng.permutation(np.arange(u.shape[0]) % folds)
    out = np.empty_like(u)
    for k in range(folds):
        test, train = fold == k, fold != k
        if np.ptp(u[train]) > 0:
            slope, intercept = np.polyfit(u[train], resid[train], 1)
        else:
            slope, intercept = 0.0, float(resid[train].mean())
        out[test] = np.maximum(intercept + slope * u[test], 0.0)
    return out


def residual_rank_correlation(sig: Signal) -> float:
    """Spearman's rho between the uncertainty signal and ``|y - yhat|``."""
    u = np.where(np.isnan(sig.uncertainty), np.nanmean(sig.uncertainty), sig.uncertainty)
    return float(spearmanr(u, np.abs(sig.y - sig.yhat)).statistic)


DESIGNS = ("active", "calibrated", "uniform")


def simulate(sig: Signal, fraction: float, reps: int, rng: np.random.Generator) -> dict[str, float]:
    big = sig.y.shape[0]
    budget = fraction * big
    designs = {
        "active": inclusion_probabilities(sig.uncertainty, budget=budget),
        "calibrated": inclusion_probabilities(calibrated_uncertainty(sig, 5, rng), budget=budget),
        "uniform": np.full(big, fraction),
    }
    truth = sig.y.mean()
    res: dict[str, list[float]] = {}

    def record(key: str, low: float, high: float) -> None:
        res.setdefault(f"{key}_cov", []).append(low <= truth <= high)
        res.setdefault(f"{key}_w", []).append(high - low)

    skipped = 0
    for _ in range(reps):
        draws = {name: rng.random(big) < pi for name, pi in designs.items()}
        if min(int(xi.sum()) for xi in draws.values()) < 2:
            skipped += 1
            continue
        for name, xi in draws.items():
            y_obs = np.where(xi, sig.y, np.nan)
            est = active_mean_ci(y_obs, sig.yhat, xi, designs[name])
            record(name, est.low, est.high)
            res.setdefault(f"{name}_lam", []).append(est.lam)
            if name == "uniform":
                # Hajek at lambda 0 under uniform draws: the labels' sample mean.
                record("human", est.human_only_low, est.human_only_high)
            if name == "active":
                ht = active_mean_ci(y_obs, sig.yhat, xi, designs[name], estimator="ht")
                record("ht", ht.low, ht.high)
            if name in ("active", "uniform"):
                fin = active_mean_ci(y_obs, sig.yhat, xi, designs[name], finite=True)
                record(f"{name}_fin", fin.low, fin.high)
    out = {k: float(np.mean(v)) for k, v in res.items()}
    out.update(budget=budget, N=big, skipped=skipped)
    for name in ("active", "calibrated"):
        out[f"{name}_pi_min"] = float(designs[name].min())
        out[f"{name}_pi_max"] = float(designs[name].max())
    return out


def _saved(width: float, uniform_width: float) -> str:
    return f"{1 - (width / uniform_width) ** 2:+.1%}"


def run(reps: int, seed: int, sprm_dir: Path | None) -> str:
    rng = np.random.default_rng(seed)
    lines = [
        f"{reps} repetitions a setting, seed {seed}, 95% intervals, floor 0.2, Hajek estimator "
        f"(tuned lambda) unless marked HT; Monte Carlo sd of a coverage near 95%: "
        f"{100 * np.sqrt(0.95 * 0.05 / reps):.2f} points",
        "",
        "| dataset | criterion | N | % budget | expected labels | rho(u, abs resid) "
        "| active pi min / max | active cov | active width | active HT width | active finite cov / width "
        "| calibrated pi min / max | calibrated cov | calibrated width "
        "| uniform cov | uniform width | uniform lambda | uniform finite cov / width "
        "| human-only cov | human-only width "
        "| saved: active | saved: calibrated |",
        "|---|---|" + "---:|" * 20,
    ]
    signals = hanna_signals() + squality_signals() + bbm_signals(sprm_dir)
    for sig in signals:
        rho = residual_rank_correlation(sig)
        for frac in FRACTIONS:
            r = simulate(sig, frac, reps, rng)
            flag = " <50" if r["budget"] < 50 else ""
            skip = f" ({int(r['skipped'])} reps with < 2 labels dropped)" if r["skipped"] else ""
            lines.append(
                f"| {sig.dataset} | {sig.criterion} | {int(r['N'])} | {frac:.0%} "
                f"| {r['budget']:.0f}{flag}{skip} | {rho:+.2f} "
                f"| {r['active_pi_min']:.3f} / {r['active_pi_max']:.3f} "
                f"| {r['active_cov']:.3f} | {r['active_w']:.3f} | {r['ht_w']:.3f} "
                f"| {r['active_fin_cov']:.3f} / {r['active_fin_w']:.3f} "
                f"| {r['calibrated_pi_min']:.3f} / {r['calibrated_pi_max']:.3f} "
                f"| {r['calibrated_cov']:.3f} | {r['calibrated_w']:.3f} "
                f"| {r['uniform_cov']:.3f} | {r['uniform_w']:.3f} | {r['uniform_lam']:.2f} "
                f"| {r['uniform_fin_cov']:.3f} / {r['uniform_fin_w']:.3f} "
                f"| {r['human_cov']:.3f} | {r['human_w']:.3f} "
                f"| {_saved(r['active_w'], r['uniform_w'])} | {_saved(r['calibrated_w'], r['uniform_w'])} |"
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
