"""Streaming CSV reading for files people export and re-save: encodings, delimiters, preambles, headers.

What real exports and their spreadsheet round trips produce, and what is handled here:

* UTF-8 with or without a byte-order mark; Excel's "Unicode Text" (UTF-16 with a BOM, TAB-separated);
  anything else that is not valid UTF-8 is refused with a hint to re-save as "CSV UTF-8" rather than
  guessed at (a wrong guess would silently garble names, the very thing accounts are keyed on).
* Comma, semicolon (European Excel) or TAB delimiters, sniffed from the header line only.
* Preambles before the header (LinkedIn's ``Notes:`` block, Excel's ``sep=;`` line): the header is
  the first line that names known columns.
* Columns mapped by name, ignoring case, spaces and punctuation; unknown columns are ignored.

Every size is bounded: physical lines, whole records and single fields; a breach is an
:class:`InputError`, as is any decoding or CSV syntax error met while streaming.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from lurewatch.errors import InputError

DELIMITERS: tuple[str, ...] = (",", ";", "\t")
#: Lines before the header that are searched for it (LinkedIn's preamble has three).
MAX_PREAMBLE_LINES = 64
MAX_PREAMBLE_LINE_CHARS = 64 * 1024
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_HEAD_BYTES = 4


def header_key(name: str) -> str:
    """``"Sent At"``, ``"SENT_AT"`` and ``" sent at "`` all map to ``"sentat"``."""
    return _NON_ALNUM.sub("", name.replace("\ufeff", "").casefold())


def hard_field_limit(max_field_chars: int) -> int:
    """Longest field accepted at all; fields between ``max_field_chars`` and this are truncated later."""
    return max(131_072, 4 * max_field_chars + 1024)


def clip(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[:max_chars]


def detect_encoding(head: bytes) -> tuple[str, int]:
    """The codec of a byte stream from its first bytes, and how many BOM bytes to skip."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    # UTF-16 saved without a BOM: ASCII header characters interleaved with NUL bytes.
    if len(head) >= 4 and head[0] and not head[1] and head[2] and not head[3]:
        return "utf-16-le", 0
    if len(head) >= 4 and not head[0] and head[1] and not head[2] and head[3]:
        return "utf-16-be", 0
    return "utf-8", 0


