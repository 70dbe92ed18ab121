"""LLMBar (Zeng et al., ICLR 2024; princeton-nlp/LLMBar), a subset's `dataset.json`.

A JSON list of ``{input, output_1, output_2, label}``: each entry becomes a
pairwise item ``llmbar/<subset>/<index>`` (the instruction as the prompt,
``output_1`` as response A, ``output_2`` as B) and its gold preference
(``label`` 1 or 2) an annotation of the external rater ``llmbar-gold``. The
subset is the folder's path under ``LLMBar/`` or ``Processed/`` (e.g.
``Adversarial/Neighbor``), or the ``subset`` option.

Each ``evaluators/<model>/<strategy>/result.json`` beside it (the authors'
runs) becomes an imported judge named ``<model>/<strategy>`` (``GPT-4/Vanilla``):
the same list, each entry with ``results[-1]`` holding the verdict with
output_1 shown first (``"swap = False"``) and with output_2 shown first
(``"swap = True"``), ``winner`` "1", "2" or null (unparsed) already about the
underlying outputs. Both are kept as the judgment's orders (``ab``, ``ba``),
their combination as its preference. A result.json whose entries are not the
dataset's, in the same order, fails with the entry's line.

Options: ``subset``, ``criterion`` (default ``overall``), ``evaluators``
(false: the gold labels only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, read_json_list
from studyapp.importers.records import (
    PREFERENCE_VALUES,
    Fields,
    ImportFailure,
    ImportResult,
    ItemRecord,
    LabelRecord,
    combine_orders,
)

GOLD_RATER = "llmbar-gold"
WINNERS = {"1": "A", "2": "B"}
SWAPS = {"ab": "swap = False", "ba": "swap = True"}


def subset_of(path: Path) -> str:
    """`Adversarial/Neighbor` for `.../LLMBar/Adversarial/Neighbor/dataset.json`."""
    parts = path.resolve().parent.parts
    for root in ("LLMBar", "Processed"):
        if root in parts:
            rest = parts[len(parts) - parts[::-1].index(root) :]
            if rest:
                return "/".join(rest)
    return parts[-1]


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    subset = str(options.get("subset") or subset_of(path))
    criterion = str(options.get("criterion") or "overall")
    items: list[ItemRecord] = []
    for index, (line, entry) in enumerate(read_json_list(path, limits)):
        if not isinstance(entry, dict):
            raise ImportFailure(path, line, f"[{index}]", "expected an object")
        f = Fields(path, line, entry)
        label = f.get("label", int)
        if label not in (1, 2):
            raise f.fail("label", f"must be 1 or 2, not {label!r}")
        items.append(
            ItemRecord(
                external_id=f"llmbar/{subset}/{index}",
                kind="pairwise",
                line=line,
                problem=f.text("input"),
                response_a=f.get("output_1", str),
                response_b=f.get("output_2", str),
                metadata={"subset": subset, "index": index},
                labels=[
                    LabelRecord(rater=GOLD_RATER, ratings={criterion: PREFERENCE_VALUES[WINNERS[str(label)]]})
                ],
            )
        )
    if not items:
        raise ImportFailure(path, None, None, "no entries")
    if options.get("evaluators", True):
        for result in sorted(path.parent.glob("evaluators/*/*/result.json")):
            _attach_judge(result, items, criterion, limits)
    return ImportResult(items)


def _attach_judge(path: Path, items: list[ItemRecord], criterion: str, limits: ImportLimits) -> None:
    judge = f"{path.parent.parent.name}/{path.parent.name}"
    entries = read_json_list(path, limits)
    if len(entries) != len(items):
        raise ImportFailure(path, None, None, f"{len(entries)} entries where dataset.json has {len(items)}")
    for item, (line, entry) in zip(items, entries, strict=True):
        if not isinstance(entry, dict):
            raise ImportFailure(path, line, None, "expected an object")
        f = Fields(path, line, entry)
        if f.get("input", str) != item.problem:
            raise f.fail("input", f"not the instruction of dataset.json line {item.line}")
        results = f.get("results", list)
        if not results or not isinstance(results[-1], dict):
            raise f.fail("results", "expected a list ending in an object with both swaps")
        last = Fields(path, line, results[-1], f"results[{len(results) - 1}].")
        orders: dict[str, str | None] = {}
        for order, key in SWAPS.items():
            verdict = Fields(path, line, last.get(key, dict), f"{last.prefix}{key}.")
            winner = verdict.get("winner", str, required=False)
            if winner is not None and winner not in WINNERS:
                raise verdict.fail("winner", f'must be "1", "2" or null, not {winner!r}')
            orders[order] = WINNERS.get(winner) if winner is not None else None
        combined, _ = combine_orders(orders["ab"], orders["ba"])
        item.labels.append(
            LabelRecord(
                rater=judge,
                rater_kind="judge",
                ratings={criterion: PREFERENCE_VALUES[combined]},
                orders={criterion: orders},
            )
        )
