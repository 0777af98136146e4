"""E-mail readers: one ``.eml`` file, a folder of them, or an mbox, as a stream of approaches.

Messages are parsed with the standard library (:mod:`email`, modern ``policy.default``) and read
defensively: every header access has a fallback, charsets that lie are survived, attachments are
named but never decoded, and each message is capped at ``Settings.max_email_bytes``.

An mbox is read in two streaming passes so that a multi-gigabyte mailbox never sits in memory:

1. the file is split on ``From`` lines (bounded buffer) and only each message's header block is
   read, to find the mailbox owner (the address that receives most) and to group messages into
   threads by Message-ID / In-Reply-To / References, falling back to the normalised subject and
   participants. Only offsets and small integers are kept per message; at most
   ``Settings.max_open_conversations`` threads stay open for linking, the least recently active is
   closed first.
2. each thread whose first message is inbound is read again from its offsets, parsed in full and
   yielded as one approach; threads the owner started are counted and skipped unread.
"""

from __future__ import annotations

import codecs
import hashlib
import heapq
import logging
import math
import os
import re
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message as MimeMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

from lurewatch.errors import InputError
from lurewatch.identity import account_key, normalise_email
from lurewatch.ingest.htmltext import html_to_text
from lurewatch.ingest.text import clean_text
from lurewatch.model import Account, Approach, Channel, Conversation, IngestStats, Message
from lurewatch.settings import Settings

log = logging.getLogger(__name__)

#: Headers of which at least one must be present for bytes to count as an e-mail message.
_KNOWN_HEADERS = frozenset(
    {
        "from", "to", "cc", "subject", "date", "message-id", "received", "mime-version", "content-type",
        "return-path", "delivered-to", "reply-to", "sender", "in-reply-to", "references", "x-original-to",
    }
)  # fmt: skip
#: A raw header value longer than this is cut before it is decoded (address lists, hostile input).
_MAX_HEADER_CHARS = 16_384
#: Address headers longer than this (in total) skip the policy's parser, which is quadratic on
#: some hostile values, for the simpler :func:`email.utils.getaddresses`.
_MAX_STRUCTURED_CHARS = 2_048
#: Decoded subjects and names are cut to this many characters.
_MAX_SUBJECT_CHARS = 2_000
_MAX_NAME_CHARS = 256
_MAX_ADDRESSES = 200
_MAX_REFERENCES = 64
_MAX_ATTACHMENTS = 200
_MAX_FILENAME_CHARS = 255
#: MIME parts walked per message and their nesting depth; beyond that a message is hostile.
_MAX_PARTS = 1_000
_MAX_DEPTH = 32
#: Header block of an mbox message read in the first pass.
_MAX_HEAD_BYTES = 256 * 1024
_READ_CHUNK = 1 << 20
_SNIFF_BYTES = 8 * 1024

_ADDR_SPEC = r"[^\s<>@,;:\"()\[\]\\]+@[^\s<>@,;:\"()\[\]\\]+"
_ADDR_SPEC_RE = re.compile(_ADDR_SPEC)
_SIMPLE_MAILBOX = re.compile(
    rf'^\s*(?:(?:"(?P<quoted>[^"\\=]*)"|(?P<plain>[^"<>,;:@()\[\]\\=]*?))\s*<(?P<angle>{_ADDR_SPEC})>'
    rf"|<?(?P<bare>{_ADDR_SPEC})>?)\s*$"
)
_MSGID = re.compile(r"<([^<>\s]{1,900})>")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s+")
_HEADER_LINE = re.compile(rb"^([!-9;-~]{1,76}):")
# A "From " line that starts a message: at the start of the file or right after a blank line.
_MBOX_SEPARATOR = re.compile(rb"\n\r?\nFrom ")
_MBOX_QUOTED_FROM = re.compile(rb"(?m)^>(>*From )")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_REPLY_PREFIX = re.compile(
    r"^(?:\s*(?:re|fwd?|aw|wg|tr|sv|vs|antw|odp|rif|ynt)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+", re.IGNORECASE
)
_SINGLE_BYTE_CHARSETS = re.compile(r"^(?:ascii|us-ascii|latin[-_]?\d*|iso[-_]?8859.*|cp125\d|windows-125\d)$")


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """One mailbox of a From / To / Cc header: display name and address (None when unusable)."""

    name: str
    email: str | None

    @property
    def key(self) -> str:
        return account_key(email=self.email, name=self.name)

    @property
    def normalised(self) -> str | None:
        address = normalise_email(self.email)
        return address.casefold() if address else None


