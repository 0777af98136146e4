"""Spreadsheet-safe CSV: cells an adversary wrote cannot become formulas in Excel, LibreOffice or Sheets."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lurewatch.errors import LurewatchError

# Characters that make a spreadsheet treat a cell as a formula or command (OWASP CSV injection), including the
# full-width forms some spreadsheet locales also honour.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_cell(value: object) -> str:
    """The text of ``value`` with a leading apostrophe when a spreadsheet would evaluate it."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text  # our own numbers (risk, counts) stay numeric
    stripped = text.lstrip(" \u00a0")
    if stripped.startswith(_FORMULA_TRIGGERS) or text.startswith(_FORMULA_TRIGGERS):
        return "'" + text
    return text


def write_rows(stream: IO[str], header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write ``rows`` under ``header`` with every cell neutralised and every field quoted; returns the row count."""
    writer = csv.writer(stream, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise_cell(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])
        count += 1
    return count


@contextmanager
def atomic_csv(path: Path, header: Sequence[str]) -> Iterator[Callable[[Sequence[object]], None]]:
    """Yield a row writer for ``path``; the file appears whole when the block ends, or not at all."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        # utf-8-sig so that Excel opens non-ASCII names correctly
        fh = tmp.open("w", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise LurewatchError(f"{path}: cannot write CSV ({exc.strerror})") from None
    try:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow([neutralise_cell(h) for h in header])
        yield lambda row: writer.writerow([neutralise_cell(cell) for cell in row])
        fh.close()
        tmp.replace(path)
    except BaseException:
        fh.close()
        tmp.unlink(missing_ok=True)
        raise
