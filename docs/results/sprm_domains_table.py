"""The domain table of docs/results/sprm_domains.md, and its leave-domain-out training.

python docs/results/sprm_domains_table.py                       # the table, from runs/domains/
    # (SPRM_DOMAINS_RUNS=DIR reads DIR instead: the OUT of sprm_domains.sh)
python docs/results/sprm_domains_table.py --compare-centres BALANCED_DIR ZERO_DIR
    # the SPRM's rows with each filter centre, and the default-centre rule of sprm_domains.md
python docs/results/sprm_domains_table.py --train-out DOMAIN VARIANT OUT [--filter-centre zero|balanced]
        [--encoder frozen|finetune]
    # train on every domain but DOMAIN (each file with its own format), train_sprm's defaults

The frozen-encoder SPRM (judges/sprm as of this commit): no step label is read in training.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
RUNS = Path(os.environ.get("SPRM_DOMAINS_RUNS") or ROOT / "runs" / "domains")
from analysis.shared_data import shared_data_dir  # noqa: E402

D = shared_data_dir()
VARIANTS = ("sprm", "orm", "last_step")

DOMAINS: dict[str, tuple[str, list[str]]] = {
    "processbench": ("processbench", ["processbench/gsm8k.json", "processbench/math.json"]),
    "science": ("mr_ben", ["mr_ben/biology.json", "mr_ben/chemistry.json", "mr_ben/physics.json"]),
    "code": ("mr_ben", ["mr_ben/coding.json"]),
    "roscoe": ("roscoe", ["roscoe/roscoe-drop-stepwise.json", "roscoe/roscoe-esnli-stepwise.json"]),
    "summedits": (
        "summedits",
        [
            f"summedits/summedits_{d}.json"
            for d in ("ectsum", "news", "qmsumm", "sales_call", "sales_email", "samsum")
        ],
    ),
}
LABELS = {
    "processbench": "math: ProcessBench gsm8k + math",
    "science": "science: MR-Ben biology, chemistry, physics",
    "code": "code: MR-Ben coding",
    "roscoe": "reading and inference: ROSCOE DROP + e-SNLI",
    "summedits": "summaries: SummEdits (6 domains)",
}


def train_out(
    domain: str, variant: str, out: str, filter_centre: str = "balanced", encoder: str = "frozen"
) -> None:
    """Train on every domain but `domain` with train_sprm's defaults for `encoder` (the
    command's own options and `train_settings`, so the two cannot drift apart)."""
    import torch
    from tqdm import tqdm

    from judges.sprm.io import new_featurizer, save_model
    from judges.sprm.train import fit
    from studyapp.importers.solutions import read_solutions
    from studyapp.management.commands.train_sprm import finetune_trace_passes

    torch.set_num_threads(1)
    solutions = []
    for name, (fmt, files) in DOMAINS.items():
        if name != domain:
            solutions += read_solutions([D / f for f in files], fmt)
    solutions = [s for s in solutions if s.outcome is not None]
    print(f"{len(solutions)} solutions from every domain but {domain}; variant {variant}")
    config, spec = out_settings(variant, filter_centre, encoder)
    featurizer = new_featurizer(cache_dir=str(ROOT / "runs" / "sprm-cache"), finetune=spec)
    bar = None
    if spec is not None:  # minutes an epoch: a bar over the traces trained on, as train_sprm's
        bar = tqdm(total=finetune_trace_passes(solutions, config), unit="trace")
    model = fit(solutions, featurizer, config, on_batch=bar.update if bar is not None else None)
    if bar is not None:
        bar.close()
    save_model(model, out)
    print(f"saved {out}; collapsed {model.card['training']['collapsed']}")


def out_settings(variant: str, filter_centre: str, encoder: str) -> tuple:
    """(TrainConfig, FinetuneSpec or None): what `train_sprm --variant V --filter-centre C
    --encoder E` trains with, read off the command's parser."""
    from studyapp.management.commands.train_sprm import Command, train_settings

    args = ["--data", "-", "--format", "native", "--out", "-", "--variant", variant]
    args += ["--filter-centre", filter_centre, "--encoder", encoder]
    return train_settings(vars(Command().create_parser("manage.py", "train_sprm").parse_args(args)))


def ci(m: dict | None) -> str:
    if not m or "value" not in m:
        return "n/a"
    return f"{m['value']:.2f} [{m['ci_low']:.2f}, {m['ci_high']:.2f}]"


BBM_TASKS = ("multistep_arithmetic", "tracking_shuffled_objects", "word_sorting")


def rows(label: str, setting: str, reports: dict[str, dict]) -> None:
    """One table row per trained variant, then the baselines of the first report. A trained
    variant's ProcessBench F1 also at the outcome threshold fitted on training outcomes
    (`model_at_outcome_threshold`): calibrated step scores near the base rate flag nothing
    at 0.5. Baselines have no fitted threshold ("-")."""
    if not reports:
        print(f"| {label} | {setting} | (not run) | | | | | |")
        return
    first = next(iter(reports.values()))
    scored = [
        (v, r["model"], r.get("collapsed"), r.get("model_at_outcome_threshold")) for v, r in reports.items()
    ]
    scored += [(name, block, None, None) for name, block in first["baselines"].items()]
    n = f"{first['n_labelled_traces']} traces"
    for name, block, collapsed, fitted in scored:
        flag = " (collapsed)" if collapsed else ""
        f1_fitted = "-" if fitted is None else ci((fitted.get("processbench") or {}).get("f1"))
        print(
            f"| {label} ({n}) | {setting} | {name}{flag} | {ci(block.get('step_auroc'))} | "
            f"{ci(block.get('first_error_accuracy'))} | "
            f"{ci((block.get('processbench') or {}).get('f1'))} | {f1_fitted} | "
            f"{ci((block.get('calibration') or {}).get('ece'))} |"
        )