@dataclass(frozen=True, slots=True)
class EmailHeaders:
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: EmailAddress | None
    to: tuple[EmailAddress, ...]
    cc: tuple[EmailAddress, ...]
    #: Delivered-To / X-Original-To addresses: where the mail server actually delivered the message
    delivered_to: tuple[str, ...]
    date: datetime | None


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """One e-mail message, decoded: headers, readable text and attachment names."""

    source: str
    #: sha256 of the raw message bytes
    digest: str
    headers: EmailHeaders
    text: str
    attachments: tuple[str, ...]
    #: whether the text was cut at ``Settings.max_field_chars``
    truncated: bool = False

    @property
    def id(self) -> str:
        return self.headers.message_id or f"eml:{self.digest[:16]}"


# --- parsing one message -----------------------------------------------------------------------


def parse_email_bytes(data: bytes, source: str, settings: Settings) -> ParsedEmail:
    """Parse one RFC 5322 message. Raises :class:`InputError` when it is too large or not an e-mail."""
    if len(data) > settings.max_email_bytes:
        raise _TooLarge(
            source,
            f"e-mail message is {len(data):,} bytes, over the {settings.max_email_bytes:,}-byte limit "
            "(LUREWATCH_MAX_EMAIL_BYTES)",
        )
    if not data.strip():
        raise InputError(source, "empty e-mail message")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
    except Exception as exc:
        # The parser records defects rather than raising, but deep nesting and a few known bugs
        # still surface as arbitrary exceptions; hostile input must end as InputError.
        raise InputError(source, f"cannot parse e-mail message ({type(exc).__name__})") from None
    if not _has_known_header(msg):
        raise InputError(source, "no e-mail headers found (From, To, Subject, Date, ...)")
    text, attachments, truncated = _body(msg, settings)
    return ParsedEmail(
        source=source,
        digest=hashlib.sha256(data).hexdigest(),
        headers=_headers(msg),
        text=text,
        attachments=attachments,
        truncated=truncated,
    )


def _parse_head(data: bytes) -> EmailHeaders | None:
    try:
        msg = BytesHeaderParser(policy=policy.default).parsebytes(data)
    except Exception:
        return None
    return _headers(msg) if _has_known_header(msg) else None


def _has_known_header(msg: MimeMessage) -> bool:
    return any(str(name).lower() in _KNOWN_HEADERS for name, _ in msg.raw_items())


def _headers(msg: MimeMessage) -> EmailHeaders:
    raw = _raw_headers(msg)
    senders = _addresses(msg, raw, "from")
    return EmailHeaders(
        message_id=_message_id(raw.get("message-id", [])),
        in_reply_to=_message_ids(raw.get("in-reply-to", [])),
        references=_message_ids(raw.get("references", [])),
        subject=_header_text(msg, raw, "subject")[:_MAX_SUBJECT_CHARS],
        sender=senders[0] if senders else None,
        to=_addresses(msg, raw, "to"),
        cc=_addresses(msg, raw, "cc"),
        delivered_to=tuple(
            dict.fromkeys(
                a.normalised
                for name in ("delivered-to", "x-original-to")
                for a in _addresses(msg, raw, name)
                if a.normalised
            )
        ),
        date=_parse_date(raw.get("date", [])),
    )


_WANTED_HEADERS = frozenset(
    {
        "message-id",
        "in-reply-to",
        "references",
        "subject",
        "from",
        "to",
        "cc",
        "delivered-to",
        "x-original-to",
        "date",
    }
)


def _raw_headers(msg: MimeMessage) -> dict[str, list[str]]:
    """Raw (undecoded) values of the headers we read, without letting the policy parse them."""
    found: dict[str, list[str]] = {}
    for key, value in msg.raw_items():
        name = str(key).lower()
        if name in _WANTED_HEADERS:
            values = found.setdefault(name, [])
            if len(values) < 16:
                values.append(str(value))
    return found


