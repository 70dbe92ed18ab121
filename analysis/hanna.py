"""Replay of the HANNA LLM-rating correlations (Chhun et al., TACL 2024).

HANNA (Chhun, Colombo, Suchanek & Clavel, COLING 2022; extended in Chhun,
Suchanek & Clavel, "Do Language Models Enjoy Their Own Stories? Prompting
Large Language Models for Automatic Story Evaluation", TACL 12:1122-1142,
2024) holds 1,056 stories: 96 writing prompts x 11 "systems", one of which,
``Human``, is the human-written reference story and not a story generator.
``hanna_metric_scores_llm.csv`` has one row per system; each cell is a
Python-list string of 96 per-story values: the mean of three human ratings
per criterion (``Relevance`` ... ``Complexity``) and each LLM's rating per
criterion and Eval-Prompt (``<LLM> <RE|CH|EM|SU|EG|CX> <1-4>``).

Computation, for each LLM, prompt and criterion, over the ten
story-generating systems (the ``Human`` row is left out):

- **story level**: Kendall's tau-b between the LLM's ratings and the human
  mean ratings of all 10 x 96 = 960 stories, pooled;
- **system level**: average both per system first (10 values each), then
  Kendall's tau-b between the 10 system means.

``scipy.stats.kendalltau`` (tau-b, ties corrected). This is the computation
of the authors' repository (``rankings/story_kendall.csv`` and
``rankings/system_kendall.csv`` for the automatic metrics, which
:func:`replay` reproduces on the same file; see the tests).

Run: ``python -m analysis.hanna --out docs/results/hanna.md``.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis.shared_data import shared_data_dir

__all__ = [
    "CRITERIA",
    "HannaData",
    "load_hanna",
    "markdown_report",
    "replay",
    "story_and_system_kendall",
]

CRITERIA: dict[str, str] = {
    "RE": "Relevance",
    "CH": "Coherence",
    "EM": "Empathy",
    "SU": "Surprise",
    "EG": "Engagement",
    "CX": "Complexity",
}
REFERENCE_SYSTEM = "Human"
_LLM_COLUMN = re.compile(r"^(?P<llm>.+) (?P<crit>RE|CH|EM|SU|EG|CX) (?P<prompt>[1-9])$")


class HannaData:
    """Parsed HANNA scores: ``values(column)`` is a (systems, 96) array."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.systems = [s for s in frame.index if s != REFERENCE_SYSTEM]
        self._cache: dict[str, np.ndarray] = {}

    def values(self, column: str) -> np.ndarray:
        if column not in self._cache:
            rows = [ast.literal_eval(self.frame.at[s, column].replace("nan", "None")) for s in self.systems]
            self._cache[column] = np.array(
                [[np.nan if v is None else v for v in row] for row in rows], dtype=float
            )
        return self._cache[column]

    def llm_columns(self) -> list[tuple[str, str, int, str]]:
        """(llm, criterion abbreviation, prompt, column) for every LLM rating column."""
        out = []
        for col in self.frame.columns:
            m = _LLM_COLUMN.match(col)
            if m and not m["llm"].startswith("Human"):
                out.append((m["llm"], m["crit"], int(m["prompt"]), col))
        return out


def load_hanna(path: str | Path | None = None) -> HannaData:
    """Read ``hanna_metric_scores_llm.csv`` (default: the shared data copy)."""
    path = Path(path) if path else shared_data_dir() / "hanna" / "hanna_metric_scores_llm.csv"
    return HannaData(pd.read_csv(path, index_col="Model"))


def story_and_system_kendall(scores: np.ndarray, human: np.ndarray) -> tuple[float, float, int]:
    """Story-level (pooled) and system-level (per-system means) tau-b; stories used.

    ``scores`` and ``human`` are (systems, stories) arrays; a story with a
    missing side is left out of both levels.
    """
    ok = ~(np.isnan(scores) | np.isnan(human))
    story = stats.kendalltau(scores[ok], human[ok], variant="b").statistic
    masked_s = np.where(ok, scores, np.nan)
    masked_h = np.where(ok, human, np.nan)
    if scores.shape[0] < 2:
        return float(story), float("nan"), int(ok.sum())
    system = stats.kendalltau(
        np.nanmean(masked_s, axis=1), np.nanmean(masked_h, axis=1), variant="b"
    ).statistic
    return float(story), float(system), int(ok.sum())


def replay(data: HannaData | None = None) -> pd.DataFrame:
    """Kendall tau-b of every LLM x prompt x criterion against the human means.

    Returns a frame with columns ``llm, prompt, criterion, story_tau,
    system_tau, n_stories, n_systems``.
    """
    data = data or load_hanna()
    rows = []
    for llm, crit, prompt, col in data.llm_columns():
        story, system, n = story_and_system_kendall(data.values(col), data.values(CRITERIA[crit]))
        rows.append(
            {
                "llm": llm,
                "prompt": prompt,
                "criterion": CRITERIA[crit],
                "story_tau": story,
                "system_tau": system,
                "n_stories": n,
                "n_systems": len(data.systems),
            }
        )
    return pd.DataFrame(rows)


def _table(result: pd.DataFrame, column: str) -> str:
    wide = result.pivot_table(index=["llm", "prompt"], columns="criterion", values=column)
    wide = wide.reindex(columns=list(CRITERIA.values()))
    order = list(dict.fromkeys(result["llm"]))
    wide = wide.reindex(sorted(wide.index, key=lambda k: (order.index(k[0]), k[1])))
    head = "| LLM | prompt | " + " | ".join(CRITERIA) + " |\n"
    head += "|---|---:|" + "---:|" * len(CRITERIA) + "\n"
    body = "".join(
        f"| {llm} | {prompt} | " + " | ".join(f"{v:.3f}" for v in row) + " |\n"
        for (llm, prompt), row in zip(wide.index, wide.to_numpy(), strict=True)
    )
    return head + body


def markdown_report(result: pd.DataFrame) -> str:
    """The two tables (story level, system level) as Markdown."""
    return (
        "### Story level (960 stories pooled), Kendall's tau-b\n\n"
        + _table(result, "story_tau")
        + "\n### System level (10 system means), Kendall's tau-b\n\n"
        + _table(result, "system_tau")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="path to hanna_metric_scores_llm.csv")
    parser.add_argument("--out", default=None, help="write the tables (Markdown) here")
    args = parser.parse_args(argv)
    text = markdown_report(replay(load_hanna(args.data)))
    if args.out:
        Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
