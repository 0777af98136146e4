"""Safe opening of user-supplied zip archives and bounded reading of their members.

A LinkedIn export arrives as a zip the user downloaded, but anything can be renamed ``.zip``: the
whole central directory is checked against the limits of :class:`~lurewatch.settings.Settings`
before a single member is decompressed, and every member is read through a counter that stops at
the limit whatever the archive declares. Every failure is an :class:`InputError` naming the entry.
"""

from __future__ import annotations

import contextlib
import io
import lzma
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO

from lurewatch.errors import InputError
from lurewatch.settings import MiB, Settings

#: Entries smaller than this are not held to the compression-ratio limit: a few kilobytes of
#: repetitive CSV legitimately compress a thousandfold and cannot hurt anyone.
RATIO_EXEMPT_BYTES = 1 * MiB
#: Upper bound on the central directory's size per allowed entry; names longer than this in a
#: LinkedIn export would be absurd, and the directory is read into memory whole by :mod:`zipfile`.
CENTRAL_DIRECTORY_BYTES_PER_ENTRY = 4096

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_EOCD_SIGNATURE = b"PK\x05\x06"
_EOCD64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_EOCD64_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 65535
_DRIVE = re.compile(r"^[A-Za-z]:")
_SUPPORTED_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
#: What :class:`zipfile.ZipFile` raises on a damaged central directory (beyond OSError).
ZIP_OPEN_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    ValueError,
    struct.error,
    NotImplementedError,
    OverflowError,
)
# What zipfile and its decompressors raise on damaged or hostile data.
_ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
    struct.error,
    OverflowError,
)


def open_zip(path: Path, settings: Settings) -> zipfile.ZipFile:
    """Open ``path`` as a zip archive after checking its whole central directory against the limits.

    Raises :class:`InputError` for anything that is not a zip, too large, too many entries, a
    suspicious compression ratio, a path that would escape a folder, a symbolic link or an encrypted
    entry. Nothing is decompressed here.
    """
    source = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(source, f"cannot open: {exc.strerror or exc}") from None
    if size > settings.max_file_bytes:
        raise InputError(
            source,
            f"archive is {size:,} bytes, over the {settings.max_file_bytes:,}-byte limit "
            "(LUREWATCH_MAX_FILE_BYTES)",
        )
    check_end_record(path, source, settings)
    try:
        zf = zipfile.ZipFile(path)
    except OSError as exc:
        raise InputError(source, f"cannot open: {exc.strerror or exc}") from None
    except ZIP_OPEN_ERRORS:
        raise InputError(source, "not a zip archive") from None
    try:
        check_entries(zf.infolist(), source, settings)
    except BaseException:
        zf.close()
        raise
    return zf


def check_entries(infos: list[zipfile.ZipInfo], source: str, settings: Settings) -> None:
    """Apply every archive rule to a central directory; raise :class:`InputError` on the first breach."""
    if len(infos) > settings.max_zip_entries:
        raise InputError(
            source,
            f"archive has {len(infos):,} entries, over the {settings.max_zip_entries:,}-entry limit "
            "(LUREWATCH_MAX_ZIP_ENTRIES)",
        )
    total = 0
    for info in infos:
        name = info.orig_filename
        problem = unsafe_name_problem(name)
        if problem:
            raise InputError(source, f"entry {name!r}: {problem}")
        mode = (info.external_attr >> 16) & 0xFFFF
        if stat.S_ISLNK(mode):
            raise InputError(source, f"entry {name!r} is a symbolic link; archives with links are not read")
        if info.flag_bits & 0x1:
            raise InputError(source, f"entry {name!r} is encrypted; export the data again without a password")
        if info.file_size > settings.max_zip_entry_bytes:
            raise InputError(
                source,
                f"entry {name!r} declares {info.file_size:,} bytes uncompressed, over the "
                f"{settings.max_zip_entry_bytes:,}-byte limit (LUREWATCH_MAX_ZIP_ENTRY_BYTES)",
            )
        total += info.file_size
        if total > settings.max_zip_total_bytes:
            raise InputError(
                source,
                f"entries declare more than {settings.max_zip_total_bytes:,} bytes uncompressed in total "
                f"(limit LUREWATCH_MAX_ZIP_TOTAL_BYTES, passed at entry {name!r})",
            )
        if info.file_size >= RATIO_EXEMPT_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > settings.max_zip_ratio:
                raise InputError(
                    source,
                    f"entry {name!r} compresses {ratio:,.0f}:1, over the {settings.max_zip_ratio:g}:1 limit "
                    "(LUREWATCH_MAX_ZIP_RATIO); it looks like a zip bomb",
                )


def unsafe_name_problem(name: str) -> str | None:
    """Why an entry name could escape the folder it is extracted to, or None when it is safe."""
    if not name:
        return "empty entry name"
    if "\x00" in name:
        return "entry name contains a NUL character"
    if name.startswith(("/", "\\")):
        return "absolute path"
    if _DRIVE.match(name):
        return "absolute path with a drive letter"
    parts = re.split(r"[/\\]", name)
    if ".." in parts:
        return (
            "path climbs out of the archive ('..')"
            if "\\" not in name
            else "backslash path climbs out ('..')"
        )
    return None