def _unsurrogate(raw: str) -> str:
    """Undo the parser's surrogate-escaping of 8-bit header bytes (UTF-8 per RFC 6532, or legacy)."""
    if not _SURROGATES.search(raw):
        return raw
    try:
        data = raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", raw)
    return _decode_bytes(data, None)


def _decode_words(raw: str) -> str:
    """RFC 2047 encoded words decoded, tolerating every kind of breakage."""
    raw = _unsurrogate(raw[:_MAX_HEADER_CHARS])
    if "=?" not in raw:
        return raw
    try:
        return str(make_header(decode_header(raw)))
    except Exception:
        # unknown charsets, bad base64 and malformed words raise a zoo of exception types
        return raw


def _one_line(text: str) -> str:
    return clean_text(_WHITESPACE.sub(" ", text), _MAX_HEADER_CHARS).strip()


def _header_text(msg: MimeMessage, raw_headers: dict[str, list[str]], name: str) -> str:
    values = raw_headers.get(name, [])
    if not values:
        return ""
    raw = values[0]
    if len(raw) <= _MAX_HEADER_CHARS and not _SURROGATES.search(raw):
        try:
            value = msg[name]
            if value is not None:
                return _one_line(str(value))
        except Exception:
            pass  # the policy's header parser failed on this value: decode it ourselves below
    return _one_line(_decode_words(raw))


def _addresses(msg: MimeMessage, raw_headers: dict[str, list[str]], name: str) -> tuple[EmailAddress, ...]:
    values = raw_headers.get(name, [])
    if not values:
        return ()
    pairs: list[tuple[str, str]] | None = None
    if len(values) == 1 and len(values[0]) <= _MAX_NAME_CHARS:
        # One plain mailbox is by far the commonest value, and the policy's full RFC 5322 parser
        # costs a quarter of a millisecond per header: read the simple form directly.
        simple = _SIMPLE_MAILBOX.match(values[0])
        if simple:
            display = simple.group("quoted") or simple.group("plain") or ""
            address = simple.group("angle") or simple.group("bare") or ""
            pairs = [(_unsurrogate(display), _unsurrogate(address))]
    if (
        pairs is None
        and sum(len(v) for v in values) <= _MAX_STRUCTURED_CHARS
        and not any(_SURROGATES.search(v) for v in values)
    ):
        try:
            headers = msg.get_all(name) or []
            # Delivered-To and friends are not address headers to the policy: parse them below.
            if all(hasattr(header, "addresses") for header in headers):
                pairs = [
                    (str(address.display_name), str(address.addr_spec))
                    for header in headers
                    for address in header.addresses
                ]
        except Exception:
            pairs = None  # the policy's address parser failed: use the lenient parse below
    if pairs is None:
        plain = [_unsurrogate(v[:_MAX_HEADER_CHARS]) for v in values]
        try:
            pairs = [(_decode_words(display), address) for display, address in getaddresses(plain)]
        except Exception:
            # getaddresses recurses on nested comments; the bare addresses are still worth having
            pairs = [("", address) for v in plain for address in _ADDR_SPEC_RE.findall(v)]
    found: dict[tuple[str, str | None], EmailAddress] = {}
    for display, address in pairs:
        email = normalise_email(_one_line(address))
        display_name = _one_line(display)[:_MAX_NAME_CHARS]
        if not email and not display_name:
            continue
        found.setdefault((display_name, email), EmailAddress(display_name, email))
        if len(found) >= _MAX_ADDRESSES:
            break
    return tuple(found.values())


def _message_id(values: list[str]) -> str | None:
    if not values:
        return None
    raw = values[0][:_MAX_HEADER_CHARS]
    match = _MSGID.search(raw)
    if match:
        return clean_text(match.group(1), 900) or None
    tokens = raw.split(maxsplit=1)
    if not tokens:
        return None
    return clean_text(tokens[0].strip("<>"), 900) or None


def _message_ids(values: list[str]) -> tuple[str, ...]:
    ids = list(dict.fromkeys(i for v in values for i in _MSGID.findall(v[:_MAX_HEADER_CHARS])))
    if len(ids) > _MAX_REFERENCES:
        # the thread root comes first and the parent last: keep both ends
        ids = ids[:1] + ids[-(_MAX_REFERENCES - 1) :]
    return tuple(clean_text(i, 900) for i in ids)


