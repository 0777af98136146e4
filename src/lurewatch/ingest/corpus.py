"""The labelled approach corpus: JSON Lines, one conversation per line (see shared/eval/SCHEMA.md).

Every field of a record is checked; a record that does not fit the schema stops the read with an
:class:`InputError` naming ``<file>:<line>`` and the field, because a labelled corpus that is
silently half-read gives wrong evaluation numbers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lurewatch.errors import InputError
from lurewatch.identity import account_key
from lurewatch.ingest.text import clean_text
from lurewatch.model import Account, Approach, Category, Channel, Conversation, IngestStats, Message
from lurewatch.settings import Settings

log = logging.getLogger(__name__)

_MAX_ID_CHARS = 500
#: Names, headlines, companies, subjects and other short fields are cut to this length.
_MAX_SHORT_CHARS = 2_000
_MAX_COUNT = 2**31 - 1
_SNIFF_BYTES = 1 << 20
_DIRECTIONS = {"sender": True, "recipient": False}
_CORPUS_DATE = "%Y-%m-%d %H:%M:%S UTC"


def looks_like_corpus(path: Path) -> bool:
    """Whether the first non-empty line of ``path`` is a JSON object with ``"messages"``."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            complete = len(head) < _SNIFF_BYTES
    except OSError:
        return False
    text = head.decode("utf-8", "replace").removeprefix("\ufeff")
    offset = 0
    while True:
        newline = text.find("\n", offset)
        line = (text[offset:] if newline < 0 else text[offset:newline]).strip()
        if line:
            break
        if newline < 0:
            return False
        offset = newline + 1
    if not line.startswith("{"):
        return False
    if newline < 0 and not complete:
        # a record longer than the sniffing window: judge by its beginning
        return '"messages"' in line
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(record, dict) and "messages" in record


def iter_corpus(path: Path, settings: Settings, stats: IngestStats) -> Iterator[Approach]:
    """Approaches of a labelled-corpus JSON Lines file, in file order. Blank lines are skipped."""
    source = str(path)
    try:
        size = path.stat().st_size
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None
    if size > settings.max_file_bytes:
        fh.close()
        raise InputError(
            source,
            f"file is {size:,} bytes, over the {settings.max_file_bytes:,}-byte limit "
            "(LUREWATCH_MAX_FILE_BYTES)",
        )
    # One record is one conversation, so the per-message e-mail limit is a generous bound per line.
    line_limit = settings.max_email_bytes
    with fh:
        number = 0
        while True:
            try:
                raw = fh.readline(line_limit + 1)
            except OSError as exc:
                raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None
            if not raw:
                break
            number += 1
            where = f"{source}:{number}"
            if len(raw) > line_limit:
                raise InputError(where, f"line longer than {line_limit:,} bytes (LUREWATCH_MAX_EMAIL_BYTES)")
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(where, "not UTF-8 text") from None
            if not text.strip():
                continue
            record = _load_json(text, where)
            stats.rows_read += 1
            approach = approach_from_record(record, source, number, settings)
            stats.messages += len(approach.conversation.messages)
            if approach.channel is Channel.LINKEDIN_INVITATION:
                stats.invitations += 1
            yield approach


