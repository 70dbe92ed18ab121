"""Streamed CSV export: rows in, CSV lines out, constant memory.

:func:`csv_lines` is a generator: it formats one row at a time, so a caller
feeding it a database cursor (Django's ``QuerySet.iterator()``) and writing
each line to a file or an HTTP streaming response never holds the table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TextIO

__all__ = ["csv_lines", "write_csv"]


def csv_lines(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Iterator[str]:
    """Yield the header line, then one CSV line per row (missing keys are empty).

    Values are written as ``str(value)`` by the ``csv`` module (None -> empty).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(values: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow(values)
        return buffer.getvalue()

    yield line(list(columns))
    for row in rows:
        yield line([row.get(c) for c in columns])


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: TextIO) -> int:
    """Write rows as CSV to ``out`` line by line; return the number of data rows."""
    n = -1
    for n, text in enumerate(csv_lines(rows, columns)):  # noqa: B007
        out.write(text)
    return max(n, 0)
