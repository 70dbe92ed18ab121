"""Coverage of the prediction-powered intervals on real data, beside the human-only ones.

    python bench/ppi_coverage.py [--reps 1000] [--seed 0] [--design split|split-finite|iid]
        [--datasets hanna,bbm,squality] [--sprm-dir models] [--out FILE]

For each real dataset of ``../shared/data`` the recorded human labels of all
items are the truth; the estimand is their mean over the items. In each of
``--reps`` repetitions a random 5, 10, 20 or 50% of the items are taken as
human-labelled and the rest as judged only; :func:`analysis.ppi.ppi_rows`
(the code path of ``analysis.ppi.ppi_mean_ci``) gives the PPI++ interval and
the human-only (classical) interval, both at 95%. Printed per setting: the
number of human labels ``n``, the empirical coverage of both intervals and
their mean widths, the width ratio, the mean lambda and the mean effective
number of human labels. Settings with fewer than 50 human labels are flagged
``<50``: the normal approximation is not assumed to hold there.

Where human and judge labels are both 0/1 (BIG-Bench Mistake), a second
table gives beside the PPI++ normal interval the same estimate with the
adjusted-Wald variances of ``ppi_rows(..., binary="agresti-min" |
"bonett-price" | "bonett-price-centred")`` (pseudo-counts added to the
labelled 2x2 table; the last also centred on the adjusted table, with the
Agresti-Coull human-only interval, whose coverage and width are the
``agresti-coull`` columns), on the same draws. ``--datasets`` runs a
subset (the random draws of a dataset then differ from a full run's, as the
generator is shared).

Designs: ``split`` (default; the issue's design) draws the labelled subset
without replacement from the finite set of items, so at 50% the intervals,
which assume independent draws, ignore a finite-population correction of
1 - n/N = 0.5 and over-cover; ``iid`` draws the labelled and the unlabelled
items with replacement from the items (the items' empirical distribution is
then the population, exactly the interval's assumption); ``split-finite``
draws as ``split`` and uses the finite-population intervals
(``ppi_rows(..., finite=True)``, ``classical_mean_ci(population_size=N)``:
the survey difference estimator with the correction 1 - n/N), the intervals
for that design.

Datasets and judges (all offline, nothing tuned to the coverage):

- **HANNA** (1,056 stories; the 960 of the 10 generating systems, as
  ``analysis.hanna``): the human value is a story's mean of 3 human ratings
  per criterion; each of 5 LLMs x 4 prompts is a judge (stories the judge
  left unrated are dropped). Summarised over the 20 judges per criterion
  (minimum, median, maximum coverage).
- **BIG-Bench Mistake** (the three human-labelled tasks, 300 traces each,
  and the three pooled): the human value is 1 when the trace has a mistake
  (``mistake_index`` not null), the estimand the share of traces with an
  error. Judge ``outcome``: 1 when the final answer is wrong (``answer !=
  target``), a label every trace has without a person. Judge ``sprm`` (when
  ``--sprm-dir`` holds ``bbm-no-<task>-sprm`` models of
  docs/results/sprm_experiment.sh, trained without the evaluated task): 1 when a
  step's score is below 0.5.
- **SQuALITY** (300 summaries, 3 reviewers each): the human value is the
  rating of the first reviewer listed for a summary (per criterion:
  correctness, coverage, overall, 0-100); the judge is the mean rating of the
  other two reviewers, a stand-in for a good judge.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.hanna import CRITERIA, load_hanna  # noqa: E402
from analysis.ppi import BINARY_OPTIONS, CENTRED, ppi_rows  # noqa: E402
from analysis.shared_data import shared_data_dir  # noqa: E402

FRACTIONS = (0.05, 0.10, 0.20, 0.50)
BBM_TASKS = ("multistep_arithmetic", "tracking_shuffled_objects", "word_sorting")
SQUALITY_CRITERIA = {
    "correctness": "correctness-rating",
    "coverage": "selection-rating",
    "overall": "overall-rating",
}
MIN_LABELS = 50
DATASETS = ("hanna", "bbm", "squality")


@dataclass(frozen=True)
class Population:
    dataset: str
    domain: str
    criterion: str
    judge: str
    y: np.ndarray  # human value of every item
    yhat: np.ndarray  # judge value of every item


def hanna_populations() -> list[Population]:
    data = load_hanna()
    out = []
    for llm, crit, prompt, col in data.llm_columns():
        y = data.values(CRITERIA[crit]).ravel()
        yhat = data.values(col).ravel()
        ok = np.isfinite(y) & np.isfinite(yhat)
        out.append(Population("HANNA", "stories", CRITERIA[crit], f"{llm} p{prompt}", y[ok], yhat[ok]))
    return out


def bbm_records(task: str) -> list[dict]:
    path = shared_data_dir() / "bigbench_mistake" / f"{task}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sprm_min_scores(task: str, records: list[dict], sprm_dir: Path) -> np.ndarray | None:
    """The lowest step score of each trace by the model trained without ``task`` (1.0 for no steps)."""
    model_dir = sprm_dir / f"bbm-no-{task}-sprm"
    if not model_dir.is_dir():
        return None
    from judges.sprm.io import load_model
    from studyapp.importers.solutions import read_solutions  # the strings the model was trained on

    model = load_model(model_dir, cache_dir=ROOT / "runs" / "sprm-cache")
    path = shared_data_dir() / "bigbench_mistake" / f"{task}.jsonl"
    sols = read_solutions([path], "bigbench_mistake")
    if len(sols) != len(records):
        raise SystemExit(f"{path}: {len(sols)} solutions read for {len(records)} records")
    if any(len(s.steps) != len(r["steps"]) for s, r in zip(sols, records, strict=True)):
        raise SystemExit(f"{path}: the importer's traces are not the file's, in order")
    scored = model.score(sols)
    return np.array([float(np.min(s.step_scores)) if len(s.step_scores) else 1.0 for s in scored])


def _sprm_flags(task: str, records: list[dict], sprm_dir: Path) -> np.ndarray | None:
    scores = sprm_min_scores(task, records, sprm_dir)
    return None if scores is None else (scores < 0.5).astype(float)


def bbm_populations(sprm_dir: Path | None) -> list[Population]:
    out = []
    pooled: dict[str, list[np.ndarray]] = {"y": [], "outcome": [], "sprm": []}
    for task in BBM_TASKS:
        recs = bbm_records(task)
        y = np.array([float(r["mistake_index"] is not None) for r in recs])
        outcome = np.array([float(str(r["answer"]).strip() != str(r["target"]).strip()) for r in recs])
        out.append(Population("BIG-Bench Mistake", task, "trace has an error", "outcome", y, outcome))
        pooled["y"].append(y)
        pooled["outcome"].append(outcome)
        flags = _sprm_flags(task, recs, sprm_dir) if sprm_dir else None
        if flags is not None:
            out.append(Population("BIG-Bench Mistake", task, "trace has an error", "sprm", y, flags))
            pooled["sprm"].append(flags)
    y_all = np.concatenate(pooled["y"])
    for judge in ("outcome", "sprm"):
        if len(pooled[judge]) == len(BBM_TASKS):
            out.append(
                Population(
                    "BIG-Bench Mistake",
                    "3 tasks pooled",
                    "trace has an error",
                    judge,
                    y_all,
                    np.concatenate(pooled[judge]),
                )
            )
    return out


def squality_reviews() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per criterion, over the summaries with two or more reviews: the first reviewer's
    rating, the mean of the others', and the others' absolute difference (NaN unless there
    are two others or more: the first two)."""
    path = shared_data_dir() / "squality" / "all-responses.jsonl"
    rows: dict[str, tuple[list[float], list[float], list[float]]] = {
        c: ([], [], []) for c in SQUALITY_CRITERIA
    }
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        for q in json.loads(line)["questions"].values():
            for resp in q.values():
                reviews = resp["reviews"]
                if len(reviews) < 2:
                    continue
                for crit, key in SQUALITY_CRITERIA.items():
                    others = [float(r[key]) for r in reviews[1:]]
                    rows[crit][0].append(float(reviews[0][key]))
                    rows[crit][1].append(float(np.mean(others)))
                    rows[crit][2].append(abs(others[0] - others[1]) if len(others) >= 2 else np.nan)
    return {crit: (np.array(y), np.array(h), np.array(u)) for crit, (y, h, u) in rows.items()}


