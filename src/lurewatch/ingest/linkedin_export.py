"""Reader of LinkedIn's "Get a copy of your data" export (zip or unpacked folder) into approaches.

Files read: ``messages.csv``, ``Invitations.csv``, ``Connections.csv`` and ``Profile.csv`` (matched
case-insensitively, at the top of the export or one folder down); everything else is ignored.
Columns are mapped by name, so every header era from 2020 to 2026 reads the same way, and the
encoding and delimiter quirks of spreadsheet re-saves are handled by :mod:`lurewatch.ingest.csvio`.

How an export becomes approaches:

* **The owner** (whose export it is) is the participant present in nearly every conversation and
  invitation, cross-checked against ``Profile.csv``; their LinkedIn slug is the one most often seen
  beside their name. A first pass over ``messages.csv`` counts participants with bounded memory.
* **Conversations** are grouped by ``CONVERSATION ID`` and sorted oldest first. A conversation whose
  first message comes from someone other than the owner is an approach, with its whole thread;
  conversations the owner started are counted in ``outbound_skipped``.
* **Invitation notes**: an incoming invitation with a note is prepended to the conversation the same
  person then started (the approach's channel becomes ``linkedin_invitation``), or stands alone.
* **Filtered rows**, each counted in :class:`~lurewatch.model.IngestStats`: sponsored messages from
  ``LinkedIn Member`` without a profile URL (``sponsored_filtered``), system notices such as
  "Message request accepted" or empty rows with no attachment (``system_filtered``, texts in
  :data:`SYSTEM_MESSAGE_TEXTS` / :data:`SYSTEM_MESSAGE_PATTERNS`), drafts (``drafts_dropped``) and
  blank rows (``empty_skipped``).

Streaming and memory: LinkedIn writes the rows of one conversation together, so a conversation is
normally emitted as soon as its run of rows ends and only one is held at a time. The first pass
also notices conversation ids whose rows come in more than one run (a re-sorted file); those are
held open until their last row, at most ``settings.max_open_conversations`` at once, least recently
used first out. A conversation evicted that way is emitted early and its later rows form a
continuation approach with id ``li:<conversation id>~<n>``. The first pass tracks at most
``max_open_conversations`` scattered conversations; past that (a file re-sorted by date, say) the
rest are emitted run by run as continuations, and the ids already emitted are remembered so that
none repeats, which costs memory in proportion to the number of conversations in that case only.
Per conversation at most ``settings.max_messages_per_conversation`` messages are kept (the oldest
ones, since the first message defines the approach) and text fields are cut at
``settings.max_field_chars``; both are logged as warnings and counted in
:class:`IngestStats` (``messages_dropped``, ``truncated_fields``).

Stable ids: ``li:<conversation id>`` for conversations, ``li-inv:<16 hex>`` (sha1 of sender key,
owner key, date and note, so one templated note sent to two people gives two ids) for stand-alone
invitations; message ids add a hash of sender, date and text to the approach id.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

from lurewatch.errors import InputError
from lurewatch.identity import linkedin_slug, normalise_name
from lurewatch.ingest import safety
from lurewatch.ingest.csvio import CsvReader, clip, open_csv
from lurewatch.model import Account, Approach, Channel, Conversation, IngestStats, Message
from lurewatch.settings import Settings

log = logging.getLogger(__name__)

MESSAGES_FILE = "messages.csv"
INVITATIONS_FILE = "invitations.csv"
CONNECTIONS_FILE = "connections.csv"
PROFILE_FILE = "profile.csv"
MEMBER_FILES = (MESSAGES_FILE, INVITATIONS_FILE, CONNECTIONS_FILE, PROFILE_FILE)

MESSAGE_COLUMNS = (
    "CONVERSATION ID", "CONVERSATION TITLE", "FROM", "SENDER PROFILE URL", "TO", "RECIPIENT PROFILE URLS",
    "DATE", "SUBJECT", "CONTENT", "FOLDER", "ATTACHMENTS", "IS MESSAGE DRAFT", "IS CONVERSATION DRAFT",
)  # fmt: skip
MESSAGE_REQUIRED = ("CONVERSATION ID", "FROM", "DATE", "CONTENT")
INVITATION_COLUMNS = (
    "From", "To", "Sent At", "Message", "Direction", "inviterProfileUrl", "inviteeProfileUrl",
)  # fmt: skip
INVITATION_REQUIRED = ("From", "Sent At", "Message")
CONNECTION_COLUMNS = (
    "First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On",
)  # fmt: skip
CONNECTION_REQUIRED = ("First Name", "Last Name", "Connected On")
PROFILE_COLUMNS = (
    "First Name", "Last Name", "Maiden Name", "Address", "Birth Date", "Headline", "Summary", "Industry",
    "Zip Code", "Geo Location", "Twitter Handles", "Websites", "Instant Messengers",
)  # fmt: skip
PROFILE_REQUIRED = ("First Name", "Last Name")
_HINT = "; is this a LinkedIn export?"

#: Senders of sponsored messages: LinkedIn hides the advertiser behind this name and gives no URL.
SPONSORED_SENDER_NAMES: frozenset[str] = frozenset({"linkedin member"})
#: Notices LinkedIn writes into messages.csv as if they were messages (compared casefolded, without
#: surrounding whitespace and final full stop).
SYSTEM_MESSAGE_TEXTS: frozenset[str] = frozenset(
    {
        "message request accepted",
        "message request declined",
        "you accepted the message request",
        "you declined the message request",
        "you are now connected",
        "you're now connected",
        "you can now message each other",
        "this message has been deleted",
        "this message was deleted",
        "this message has been removed",
        "this message is no longer available",
        "this conversation has been archived",
        "sent an attachment",
        "sent a photo",
    }
)
#: Notices that name a person, matched against the whole (short) text.
SYSTEM_MESSAGE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r".{1,200} accepted your (?:message request|invitation)", re.IGNORECASE),
    re.compile(r".{1,200} (?:joined|left) the conversation", re.IGNORECASE),
    re.compile(r".{1,200} added .{1,400} to the conversation", re.IGNORECASE),
    re.compile(r".{1,200} removed .{1,400} from the conversation", re.IGNORECASE),
    re.compile(r".{1,200} (?:named|renamed) the conversation.{0,300}", re.IGNORECASE),
)
_SYSTEM_MAX_CHARS = 600

#: More rows than LinkedIn allows (30,000 connections) by a wide margin: past this a file is not an export.
MAX_CONNECTIONS = 100_000
MAX_INVITATIONS = 200_000
#: Invitation notes are held in memory to be joined to conversations; bound their total size.
MAX_INVITATION_TEXT_CHARS = 64 * 1024 * 1024
#: Folder entries looked at when searching an unpacked export (and sub-folders tried).
MAX_DIR_ENTRIES = 10_000
MAX_SUBDIRS = 200
#: Participant tallies of the owner-finding pass are pruned to their top entries past this size.
TALLY_LIMIT = 100_000
TALLY_KEEP = 10_000
#: Longest person name and profile URL kept (real ones are far shorter); longer ones are cut, so
#: the tallies and caches keyed on them stay small whatever a hostile file holds.
MAX_NAME_CHARS = 300
MAX_PROFILE_URL_CHARS = 300
#: Longest attachment URL, group-chat recipient list or conversation title kept.
MAX_URL_CHARS = 2_048
MAX_TEXT_LINE_CHARS = 2_000
MAX_ATTACHMENTS = 50
MAX_CONVERSATION_ID_CHARS = 200

_TRUE = frozenset({"true", "yes", "y", "1"})
_DRAFT_FOLDERS = frozenset({"DRAFT", "DRAFTS"})
_URL_SEPARATOR = re.compile(r"[,;\s]")
_URL_SPLIT = re.compile(r"[\s;]+|,(?=\s*(?:https?://|www\.|(?:[a-z]{2,3}\.)?linkedin\.com))", re.IGNORECASE)

# --- dates -------------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_TZ_SUFFIX = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)
_YMD = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp]\.?[Mm]\.?)?)?"
)
_MDY = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2}),?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?"
)
_DMONY = re.compile(r"(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ ,-]+(\d{4}|\d{2})")
_MONDY = re.compile(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})")


def parse_linkedin_date(text: str | None) -> datetime | None:
    """Any date form seen in LinkedIn exports and their spreadsheet re-saves, as an aware UTC datetime.

    ``08 Feb 2026``, ``2025-06-01 14:03:22 UTC``, ``1/29/26, 2:37 PM``, ``2024/02/01 15:02:55 UTC``,
    ``1/29/2026 14:37``, ``2025-06-01 14:03``. Month-first is assumed for slashed dates, as LinkedIn
    writes them, unless the first number cannot be a month. Returns None for anything else.
    """
    if not text:
        return None
    s = text.strip()
    if len(s) == 23 and s[4] == "-" and s.endswith(" UTC"):
        # The common messages.csv form, parsed without regular expressions.
        with suppress(ValueError):
            return datetime.fromisoformat(s[:19] + "+00:00")
    if not s or len(s) > 64:
        return None
    s = _TZ_SUFFIX.sub("", s)
    try:
        if len(s) >= 10 and s[:4].isdigit() and s[4] in "-/.":
            if s[4] == "-":
                with suppress(ValueError):
                    return _as_utc(datetime.fromisoformat(s))
            m = _YMD.fullmatch(s)
            if m:
                return _build(int(m[1]), int(m[2]), int(m[3]), m[4], m[5], m[6], m[7])
            return None
        m = _MDY.fullmatch(s)
        if m:
            first, second, year = int(m[1]), int(m[2]), int(m[3])
            month, day = (second, first) if first > 12 >= second else (first, second)
            if year < 100:
                year += 2000
            return _build(year, month, day, m[4], m[5], m[6], m[7])
        m = _DMONY.fullmatch(s)
        if m:
            month = _MONTHS.get(m[2][:4].lower()) or _MONTHS.get(m[2][:3].lower())
            year = int(m[3])
            if month is None:
                return None
            return datetime(year + 2000 if year < 100 else year, month, int(m[1]), tzinfo=UTC)
        m = _MONDY.fullmatch(s)
        if m:
            month = _MONTHS.get(m[1][:3].lower())
            return datetime(int(m[3]), month, int(m[2]), tzinfo=UTC) if month else None
    except (ValueError, OverflowError):
        return None
    return None


def _build(
    year: int,
    month: int,
    day: int,
    hour: str | None,
    minute: str | None,
    second: str | None,
    ampm: str | None,
) -> datetime:
    h = int(hour) if hour else 0
    if ampm:
        pm = ampm[0] in "Pp"
        if not 1 <= h <= 12:
            raise ValueError("hour out of range for a 12-hour clock")
        h = (h % 12) + (12 if pm else 0)
    return datetime(
        year, month, day, h, int(minute) if minute else 0, int(second) if second else 0, tzinfo=UTC
    )


def _as_utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


# --- locating the export's files -------------------------------------------------------------------


def _member_key(name: str) -> str | None:
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].lower()
    return base if base in MEMBER_FILES else None


def _zip_members(names: list[str]) -> dict[str, str]:
    """Member file -> entry name, preferring the shallowest; only the top level and one folder down."""
    found: dict[str, tuple[int, str]] = {}
    for name in names:
        if name.endswith("/") or name.startswith("__MACOSX/"):
            continue
        key = _member_key(name)
        if key is None:
            continue
        depth = name.strip("/").count("/")
        if depth > 1:
            continue
        rank = (depth, name)
        if key not in found or rank < found[key]:
            found[key] = rank
    return {key: rank[1] for key, rank in found.items()}


def _scan_dir(folder: Path) -> tuple[dict[str, Path], list[Path]]:
    files: dict[str, Path] = {}
    subdirs: list[Path] = []
    with os.scandir(folder) as it:
        for n, entry in enumerate(it):
            if n >= MAX_DIR_ENTRIES:
                break
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(Path(entry.path))
                continue
            key = _member_key(entry.name)
            if (
                key
                and entry.is_file(follow_symlinks=False)
                and (key not in files or entry.name < files[key].name)
            ):
                files[key] = Path(entry.path)
    return files, sorted(subdirs)[:MAX_SUBDIRS]


def _folder_members(folder: Path) -> dict[str, Path]:
    files, subdirs = _scan_dir(folder)
    if MESSAGES_FILE in files or INVITATIONS_FILE in files:
        return files
    for sub in subdirs:
        sub_files, _ = _scan_dir(sub)
        if MESSAGES_FILE in sub_files or INVITATIONS_FILE in sub_files:
            return sub_files
    return files


def is_linkedin_export(path: Path) -> bool:
    """True for a zip or folder holding ``messages.csv`` and/or ``Invitations.csv`` (any case, or one
    folder down). Only names are looked at; the archive's safety is checked when it is read."""
    try:
        if path.is_dir():
            files = _folder_members(path)
            return MESSAGES_FILE in files or INVITATIONS_FILE in files
        if not path.is_file():
            return False
        with path.open("rb") as fh:
            if fh.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                return False
        # The end-record check keeps a hostile central directory from being read just to list names.
        safety.check_end_record(path, str(path), Settings())
        with zipfile.ZipFile(path) as zf:
            members = _zip_members(zf.namelist())
        return MESSAGES_FILE in members or INVITATIONS_FILE in members
    except (InputError, OSError, UnicodeError, *safety.ZIP_OPEN_ERRORS):
        return False


