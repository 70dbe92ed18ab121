"""Markdown tables of docs/results/sprm.md from the reports in runs/ and the cards in models/.

python docs/results/sprm_tables.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS, MODELS = ROOT / "runs", ROOT / "models"
VARIANTS = ("sprm", "orm", "last_step")
TASKS = ("multistep_arithmetic", "tracking_shuffled_objects", "word_sorting")


def ci(m: dict | None) -> str:
    if not m or "value" not in m:
        return "n/a"
    return f"{m['value']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]"


def kept(card: dict) -> str:
    rows = card["training"]["history"]
    return "; ".join(f"{h['phase'][0]}{h['epoch']}: {h['kept_pos']:.2f}/{h['kept_neg']:.2f}" for h in rows)


def gsm8k() -> None:
    if not (RUNS / "gsm8k-sprm.json").exists():
        print("(no GSM8K reports)")
        return
    reports = {v: json.loads((RUNS / f"gsm8k-{v}.json").read_text()) for v in VARIANTS}
    first = reports["sprm"]
    print(
        f"Test split: {first['n_solutions']} solutions, {first['model']['best_of_n']['n_units']} problems.\n"
    )
    print("| selector | Best-of-4 accuracy [95% CI] |\n|---|---|")
    for v in VARIANTS:
        flag = " (collapsed)" if reports[v]["collapsed"] else ""
        print(f"| {v} (geometric mean of step scores){flag} | {ci(reports[v]['model']['best_of_n'])} |")
    for name, m in first["best_of_n_baselines"].items():
        print(f"| {name.replace('_', ' ')} | {ci(m)} |")
    for name in ("position_prior", "random"):
        print(
            f"| {name.replace('_', ' ')} step scores, geometric mean | "
            f"{ci(first['baselines'][name]['best_of_n'])} |"
        )
    print("\nKept fraction of positive / negative steps per epoch (w = warm-up, s = SPR filter):\n")
    for v in VARIANTS:
        card = json.loads((MODELS / f"gsm8k-{v}" / "card.json").read_text())
        print(f"- {v}: {kept(card)}; collapsed: {card['training']['collapsed']}")


def bbm(prefix: str = "bbm", model_dir: str = "bbm-no-{task}-{v}") -> None:
    for task in TASKS:
        paths = {v: RUNS / f"{prefix}-{task}-{v}.json" for v in VARIANTS}
        if not all(p.exists() for p in paths.values()):
            print(f"\n(no reports for {task})")
            continue
        reports = {v: json.loads(p.read_text()) for v, p in paths.items()}
        first = reports["sprm"]
        pb0 = first["model"]["processbench"]
        print(
            f"\n**Held out: {task}** ({first['n_solutions']} traces, {first['n_steps']} steps; "
            f"{pb0['acc1']['n_units']} with a human-located mistake, {pb0['acc2']['n_units']} without)\n"
        )
        print(
            "| scorer | step AUROC | ProcessBench F1 | acc1 (erroneous) | acc2 (correct) "
            "| first-error acc | ECE |\n|---|---|---|---|---|---|---|"
        )
        rows = {v: reports[v]["model"] for v in VARIANTS} | first["baselines"]
        for name, block in rows.items():
            pb = block["processbench"]
            flag = " (collapsed)" if name in reports and reports[name]["collapsed"] else ""
            print(
                f"| {name}{flag} | {ci(block['step_auroc'])} | {ci(pb.get('f1'))} | "
                f"{ci(pb.get('acc1'))} | {ci(pb.get('acc2'))} | {ci(block['first_error_accuracy'])} "
                f"| {ci(block['calibration']['ece'])} |"
            )
        print("\nAt the threshold fitted on training outcomes (no step label read):\n")
        print(
            "| model | threshold | ProcessBench F1 | acc1 | acc2 | first-error acc |\n"
            "|---|---|---|---|---|---|"
        )
        for v in VARIANTS:
            at = reports[v].get("model_at_outcome_threshold")
            if at:
                pb = at["processbench"]
                print(
                    f"| {v} | {reports[v]['outcome_threshold']:.3f} | {ci(pb.get('f1'))} | "
                    f"{ci(pb.get('acc1'))} | {ci(pb.get('acc2'))} | {ci(at['first_error_accuracy'])} |"
                )
        print()
        for v in VARIANTS:
            card = json.loads((MODELS / model_dir.format(task=task, v=v) / "card.json").read_text())
            print(
                f"- {v} trained on {card['n_solutions']} traces ({card['n_positive_solutions']} correct): "
                f"kept pos/neg per epoch {kept(card)}; collapsed: {card['training']['collapsed']}"
            )


if __name__ == "__main__":
    print("## (a) GSM8K\n")
    gsm8k()
    print("\n## (b) BIG-Bench Mistake, held-out task\n")
    bbm()
    print("\n## (c) BIG-Bench Mistake, held-out half of each task\n")
    bbm("bbm-in", "bbm-half-{v}")