def read_member(zf: zipfile.ZipFile, name: str, source: str, settings: Settings) -> IO[bytes]:
    """A binary stream over one member that raises :class:`InputError` past the per-entry limit.

    The limit is the smaller of the declared size and ``max_zip_entry_bytes``: declared sizes can
    lie, so bytes are counted as they are decompressed rather than trusted.
    """
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise InputError(source, f"entry {name!r} is not in the archive") from None
    if info.compress_type not in _SUPPORTED_METHODS:
        raise InputError(
            source, f"entry {name!r} uses an unsupported compression method ({info.compress_type})"
        )
    if info.flag_bits & 0x1:
        raise InputError(source, f"entry {name!r} is encrypted; export the data again without a password")
    try:
        raw = zf.open(info)
    except _ZIP_READ_ERRORS as exc:
        raise InputError(source, f"entry {name!r} cannot be read: {exc}") from None
    limit = min(info.file_size, settings.max_zip_entry_bytes)
    reader = BoundedReader(
        raw, limit=limit, source=source, name=name, what="its declared size or the entry limit"
    )
    return io.BufferedReader(reader, buffer_size=1 << 20)


def open_file_bounded(path: Path, source: str, name: str, limit: int) -> IO[bytes]:
    """A plain file read through the same byte counter as zip members (it may grow while read)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(source, f"{name}: cannot open: {exc.strerror or exc}") from None
    if size > limit:
        raise InputError(
            source,
            f"{name}: file is {size:,} bytes, over the {limit:,}-byte limit (LUREWATCH_MAX_FILE_BYTES)",
        )
    try:
        raw = path.open("rb", buffering=0)
    except OSError as exc:
        raise InputError(source, f"{name}: cannot open: {exc.strerror or exc}") from None
    reader = BoundedReader(raw, limit=limit, source=source, name=name, what="the file-size limit")
    return io.BufferedReader(reader, buffer_size=1 << 20)


class BoundedReader(io.RawIOBase):
    """Counts the bytes a stream yields and raises :class:`InputError` once they pass ``limit``.

    Errors of the underlying zip machinery (bad CRC, truncated deflate data, ...) also become
    :class:`InputError`, so a damaged member never lets a foreign exception escape a parser.
    """

    def __init__(self, raw: IO[bytes], *, limit: int, source: str, name: str, what: str) -> None:
        super().__init__()
        self._raw = raw
        self._limit = limit
        self._count = 0
        self._source = source
        self._name = name
        self._what = what

    @property
    def bytes_read(self) -> int:
        return self._count

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        # Ask for one byte past the limit so an oversized stream is detected, not silently cut.
        want = min(len(view), self._limit - self._count + 1)
        if want <= 0:
            want = 1
        try:
            data = self._raw.read(want)
        except InputError:
            raise
        except _ZIP_READ_ERRORS as exc:
            raise InputError(
                self._source, f"entry {self._name!r} is damaged or misdeclares its size: {exc}"
            ) from None
        n = len(data)
        self._count += n
        if self._count > self._limit:
            raise InputError(
                self._source,
                f"{self._name}: holds more than {self._limit:,} bytes, past {self._what}; "
                "refusing to read on",
            )
        view[:n] = data
        return n

    def close(self) -> None:
        with contextlib.suppress(*_ZIP_READ_ERRORS):
            self._raw.close()
        super().close()


def check_end_record(path: Path, source: str, settings: Settings) -> None:
    """Refuse archives whose end record announces too many entries or a huge central directory.

    :class:`zipfile.ZipFile` reads and parses the whole central directory in its constructor, so its
    announced size is checked first from the end record alone. Archives whose end record cannot be
    found are left to :mod:`zipfile`, which rejects them.
    """
    try:
        with path.open("rb") as fh:
            fh.seek(0, io.SEEK_END)
            size = fh.tell()
            tail_len = min(size, _EOCD.size + _MAX_COMMENT)
            fh.seek(size - tail_len)
            tail = fh.read(tail_len)
            pos = tail.rfind(_EOCD_SIGNATURE)
            if pos < 0 or len(tail) - pos < _EOCD.size:
                return
            fields = _EOCD.unpack_from(tail, pos)
            entries, cd_size = fields[4], fields[5]
            if entries == 0xFFFF or cd_size == 0xFFFFFFFF:
                locator_at = size - tail_len + pos - _EOCD64_LOCATOR.size
                if locator_at >= 0:
                    fh.seek(locator_at)
                    loc = fh.read(_EOCD64_LOCATOR.size)
                    if len(loc) == _EOCD64_LOCATOR.size and loc.startswith(_EOCD64_LOCATOR_SIGNATURE):
                        _, _, offset64, _ = _EOCD64_LOCATOR.unpack(loc)
                        fh.seek(offset64)
                        rec = fh.read(_EOCD64.size)
                        if len(rec) == _EOCD64.size and rec.startswith(_EOCD64_SIGNATURE):
                            values = _EOCD64.unpack(rec)
                            entries, cd_size = values[7], values[8]
    except OSError as exc:
        raise InputError(source, f"cannot open: {exc.strerror or exc}") from None
    if entries > settings.max_zip_entries:
        raise InputError(
            source,
            f"archive announces {entries:,} entries, over the {settings.max_zip_entries:,}-entry limit "
            "(LUREWATCH_MAX_ZIP_ENTRIES)",
        )
    cd_limit = max(MiB, settings.max_zip_entries * CENTRAL_DIRECTORY_BYTES_PER_ENTRY)
    if cd_size > cd_limit:
        raise InputError(
            source, f"archive's central directory is {cd_size:,} bytes, too large to read safely"
        )