class _Export:
    """The member files of one export, whether zipped or unpacked."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.source = str(path)
        self.settings = settings
        self._zip: zipfile.ZipFile | None = None
        self._zip_names: dict[str, str] = {}
        self._files: dict[str, Path] = {}
        self._root = path
        if path.is_dir():
            try:
                self._files = _folder_members(path)
            except OSError as exc:
                raise InputError(self.source, f"cannot list folder: {exc.strerror or exc}") from None
            if MESSAGES_FILE not in self._files and INVITATIONS_FILE not in self._files:
                raise InputError(self.source, "folder holds no LinkedIn messages.csv or Invitations.csv")
        elif path.is_file():
            self._zip = safety.open_zip(path, settings)
            self._zip_names = _zip_members(self._zip.namelist())
            if MESSAGES_FILE not in self._zip_names and INVITATIONS_FILE not in self._zip_names:
                self._zip.close()
                raise InputError(self.source, "zip archive holds no LinkedIn messages.csv or Invitations.csv")
        elif not path.exists():
            raise InputError(self.source, "no such file or directory")
        else:
            raise InputError(self.source, "not a LinkedIn export (expected a .zip archive or a folder)")

    def __enter__(self) -> _Export:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()

    def has(self, key: str) -> bool:
        return key in self._zip_names or key in self._files

    def display_name(self, key: str) -> str:
        if self._zip is not None:
            return self._zip_names[key]
        file = self._files[key]
        try:
            return file.relative_to(self._root).as_posix()
        except ValueError:
            return file.name

    def size(self, key: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(self._zip_names[key]).file_size
        try:
            return self._files[key].stat().st_size
        except OSError:
            return 0

    def open(self, key: str) -> IO[bytes]:
        if self._zip is not None:
            return safety.read_member(self._zip, self._zip_names[key], self.source, self.settings)
        return safety.open_file_bounded(
            self._files[key], self.source, self.display_name(key), self.settings.max_file_bytes
        )

    def csv(self, key: str, columns: tuple[str, ...], required: tuple[str, ...], raw: IO[bytes]) -> CsvReader:
        return open_csv(
            raw,
            source=self.source,
            file_name=self.display_name(key),
            columns=columns,
            required=required,
            max_field_chars=self.settings.max_field_chars,
            hint=_HINT,
        )


# --- small helpers -----------------------------------------------------------------------------------


class _Keys:
    """Memoised slug and name normalisation: the same few people recur on most rows."""

    __slots__ = ("_names", "_slugs")

    def __init__(self) -> None:
        self._slugs: dict[str, str | None] = {}
        self._names: dict[str, str] = {}

    def slug(self, url: str) -> str | None:
        if not url:
            return None
        if len(url) > MAX_PROFILE_URL_CHARS:
            return linkedin_slug(url[:MAX_PROFILE_URL_CHARS])
        try:
            return self._slugs[url]
        except KeyError:
            pass
        if len(self._slugs) > 50_000:
            self._slugs.clear()
        value = linkedin_slug(url)
        self._slugs[url] = value
        return value

    def name(self, text: str) -> str:
        if len(text) > MAX_NAME_CHARS:
            return normalise_name(text[:MAX_NAME_CHARS])
        try:
            return self._names[text]
        except KeyError:
            pass
        if len(self._names) > 50_000:
            self._names.clear()
        value = normalise_name(text)
        self._names[text] = value
        return value

    def urls(self, field_text: str) -> list[str]:
        single = _single_url(field_text)
        if single:
            return [single]
        if not field_text.strip():
            return []
        return [u for u in _URL_SPLIT.split(field_text[: MAX_PROFILE_URL_CHARS * 256]) if u][:256]


def _single_url(field_text: str) -> str | None:
    """The URL of a recipient field naming exactly one profile, else None."""
    text = field_text.strip()
    if not text or len(text) > MAX_PROFILE_URL_CHARS or _URL_SEPARATOR.search(text):
        return None
    return text


def _name_key(norm: str) -> str:
    return f"name:{norm}" if norm else "unknown:"


def _short_cid(cid: str) -> str:
    if len(cid) <= MAX_CONVERSATION_ID_CHARS:
        return cid
    digest = hashlib.sha1(cid.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{cid[:100]}~{digest}"


def _synthetic_cid(sender: str, date_text: str, content: str) -> str:
    h = hashlib.sha1(f"{sender}\x00{date_text}\x00{content[:4096]}".encode("utf-8", "surrogatepass"))
    return "noid-" + h.hexdigest()[:16]


def _is_system_text(content: str) -> bool:
    text = content.strip()
    if len(text) > _SYSTEM_MAX_CHARS:
        return False
    folded = text.casefold().rstrip(".!")
    if folded in SYSTEM_MESSAGE_TEXTS:
        return True
    # Every pattern names the conversation or an acceptance: skip the regexes for ordinary messages.
    if "conversation" not in folded and "accepted your" not in folded:
        return False
    return any(p.fullmatch(text.rstrip(".")) for p in SYSTEM_MESSAGE_PATTERNS)


def _norm_text(text: str, limit: int) -> str:
    """Line breaks as ``\n`` whatever the file used, no NUL (databases refuse it), at most ``limit`` long."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text if len(text) <= limit else text[:limit]