def squality_populations() -> list[Population]:
    return [
        Population("SQuALITY", "summaries", crit, "mean of the other reviewers", y, h)
        for crit, (y, h, _) in squality_reviews().items()
    ]


def simulate(pop: Population, fraction: float, reps: int, rng: np.random.Generator, design: str) -> dict:
    """Coverage and widths of the PPI++ and human-only 95% intervals over ``reps`` draws."""
    big = pop.y.shape[0]
    n = max(2, round(fraction * big))
    if design in ("split", "split-finite"):
        order = rng.random((reps, big)).argsort(axis=1)
        lab, unl = order[:, :n], order[:, n:]
    else:
        lab = rng.integers(0, big, size=(reps, n))
        unl = rng.integers(0, big, size=(reps, big - n))
    finite = design == "split-finite"
    rows = ppi_rows(pop.y[lab], pop.yhat[lab], pop.yhat[unl], finite=finite)
    truth = pop.y.mean()
    lo, hi = rows.ci(0.05)
    clo, chi = rows.classical_ci(0.05)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(rows.se > 0, n * rows.classical_se**2 / rows.se**2, np.nan)
    adjusted = {}
    if _binary(pop):  # the same draws, the adjusted-Wald variances
        for method in BINARY_OPTIONS:
            b_rows = ppi_rows(pop.y[lab], pop.yhat[lab], pop.yhat[unl], finite=finite, binary=method)
            b_lo, b_hi = b_rows.ci(0.05)
            adjusted[f"{method}_cov"] = float(np.mean((b_lo <= truth) & (truth <= b_hi)))
            adjusted[f"{method}_width"] = float(np.mean(b_hi - b_lo))
            if method == CENTRED:
                a_lo, a_hi = b_rows.classical_ci(0.05)
                adjusted["agresti-coull_cov"] = float(np.mean((a_lo <= truth) & (truth <= a_hi)))
                adjusted["agresti-coull_width"] = float(np.mean(a_hi - a_lo))
    return {
        **adjusted,
        "n": n,
        "N": big,
        "ppi_cov": float(np.mean((lo <= truth) & (truth <= hi))),
        "ppi_width": float(np.mean(hi - lo)),
        "cl_cov": float(np.mean((clo <= truth) & (truth <= chi))),
        "cl_width": float(np.mean(chi - clo)),
        "lam": float(np.mean(rows.lam)),
        "n_eff": float(np.nanmean(n_eff)) if np.isfinite(n_eff).any() else float("nan"),
    }


