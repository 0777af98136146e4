"""The inbox CSV: case state columns, and no cell a spreadsheet would evaluate."""

from __future__ import annotations

import csv
import io

import pytest

from export_samples import HOSTILE, approach, assessment, case
from lurewatch.export.csv import inbox_row, neutralise_cell, write_inbox_csv

PAYLOADS = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # full-width equals sign
    "\uff0b1+1",
    "\uff0d1+1",
    "\uff201+1",
    "  =1+1",
    "\u00a0=1+1",
    "\u3000=1+1",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_are_neutralised(payload: str) -> None:
    assert neutralise_cell(payload).startswith("'")
    items = [
        (approach(sender_name=payload, headline=payload, text=payload), assessment(), case(notes=(payload,)))
    ]
    buffer = io.StringIO()
    assert write_inbox_csv(buffer, items) == 1
    header, row = list(csv.reader(io.StringIO(buffer.getvalue())))
    for cell in row:
        stripped = cell.lstrip(" \u00a0\u3000")
        assert not stripped.startswith(
            ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
        ), cell
    assert header[-5:] == ["status", "verdict", "assignee", "reporters", "notes"]


def test_case_columns_and_numbers_stay_numbers() -> None:
    row = inbox_row(approach(), assessment(), case(verdict="scam", notes=("a", "b")))
    assert row[-5:] == ["triaged", "scam", "sec-officer", "alice", 2]
    assert neutralise_cell(-0.5) == "-0.5"  # our own numbers are not formulas
    no_case = inbox_row(approach(), assessment(), None)
    assert no_case[-5:] == ["new", "", "", "", 0]


def test_hostile_text_writes_as_utf8() -> None:
    buffer = io.StringIO()
    write_inbox_csv(
        buffer, [(approach(sender_name=HOSTILE, text=HOSTILE * 50), assessment(), case(notes=(HOSTILE,)))]
    )
    buffer.getvalue().encode("utf-8")  # lone surrogates became U+FFFD
    (_, row) = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert all(len(cell) <= 2001 for cell in row)