def _attachments(text: str) -> tuple[str, ...]:
    if not text.strip():
        return ()
    parts = [p.strip() for p in _URL_SPLIT.split(text[: MAX_URL_CHARS * MAX_ATTACHMENTS])]
    return tuple(clip(p, MAX_URL_CHARS) for p in parts if p)[:MAX_ATTACHMENTS]


class _Tally:
    """Who appears in how many conversations, with bounded memory (pruned to the top entries)."""

    def __init__(self) -> None:
        self.groups: Counter[str] = Counter()
        self.votes: Counter[str] = Counter()
        #: evidence only the owner leaves: authorship of drafts, the owner's side of an invitation
        self.certain: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()
        self.display: dict[str, str] = {}
        self.urls: dict[str, str] = {}

    def group(self, names: set[str]) -> None:
        names.discard("")
        self.groups.update(names)
        if len(self.groups) > TALLY_LIMIT or len(self.pairs) > TALLY_LIMIT:
            self._prune()

    def pair(self, name: str, slug: str, url: str) -> None:
        if name:
            self.pairs[(name, slug)] += 1
            if slug not in self.urls and len(self.urls) < TALLY_LIMIT:
                self.urls[slug] = url

    def show(self, norm: str, text: str) -> None:
        if norm and norm not in self.display and len(self.display) < TALLY_LIMIT:
            self.display[norm] = _norm_text(text.strip(), MAX_NAME_CHARS)

    def _prune(self) -> None:
        self.groups = Counter(dict(self.groups.most_common(TALLY_KEEP)))
        self.votes = Counter(dict(self.votes.most_common(TALLY_KEEP)))
        self.certain = Counter(dict(self.certain.most_common(TALLY_KEEP)))
        self.pairs = Counter(dict(self.pairs.most_common(TALLY_KEEP)))
        keep = set(self.groups)
        self.display = {k: v for k, v in self.display.items() if k in keep}
        slugs = {slug for _, slug in self.pairs}
        self.urls = {k: v for k, v in self.urls.items() if k in slugs}