def _parse_date(values: list[str]) -> datetime | None:
    if not values:
        return None
    try:
        parsed = parsedate_to_datetime(_one_line(values[0])[:200])
        # RFC 5322 "-0000" means "zone unknown"; UTC is the only sensible reading.
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except Exception:
        # parsedate_to_datetime raises ValueError, TypeError, IndexError or OverflowError on junk
        return None


def _body(msg: MimeMessage, settings: Settings) -> tuple[str, tuple[str, ...], bool]:
    """Readable text (text/plain preferred, else HTML as text), attachment names, whether text was cut."""
    limit = settings.max_field_chars
    plain: list[str] = []
    html: list[str] = []
    plain_size = html_size = 0
    attachments: list[str] = []
    stack: list[tuple[MimeMessage, int]] = [(msg, 0)]
    walked = 0
    while stack and walked < _MAX_PARTS:
        part, depth = stack.pop()
        walked += 1
        try:
            if part.is_multipart():
                children = part.get_payload()
                if isinstance(children, list) and depth < _MAX_DEPTH:
                    # reversed so that popping walks the parts in document order
                    stack.extend((child, depth + 1) for child in reversed(children[:_MAX_PARTS]))
                continue
            filename = _filename(part)
            disposition = part.get_content_disposition()
            content_type = part.get_content_type()
            if (
                disposition == "attachment"
                or (filename is not None and disposition != "inline")
                or content_type not in {"text/plain", "text/html"}
            ):
                if filename is not None and len(attachments) < _MAX_ATTACHMENTS:
                    attachments.append(filename)
                continue
            if content_type == "text/plain" and plain_size < limit:
                text = _part_text(part, 4 * limit)
                plain.append(text)
                plain_size += len(text)
            elif content_type == "text/html" and html_size < limit:
                text = html_to_text(_part_text(part, 40 * limit), limit)
                html.append(text)
                html_size += len(text)
        except Exception:
            # one malformed part (bad parameters, broken transfer encoding) must not cost the message
            continue
    chosen = plain if any(t.strip() for t in plain) else html
    text = "\n\n".join(t.strip() for t in chosen if t.strip())
    truncated = len(text) > limit or any(len(t) >= limit for t in chosen)
    return clean_text(text, limit).strip(), tuple(dict.fromkeys(attachments)), truncated


def _filename(part: MimeMessage) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    if not name:
        return None
    name = clean_text(_WHITESPACE.sub(" ", _unsurrogate(str(name))), _MAX_FILENAME_CHARS).strip()
    return name or None


