"""Run the alternative-annotator test's reference implementation on shared data.

    python docs/results/alt_test_reference.py --notebook PATH/TO/AltTest/alt_test_example.ipynb

The reference is the authors' notebook (Calderon, Reichart & Dror, ACL 2025;
github nitaytech/AltTest, ``alt_test_example.ipynb``). It is not copied into
this project: the script executes the notebook's code cell that defines
``alt_test`` from your clone, records the per-annotator p-values its
``ttest`` returns, and prints, per dataset and judge, the winning rate, the
advantage probability and those p-values as JSON. These are the figures
``tests/analysis/test_alt_test_reference.py`` asserts for
``analysis.replacement.alt_test`` on the same data.

Datasets (read from ../shared/data, CONCORDANCE_SHARED_DATA overrides):

- ``squality/<criterion>/squality-<w>``: SQuALITY's reviewer ``w`` as the
  candidate "judge", the other three reviewers as the humans, neg_rmse, epsilon 0.15;
- ``hanna/coherence/<LLM>/p1``: HANNA's three human slots as the humans and
  the LLM's prompt-1 coherence scores as the judge, neg_rmse, epsilon 0.1.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analysis.shared_data import shared_data_dir  # noqa: E402

HANNA_LLMS = ("Beluga-13B", "Mistral-7B", "Llama-13B", "ChatGPT")


def squality(data: Path, criterion: str) -> dict[str, tuple[dict, dict]]:
    """reviewer -> (the other reviewers' annotations, the reviewer's own as the 'LLM')."""
    key = {"correctness": "correctness-rating", "coverage": "selection-rating", "overall": "overall-rating"}[
        criterion
    ]
    by_worker: dict[str, dict[str, float]] = {}
    for line in (data / "squality" / "all-responses.jsonl").read_text().splitlines():
        record = json.loads(line)
        for q, systems in record["questions"].items():
            for system, entry in systems.items():
                instance = f"{record['passage-id']}/{q}/{system}"
                for review in entry["reviews"]:
                    by_worker.setdefault(f"squality-{review['worker_id']}", {})[instance] = review[key]
    return {w: ({o: v for o, v in by_worker.items() if o != w}, own) for w, own in sorted(by_worker.items())}


def hanna(data: Path) -> tuple[dict, dict[str, dict]]:
    humans: dict[str, dict[str, float]] = {}
    llms: dict[str, dict[str, float]] = {}
    with (data / "hanna" / "hanna_metric_scores_llm.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            for n in (1, 2, 3):
                for i, v in enumerate(ast.literal_eval(row[f"Human {n} CH"])):
                    humans.setdefault(f"hanna-human-{n}", {})[f"{row['Model']}/{i}"] = v
            for llm in HANNA_LLMS:
                for i, v in enumerate(ast.literal_eval(row[f"{llm} CH 1"])):
                    llms.setdefault(f"{llm}/p1", {})[f"{row['Model']}/{i}"] = v
    return humans, llms


def reference(notebook: Path) -> tuple[Any, list[float]]:
    """The notebook's alt_test, with its t-test p-values recorded."""
    cells = json.loads(notebook.read_text())["cells"]
    (source,) = [
        "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code" and "def alt_test(" in "".join(c["source"])
    ]
    namespace: dict[str, Any] = {}
    exec(
        compile(
            "import numpy as np\nfrom scipy.stats import ttest_1samp\nfrom typing import *\n" + source,
            str(notebook),
            "exec",
        ),
        namespace,
    )
    recorded: list[float] = []
    original = namespace["ttest"]

    def ttest(indicators: Any, epsilon: float) -> float:
        p = float(original(indicators, epsilon))
        recorded.append(p)
        return p

    def alt_test(*args: Any, **kwargs: Any) -> Any:
        with contextlib.redirect_stdout(sys.stderr):  # its notes on dropped instances
            return namespace["alt_test"](*args, **kwargs)

    namespace["ttest"] = ttest
    return alt_test, recorded


def _figures(wr: float, ap: float, humans: dict, recorded: list[float]) -> dict[str, Any]:
    # The reference tests the annotators in the order of its dict (every one has 30+ instances here).
    return {
        "winning_rate": wr,
        "advantage_probability": ap,
        "p_values": dict(zip(humans, recorded, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", type=Path, required=True)
    args = parser.parse_args()
    data = shared_data_dir()
    alt_test, recorded = reference(args.notebook)
    out: dict[str, Any] = {}
    for criterion in ("correctness", "coverage", "overall"):
        for worker, (humans, own) in squality(data, criterion).items():
            recorded.clear()
            wr, ap = alt_test(own, humans, "neg_rmse", epsilon=0.15)
            out[f"squality/{criterion}/{worker}"] = _figures(wr, ap, humans, recorded)
    humans, llms = hanna(data)
    for name, llm in llms.items():
        recorded.clear()
        wr, ap = alt_test(llm, humans, "neg_rmse", epsilon=0.1)
        out[f"hanna/coherence/{name}"] = _figures(wr, ap, humans, recorded)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