class _SeenFilter:
    """A Bloom filter of conversation ids whose run of rows has started: flat memory, no false negatives.

    A false positive only makes a contiguous conversation be treated as possibly scattered, which
    costs one dictionary entry and changes no result.
    """

    def __init__(self, expected_bytes: int) -> None:
        bits = 1 << max(16, min(26, max(expected_bytes, 1).bit_length()))
        self._mask = bits - 1
        self._bits = bytearray(bits >> 3)

    def check_add(self, key: str) -> bool:
        h = hash(key) & 0xFFFFFFFFFFFFFFFF
        a = h & self._mask
        b = (h >> 32) & self._mask
        bits = self._bits
        present = (bits[a >> 3] >> (a & 7)) & 1 and (bits[b >> 3] >> (b & 7)) & 1
        bits[a >> 3] |= 1 << (a & 7)
        bits[b >> 3] |= 1 << (b & 7)
        return bool(present)


# --- owner, connections, invitations ------------------------------------------------------------------


@dataclass(slots=True)
class _Owner:
    norm: str | None
    slug: str | None
    account: Account

    def is_owner(self, slug: str | None, norm: str) -> bool:
        if self.slug and slug:
            return slug == self.slug
        return self.norm is not None and norm == self.norm


@dataclass(slots=True)
class _Profile:
    name: str
    headline: str
    location: str


@dataclass(slots=True)
class _Connections:
    has_urls: bool
    by_slug: dict[str, date | None] = field(default_factory=dict)
    by_name: dict[str, date | None] = field(default_factory=dict)

    def add(self, table: dict[str, date | None], key: str, when: date | None) -> None:
        if key in table:
            old = table[key]
            if old is None or (when is not None and when >= old):
                return
        table[key] = when

    def lookup(self, slug: str | None, norm: str) -> tuple[bool, date | None]:
        if slug and self.has_urls:
            if slug in self.by_slug:
                return True, self.by_slug[slug]
            return False, None
        if norm and norm in self.by_name:
            return True, self.by_name[norm]
        return False, None


@dataclass(slots=True)
class _Invite:
    name: str
    norm: str
    slug: str | None
    url: str
    to_norm: str
    to_slug: str | None
    sent_at: datetime | None
    sent_raw: str
    note: str
    direction: str | None
    row: int
    used: bool = False

    @property
    def key(self) -> str:
        return f"linkedin:{self.slug}" if self.slug else _name_key(self.norm)


@dataclass(slots=True)
class _Row:
    """One kept message row, before the conversation is complete."""

    pos: int
    sender: str
    url: str
    slug: str | None
    norm: str
    to: str
    recipients: str
    date_raw: str
    subject: str
    content: str
    folder: str
    attachments: str
    title: str
    sent_at: datetime | None


@dataclass(slots=True)
class _Open:
    """A conversation being collected: raw rows as read, and rows already parsed by an early trim."""

    cid: str
    part: int
    raw: list[tuple[int, list[str]]] = field(default_factory=list)
    kept: list[_Row] = field(default_factory=list)


def _read_profile(export: _Export) -> _Profile | None:
    if not export.has(PROFILE_FILE):
        return None
    with export.open(PROFILE_FILE) as raw:
        reader = export.csv(PROFILE_FILE, PROFILE_COLUMNS, PROFILE_REQUIRED, raw)
        if reader.blank:
            return None
        i_first, i_last = reader.index("firstname"), reader.index("lastname")
        i_head, i_geo = reader.index("headline"), reader.index("geolocation")
        for row in reader:
            name = " ".join(p for p in (row[i_first].strip(), row[i_last].strip()) if p)
            if not name:
                continue
            limit = export.settings.max_field_chars
            return _Profile(
                name=_norm_text(name, MAX_NAME_CHARS),
                headline=_norm_text(row[i_head].strip(), limit),
                location=_norm_text(row[i_geo].strip(), limit),
            )
    return None


def _read_connections(export: _Export, keys: _Keys, stats: IngestStats) -> _Connections | None:
    if not export.has(CONNECTIONS_FILE):
        return None
    with export.open(CONNECTIONS_FILE) as raw:
        reader = export.csv(CONNECTIONS_FILE, CONNECTION_COLUMNS, CONNECTION_REQUIRED, raw)
        conns = _Connections(has_urls=reader.has("url"))
        if reader.blank:
            return conns
        i_first, i_last = reader.index("firstname"), reader.index("lastname")
        i_url, i_on = reader.index("url"), reader.index("connectedon")
        count = 0
        for row in reader:
            first, last = row[i_first].strip(), row[i_last].strip()
            url = row[i_url].strip()
            if not (first or last or url):
                continue
            count += 1
            if count > MAX_CONNECTIONS:
                raise InputError(
                    export.source,
                    f"{export.display_name(CONNECTIONS_FILE)}: more than {MAX_CONNECTIONS:,} connections; "
                    "LinkedIn allows 30,000",
                )
            connected = parse_linkedin_date(row[i_on])
            when = connected.date() if connected else None
            slug = keys.slug(url)
            if slug:
                conns.add(conns.by_slug, slug, when)
            norm = keys.name(f"{first} {last}")
            if norm:
                conns.add(conns.by_name, norm, when)
        stats.connections += count
    return conns


