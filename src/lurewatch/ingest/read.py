"""One entry point over every reader: detect what a path is and stream its approaches."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from lurewatch.errors import InputError
from lurewatch.model import Approach, IngestStats
from lurewatch.settings import Settings

STDIN = "-"


class InputKind(StrEnum):
    LINKEDIN_EXPORT = "linkedin_export"
    EML = "eml"
    EML_FOLDER = "eml_folder"
    MBOX = "mbox"
    CORPUS = "corpus"
    TEXT = "text"


_LINKEDIN_FILE_NAMES = {"messages.csv", "invitations.csv", "connections.csv", "profile.csv"}


def resolve_input(path_text: str) -> Path:
    """The export to read for a path the user typed (a bare ``messages.csv`` means its export folder)."""
    path = Path(path_text).expanduser()
    if path.is_file() and path.name.lower() in _LINKEDIN_FILE_NAMES:
        return path.parent
    return path


def detect_kind(path: Path, settings: Settings) -> InputKind:
    # Imported lazily: a `lurewatch check` of one pasted message should not pay for every reader's import.
    from lurewatch.ingest import corpus, email, linkedin_export

    if not path.exists() and not path.is_symlink():
        raise InputError(str(path), "no such file or directory")
    if path.is_symlink() and not path.exists():
        raise InputError(str(path), "broken symbolic link")
    if path.is_dir():
        if linkedin_export.is_linkedin_export(path):
            return InputKind.LINKEDIN_EXPORT
        if any(p.suffix.lower() == ".eml" for p in path.rglob("*.eml")):
            return InputKind.EML_FOLDER
        raise InputError(
            str(path), "folder holds neither a LinkedIn export (messages.csv, Invitations.csv) nor .eml files"
        )
    if not path.is_file():
        raise InputError(str(path), "not a regular file")
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        raise InputError(
            str(path),
            f"file is {size:,} bytes, over the {settings.max_file_bytes:,}-byte limit (LUREWATCH_MAX_FILE_BYTES)",
        )
    if size == 0:
        raise InputError(str(path), "file is empty")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        if not zipfile.is_zipfile(path):
            raise InputError(str(path), "not a zip archive (damaged, or an incomplete download?)")
        if linkedin_export.is_linkedin_export(path):
            return InputKind.LINKEDIN_EXPORT
        raise InputError(str(path), "zip archive holds no LinkedIn messages.csv or Invitations.csv")
    if suffix == ".eml":
        return InputKind.EML
    if suffix == ".mbox" or email.looks_like_mbox(path):
        return InputKind.MBOX
    if suffix in {".jsonl", ".ndjson", ".json"} or corpus.looks_like_corpus(path):
        return InputKind.CORPUS
    if email.looks_like_eml(path):
        return InputKind.EML
    if suffix == ".txt":
        return InputKind.TEXT
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK\x03\x04"):
        if linkedin_export.is_linkedin_export(path):
            return InputKind.LINKEDIN_EXPORT
        raise InputError(str(path), "zip archive holds no LinkedIn messages.csv or Invitations.csv")
    raise InputError(
        str(path),
        "unrecognised input: expected a LinkedIn export (.zip or folder), .eml file or folder, mbox, "
        "or labelled-corpus .jsonl",
    )


def iter_approaches(
    path: Path, settings: Settings, stats: IngestStats, kind: InputKind | None = None
) -> Iterator[Approach]:
    """Stream the approaches of one input. Raises :class:`InputError` on bad input."""
    from lurewatch.ingest import corpus, email, linkedin_export, text

    kind = kind or detect_kind(path, settings)
    if kind is InputKind.LINKEDIN_EXPORT:
        yield from linkedin_export.iter_linkedin_export(path, settings, stats)
    elif kind is InputKind.EML:
        yield from email.iter_eml_file(path, settings, stats)
    elif kind is InputKind.EML_FOLDER:
        yield from email.iter_eml_folder(path, settings, stats)
    elif kind is InputKind.MBOX:
        yield from email.iter_mbox(path, settings, stats)
    elif kind is InputKind.CORPUS:
        yield from corpus.iter_corpus(path, settings, stats)
    elif kind is InputKind.TEXT:
        data = _read_bounded(path, settings.max_field_chars * 4)
        yield text.approach_from_text(
            text.decode_input_bytes(data, str(path)), source=str(path), settings=settings
        )
        stats.messages += 1


def read_stdin_text(settings: Settings) -> str:
    from lurewatch.ingest import text

    data = sys.stdin.buffer.read(settings.max_field_chars * 4 + 1)
    if len(data) > settings.max_field_chars * 4:
        raise InputError(
            "<stdin>", f"more than {settings.max_field_chars * 4:,} bytes; paste one message at a time"
        )
    return text.decode_input_bytes(data, "<stdin>")


def _read_bounded(path: Path, limit: int) -> bytes:
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(str(path), f"text file longer than {limit:,} bytes; is it one message?")
    return data


def input_digest(path: Path) -> str:
    """sha256 over an input's bytes (for a folder: its relative file names and contents, in sorted order)."""
    h = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
            h.update(str(file.relative_to(path)).encode("utf-8", "surrogateescape"))
            h.update(b"\x00")
            _hash_file(h, file)
    else:
        _hash_file(h, path)
    return h.hexdigest()


def _hash_file(h: hashlib._Hash, file: Path) -> None:
    with file.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
