"""Spreadsheet-safe CSV: cells an adversary wrote cannot become formulas in Excel, LibreOffice or Sheets."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lurewatch.errors import LurewatchError
from lurewatch.model import Approach, Assessment, CaseState

# Characters that make a spreadsheet treat a cell as a formula or command (OWASP CSV injection), including the
# full-width forms some spreadsheet locales also honour.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def neutralise_cell(value: object) -> str:
    """The text of ``value`` with a leading apostrophe when a spreadsheet would evaluate it.

    Lone surrogates (which no UTF-8 file can hold) become U+FFFD.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text  # our own numbers (risk, counts) stay numeric
    text = _LONE_SURROGATE.sub("\ufffd", text)
    stripped = text.lstrip(" \u00a0\u3000")
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


def _inbox_header() -> tuple[str, ...]:
    from lurewatch.display import CSV_HEADER

    return (*CSV_HEADER, "status", "verdict", "assignee", "reporters", "notes")


def inbox_row(approach: Approach, assessment: Assessment, case: CaseState | None) -> list[object]:
    """The CSV row of an approach (the columns of ``scan --csv``) followed by its case state."""
    from lurewatch.display import clean_line, csv_row

    state = case or CaseState(approach_id=approach.id)
    return [
        *csv_row(approach, assessment),
        state.status,
        state.verdict or "",
        clean_line(state.assignee, 200),
        "; ".join(clean_line(r, 200) for r in state.reporters),
        len(state.notes),
    ]


def write_inbox_csv(stream: IO[str], items: Iterable[tuple[Approach, Assessment, CaseState | None]]) -> int:
    """Write approaches with their triage state (status, verdict, assignee, reporters, number of notes)
    as spreadsheet-safe CSV; returns the number of rows."""
    return write_rows(stream, _inbox_header(), (inbox_row(*item) for item in items))