def _read_invitations(export: _Export, keys: _Keys, stats: IngestStats, tally: _Tally) -> list[_Invite]:
    if not export.has(INVITATIONS_FILE):
        return []
    invites: list[_Invite] = []
    limit = export.settings.max_field_chars
    text_chars = 0
    with export.open(INVITATIONS_FILE) as raw:
        reader = export.csv(INVITATIONS_FILE, INVITATION_COLUMNS, INVITATION_REQUIRED, raw)
        if reader.blank:
            return []
        i_from, i_to, i_sent = reader.index("from"), reader.index("to"), reader.index("sentat")
        i_msg, i_dir = reader.index("message"), reader.index("direction")
        i_inviter, i_invitee = reader.index("inviterprofileurl"), reader.index("inviteeprofileurl")
        for n, row in enumerate(reader):
            stats.rows_read += 1
            sender, to = row[i_from].strip(), row[i_to].strip()
            raw_note = row[i_msg].strip()
            note = _norm_text(raw_note, limit)
            if len(raw_note) > limit:
                stats.truncated_fields += 1
            if not (sender or to or note or row[i_sent].strip()):
                stats.empty_skipped += 1
                continue
            if len(invites) >= MAX_INVITATIONS:
                raise InputError(
                    export.source,
                    f"{export.display_name(INVITATIONS_FILE)}: more than {MAX_INVITATIONS:,} invitations",
                )
            text_chars += len(note)
            if text_chars > MAX_INVITATION_TEXT_CHARS:
                raise InputError(
                    export.source,
                    f"{export.display_name(INVITATIONS_FILE)}: invitation notes exceed "
                    f"{MAX_INVITATION_TEXT_CHARS:,} characters in total",
                )
            direction_text = row[i_dir].strip().upper()
            direction: str | None = None
            if direction_text.startswith("OUT"):
                direction = "out"
            elif direction_text.startswith("IN"):
                direction = "in"
            url = clip(row[i_inviter].strip(), MAX_PROFILE_URL_CHARS)
            to_url = row[i_invitee].strip()
            norm, to_norm = keys.name(sender), keys.name(to)
            slug, to_slug = keys.slug(url), keys.slug(to_url)
            invites.append(
                _Invite(
                    name=_norm_text(sender, MAX_NAME_CHARS),
                    norm=norm,
                    slug=slug,
                    url=url,
                    to_norm=to_norm,
                    to_slug=to_slug,
                    sent_at=parse_linkedin_date(row[i_sent]),
                    sent_raw=clip(row[i_sent].strip(), 64),
                    note=note,
                    direction=direction,
                    row=n,
                )
            )
            tally.group({norm, to_norm})
            tally.show(norm, sender)
            tally.show(to_norm, to)
            if direction == "in":
                tally.certain[to_norm] += 1
            elif direction == "out":
                tally.certain[norm] += 1
            if slug:
                tally.pair(norm, slug, url)
            if to_slug:
                tally.pair(to_norm, to_slug, to_url)
    return invites


def _resolve_owner(tally: _Tally, profile: _Profile | None, keys: _Keys) -> _Owner:
    profile_norm = keys.name(profile.name) if profile else ""
    norm: str | None = None
    if tally.groups:
        best = max(tally.groups, key=lambda n: (tally.groups[n], tally.certain[n], tally.votes[n], n))
        norm = best
        if profile_norm and 2 * tally.groups.get(profile_norm, 0) >= tally.groups[best]:
            norm = profile_norm
    elif profile_norm:
        norm = profile_norm
    slug: str | None = None
    if norm:
        candidates = [(count, s) for (n, s), count in tally.pairs.items() if n == norm]
        if candidates:
            slug = max(candidates)[1]
    display = tally.display.get(norm or "", norm or "")
    if profile and norm == profile_norm:
        display = profile.name
    url = tally.urls.get(slug) if slug else None
    if slug and not url:
        url = f"https://www.linkedin.com/in/{slug}"
    key = f"linkedin:{slug}" if slug else _name_key(norm or "")
    account = Account(
        key=key,
        name=display,
        profile_url=url,
        headline=(profile.headline or None) if profile else None,
        location=(profile.location or None) if profile else None,
    )
    return _Owner(norm=norm, slug=slug, account=account)


class _InviteIndex:
    """Incoming invitation notes by sender, to be joined to the conversation the sender then opened."""

    def __init__(self, invites: list[_Invite]) -> None:
        self.by_slug: dict[str, list[_Invite]] = {}
        self.by_name: dict[str, list[_Invite]] = {}
        for inv in invites:
            if inv.slug:
                self.by_slug.setdefault(inv.slug, []).append(inv)
            if inv.norm:
                self.by_name.setdefault(inv.norm, []).append(inv)

    def take(self, slug: str | None, norm: str, first_at: datetime | None) -> _Invite | None:
        candidates = self.by_slug.get(slug, []) if slug else []
        if not candidates and norm:
            # Older invitation files carry no URLs: fall back to the name, never across two known slugs.
            candidates = [i for i in self.by_name.get(norm, []) if i.slug is None or i.slug == slug]
        best: _Invite | None = None
        for inv in candidates:
            if inv.used:
                continue
            if first_at is not None and inv.sent_at is not None and inv.sent_at > first_at:
                continue
            if best is None or _earlier(inv, best):
                best = inv
        if best is not None:
            best.used = True
        return best


def _earlier(a: _Invite, b: _Invite) -> bool:
    if a.sent_at is None or b.sent_at is None:
        return a.row < b.row
    return (a.sent_at, a.row) < (b.sent_at, b.row)


# --- the reader ---------------------------------------------------------------------------------------


class _Columns:
    __slots__ = (
        "attach", "cid", "content", "date", "draft_conv", "draft_msg", "folder", "recipients", "sender",
        "subject", "title", "to", "url",
    )  # fmt: skip

    def __init__(self, reader: CsvReader) -> None:
        self.cid = reader.index("conversationid")
        self.title = reader.index("conversationtitle")
        self.sender = reader.index("from")
        self.url = reader.index("senderprofileurl")
        self.to = reader.index("to")
        self.recipients = reader.index("recipientprofileurls")
        self.date = reader.index("date")
        self.subject = reader.index("subject")
        self.content = reader.index("content")
        self.folder = reader.index("folder")
        self.attach = reader.index("attachments")
        self.draft_msg = reader.index("ismessagedraft")
        self.draft_conv = reader.index("isconversationdraft")