def reports_at(paths: dict[str, Path]) -> dict[str, dict]:
    return {v: json.loads(p.read_text()) for v, p in paths.items() if p.exists() and p.stat().st_size}


def table() -> None:
    cols = (
        "| domain | setting | scorer | step AUROC | first-error acc. | ProcessBench F1 | "
        "F1, fitted threshold | ECE |"
    )
    print(cols + "\n|---|---|---|---|---|---|---|---|")
    for domain in DOMAINS:
        for setting in ("in", "out"):
            label = "in-domain" if setting == "in" else "domain left out"
            paths = {v: RUNS / f"{domain}-{setting}-{v}.json" for v in VARIANTS}
            rows(LABELS[domain], label, reports_at(paths))
    # BIG-Bench Mistake: the reports of docs/results/sprm_experiment.sh bbm (trained on
    # the other two human-labelled tasks), read from runs/.
    for task in BBM_TASKS:
        paths = {v: ROOT / "runs" / f"bbm-{task}-{v}.json" for v in VARIANTS}
        rows(f"BIG-Bench Mistake: {task}", "task left out", reports_at(paths))
    # the fine-tuned encoder (--encoder finetune, default settings), task left out: the
    # reports of docs/results/sprm_finetune_bbm.sh, read from runs/ft-bbm/
    for task in BBM_TASKS:
        paths = {f"fine-tuned {v}": ROOT / "runs" / "ft-bbm" / f"{task}-{v}.json" for v in VARIANTS}
        rows(f"BIG-Bench Mistake: {task}", "task left out", reports_at(paths))


def _metric(report: dict | None, *path: str) -> dict | None:
    block: dict | None = (report or {}).get("model")
    for key in path:
        block = (block or {}).get(key)
    return block if block and "value" in block else None


def compare_centres(balanced: Path, zero: Path) -> None:
    """The SPRM's held-out step AUROC with each filter centre, row by row, and the rule of
    docs/results/sprm_domains.md: zero becomes the default when it is higher in >= 6 of
    the 10 rows and by > 0.01 on average; otherwise balanced stays."""
    print(
        "| domain | setting | step AUROC, balanced | step AUROC, zero | zero - balanced "
        "| ProcessBench F1, balanced | ProcessBench F1, zero |"
    )
    print("|---|---|---|---|---:|---|---|")
    diffs: list[float] = []
    for domain in DOMAINS:
        for setting in ("in", "out"):
            label = "in-domain" if setting == "in" else "domain left out"
            got = reports_at(
                {c: d / f"{domain}-{setting}-sprm.json" for c, d in (("b", balanced), ("z", zero))}
            )
            b, z = _metric(got.get("b"), "step_auroc"), _metric(got.get("z"), "step_auroc")
            diff = "n/a"
            if b and z:
                diffs.append(z["value"] - b["value"])
                diff = f"{diffs[-1]:+.3f}"
            f1 = [ci(_metric(got.get(c), "processbench", "f1")) for c in ("b", "z")]
            print(f"| {LABELS[domain]} | {label} | {ci(b)} | {ci(z)} | {diff} | {f1[0]} | {f1[1]} |")
    higher = sum(d > 0 for d in diffs)
    mean = sum(diffs) / len(diffs) if diffs else float("nan")
    flip = len(diffs) == 10 and higher >= 6 and mean > 0.01
    print(f"\nrows compared: {len(diffs)} of 10; zero higher in {higher}; mean zero - balanced {mean:+.4f}")
    if len(diffs) < 10:
        print("decision: none (the rule needs all 10 rows)")
    else:
        print(f"decision: {'zero becomes the default' if flip else 'balanced stays the default'}")


def main() -> None:
    """The command line of the module docstring."""
    if len(sys.argv) == 4 and sys.argv[1] == "--compare-centres":
        compare_centres(Path(sys.argv[2]), Path(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--train-out":
        if len(sys.argv) < 5:
            sys.exit(__doc__)
        opts = {"--filter-centre": ("balanced", "zero"), "--encoder": ("frozen", "finetune")}
        rest, chosen = sys.argv[5:], {"--filter-centre": "balanced", "--encoder": "frozen"}
        while rest:
            if len(rest) < 2 or rest[0] not in opts or rest[1] not in opts[rest[0]]:
                sys.exit(__doc__)
            chosen[rest[0]], rest = rest[1], rest[2:]
        train_out(
            sys.argv[2],
            sys.argv[3],
            sys.argv[4],
            filter_centre=chosen["--filter-centre"],
            encoder=chosen["--encoder"],
        )
    else:
        table()


if __name__ == "__main__":
    main()