def _part_text(part: MimeMessage, byte_limit: int) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _decode_bytes(payload[:byte_limit], charset)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data``, trusting the declared charset only as far as the bytes agree with it."""
    declared = _charset(charset)
    if declared and not data.isascii() and _SINGLE_BYTE_CHARSETS.match(declared):
        # UTF-8 mislabelled as Latin-1/ASCII is the most common lie; valid UTF-8 is rarely an accident.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    for candidate in (declared, "utf-8", "cp1252"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (UnicodeError, LookupError, ValueError, TypeError):
            continue
    return data.decode("latin-1")


def _charset(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip('"')).name
    except (LookupError, ValueError, TypeError):
        return None


# --- building approaches -----------------------------------------------------------------------


@dataclass(slots=True)
class _Notes:
    """What a reader cut or set aside beyond the IngestStats counters; logged once per input."""

    too_large: int = 0
    truncated: int = 0
    dropped: int = 0
    closed_threads: int = 0

    def log(self, source: str, settings: Settings) -> None:
        if self.too_large:
            log.warning(
                "%s: %d message(s) over the %d-byte limit skipped",
                source,
                self.too_large,
                settings.max_email_bytes,
            )
        if self.truncated:
            log.warning(
                "%s: %d message text(s) cut at %d characters",
                source,
                self.truncated,
                settings.max_field_chars,
            )
        if self.dropped:
            log.warning(
                "%s: %d message(s) past the %d-per-conversation limit dropped",
                source,
                self.dropped,
                settings.max_messages_per_conversation,
            )
        if self.closed_threads:
            log.warning(
                "%s: more than %d threads open at once; %d closed early (late replies start new threads)",
                source,
                settings.max_open_conversations,
                self.closed_threads,
            )


def _approach(
    thread: list[ParsedEmail],
    owner: str | None,
    source: str,
    settings: Settings,
    stats: IngestStats,
    notes: _Notes,
) -> Approach | None:
    """The approach a thread makes, or None when the owner started it or nothing readable is left."""
    kept: list[ParsedEmail] = []
    ids: set[str] = set()
    for parsed in thread:
        if not parsed.text and not parsed.headers.subject:
            stats.empty_skipped += 1
            continue
        if parsed.id in ids:
            continue
        if len(kept) >= settings.max_messages_per_conversation:
            notes.dropped += 1
            stats.messages_dropped += 1
            continue
        ids.add(parsed.id)
        notes.truncated += parsed.truncated
        stats.truncated_fields += parsed.truncated
        kept.append(parsed)
    if not kept:
        return None
    first = kept[0]
    sender = first.headers.sender
    if owner is not None and sender is not None and sender.normalised == owner:
        stats.outbound_skipped += 1
        return None
    approach_id = first.id
    messages = tuple(_message(parsed, approach_id, owner) for parsed in kept)
    stats.messages += len(messages)
    return Approach(
        id=approach_id,
        sender=_account(sender),
        recipient=_owner_account(owner, kept),
        conversation=Conversation(
            id=approach_id, messages=messages, title=first.headers.subject, channel=Channel.EMAIL
        ),
        channel=Channel.EMAIL,
        source=source,
    )


def _message(parsed: ParsedEmail, conversation_id: str, owner: str | None) -> Message:
    h = parsed.headers
    sender = h.sender
    return Message(
        id=parsed.id,
        conversation_id=conversation_id,
        sender_key=sender.key if sender else account_key(),
        sent_at=h.date,
        text=parsed.text,
        subject=h.subject,
        inbound=owner is None or sender is None or sender.normalised != owner,
        recipient_keys=tuple(dict.fromkeys(a.key for a in (*h.to, *h.cc)))[:_MAX_ADDRESSES],
        channel=Channel.EMAIL,
        attachments=parsed.attachments,
    )


def _account(address: EmailAddress | None) -> Account:
    if address is None:
        return Account(key=account_key())
    return Account(key=address.key, name=address.name, email=address.email)


def _owner_account(owner: str | None, thread: list[ParsedEmail]) -> Account:
    if owner is None:
        first_to = thread[0].headers.to
        return _account(first_to[0] if first_to else None)
    for parsed in thread:
        for address in (*parsed.headers.to, *parsed.headers.cc):
            if address.normalised == owner and address.name:
                return _account(address)
    return Account(key=account_key(email=owner), email=owner)


def _file_owner(parsed: ParsedEmail) -> str | None:
    """The recipient of a stand-alone message: its first To address, else where it was delivered."""
    for address in parsed.headers.to:
        if address.normalised:
            return address.normalised
    return parsed.headers.delivered_to[0] if parsed.headers.delivered_to else None


# --- .eml files and folders --------------------------------------------------------------------


def iter_eml_file(path: Path, settings: Settings, stats: IngestStats) -> Iterator[Approach]:
    """The approach in one ``.eml`` file (none when the recipient sent it to themselves)."""
    source = str(path)
    data = _read_message_file(path, settings)
    stats.rows_read += 1
    parsed = parse_email_bytes(data, source, settings)
    notes = _Notes()
    approach = _approach([parsed], _file_owner(parsed), source, settings, stats, notes)
    notes.log(source, settings)
    if approach is not None:
        yield approach


def iter_eml_folder(path: Path, settings: Settings, stats: IngestStats) -> Iterator[Approach]:
    """Approaches in every ``*.eml`` under ``path``, recursively, in sorted order; symlinks are not followed.

    Each file is its own approach with its first To address as the recipient. Files over
    ``max_email_bytes`` are skipped and counted as ``too_large_skipped``; files that are not e-mail
    as ``empty_skipped``.
    """
    notes = _Notes()
    for file in _eml_files(path):
        stats.rows_read += 1
        source = str(file)
        try:
            data = _read_message_file(file, settings)
            parsed = parse_email_bytes(data, source, settings)
        except _TooLarge:
            stats.too_large_skipped += 1
            notes.too_large += 1
            continue
        except InputError as exc:
            stats.empty_skipped += 1
            log.warning("%s", exc)
            continue
        approach = _approach([parsed], _file_owner(parsed), source, settings, stats, notes)
        if approach is not None:
            yield approach
    notes.log(str(path), settings)


def _eml_files(root: Path) -> Iterator[Path]:
    """``*.eml`` files under ``root`` in sorted path order, streaming, never following a symlink."""
    if root.is_symlink() or not root.is_dir():
        raise InputError(str(root), "not a folder (symbolic links are not followed)")
    stack: list[Iterator[os.DirEntry[str]]] = [iter(_sorted_entries(root))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            stack.append(iter(_sorted_entries(Path(entry.path))))
        elif entry.name.lower().endswith(".eml") and entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def _sorted_entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError as exc:
        raise InputError(str(folder), f"cannot list folder: {exc.strerror or exc}") from None


class _TooLarge(InputError):
    """A message over ``max_email_bytes``: fatal for one .eml, skipped and counted in a folder."""


def _read_message_file(path: Path, settings: Settings) -> bytes:
    source = str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(settings.max_email_bytes + 1)
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > settings.max_email_bytes:
        raise _TooLarge(
            source,
            f"e-mail file is over the {settings.max_email_bytes:,}-byte limit (LUREWATCH_MAX_EMAIL_BYTES)",
        )
    if not data.strip():
        raise InputError(source, "file is empty")
    return data


# --- mbox --------------------------------------------------------------------------------------


def iter_mbox(path: Path, settings: Settings, stats: IngestStats) -> Iterator[Approach]:
    """Approaches in an mbox file: one per thread whose first message the mailbox owner received."""
    source = str(path)
    try:
        size = path.stat().st_size
        scan_fh = path.open("rb")
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None
    if size > settings.max_file_bytes:
        scan_fh.close()
        raise InputError(
            source,
            f"file is {size:,} bytes, over the {settings.max_file_bytes:,}-byte limit "
            "(LUREWATCH_MAX_FILE_BYTES)",
        )
    try:
        with scan_fh, path.open("rb") as read_fh:
            yield from _iter_mbox(scan_fh, read_fh, source, settings, stats)
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None


def _iter_mbox(
    scan_fh: BinaryIO, read_fh: BinaryIO, source: str, settings: Settings, stats: IngestStats
) -> Iterator[Approach]:
    head = scan_fh.read(_SNIFF_BYTES).lstrip(b"\r\n")
    if not head.startswith(b"From "):
        raise InputError(source, "not an mbox file: it does not start with a 'From ' line")
    scan_fh.seek(0)

    starts = array("q")
    ends = array("q")
    times = array("d")
    senders = array("q")
    sender_numbers: dict[str, int] = {}
    recipients = _BoundedCounter(settings.max_open_conversations)
    index = _ThreadIndex(settings.max_open_conversations)
    notes = _Notes()

    for start, end in _mbox_spans(scan_fh):
        stats.rows_read += 1
        if end - start > settings.max_email_bytes:
            stats.too_large_skipped += 1  # skipped unread
            notes.too_large += 1
            continue
        headers = _parse_head(_read_head(read_fh, start, end))
        if headers is None:
            stats.empty_skipped += 1
            continue
        number = len(starts)
        if not index.add(number, headers):
            continue  # another copy of a message already seen
        starts.append(start)
        ends.append(end)
        times.append(headers.date.timestamp() if headers.date else math.nan)
        sender = headers.sender.normalised if headers.sender else None
        senders.append(sender_numbers.setdefault(sender, len(sender_numbers)) if sender else -1)
        for address in dict.fromkeys(
            (*(a.normalised for a in (*headers.to, *headers.cc)), *headers.delivered_to)
        ):
            if address:
                recipients.add(address)

    owner = recipients.most_common()
    notes.closed_threads = index.closed_early
    owner_number = sender_numbers.get(owner, -2) if owner else -2
    for members in index.threads():
        order = _chronological(members, times)
        if senders[order[0]] == owner_number:
            stats.outbound_skipped += 1  # decided from the headers alone: the thread is never read
            continue
        thread: list[ParsedEmail] = []
        for number in order:
            data = _read_span(read_fh, starts[number], ends[number])
            try:
                thread.append(parse_email_bytes(_MBOX_QUOTED_FROM.sub(rb"\1", data), source, settings))
            except InputError:
                stats.empty_skipped += 1
        approach = _approach(thread, owner, source, settings, stats, notes)
        if approach is not None:
            yield approach
    notes.log(source, settings)


def _mbox_spans(fh: BinaryIO) -> Iterator[tuple[int, int]]:
    """(start, end) file offsets of each message's content (after its ``From`` line).

    Only a window of at most one read chunk plus a few bytes is held, whatever the file size.
    """
    # Pretend a blank line precedes the file so that its first "From " line matches the separator.
    buf = bytearray(b"\n\n")
    base = -2  # file offset of buf[0]
    pos = 0  # index in buf where scanning resumes
    content_start: int | None = None
    in_from_line = False
    eof = False
    while True:
        if in_from_line:
            newline = buf.find(b"\n", pos)
            if newline >= 0:
                content_start = base + newline + 1
                # the newline can itself start the blank line before the next separator
                pos = newline
                in_from_line = False
                continue
            pos = len(buf)
        else:
            match = _MBOX_SEPARATOR.search(buf, pos)
            if match:
                line_start = base + match.end() - len(b"From ")
                if content_start is not None:
                    yield content_start, line_start
                content_start = None
                pos = match.end()
                in_from_line = True
                continue
            # keep enough bytes for a separator that straddles the chunk boundary
            pos = max(pos, len(buf) - (len(b"\n\r\nFrom ") - 1))
        if eof:
            break
        del buf[:pos]
        base += pos
        pos = 0
        chunk = fh.read(_READ_CHUNK)
        if chunk:
            buf += chunk
        else:
            eof = True
    end = base + len(buf)
    if in_from_line:
        yield end, end  # the file ends inside a "From " line: an empty message
    elif content_start is not None:
        yield content_start, end


def _read_head(fh: BinaryIO, start: int, end: int) -> bytes:
    """The header block of the message at ``start`` (up to its first blank line), bounded."""
    limit = min(end, start + _MAX_HEAD_BYTES)
    fh.seek(start)
    data = b""
    while start + len(data) < limit:
        chunk = fh.read(min(16 * 1024, limit - start - len(data)))
        if not chunk:
            break
        data += chunk
        if data.startswith((b"\n", b"\r\n")):
            return b""
        blank = _BLANK_LINE.search(data, max(0, len(data) - len(chunk) - 2))
        if blank:
            return data[: blank.end()]
    return data


def _read_span(fh: BinaryIO, start: int, end: int) -> bytes:
    fh.seek(start)
    return fh.read(end - start)


def _chronological(members: array, times: array) -> list[int]:
    """Message numbers of a thread by date; an undated message keeps its place after the one before it."""
    keyed = []
    last = -math.inf
    for number in sorted(members):
        t = times[number]
        if not math.isnan(t):
            last = t
        keyed.append((last, number))
    keyed.sort()
    return [number for _, number in keyed]


def normalise_subject(subject: str) -> str:
    """A subject without reply/forward prefixes (Re:, Fwd:, AW:, WG:, TR:, SV: ...), case-folded."""
    return " ".join(_REPLY_PREFIX.sub("", subject).split()).casefold()


def _key(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big", signed=True
    )


@dataclass(slots=True)
class _OpenThread:
    members: array
    id_keys: list[int]
    subject_keys: list[int]


class _ThreadIndex:
    """Groups messages into threads while streaming, holding at most ``cap`` threads open.

    Message-IDs (and the ids a message refers to) are kept as 64-bit hashes; a thread closed to
    respect the cap forgets its ids, so a very late reply to it starts a new thread.
    """

    def __init__(self, cap: int) -> None:
        self._cap = max(1, cap)
        self._open: OrderedDict[int, _OpenThread] = OrderedDict()
        # id hash -> thread number * 2 + 1 if that message was seen, + 0 if only referred to
        self._ids: dict[int, int] = {}
        self._subjects: dict[int, int] = {}
        self._closed: list[array] = []
        self._next = 0

    def add(self, number: int, headers: EmailHeaders) -> bool:
        """File message ``number`` into its thread; False when it is a copy of a message already seen."""
        own = _key(headers.message_id) if headers.message_id else None
        if own is not None and self._ids.get(own, 0) & 1:
            return False
        refs = [_key(r) for r in (*headers.references, *headers.in_reply_to) if r != headers.message_id]
        found: list[int] = []
        for k in (own, *refs):
            value = self._ids.get(k) if k is not None else None
            if value is not None and value >> 1 not in found:
                found.append(value >> 1)
        subject = self._subject_key(headers)
        if not found and subject is not None and subject in self._subjects:
            found.append(self._subjects[subject])
        if found:
            target = max(found, key=lambda t: len(self._open[t].members))
            for other in found:
                if other != target:
                    self._merge(other, target)
            self._open.move_to_end(target)
        else:
            target = self._new_thread()
        thread = self._open[target]
        thread.members.append(number)
        if own is not None:
            if own not in self._ids:
                thread.id_keys.append(own)
            self._ids[own] = target * 2 + 1
        for k in refs:
            if k not in self._ids:
                self._ids[k] = target * 2
                thread.id_keys.append(k)
        if subject is not None and self._subjects.get(subject) != target:
            self._subjects[subject] = target
            thread.subject_keys.append(subject)
        return True

    @property
    def closed_early(self) -> int:
        """Threads closed to respect the cap (all others are still open)."""
        return len(self._closed)

    def threads(self) -> list[array]:
        """Every thread's message numbers, threads in order of their first message in the file."""
        everything = self._closed + [t.members for t in self._open.values()]
        everything.sort(key=min)
        return everything

    @staticmethod
    def _subject_key(headers: EmailHeaders) -> int | None:
        subject = normalise_subject(headers.subject)
        if not subject:
            return None
        people = {headers.sender.normalised if headers.sender else None}
        people.add(next((a.normalised for a in headers.to if a.normalised), None))
        return _key("\x1f".join(["subject", subject, *sorted(p for p in people if p)]))

    def _new_thread(self) -> int:
        if len(self._open) >= self._cap:
            self._close(next(iter(self._open)))
        number = self._next
        self._next += 1
        self._open[number] = _OpenThread(array("q"), [], [])
        return number

    def _close(self, number: int) -> None:
        thread = self._open.pop(number)
        for k in thread.id_keys:
            if self._ids.get(k, -2) >> 1 == number:
                del self._ids[k]
        for k in thread.subject_keys:
            if self._subjects.get(k) == number:
                del self._subjects[k]
        self._closed.append(thread.members)

    def _merge(self, source: int, target: int) -> None:
        moved = self._open.pop(source)
        into = self._open[target]
        into.members.extend(moved.members)
        for k in moved.id_keys:
            value = self._ids.get(k)
            if value is not None and value >> 1 == source:
                self._ids[k] = target * 2 + (value & 1)
                into.id_keys.append(k)
        for k in moved.subject_keys:
            if self._subjects.get(k) == source:
                self._subjects[k] = target
                into.subject_keys.append(k)