def _row_cid(row: list[str], c: _Columns) -> str | None:
    """The row's conversation id (a synthetic one when the cell is empty), or None for a blank row."""
    cid = row[c.cid].strip()
    if cid:
        return _short_cid(cid)
    if not any(cell.strip() for cell in row):
        return None
    return _synthetic_cid(row[c.sender], row[c.date], row[c.content])


def _is_draft(row: list[str], c: _Columns) -> bool:
    cells = (row[c.draft_msg], row[c.draft_conv], row[c.folder])
    # A file holds a handful of distinct flag and folder cells; remembering them saves two thirds of
    # the per-row cost of this check on both passes.
    known = _DRAFT_CELLS.get(cells)
    if known is None:
        draft_msg, draft_conv, folder = cells
        known = bool(
            (draft_msg and draft_msg.strip().casefold() in _TRUE)
            or (draft_conv and draft_conv.strip().casefold() in _TRUE)
            or (folder and folder.strip().upper() in _DRAFT_FOLDERS)
        )
        if len(_DRAFT_CELLS) < 4096:
            _DRAFT_CELLS[cells] = known
    return known


_DRAFT_CELLS: dict[tuple[str, str, str], bool] = {}


class _Reader:
    def __init__(self, path: Path, export: _Export, settings: Settings, stats: IngestStats) -> None:
        self.path = path
        self.export = export
        self.settings = settings
        self.stats = stats
        self.keys = _Keys()
        self.source = str(path)
        self.truncated = 0
        self.dropped = 0
        self.scattered: dict[str, int] = {}
        self.scatter_overflow = False
        self.parts: dict[str, int] = {}

    # -- pass 1: owner tally and scattered conversations
    def survey(self, tally: _Tally) -> None:
        export = self.export
        if not export.has(MESSAGES_FILE):
            return
        seen = _SeenFilter(export.size(MESSAGES_FILE))
        cap = self.settings.max_open_conversations
        with export.open(MESSAGES_FILE) as raw:
            reader = export.csv(MESSAGES_FILE, MESSAGE_COLUMNS, MESSAGE_REQUIRED, raw)
            if reader.blank:
                return
            c = _Columns(reader)
            i_sender, i_url, i_to, i_recipients = c.sender, c.url, c.to, c.recipients
            current: str | None = None
            # Distinct raw (name, URL) cells of the current run; normalised once per conversation.
            senders: set[tuple[str, str]] = set()
            receivers: set[tuple[str, str]] = set()
            scattered = self.scattered
            n = -1
            for n, row in enumerate(reader):
                cid = _row_cid(row, c)
                if cid is None:
                    continue
                if cid != current:
                    if current is not None:
                        self._tally_run(tally, senders, receivers)
                        senders, receivers = set(), set()
                        if current in scattered:
                            scattered[current] = n - 1
                    current = cid
                    if seen.check_add(cid) and cid not in scattered:
                        if len(scattered) < cap:
                            scattered[cid] = n
                        else:
                            self.scatter_overflow = True
                url = row[i_url]
                if not url.strip() and row[i_sender].strip().casefold() in SPONSORED_SENDER_NAMES:
                    continue
                senders.add((row[i_sender], url))
                if _is_draft(row, c):
                    tally.certain[self.keys.name(row[i_sender])] += 1
                if row[i_to]:
                    receivers.add((row[i_to], row[i_recipients]))
            if current is not None:
                self._tally_run(tally, senders, receivers)
                if current in scattered:
                    scattered[current] = n

    def _tally_run(
        self, tally: _Tally, senders: set[tuple[str, str]], receivers: set[tuple[str, str]]
    ) -> None:
        keys = self.keys
        names: set[str] = set()
        for sender, url_cell in senders:
            norm = keys.name(sender)
            names.add(norm)
            tally.show(norm, sender)
            url = url_cell.strip()
            slug = keys.slug(url)
            if slug:
                tally.pair(norm, slug, url)
        for to, recipients in receivers:
            norm = keys.name(to)
            names.add(norm)
            tally.show(norm, to)
            tally.votes[norm] += 1
            to_url = _single_url(recipients)
            if to_url:
                to_slug = keys.slug(to_url)
                if to_slug:
                    tally.pair(norm, to_slug, to_url)
        tally.group(names)

    # -- pass 2: conversations to approaches
    def conversations(
        self, owner: _Owner, invites: _InviteIndex, conns: _Connections | None
    ) -> Iterator[Approach]:
        export = self.export
        if not export.has(MESSAGES_FILE):
            return
        stats = self.stats
        settings = self.settings
        limit = settings.max_field_chars
        cap = settings.max_open_conversations
        max_msgs = settings.max_messages_per_conversation
        open_convs: OrderedDict[str, _Open] = OrderedDict()
        # Parts already emitted of conversations that may come back: evicted ones, and in a file with
        # more scattered conversations than could be tracked, every one (so ids never repeat).
        parts = self.parts
        with export.open(MESSAGES_FILE) as raw:
            reader = export.csv(MESSAGES_FILE, MESSAGE_COLUMNS, MESSAGE_REQUIRED, raw)
            if reader.blank:
                return
            c = _Columns(reader)
            i_content, i_subject, i_attach = c.content, c.subject, c.attach
            i_url, i_sender = c.url, c.sender
            current: str | None = None
            conv = _Open(cid="", part=1)
            n = -1
            for n, row in enumerate(reader):
                stats.rows_read += 1
                cid = _row_cid(row, c)
                if cid is None:
                    stats.empty_skipped += 1
                    continue
                if cid != current:
                    if current is not None:
                        done = self._end_run(current, n - 1, open_convs)
                        if done is not None:
                            yield from self._emit(done, c, owner, invites, conns)
                    current = cid
                    found = open_convs.get(cid)
                    if found is None:
                        conv = _Open(cid=cid, part=parts.get(cid, 0) + 1)
                        open_convs[cid] = conv
                        while len(open_convs) > cap:
                            _, evicted = open_convs.popitem(last=False)
                            parts[evicted.cid] = evicted.part
                            yield from self._emit(evicted, c, owner, invites, conns)
                    else:
                        conv = found
                        open_convs.move_to_end(cid)
                if _is_draft(row, c):
                    stats.drafts_dropped += 1
                    continue
                if not row[i_url].strip() and row[i_sender].strip().casefold() in SPONSORED_SENDER_NAMES:
                    stats.sponsored_filtered += 1
                    continue
                content = row[i_content]
                if len(content) <= _SYSTEM_MAX_CHARS:
                    if not content.strip() and not row[i_attach].strip() and not row[i_subject].strip():
                        stats.system_filtered += 1
                        continue
                    if _is_system_text(content):
                        stats.system_filtered += 1
                        continue
                if len(content) > limit and len(content.strip()) > limit:
                    self.truncated += 1
                    stats.truncated_fields += 1
                stats.messages += 1
                conv.raw.append((n, row))
                if len(conv.raw) + len(conv.kept) >= 2 * max_msgs:
                    conv.kept = self._ordered(conv.kept + self._parse(conv.raw, c), max_msgs)
                    conv.raw = []
            if current is not None:
                done = self._end_run(current, n, open_convs)
                if done is not None:
                    yield from self._emit(done, c, owner, invites, conns)
            while open_convs:
                _, rest = open_convs.popitem(last=False)
                yield from self._emit(rest, c, owner, invites, conns)

    def _end_run(self, cid: str, last_row: int, open_convs: OrderedDict[str, _Open]) -> _Open | None:
        until = self.scattered.get(cid)
        if until is not None and until > last_row:
            return None
        self.scattered.pop(cid, None)
        done = open_convs.pop(cid, None)
        if done is not None and self.scatter_overflow:
            self.parts[cid] = done.part
        return done

    def _parse(self, raw: list[tuple[int, list[str]]], c: _Columns) -> list[_Row]:
        keys = self.keys
        limit = self.settings.max_field_chars
        out = []
        for pos, row in raw:
            sender = row[c.sender].strip()
            url = row[c.url].strip()
            date_raw = row[c.date].strip()
            to = row[c.to].strip()
            subject = row[c.subject].strip()
            title = row[c.title].strip()
            out.append(
                _Row(
                    pos,
                    _norm_text(sender, MAX_NAME_CHARS),
                    url if len(url) <= MAX_PROFILE_URL_CHARS else url[:MAX_PROFILE_URL_CHARS],
                    keys.slug(url),
                    keys.name(sender),
                    _norm_text(to, MAX_TEXT_LINE_CHARS),
                    row[c.recipients],
                    date_raw[:64],
                    _norm_text(subject, limit),
                    _norm_text(row[c.content].strip(), limit),
                    row[c.folder].strip()[:64],
                    row[c.attach],
                    _norm_text(title, MAX_TEXT_LINE_CHARS),
                    parse_linkedin_date(date_raw),
                )
            )
        return out

    def _ordered(self, rows: list[_Row], keep: int) -> list[_Row]:
        if len(rows) > 1:
            dated = [r for r in rows if r.sent_at is not None]
            # LinkedIn writes a conversation newest first; equal timestamps keep that order reversed.
            sign = 1
            if len(dated) >= 2:
                earliest_row = min(dated, key=lambda r: r.pos)
                latest_row = max(dated, key=lambda r: r.pos)
                if earliest_row.sent_at > latest_row.sent_at:  # type: ignore[operator]
                    sign = -1
            far = datetime.max.replace(tzinfo=UTC)
            rows = sorted(rows, key=lambda r: (r.sent_at is None, r.sent_at or far, sign * r.pos))
        if len(rows) > keep:
            # These rows were counted in ``messages`` when read; move them so each row stays in one counter.
            self.dropped += len(rows) - keep
            self.stats.messages -= len(rows) - keep
            self.stats.messages_dropped += len(rows) - keep
            rows = rows[:keep]
        return rows

    def _recipient_keys(self, row: _Row, owner: _Owner, name_slugs: dict[str, str]) -> tuple[str, ...]:
        keys = self.keys
        out: list[str] = []
        for url in keys.urls(row.recipients):
            slug = keys.slug(url)
            if slug:
                key = f"linkedin:{slug}"
                if key not in out:
                    out.append(key)
        if out:
            return tuple(out)
        if row.to:
            # Files without recipient URLs: a name seen with a URL elsewhere in the thread is that person.
            norm = keys.name(row.to)
            if owner.is_owner(None, norm):
                return (owner.account.key,)
            slug = name_slugs.get(norm)
            return (f"linkedin:{slug}",) if slug else (_name_key(norm),)
        return ()

    def _emit(
        self, conv: _Open, c: _Columns, owner: _Owner, invites: _InviteIndex, conns: _Connections | None
    ) -> Iterator[Approach]:
        if not conv.raw and not conv.kept:
            return
        rows = self._ordered(
            conv.kept + self._parse(conv.raw, c), self.settings.max_messages_per_conversation
        )
        conv.raw = []
        conv.kept = []
        cid = conv.cid if conv.part == 1 else f"{conv.cid}~{conv.part}"
        approach_id = f"li:{cid}"
        first = rows[0]
        first_is_owner = owner.is_owner(first.slug, first.norm)
        if first_is_owner:
            counterpart = self._counterpart(rows, owner)
            if counterpart is None:
                self.stats.outbound_skipped += 1
                return
            slug, norm, name, url = counterpart
            invite = invites.take(slug, norm, first.sent_at)
            if invite is None:
                self.stats.outbound_skipped += 1
                return
        else:
            slug, norm, name, url = first.slug, first.norm, first.sender, first.url
            invite = invites.take(slug, norm, first.sent_at)
        sender_key = f"linkedin:{slug}" if slug else _name_key(norm)
        messages: list[Message] = []
        if invite is not None:
            messages.append(
                Message(
                    id=f"{approach_id}#inv",
                    conversation_id=cid,
                    sender_key=sender_key,
                    sent_at=invite.sent_at,
                    text=invite.note,
                    inbound=True,
                    recipient_keys=(owner.account.key,),
                    channel=Channel.LINKEDIN_INVITATION,
                )
            )
            if not url and invite.url:
                url = invite.url
        seen_ids: dict[str, int] = {}
        name_slugs = {r.norm: r.slug for r in rows if r.slug}
        for r in rows:
            is_owner = owner.is_owner(r.slug, r.norm)
            if is_owner:
                key = owner.account.key
            elif r.slug:
                key = f"linkedin:{r.slug}"
            else:
                key = _name_key(r.norm)
            digest = hashlib.sha1(
                f"{key}\x00{r.date_raw}\x00{r.subject}\x00{r.content}".encode("utf-8", "surrogatepass")
            ).hexdigest()[:16]
            dup = seen_ids.get(digest, 0)
            seen_ids[digest] = dup + 1
            folder_u = r.folder.upper()
            inmail = bool(r.subject) or "INMAIL" in folder_u or "SPONSOR" in folder_u
            messages.append(
                Message(
                    id=f"{approach_id}#{digest}" + (f"-{dup + 1}" if dup else ""),
                    conversation_id=cid,
                    sender_key=key,
                    sent_at=r.sent_at,
                    text=r.content,
                    subject=r.subject,
                    inbound=not is_owner,
                    recipient_keys=self._recipient_keys(r, owner, name_slugs),
                    channel=Channel.LINKEDIN_INMAIL if inmail else Channel.LINKEDIN_MESSAGE,
                    folder=r.folder or None,
                    attachments=_attachments(r.attachments),
                )
            )
        channel = messages[0].channel
        sender = Account(key=sender_key, name=name, profile_url=url or None)
        conversation = Conversation(id=cid, messages=tuple(messages), title=first.title, channel=channel)
        yield Approach(
            id=approach_id,
            sender=sender,
            recipient=owner.account,
            conversation=conversation,
            channel=channel,
            sender_is_connection=_is_connection(conns, slug, norm, messages[0].sent_at, channel),
            source=self.source,
        )

    def _counterpart(self, rows: list[_Row], owner: _Owner) -> tuple[str | None, str, str, str] | None:
        """The one other person of an owner-started 1:1 conversation, if it is clear who that is."""
        others = {(r.slug, r.norm): (r.sender, r.url) for r in rows if not owner.is_owner(r.slug, r.norm)}
        if len(others) == 1:
            (slug, norm), (name, url) = next(iter(others.items()))
            return slug, norm, name, url
        if others:
            return None
        first = rows[0]
        urls = [u for u in self.keys.urls(first.recipients) if self.keys.slug(u) != owner.slug]
        if len(urls) > 1:
            return None
        url = urls[0] if urls else ""
        slug = self.keys.slug(url) if url else None
        norm = self.keys.name(first.to)
        if not slug and (not norm or owner.is_owner(None, norm)):
            return None
        return slug, norm, first.to, url

    def invitations(
        self, invites: list[_Invite], owner: _Owner, conns: _Connections | None
    ) -> Iterator[Approach]:
        for inv in invites:
            if inv.used:
                continue
            inv_id = (
                "li-inv:"
                + hashlib.sha1(
                    f"{inv.key}\x00{owner.account.key}\x00{inv.sent_raw}\x00{inv.note}".encode(
                        "utf-8", "surrogatepass"
                    )
                ).hexdigest()[:16]
            )
            message = Message(
                id=f"{inv_id}#0",
                conversation_id=inv_id,
                sender_key=inv.key,
                sent_at=inv.sent_at,
                text=inv.note,
                inbound=True,
                recipient_keys=(owner.account.key,),
                channel=Channel.LINKEDIN_INVITATION,
            )
            yield Approach(
                id=inv_id,
                sender=Account(key=inv.key, name=inv.name, profile_url=inv.url or None),
                recipient=owner.account,
                conversation=Conversation(
                    id=inv_id, messages=(message,), channel=Channel.LINKEDIN_INVITATION
                ),
                channel=Channel.LINKEDIN_INVITATION,
                sender_is_connection=_is_connection(
                    conns, inv.slug, inv.norm, inv.sent_at, Channel.LINKEDIN_INVITATION
                ),
                source=self.source,
            )


