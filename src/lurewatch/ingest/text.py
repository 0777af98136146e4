"""One pasted message (a copied e-mail, a LinkedIn message, any text) as an :class:`Approach`.

The paste is read as forgivingly as possible: a raw e-mail source ("show original") is parsed as
e-mail, e-mail-like headers at the top (``From:``, ``Subject:``, ``Date:``, also Outlook's
``Sent:`` and the German and French forms) are used, and LinkedIn's "Name sent the following
message" / "Name · 2nd" lines name the sender. Anything else is one inbound message from an
unknown sender.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr, parsedate_to_datetime

from lurewatch.errors import InputError
from lurewatch.identity import account_key, normalise_email
from lurewatch.model import Account, Approach, Channel, Conversation, Message
from lurewatch.settings import Settings

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

# Header names as they appear in pasted e-mails (Outlook / Gmail copies, EN / DE / FR / ES), mapped
# to the field they fill.
_PASTE_HEADERS = {
    "from": "from", "von": "from", "de": "from", "sender": "from",
    "to": "to", "an": "to", "à": "to", "a": "to", "para": "to",
    "cc": "cc",
    "subject": "subject", "betreff": "subject", "objet": "subject", "asunto": "subject",
    "date": "date", "sent": "date", "gesendet": "date", "datum": "date", "envoyé": "date", "enviado": "date",
    "reply-to": "reply_to",
}  # fmt: skip
_PASTE_HEADER_LINE = re.compile(r"^\s*([A-Za-zÀ-ÿ][A-Za-zÀ-ÿ-]{0,20})\s*:\s?(.*)$")
# Headers that only a raw message source has; a paste that starts with them is parsed as e-mail.
_RAW_EMAIL_HEADERS = frozenset(
    {
        "received",
        "mime-version",
        "content-type",
        "message-id",
        "return-path",
        "dkim-signature",
        "delivered-to",
    }
)
_RAW_HEADER_LINE = re.compile(r"^([!-9;-~]{1,76}):")
_LINKEDIN_SENT = re.compile(r"^(?P<name>\S.{0,79}?) sent the following messages? at \S.{0,40}$")
_LINKEDIN_DEGREE = re.compile(r"^(?P<name>[^\n•·]{2,80}?)\s*[•·]\s*(?:1st|2nd|3rd\+?)\s*$")
_FORWARD_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*[^-\n]{0,60}?\s*-{2,}|_{5,}|begin forwarded message:?)\s*$", re.IGNORECASE
)
_DATE_FORMATS = (
    "%A, %B %d, %Y %I:%M %p",  # Outlook: Monday, March 3, 2025 10:15 AM
    "%A, %B %d, %Y %H:%M",
    "%A, %d %B %Y %H:%M",
    "%d %B %Y %H:%M",
    "%d %b %Y %H:%M",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d %H:%M:%S UTC",
)
_MAX_HEADER_LINES = 40
_MAX_HEADER_VALUE = 1000


def clean_text(text: str, max_chars: int) -> str:
    """``text`` with line endings made ``\\n``, control characters other than ``\\n``/``\\t`` and
    unpaired surrogates removed, cut to ``max_chars``."""
    text = text[: max_chars * 2] if len(text) > max_chars * 2 else text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SURROGATE.sub("\ufffd", text)
    return text[:max_chars]


def decode_input_bytes(data: bytes, source: str) -> str:
    """Text of a pasted or piped input: UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            try:
                return data.decode("utf-16")
            except UnicodeDecodeError:
                raise InputError(source, "not valid UTF-16 text despite its byte-order mark") from None
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(source, "not UTF-8 text") from None


def approach_from_text(text: str, source: str = "<stdin>", settings: Settings | None = None) -> Approach:
    """One pasted message as an inbound approach on :attr:`Channel.PASTED`."""
    settings = settings or Settings()
    # Keep room for headers above the body; the body itself is cut to max_field_chars below.
    pasted = clean_text(text, settings.max_field_chars + 64 * 1024).strip()
    if not pasted:
        raise InputError(source, "no message text given")
    approach_id = "pasted:" + hashlib.sha256(pasted.encode("utf-8")).hexdigest()[:16]
    paste = _from_raw_email(pasted, source, settings) or _from_pasted_headers(pasted) or _from_plain(pasted)

    sender = Account(
        key=account_key(email=paste.sender_email, name=paste.sender_name),
        name=paste.sender_name,
        email=paste.sender_email,
    )
    recipient = Account(
        key=account_key(email=paste.recipient_email, name=paste.recipient_name),
        name=paste.recipient_name,
        email=paste.recipient_email,
    )
    message = Message(
        id=approach_id,
        conversation_id=approach_id,
        sender_key=sender.key,
        sent_at=paste.sent_at,
        text=paste.body.strip()[: settings.max_field_chars],
        subject=paste.subject,
        inbound=True,
        recipient_keys=(recipient.key,) if recipient.key != "unknown:" else (),
        channel=Channel.PASTED,
        attachments=paste.attachments,
    )
    conversation = Conversation(
        id=approach_id, messages=(message,), title=paste.subject, channel=Channel.PASTED
    )
    return Approach(
        id=approach_id,
        sender=sender,
        recipient=recipient,
        conversation=conversation,
        channel=Channel.PASTED,
        source=source,
    )


