"""HANNA (Chhun et al., TACL 2024), `hanna_metric_scores_llm.csv`.

A row per story-generating system (`Model`); every other cell is a
Python-list string with one score per story. Each story becomes a summary
item (open-ended writing) rated on six criteria. The human mean ratings
(columns `Relevance` ... `Complexity`) become annotations of the external
rater `hanna-human-mean`; with `individual_humans: true` the three per-story
human columns (`Human 1 RE` ...) are imported as raters `hanna-human-1..3`
instead. Each LLM and prompt (`ChatGPT RE 1`: model, criterion, prompt)
becomes an imported judge `ChatGPT/p1`. The LLM scores are kept as published,
including values outside 1-5 (failed generations), which are counted in the
warnings. The CSV holds no story text: items carry ids only, unless the
`stories` option names HANNA's `hanna_stories_annotations.csv`.
"""

from __future__ import annotations

import ast
import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, read_lines
from studyapp.importers.records import ImportFailure, ImportResult, ItemRecord, LabelRecord

CRITERIA = {
    "RE": "relevance",
    "CH": "coherence",
    "EM": "empathy",
    "SU": "surprise",
    "EG": "engagement",
    "CX": "complexity",
}
MEAN_COLUMNS = {name.capitalize(): name for name in CRITERIA.values()}
LLM_COLUMN = re.compile(r"^(?P<model>[A-Za-z][\w.-]*) (?P<crit>RE|CH|EM|SU|EG|CX) (?P<prompt>\d+)$")
HUMAN_COLUMN = re.compile(r"^Human (?P<n>[123]) (?P<crit>RE|CH|EM|SU|EG|CX)$")


def unstable_raters(options: dict[str, Any]) -> list[str]:
    """Rater ids that name a slot, not a person: HANNA's "Human 1" is whoever rated a story
    first, a different worker on different stories (Chhun et al. 2022, Sec. 3)."""
    return [f"hanna-human-{n}" for n in (1, 2, 3)] if options.get("individual_humans") else []


def _cell(path: Path, line: int, column: str, text: str) -> list[float]:
    try:
        values = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ImportFailure(path, line, column, "not a list of numbers") from None
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise ImportFailure(path, line, column, "not a list of numbers")
    return [float(v) for v in values]


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    individual = bool(options.get("individual_humans", False))
    persona = options.get("persona")
    items: list[ItemRecord] = []
    outside_scale = 0
    with _rows(path, limits) as reader:
        header = reader.fieldnames or []
        if "Model" not in header:
            raise ImportFailure(path, 1, "Model", "missing column")
        for name in MEAN_COLUMNS:
            if name not in header:
                raise ImportFailure(path, 1, name, "missing column")
        for row in reader:
            line = reader.line_num
            system = row["Model"]
            if not system:
                raise ImportFailure(path, line, "Model", "empty")
            columns: dict[str, list[float]] = {}
            for column, text in row.items():
                if (
                    column in MEAN_COLUMNS
                    or LLM_COLUMN.match(column or "")
                    or HUMAN_COLUMN.match(column or "")
                ):
                    columns[column] = _cell(path, line, column, text)
            n = len(columns["Relevance"])
            for column, values in columns.items():
                if len(values) != n:
                    raise ImportFailure(path, line, column, f"{len(values)} scores where Relevance has {n}")
            for story in range(n):
                record = ItemRecord(
                    external_id=f"hanna/{system}/{story}",
                    kind="summary",
                    line=line,
                    persona=persona,
                    metadata={"system": system, "story": story, "text_available": False},
                )
                humans: dict[str, dict[str, float]] = {}
                judges: dict[str, dict[str, float]] = {}
                for column, values in columns.items():
                    value = values[story]
                    if column in MEAN_COLUMNS:
                        if not individual:
                            humans.setdefault("hanna-human-mean", {})[MEAN_COLUMNS[column]] = value
                    elif m := HUMAN_COLUMN.match(column):
                        if individual:
                            rater = f"hanna-human-{m['n']}"
                            humans.setdefault(rater, {})[CRITERIA[m["crit"]]] = value
                    elif m := LLM_COLUMN.match(column):
                        judge = f"{m['model']}/p{m['prompt']}"
                        judges.setdefault(judge, {})[CRITERIA[m["crit"]]] = value
                        outside_scale += not 1 <= value <= 5
                record.labels = [LabelRecord(rater=r, ratings=v) for r, v in humans.items()] + [
                    LabelRecord(rater=j, rater_kind="judge", ratings=v) for j, v in judges.items()
                ]
                items.append(record)
    warnings = []
    if outside_scale:
        warnings.append(f"{path}: {outside_scale} LLM scores outside 1-5 kept as published")
    stories = options.get("stories")
    if stories:
        _attach_stories(Path(stories), items, limits)
    return ImportResult(items, warnings)


@contextmanager
def _rows(path: Path, limits: ImportLimits) -> Iterator[csv.DictReader[str]]:
    """A CSV reader over the file's lines within the limits; a CSV error names its line.
    The csv module's field limit is process-wide: it is put back afterwards, so a small
    import limit does not leak into the next reader of a CSV."""
    previous = csv.field_size_limit(limits.line_bytes)
    reader = csv.DictReader(line for _, line in read_lines(path, limits))
    try:
        yield reader
    except csv.Error as exc:
        # DictReader.line_num is set after each good row; its reader's counts every line read.
        raise ImportFailure(path, reader.reader.line_num, None, f"invalid CSV ({exc})") from None
    finally:
        csv.field_size_limit(previous)


def _attach_stories(path: Path, items: list[ItemRecord], limits: ImportLimits) -> None:
    """Fill prompt and story text from HANNA's `hanna_stories_annotations.csv`."""
    texts: dict[tuple[str, int], tuple[str, str]] = {}
    seen: dict[str, int] = {}
    stories: set[tuple[str, str]] = set()  # (system, prompt) already read
    with _rows(path, limits) as reader:
        for row in reader:
            for column in ("Model", "Prompt", "Story"):
                if column not in row:
                    raise ImportFailure(path, reader.line_num, column, "missing column")
            system = row["Model"]
            key = (system, row["Prompt"])
            if key in stories:
                continue  # three annotation rows per story
            stories.add(key)
            index = seen.get(system, 0)
            seen[system] = index + 1
            texts[(system, index)] = (row["Prompt"], row["Story"])
    for item in items:
        key = (item.metadata["system"], item.metadata["story"])
        if key in texts:
            item.document, item.summary = texts[key]
            item.metadata["text_available"] = True