def _is_connection(
    conns: _Connections | None, slug: str | None, norm: str, first_at: datetime | None, channel: Channel
) -> bool | None:
    """Whether the sender was already a connection when the approach began (None without Connections.csv).

    A connection made on the day of an invitation is the invitation's result, so for invitation
    approaches the connection must predate the invitation's day; for messages the same day counts.
    """
    if conns is None:
        return None
    found, when = conns.lookup(slug, norm)
    if not found:
        return False
    if when is None or first_at is None:
        return True
    day = first_at.date()
    return when < day if channel is Channel.LINKEDIN_INVITATION else when <= day


def _classify_invitations(invites: list[_Invite], owner: _Owner, stats: IngestStats) -> list[_Invite]:
    incoming: list[_Invite] = []
    for inv in invites:
        direction = inv.direction
        if direction is None:
            direction = "out" if owner.is_owner(inv.slug, inv.norm) else "in"
        if direction == "out":
            stats.outbound_skipped += 1
        elif not inv.note:
            stats.empty_skipped += 1
        else:
            stats.invitations += 1
            incoming.append(inv)
    return incoming


def iter_linkedin_export(path: Path, settings: Settings, stats: IngestStats) -> Iterator[Approach]:
    """Stream the approaches of a LinkedIn export (zip or folder) at ``path``.

    ``stats`` is updated as rows are read: ``rows_read`` counts data rows of messages.csv and
    Invitations.csv; every message row then lands in exactly one of ``messages``,
    ``messages_dropped`` (past ``max_messages_per_conversation``), ``sponsored_filtered``,
    ``system_filtered``, ``drafts_dropped`` or ``empty_skipped``; every
    invitation row in ``invitations`` (incoming with a note), ``outbound_skipped`` (sent by the
    owner) or ``empty_skipped`` (no note). ``outbound_skipped`` also counts conversations the owner
    started; ``connections`` counts rows of Connections.csv; ``truncated_fields`` counts message texts
    and invitation notes cut at ``max_field_chars``. Raises :class:`InputError` on bad input.
    """
    with _Export(path, settings) as export:
        reader = _Reader(path, export, settings, stats)
        profile = _read_profile(export)
        conns = _read_connections(export, reader.keys, stats)
        tally = _Tally()
        invites = _read_invitations(export, reader.keys, stats, tally)
        reader.survey(tally)
        owner = _resolve_owner(tally, profile, reader.keys)
        del tally
        incoming = _classify_invitations(invites, owner, stats)
        index = _InviteIndex(incoming)
        yield from reader.conversations(owner, index, conns)
        yield from reader.invitations(incoming, owner, conns)
        if reader.truncated:
            log.warning(
                "%s: %d message text(s) cut at %d characters",
                path,
                reader.truncated,
                settings.max_field_chars,
            )
        if reader.dropped:
            log.warning(
                "%s: %d message(s) past the %d-per-conversation limit dropped",
                path,
                reader.dropped,
                settings.max_messages_per_conversation,
            )
        if reader.scatter_overflow:
            log.warning(
                "%s: rows of more than %d conversation(s) are interleaved; some were split in parts",
                path,
                settings.max_open_conversations,
            )