class _Prefixed(io.RawIOBase):
    """Replays already-consumed leading bytes before the rest of a stream."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(view))
        n = len(data)
        view[:n] = data
        return n


def decode_stream(raw: IO[bytes], *, source: str, file_name: str) -> tuple[io.TextIOWrapper, str]:
    """A strict text stream over ``raw`` (newlines untranslated, as :mod:`csv` needs) and its codec."""
    head = raw.read(_HEAD_BYTES)
    encoding, skip = detect_encoding(head)
    stream = io.BufferedReader(_Prefixed(head[skip:], raw), buffer_size=1 << 20)
    return io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline=""), encoding


class CsvReader:
    """The data rows of one CSV file after its header, each padded so absent columns read as ``""``.

    ``index(key)`` gives the position of a column by :func:`header_key`; a column the file lacks
    maps to one past the last header column, which every row is padded to hold as an empty string.
    """

    def __init__(
        self,
        *,
        source: str,
        file_name: str,
        encoding: str,
        delimiter: str,
        header: list[str],
        stream: io.TextIOWrapper | None,
        first_line: int,
        max_field_chars: int,
    ) -> None:
        self.source = source
        self.file_name = file_name
        self.encoding = encoding
        self.delimiter = delimiter
        self.header = header
        self.columns: dict[str, int] = {}
        for i, name in enumerate(header):
            self.columns.setdefault(header_key(name), i)
        self.width = len(header) + 1
        self._stream = stream
        self._line = first_line
        self._pending = 0
        self._field_limit = hard_field_limit(max_field_chars)
        self._max_line = self._field_limit + 65_536
        self._max_record = 2 * self._field_limit + (1 << 20)

    @property
    def blank(self) -> bool:
        """True when the file held no text at all (no header, no rows)."""
        return not self.header

    @property
    def line_number(self) -> int:
        return self._line

    def has(self, key: str) -> bool:
        return key in self.columns

    def index(self, key: str) -> int:
        return self.columns.get(key, len(self.header))

    def _lines(self) -> Iterator[str]:
        stream = self._stream
        if stream is None:
            return
        readline = stream.readline
        max_line = self._max_line
        max_record = self._max_record
        while True:
            line = readline(max_line + 1)
            if not line:
                return
            self._line += 1
            if len(line) > max_line:
                raise InputError(
                    self.source, f"{self.file_name} line {self._line}: longer than {max_line:,} characters"
                )
            self._pending += len(line)
            if self._pending > max_record:
                raise InputError(
                    self.source,
                    f"{self.file_name} line {self._line}: one record spans more than "
                    f"{max_record:,} characters (an unclosed quote?)",
                )
            yield line

    def __iter__(self) -> Iterator[list[str]]:
        if self._stream is None:
            return
        _raise_field_limit(self._field_limit)
        reader = csv.reader(self._lines(), delimiter=self.delimiter, strict=False)
        width = self.width
        pad = [""] * width
        try:
            for row in reader:
                self._pending = 0
                if len(row) < width:
                    row.extend(pad[: width - len(row)])
                yield row
        except UnicodeDecodeError:
            raise self._decode_error() from None
        except csv.Error as exc:
            raise InputError(self.source, f"{self.file_name} line {self._line}: {exc}") from None
        except MemoryError:
            raise InputError(self.source, f"{self.file_name} line {self._line}: record too large") from None

    def _decode_error(self) -> InputError:
        return decode_error(self.source, self.file_name, self.encoding)


def decode_error(source: str, file_name: str, encoding: str) -> InputError:
    if encoding == "utf-8":
        return InputError(source, f"{file_name}: not UTF-8 text (re-save it as 'CSV UTF-8')")
    return InputError(source, f"{file_name}: not valid {encoding.upper()} text (re-save it as 'CSV UTF-8')")


def _raise_field_limit(limit: int) -> None:
    # csv.field_size_limit is process-wide: only ever raise it, so another reader's larger limit stands.
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def _parse_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=False), [])
    except csv.Error:
        return []


def _best_header(line: str, known: frozenset[str]) -> tuple[int, str, list[str]]:
    """The delimiter under which ``line`` names the most known columns, with that count and the cells."""
    best: tuple[int, str, list[str]] = (0, ",", [])
    for delimiter in DELIMITERS:
        if delimiter not in line and delimiter != ",":
            continue
        cells = _parse_line(line, delimiter)
        hits = len({header_key(c) for c in cells} & known)
        if hits > best[0]:
            best = (hits, delimiter, cells)
    return best


def open_csv(
    raw: IO[bytes],
    *,
    source: str,
    file_name: str,
    columns: Iterable[str],
    required: Sequence[str],
    max_field_chars: int,
    hint: str = "",
    min_known: int = 2,
) -> CsvReader:
    """Decode ``raw``, find its header among the first lines and return a reader over its rows.

    ``columns`` are the display names of every column the caller knows; a line is the header when
    it names at least ``min_known`` of them (or all of them, if fewer). ``required`` columns missing
    from that header, or no header at all, raise ``InputError("<file>: missing column(s) ...<hint>")``.
    A file holding nothing but whitespace gives a :attr:`CsvReader.blank` reader.
    """
    known = frozenset(header_key(c) for c in columns)
    need = min(min_known, len(known))
    stream, encoding = decode_stream(raw, source=source, file_name=file_name)
    line_no = 0
    saw_text = False
    try:
        while line_no < MAX_PREAMBLE_LINES:
            line = stream.readline(MAX_PREAMBLE_LINE_CHARS + 1)
            if not line:
                break
            line_no += 1
            if len(line) > MAX_PREAMBLE_LINE_CHARS:
                break
            if not line.strip():
                continue
            saw_text = True
            hits, delimiter, cells = _best_header(line.strip("\r\n"), known)
            if hits < need:
                continue
            keys = {header_key(c) for c in cells}
            missing = [name for name in required if header_key(name) not in keys]
            if missing:
                raise InputError(source, f"{file_name}: missing column(s) {', '.join(missing)}{hint}")
            return CsvReader(
                source=source,
                file_name=file_name,
                encoding=encoding,
                delimiter=delimiter,
                header=[c.strip().lstrip("\ufeff") for c in cells],
                stream=stream,
                first_line=line_no,
                max_field_chars=max_field_chars,
            )
        blank = not saw_text and line_no < MAX_PREAMBLE_LINES and not stream.read(1)
    except UnicodeDecodeError:
        raise decode_error(source, file_name, encoding) from None
    if blank:
        return CsvReader(
            source=source,
            file_name=file_name,
            encoding=encoding,
            delimiter=",",
            header=[],
            stream=None,
            first_line=line_no,
            max_field_chars=max_field_chars,
        )
    raise InputError(source, f"{file_name}: missing column(s) {', '.join(required)}{hint}")
