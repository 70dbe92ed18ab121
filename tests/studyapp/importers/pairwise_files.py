"""Small pairwise files in the published layouts, for the importer tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def llmbar_entry(i: int, label: int = 1) -> dict[str, Any]:
    return {"input": f"Instruction {i}", "output_1": f"first {i}", "output_2": f"second {i}", "label": label}


def llmbar_result(entry: dict[str, Any], first: str | None, swapped: str | None) -> dict[str, Any]:
    return {
        **entry,
        "results": [
            {
                "swap = False": {"completion": ["Output (a)", "stop"], "winner": first},
                "swap = True": {"completion": ["Output (b)", "stop"], "winner": swapped},
            }
        ],
    }


def write_json_list(path: Path, entries: list[Any]) -> Path:
    """A JSON list with each entry on its own line, the first on line 1 (as `[{...},`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[" + ",\n".join(json.dumps(e) for e in entries) + "]\n")
    return path


def llmbar_files(
    tmp_path: Path, entries: list[dict[str, Any]], verdicts: list[tuple[str | None, str | None]] | None = None
) -> Path:
    folder = tmp_path / "LLMBar" / "Natural"
    path = write_json_list(folder / "dataset.json", entries)
    if verdicts is not None:
        results = [llmbar_result(e, *v) for e, v in zip(entries, verdicts, strict=True)]
        write_json_list(folder / "evaluators" / "GPT-4" / "Vanilla" / "result.json", results)
    return path


def conversation(question: str, answer: str, turns: int = 1) -> list[dict[str, str]]:
    out = []
    for t in range(1, turns + 1):
        out += [
            {"role": "user", "content": f"{question} (turn {t})"},
            {"role": "assistant", "content": f"{answer} {t}"},
        ]
    return out


def mtbench(
    judge: str,
    winner: str,
    model_a: str = "gpt-4",
    model_b: str = "vicuna",
    question: int = 81,
    turn: int = 1,
) -> dict[str, Any]:
    return {
        "question_id": question,
        "model_a": model_a,
        "model_b": model_b,
        "winner": winner,
        "judge": judge,
        "turn": turn,
        "conversation_a": conversation(f"Q{question}", f"answer of {model_a}", 2),
        "conversation_b": conversation(f"Q{question}", f"answer of {model_b}", 2),
    }