class _BoundedCounter:
    """Counts addresses; past ``cap`` distinct ones only the most frequent half is kept."""

    def __init__(self, cap: int) -> None:
        self._cap = max(16, cap)
        self._counts: dict[str, int] = {}

    def add(self, key: str) -> None:
        self._counts[key] = self._counts.get(key, 0) + 1
        if len(self._counts) > self._cap:
            keep = heapq.nlargest(self._cap // 2, self._counts.items(), key=lambda item: item[1])
            self._counts = dict(keep)

    def most_common(self) -> str | None:
        if not self._counts:
            return None
        return max(self._counts.items(), key=lambda item: item[1])[0]


# --- sniffing ----------------------------------------------------------------------------------


def looks_like_mbox(path: Path) -> bool:
    """Whether ``path`` starts like an mbox (a ``From`` separator line)."""
    head = _head_bytes(path).lstrip(b"\r\n")
    return re.match(rb"From \S", head) is not None


def looks_like_eml(path: Path) -> bool:
    """Whether ``path`` starts with an RFC 5322 header block naming at least one e-mail header."""
    head = _head_bytes(path)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    names = set()
    for line in head.lstrip(b"\r\n").split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in b" \t":
            continue
        match = _HEADER_LINE.match(line)
        if not match:
            return False
        names.add(match.group(1).decode("ascii").lower())
    return bool(names & _KNOWN_HEADERS)


def _head_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(_SNIFF_BYTES)
    except OSError:
        return b""