@dataclass(frozen=True, slots=True)
class _Paste:
    body: str
    sender_name: str = ""
    sender_email: str | None = None
    recipient_name: str = ""
    recipient_email: str | None = None
    subject: str = ""
    sent_at: datetime | None = None
    attachments: tuple[str, ...] = ()


def _from_raw_email(pasted: str, source: str, settings: Settings) -> _Paste | None:
    """The paste read as a raw e-mail source, or None when it is not one."""
    names: set[str] = set()
    for line in pasted.split("\n", _MAX_HEADER_LINES)[:_MAX_HEADER_LINES]:
        if not line.strip():
            break
        if line[:1] in " \t":
            continue
        match = _RAW_HEADER_LINE.match(line)
        if not match:
            return None
        names.add(match.group(1).lower())
    if not names & _RAW_EMAIL_HEADERS:
        return None
    # Imported here: the e-mail reader imports clean_text from this module.
    from lurewatch.ingest.email import parse_email_bytes

    try:
        parsed = parse_email_bytes(pasted.encode("utf-8", "replace"), source, settings)
    except InputError:
        return None
    if not parsed.text.strip():
        return None
    h = parsed.headers
    return _Paste(
        body=parsed.text,
        sender_name=h.sender.name if h.sender else "",
        sender_email=h.sender.email if h.sender else None,
        recipient_name=h.to[0].name if h.to else "",
        recipient_email=h.to[0].email if h.to else None,
        subject=h.subject,
        sent_at=h.date,
        attachments=parsed.attachments,
    )


def _from_pasted_headers(pasted: str) -> _Paste | None:
    fields, body = _paste_headers(pasted)
    if not fields or not body.strip():
        return None
    sender_name, sender_email = _split_address(fields.get("from", ""))
    recipient_name, recipient_email = _split_address(fields.get("to", ""))
    return _Paste(
        body=body,
        sender_name=sender_name,
        sender_email=sender_email,
        recipient_name=recipient_name,
        recipient_email=recipient_email,
        subject=" ".join(fields.get("subject", "").split()),
        sent_at=_parse_date(fields.get("date", "")),
    )


def _from_plain(pasted: str) -> _Paste:
    """The whole paste as the message, with the sender named when LinkedIn's web view shows it."""
    first, _, rest = pasted.partition("\n")
    first = first.strip()
    for pattern in (_LINKEDIN_SENT, _LINKEDIN_DEGREE):
        match = pattern.match(first)
        if match and rest.strip():
            return _Paste(body=rest, sender_name=" ".join(match.group("name").split()))
    return _Paste(body=pasted)


def _paste_headers(pasted: str) -> tuple[dict[str, str], str]:
    """E-mail-like headers at the top of a paste and the text after them."""
    lines = pasted.split("\n")
    fields: dict[str, str] = {}
    last: str | None = None
    i = 0
    while i < len(lines) and i < _MAX_HEADER_LINES:
        line = lines[i]
        if not line.strip():
            if fields:
                i += 1
                break
            i += 1
            continue
        match = _PASTE_HEADER_LINE.match(line)
        if not fields and _FORWARD_MARKER.match(line):
            i += 1  # "---------- Forwarded message ---------" above the quoted headers
            continue
        if match and match.group(1).casefold() in _PASTE_HEADERS:
            last = _PASTE_HEADERS[match.group(1).casefold()]
            fields.setdefault(last, match.group(2).strip()[:_MAX_HEADER_VALUE])
        elif last is not None and line[:1] in " \t":
            fields[last] = (fields[last] + " " + line.strip())[:_MAX_HEADER_VALUE]
        else:
            break
        i += 1
    if not fields.keys() & {"from", "subject", "date"}:
        return {}, pasted
    return fields, "\n".join(lines[i:])


def _split_address(value: str) -> tuple[str, str | None]:
    if not value:
        return "", None
    name, address = parseaddr(value)
    email = normalise_email(address)
    if email is None:
        # "Jane Doe" or "Jane Doe [mailto:jane@x.org]" as Outlook pastes it
        bracket = re.search(r"[\[<(](?:mailto:)?([^\]>)\s]+@[^\]>)\s]+)[\]>)]", value)
        email = normalise_email(bracket.group(1)) if bracket else None
        name = value[: bracket.start()] if bracket else value
    name = " ".join(name.replace('"', " ").split())[:200]
    return name, email


def _parse_date(value: str) -> datetime | None:
    value = " ".join(value.split())
    if not value:
        return None
    parsed: datetime | None = None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    # A pasted date without a zone is read as UTC: the paste gives nothing better.
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
