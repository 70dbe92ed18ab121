"""Readers of item formats: the project's own JSONL and the public formats users bring.

`read_items(path, fmt, limits=..., **options)` returns an `ImportResult` of
plain records or raises `ImportFailure` naming the file, line and field. A
format is a module here with `parse(path, *, limits, **options)`, named in
`FORMATS`; `studyapp/importers/limits.py` says how it stays within the
limits. Nothing here imports Django.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, check_item
from studyapp.importers.records import ImportFailure, ImportResult, ItemRecord, LabelRecord

FORMATS = (
    "native",
    "bigbench_mistake",
    "gsm8k_solutions",
    "prmbench",
    "processbench",
    "prm800k",
    "hanna",
    "squality",
    "llmbar",
    "mtbench_human",
    "mr_ben",
    "roscoe",
    "summedits",
)

__all__ = [
    "FORMATS",
    "ImportFailure",
    "ImportLimits",
    "ImportResult",
    "ItemRecord",
    "LabelRecord",
    "read_items",
]


def read_items(
    path: str | Path, fmt: str, *, limits: ImportLimits | None = None, **options: Any
) -> ImportResult:
    """Parse every record of `path` in format `fmt` within `limits`; fail on the first bad one."""
    if fmt not in FORMATS:
        raise ImportFailure(path, None, "format", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    path = Path(path)
    if not path.is_file():
        raise ImportFailure(path, None, None, "no such file")
    if limits is None:
        limits = ImportLimits()
    module = importlib.import_module(f"studyapp.importers.{fmt}")
    try:
        result: ImportResult = module.parse(path, limits=limits, **options)
    except UnicodeDecodeError as exc:
        raise ImportFailure(path, None, None, f"not UTF-8 text ({exc.reason})") from None
    for record in result.items:
        check_item(path, record, limits)
    return result