def _load_json(text: str, where: str) -> dict[str, Any]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        raise InputError(where, "a JSON array; the corpus is JSON Lines, one record object per line")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(where, f"bad JSON: {exc.msg} at column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        # integers past the digit limit, nesting deeper than the decoder's recursion limit
        raise InputError(where, f"bad JSON: {type(exc).__name__}") from None
    if not isinstance(record, dict):
        raise InputError(where, f"a record must be a JSON object, got {_type_name(record)}")
    return record


def approach_from_record(
    record: dict[str, Any], source: str, line: int, settings: Settings | None = None
) -> Approach:
    """One corpus record as an :class:`Approach`; raises ``InputError("<source>:<line>", ...)``."""
    settings = settings or Settings()
    fields = _Fields(f"{source}:{line}", settings)
    if not isinstance(record, Mapping):
        raise InputError(fields.where, f"a record must be a JSON object, got {_type_name(record)}")

    approach_id = fields.required_text(record, "id", max_chars=_MAX_ID_CHARS)
    label_value = fields.text(record, "label")
    label = _enum(Category, label_value, "label", fields.where) if label_value else None
    channel = _enum(Channel, fields.required_text(record, "channel"), "channel", fields.where)

    sender_record = record.get("sender")
    if not isinstance(sender_record, Mapping):
        raise InputError(fields.where, f"field 'sender': expected an object, got {_type_name(sender_record)}")
    sender = fields.account(sender_record, "sender")
    recipient_record = record.get("recipient")
    if recipient_record is None:
        recipient = Account(key=account_key())
    elif isinstance(recipient_record, Mapping):
        recipient = fields.account(recipient_record, "recipient")
    else:
        raise InputError(
            fields.where, f"field 'recipient': expected an object, got {_type_name(recipient_record)}"
        )
    connected = record.get("connected")
    if connected is not None and not isinstance(connected, bool):
        raise InputError(fields.where, f"field 'connected': expected true, false or null, got {connected!r}")

    raw_messages = record.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise InputError(fields.where, "field 'messages': expected a non-empty list of messages")
    if len(raw_messages) > settings.max_messages_per_conversation:
        log.warning(
            "%s: %d message(s) past the %d-per-conversation limit dropped",
            fields.where,
            len(raw_messages) - settings.max_messages_per_conversation,
            settings.max_messages_per_conversation,
        )
    messages = []
    for index, raw in enumerate(raw_messages[: settings.max_messages_per_conversation]):
        messages.append(fields.message(raw, index, approach_id, channel, sender, recipient))

    conversation = Conversation(
        id=approach_id, messages=tuple(messages), title=messages[0].subject, channel=channel
    )
    return Approach(
        id=approach_id,
        sender=sender,
        recipient=recipient,
        conversation=conversation,
        channel=channel,
        sender_is_connection=connected,
        source=source,
        label=label,
    )


class _Fields:
    """Typed field access that reports every problem as ``InputError(where, ...)``."""

    def __init__(self, where: str, settings: Settings) -> None:
        self.where = where
        self.settings = settings

    def fail(self, field: str, problem: str) -> InputError:
        return InputError(self.where, f"field '{field}': {problem}")

    def text(
        self,
        obj: Mapping[str, Any],
        key: str,
        *,
        max_chars: int = _MAX_SHORT_CHARS,
        path: str = "",
    ) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(path + key, f"expected a string, got {_type_name(value)}")
        return " ".join(clean_text(value, max_chars).split()) or None

    def required_text(self, obj: Mapping[str, Any], key: str, *, max_chars: int = _MAX_SHORT_CHARS) -> str:
        value = self.text(obj, key, max_chars=max_chars)
        if value is None:
            raise self.fail(key, "missing or empty")
        return value

    def count(self, obj: Mapping[str, Any], key: str, path: str) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path + key, f"expected a whole number or null, got {value!r}"[:200])
        if not 0 <= value <= _MAX_COUNT:
            raise self.fail(path + key, f"out of range: {value}"[:200])
        return value

    def account(self, obj: Mapping[str, Any], role: str) -> Account:
        p = role + "."
        name = self.text(obj, "name", path=p) or ""
        profile_url = self.text(obj, "profile_url", path=p)
        email = self.text(obj, "email", path=p)
        photo = self.text(obj, "photo", path=p)
        sector = self.text(obj, "sector", path=p)
        return Account(
            key=account_key(profile_url=profile_url, email=email, name=name),
            name=name,
            profile_url=profile_url,
            email=email,
            headline=self.text(obj, "headline", path=p),
            company=self.text(obj, "company", path=p),
            location=self.text(obj, "location", path=p),
            connections=self.count(obj, "connections", p),
            account_age_days=self.count(obj, "account_age_days", p),
            photo=photo.casefold() if photo else None,
            sector=sector.casefold() if sector else None,
        )

    def message(
        self, raw: object, index: int, approach_id: str, channel: Channel, sender: Account, recipient: Account
    ) -> Message:
        p = f"messages[{index}]."
        if not isinstance(raw, Mapping):
            raise self.fail(f"messages[{index}]", f"expected an object, got {_type_name(raw)}")
        direction = raw.get("from")
        if direction not in _DIRECTIONS:
            raise self.fail(p + "from", f"expected 'sender' or 'recipient', got {direction!r}"[:200])
        inbound = _DIRECTIONS[direction]
        text = raw.get("text")
        if not isinstance(text, str):
            raise self.fail(p + "text", f"expected a string, got {_type_name(text)}")
        author, reader = (sender, recipient) if inbound else (recipient, sender)
        if len(text) > self.settings.max_field_chars:
            log.warning("%s: %stext cut at %d characters", self.where, p, self.settings.max_field_chars)
        return Message(
            id=f"{approach_id}#{index}",
            conversation_id=approach_id,
            sender_key=author.key,
            sent_at=self.date(raw, p),
            text=clean_text(text, self.settings.max_field_chars).strip(),
            subject=self.text(raw, "subject", path=p) or "",
            inbound=inbound,
            recipient_keys=(reader.key,),
            channel=channel,
        )

    def date(self, obj: Mapping[str, Any], path: str) -> datetime | None:
        value = self.text(obj, "date", path=path)
        if value is None:
            return None
        try:
            parsed = datetime.strptime(value, _CORPUS_DATE).replace(tzinfo=UTC)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise self.fail(
                    path + "date", f"expected 'YYYY-MM-DD HH:MM:SS UTC', got {value!r}"[:200]
                ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise self.fail(path + "date", f"out of range: {value!r}"[:200]) from None


def _enum(kind: type[Category] | type[Channel], value: str, field: str, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InputError(
            where, f"field '{field}': unknown value {value!r} (expected one of {allowed})"
        ) from None


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