def _binary(pop: Population) -> bool:
    return bool(np.isin(pop.y, (0.0, 1.0)).all() and np.isin(pop.yhat, (0.0, 1.0)).all())


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b > 0 else "n/a"


def _flag(n: int) -> str:
    return " <50" if n < MIN_LABELS else ""


def run(
    reps: int, seed: int, design: str, sprm_dir: Path | None, datasets: tuple[str, ...] = DATASETS
) -> str:
    rng = np.random.default_rng(seed)
    lines = [
        f"design={design}, {reps} repetitions a setting, seed {seed}, 95% intervals; "
        f"Monte Carlo sd of a coverage near 95%: {100 * np.sqrt(0.95 * 0.05 / reps):.2f} points",
        "",
    ]
    head = (
        "| dataset | domain | criterion | judge | % labelled | n | human-only cov | human-only width "
        "| PPI++ cov | PPI++ width | width ratio | mean lambda | mean n_eff |\n"
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    if "hanna" in datasets:
        lines += _hanna_tables(reps, rng, design)
    pops = (bbm_populations(sprm_dir) if "bbm" in datasets else []) + (
        squality_populations() if "squality" in datasets else []
    )
    if not pops:
        return "\n".join(lines) + "\n"
    lines += ["### BIG-Bench Mistake and SQuALITY" if "squality" in datasets else "### BIG-Bench Mistake"]
    lines += ["", head]
    binary_rows = []
    for pop in pops:
        for frac in FRACTIONS:
            r = simulate(pop, frac, reps, rng, design)
            lines.append(
                f"| {pop.dataset} | {pop.domain} | {pop.criterion} | {pop.judge} | {frac:.0%} "
                f"| {r['n']}{_flag(r['n'])} | {r['cl_cov']:.3f} | {r['cl_width']:.3f} | {r['ppi_cov']:.3f} "
                f"| {r['ppi_width']:.3f} | {r['ppi_width'] / r['cl_width']:.3f} | {r['lam']:.2f} "
                f"| {r['n_eff']:.0f} |"
            )
            if _binary(pop):
                binary_rows.append(
                    f"| {pop.domain} | {pop.judge} | {frac:.0%} | {r['n']}{_flag(r['n'])} "
                    f"| {r['cl_cov']:.3f} | {r['cl_width']:.3f} | {r['ppi_cov']:.3f} | {r['ppi_width']:.3f} "
                    + " ".join(
                        f"| {r[f'{m}_cov']:.3f} | {r[f'{m}_width']:.3f} "
                        f"| {_ratio(r[f'{m}_width'], r['ppi_width'])} "
                        f"| {_ratio(r[f'{m}_width'], r['cl_width'])}"
                        for m in BINARY_OPTIONS
                    )
                    + f" | {r['agresti-coull_cov']:.3f} | {r['agresti-coull_width']:.3f} |"
                )
    if binary_rows:
        methods = list(BINARY_OPTIONS)
        lines += [
            "",
            "### 0/1 labels: PPI++ normal interval against the adjusted-Wald intervals (same draws)",
            "",
            "| domain | judge | % labelled | n | human-only cov | human-only width | PPI++ cov | PPI++ width "
            + " ".join(f"| {m} cov | {m} width | / PPI++ width | / human-only width" for m in methods)
            + " | agresti-coull cov | agresti-coull width |",
            "|---|---|---:|---:|---:|---:|---:|---:" + "|---:|---:|---:|---:" * len(methods) + "|---:|---:|",
            *binary_rows,
        ]
    return "\n".join(lines) + "\n"


def _hanna_tables(reps: int, rng: np.random.Generator, design: str) -> list[str]:
    """HANNA, summarised over its 20 judges per criterion and fraction."""
    lines: list[str] = []
    hanna = hanna_populations()
    lines.append("### HANNA (20 judges a criterion: coverage min / median / max; widths and n_eff: median)")
    lines.append("")
    lines.append(
        "| criterion | % labelled | n | human-only cov | human-only width | PPI++ cov min / median / max "
        "| PPI++ width | width ratio | mean lambda | n_eff | best judge (narrowest) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    worst: list[tuple[float, float]] = []  # (fraction, PPI++ coverage) of settings with >= 50 labels
    for crit in CRITERIA.values():
        pops = [p for p in hanna if p.criterion == crit]
        for frac in FRACTIONS:
            res = [simulate(p, frac, reps, rng, design) for p in pops]
            cov = np.array([r["ppi_cov"] for r in res])
            widths = np.array([r["ppi_width"] for r in res])
            best = int(np.argmin(widths))
            n = res[0]["n"]
            if n >= MIN_LABELS:
                worst += [(frac, r["ppi_cov"]) for r in res]
            lines.append(
                f"| {crit} | {frac:.0%} | {n}{_flag(n)} | {np.median([r['cl_cov'] for r in res]):.3f} "
                f"| {np.median([r['cl_width'] for r in res]):.3f} "
                f"| {cov.min():.3f} / {np.median(cov):.3f} / {cov.max():.3f} | {np.median(widths):.3f} "
                f"| {np.median(widths) / np.median([r['cl_width'] for r in res]):.3f} "
                f"| {np.median([r['lam'] for r in res]):.2f} | {np.median([r['n_eff'] for r in res]):.0f} "
                f"| {pops[best].judge} ({widths[best]:.3f}, cov {cov[best]:.3f}) |"
            )
    lines += ["", f"HANNA settings with >= {MIN_LABELS} human labels, PPI++ coverage against 93-97%:", ""]
    for frac in FRACTIONS:
        covs = np.array([c for f, c in worst if f == frac])
        if covs.size:
            lines.append(
                f"- {frac:.0%} labelled: {covs.size} settings; below 93%: {int((covs < 0.93).sum())}, "
                f"within: {int(((covs >= 0.93) & (covs <= 0.97)).sum())}, "
                f"above 97%: {int((covs > 0.97).sum())}"
            )
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--design", choices=["split", "split-finite", "iid"], default="split")
    parser.add_argument(
        "--sprm-dir",
        type=Path,
        default=None,
        help="folder with bbm-no-<task>-sprm models (docs/results/sprm_experiment.sh bbm)",
    )
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help=f"comma-separated subset of {','.join(DATASETS)} (default: all)",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    datasets = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    unknown = sorted(set(datasets) - set(DATASETS))
    if unknown or not datasets:
        parser.error(
            f"--datasets takes a comma-separated subset of {','.join(DATASETS)} (got {args.datasets!r})"
        )
    start = time.perf_counter()
    text = run(args.reps, args.seed, args.design, args.sprm_dir, datasets)
    text += f"\n({time.perf_counter() - start:.1f} s)\n"
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
