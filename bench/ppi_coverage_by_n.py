"""Coverage of the 0/1 prediction-powered intervals as the number of human labels moves.

    python bench/ppi_coverage_by_n.py --reps 2000 --seed 0 --design split-finite
    python bench/ppi_coverage_by_n.py --reps 2000 --seed 0 --design iid --labels 50:160:10

BIG-Bench Mistake (share of traces with an error, the outcome judge: the final answer is
wrong), per task: the coverage of the report's interval (`binary="bonett-price-centred"`),
of Bonett-Price, of the normal PPI++ interval and of the human-only Agresti-Coull interval,
at each number of labelled traces. It asks whether a miss of the 93-97% band at one n
(bench/ppi_coverage.py: 0.972-0.988 at 60 labels) is a bias of the interval at that
size or the oscillation of coverage that every interval for discrete data shows as n
moves (Brown, Cai & DasGupta, Statistical Science 16, 2001): a bias keeps the coverage
on one side of the band over a range of n, an oscillation crosses it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bench/ is on sys.path as the script's folder; bench is not a package.
from ppi_coverage import bbm_populations, simulate  # noqa: E402

COLUMNS = (("bonett-price-centred", "centred"), ("bonett-price", "bonett-price"))


def _labels(text: str) -> list[int]:
    try:
        lo, hi, step = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--labels takes LOW:HIGH:STEP (got {text!r})") from None
    if not (2 <= lo <= hi and step >= 1):
        raise argparse.ArgumentTypeError(f"--labels needs 2 <= LOW <= HIGH and STEP >= 1 (got {text!r})")
    return list(range(lo, hi + 1, step))


def run(reps: int, seed: int, design: str, labels: list[int]) -> str:
    rng = np.random.default_rng(seed)
    pops = [p for p in bbm_populations(None) if p.judge == "outcome" and p.domain != "3 tasks pooled"]
    sd = 100 * np.sqrt(0.95 * 0.05 / reps)
    lines = [
        f"design={design}, {reps} repetitions per n, seed {seed}, 95% intervals, outcome judge; "
        f"Monte Carlo sd of a coverage near 95%: {sd:.2f} points",
        "",
    ]
    summary = []
    for pop in pops:
        big = pop.y.shape[0]
        lines += [
            f"#### {pop.domain} ({big} traces, share with an error {pop.y.mean():.3f}, "
            f"outcome judge disagrees with people on {np.mean(pop.y != pop.yhat):.3f})",
            "",
            "| n | centred cov | centred width | bonett-price cov | PPI++ (normal) cov | "
            "human-only Agresti-Coull cov | mean lambda |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        covs = []
        for n in labels:
            if n >= big:
                continue
            r = simulate(pop, n / big, reps, rng, design)
            covs.append(r["bonett-price-centred_cov"])
            lines.append(
                f"| {r['n']} | {r['bonett-price-centred_cov']:.3f} | {r['bonett-price-centred_width']:.3f} "
                f"| {r['bonett-price_cov']:.3f} | {r['ppi_cov']:.3f} | {r['agresti-coull_cov']:.3f} "
                f"| {r['lam']:.2f} |"
            )
        c = np.array(covs)
        summary.append(
            f"- {pop.domain}: centred coverage {c.min():.3f}-{c.max():.3f} over {c.size} sizes; "
            f"below 93%: {int((c < 0.93).sum())}, within: {int(((c >= 0.93) & (c <= 0.97)).sum())}, "
            f"above 97%: {int((c > 0.97).sum())}"
        )
        lines.append("")
    return "\n".join([*lines, "Centred (the report's interval) against 93-97%:", "", *summary]) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--design", choices=["split-finite", "iid"], default="split-finite")
    parser.add_argument("--labels", type=_labels, default=_labels("40:160:5"), help="LOW:HIGH:STEP")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    start = time.perf_counter()
    print(run(args.reps, args.seed, args.design, args.labels), end="")
    print(f"\n({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
