"""Evaluate a trained SPRM beside trivial baselines: `manage.py evaluate_sprm --model DIR ...`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from judges.sprm.evaluate import evaluate
from judges.sprm.io import load_model
from studyapp.management.commands.train_sprm import add_data_arguments, load_data


def _fmt(m: dict[str, Any] | None) -> str:
    if not m or "value" not in m:
        return (m or {}).get("error", "n/a")
    return f"{m['value']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]"


class Command(BaseCommand):
    help = "Step AUROC, first-error accuracy, ProcessBench F1, calibration and Best-of-N with CIs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, help="model directory from train_sprm")
        add_data_arguments(parser)
        parser.add_argument("--threshold", type=float, default=0.5)
        parser.add_argument("--n-boot", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        solutions = load_data(options)
        model = load_model(options["model"], cache_dir=options["cache_dir"])
        report = evaluate(
            model,
            solutions,
            threshold=options["threshold"],
            n_boot=options["n_boot"],
            seed=options["seed"],
        )
        report["model_dir"] = options["model"]
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(
            f"{report['n_solutions']} solutions, {report['n_steps']} steps, "
            f"variant {report['variant']}, collapsed {report['collapsed']}"
        )
        rows = {"model": report["model"], **report["baselines"]}
        for name, block in rows.items():
            parts = [f"{name:>15}"]
            if "step_auroc" in block:
                parts.append(f"AUROC {_fmt(block['step_auroc'])}")
                parts.append(f"PB-F1 {_fmt(block['processbench'].get('f1'))}")
                parts.append(f"first-error acc {_fmt(block['first_error_accuracy'])}")
            if "best_of_n" in block:
                parts.append(f"Best-of-N {_fmt(block['best_of_n'])}")
            if "weighted_vote" in block:
                parts.append(f"weighted vote {_fmt(block['weighted_vote'])}")
            self.stdout.write("  ".join(parts))
        for name, m in report.get("best_of_n_baselines", {}).items():
            self.stdout.write(f"{name:>15}  Best-of-N {_fmt(m)}")
