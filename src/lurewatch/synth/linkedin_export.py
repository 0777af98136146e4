"""Synthetic LinkedIn data exports in each header era, for demos, tests and benchmarks.

:func:`write_export` writes a small export from explicit dataclasses (:class:`Person`,
:class:`ExportConversation`, :class:`ExportMessage`, :class:`ExportInvitation`,
:class:`ExportConnection`) in one of the :data:`ERAS`, as a folder or a zip, optionally as a
spreadsheet would re-save it (:data:`EXCEL_VARIANTS`). :func:`write_large_export` streams a
benchmark export of any size (a million messages in seconds).

The eras follow the header changes seen in real exports: ``2020`` has no ``RECIPIENT PROFILE URLS``
and no URL column in Connections.csv; ``2022`` adds both; ``2023`` adds ``ATTACHMENTS``; ``2024``
adds the two draft columns and writes message dates as ``2024/02/01 15:02:55 UTC``; ``2025`` adds
profile URLs to Invitations.csv; ``2026`` quotes every field, keeps real line breaks in message
text and ends lines with CRLF. Before 2026 line breaks inside a message are written as spaces
(:func:`era_text` gives the text a reader gets back). Rows of one conversation are written
together, newest first, as LinkedIn does.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

ERAS: tuple[str, ...] = ("2020", "2022", "2023", "2024", "2025", "2026")
#: How a spreadsheet program may have re-saved the files: UTF-8 with BOM, Excel "Unicode Text"
#: (UTF-16 with BOM, TAB-separated), European Excel (semicolon-separated) or CRLF line endings.
EXCEL_VARIANTS: tuple[str, ...] = ("utf8-bom", "utf16-tab", "semicolon", "crlf")

CONNECTIONS_NOTE = (
    "When exporting your connection data, you may notice that some of the email addresses are missing. "
    "You will only see email addresses for connections who have allowed their connections to see or "
    "download their email address using this setting https://www.linkedin.com/psettings/privacy/email. "
    "You can learn more here https://www.linkedin.com/help/linkedin/answer/261"
)
PROFILE_COLUMNS = (
    "First Name", "Last Name", "Maiden Name", "Address", "Birth Date", "Headline", "Summary", "Industry",
    "Zip Code", "Geo Location", "Twitter Handles", "Websites", "Instant Messengers",
)  # fmt: skip
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in an export. ``slug=None`` means no profile URL (LinkedIn's sponsored sender)."""

    first_name: str
    last_name: str
    slug: str | None = None
    headline: str = ""
    company: str = ""
    position: str = ""
    email: str = ""
    location: str = ""

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def profile_url(self) -> str:
        return f"https://www.linkedin.com/in/{self.slug}" if self.slug else ""


#: The sender LinkedIn writes for sponsored messages.
SPONSORED = Person("LinkedIn", "Member")


@dataclass(frozen=True, slots=True)
class ExportMessage:
    sender: Person
    sent_at: datetime
    content: str
    subject: str = ""
    folder: str = "INBOX"
    attachments: tuple[str, ...] = ()
    draft: bool = False


@dataclass(frozen=True, slots=True)
class ExportConversation:
    """A conversation between the export owner and ``members`` (everyone else in it)."""

    id: str
    members: tuple[Person, ...]
    messages: tuple[ExportMessage, ...]
    title: str = ""


@dataclass(frozen=True, slots=True)
class ExportInvitation:
    """An invitation between the owner and ``counterpart``; ``incoming`` when the counterpart sent it."""

    counterpart: Person
    sent_at: datetime
    message: str = ""
    incoming: bool = True


@dataclass(frozen=True, slots=True)
class ExportConnection:
    person: Person
    connected_on: date


@dataclass(frozen=True, slots=True)
class EraFormat:
    name: str
    message_columns: tuple[str, ...]
    message_date: Callable[[datetime], str]
    invitation_columns: tuple[str, ...]
    connection_columns: tuple[str, ...]
    quote_all: bool = False
    multiline: bool = False
    line_terminator: str = "\n"
    recipient_separator: str = ","
    draft_values: tuple[str, str] = ("false", "true")


def message_date_iso(dt: datetime) -> str:
    """``2025-06-01 14:03:22 UTC``"""
    dt = _utc(dt)
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} UTC"


def message_date_slashed(dt: datetime) -> str:
    """``2024/02/01 15:02:55 UTC``"""
    dt = _utc(dt)
    return f"{dt.year:04d}/{dt.month:02d}/{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} UTC"


def invitation_date(dt: datetime) -> str:
    """``1/29/26, 2:37 PM`` (minute precision)."""
    dt = _utc(dt)
    hour = dt.hour % 12 or 12
    return (
        f"{dt.month}/{dt.day}/{dt.year % 100:02d}, {hour}:{dt.minute:02d} {'PM' if dt.hour >= 12 else 'AM'}"
    )


def connection_date(day: date) -> str:
    """``08 Feb 2026`` (English month names whatever the locale)."""
    return f"{day.day:02d} {_MONTH_ABBR[day.month - 1]} {day.year:04d}"


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


_BASE_MESSAGES = (
    "CONVERSATION ID", "CONVERSATION TITLE", "FROM", "SENDER PROFILE URL", "TO", "DATE", "SUBJECT", "CONTENT",
    "FOLDER",
)  # fmt: skip
_WITH_RECIPIENTS = (*_BASE_MESSAGES[:5], "RECIPIENT PROFILE URLS", *_BASE_MESSAGES[5:])
_WITH_ATTACHMENTS = (*_WITH_RECIPIENTS, "ATTACHMENTS")
_WITH_DRAFTS = (*_WITH_ATTACHMENTS, "IS MESSAGE DRAFT", "IS CONVERSATION DRAFT")
_INVITATIONS = ("From", "To", "Sent At", "Message", "Direction")
_INVITATIONS_URLS = (*_INVITATIONS, "inviterProfileUrl", "inviteeProfileUrl")
_CONNECTIONS_OLD = ("First Name", "Last Name", "Email Address", "Company", "Position", "Connected On")
_CONNECTIONS = ("First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On")

ERA_FORMATS: dict[str, EraFormat] = {
    "2020": EraFormat("2020", _BASE_MESSAGES, message_date_iso, _INVITATIONS, _CONNECTIONS_OLD),
    "2022": EraFormat("2022", _WITH_RECIPIENTS, message_date_iso, _INVITATIONS, _CONNECTIONS),
    "2023": EraFormat("2023", _WITH_ATTACHMENTS, message_date_iso, _INVITATIONS, _CONNECTIONS),
    "2024": EraFormat(
        "2024", _WITH_DRAFTS, message_date_slashed, _INVITATIONS, _CONNECTIONS, recipient_separator=";"
    ),
    "2025": EraFormat(
        "2025",
        _WITH_DRAFTS,
        message_date_iso,
        _INVITATIONS_URLS,
        _CONNECTIONS,
        recipient_separator=";",
        draft_values=("No", "Yes"),
    ),
    "2026": EraFormat(
        "2026",
        _WITH_DRAFTS,
        message_date_iso,
        _INVITATIONS_URLS,
        _CONNECTIONS,
        quote_all=True,
        multiline=True,
        line_terminator="\r\n",
        recipient_separator=";",
        draft_values=("No", "Yes"),
    ),
}


def era_text(era: str, text: str) -> str:
    """The message text a reader gets back from an export of ``era`` (line breaks flattened before 2026)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _era(era).multiline:
        text = " ".join(part.strip() for part in text.split("\n"))
    return text.strip()


def _era(era: str) -> EraFormat:
    try:
        return ERA_FORMATS[era]
    except KeyError:
        raise ValueError(f"unknown era {era!r}; choose one of {', '.join(ERAS)}") from None


# --- rows ---------------------------------------------------------------------------------------------


def _message_rows(
    fmt: EraFormat, owner: Person, conversations: Sequence[ExportConversation]
) -> list[list[str]]:
    def latest(conv: ExportConversation) -> datetime:
        return max((_utc(m.sent_at) for m in conv.messages), default=datetime.min.replace(tzinfo=UTC))

    rows: list[list[str]] = []
    draft_no, draft_yes = fmt.draft_values
    has_drafts = "IS MESSAGE DRAFT" in fmt.message_columns
    for conv in sorted(conversations, key=latest, reverse=True):
        everyone = (owner, *conv.members)
        for m in sorted(conv.messages, key=lambda m: _utc(m.sent_at), reverse=True):
            recipients = [p for p in everyone if p != m.sender] if m.sender in everyone else [owner]
            folder = m.folder
            if m.draft and not has_drafts:
                folder = "DRAFT"
            values = {
                "CONVERSATION ID": conv.id,
                "CONVERSATION TITLE": conv.title,
                "FROM": m.sender.name,
                "SENDER PROFILE URL": m.sender.profile_url,
                "TO": ", ".join(p.name for p in recipients),
                "RECIPIENT PROFILE URLS": fmt.recipient_separator.join(
                    p.profile_url for p in recipients if p.profile_url
                ),
                "DATE": fmt.message_date(m.sent_at),
                "SUBJECT": m.subject,
                "CONTENT": _content(fmt, m.content),
                "FOLDER": folder,
                "ATTACHMENTS": " ".join(m.attachments),
                "IS MESSAGE DRAFT": draft_yes if m.draft else draft_no,
                "IS CONVERSATION DRAFT": draft_no,
            }
            rows.append([values[c] for c in fmt.message_columns])
    return rows


def _content(fmt: EraFormat, text: str) -> str:
    if fmt.multiline:
        return text
    return " ".join(part.strip() for part in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _invitation_rows(
    fmt: EraFormat, owner: Person, invitations: Sequence[ExportInvitation]
) -> list[list[str]]:
    rows = []
    for inv in sorted(invitations, key=lambda i: _utc(i.sent_at), reverse=True):
        sender, receiver = (inv.counterpart, owner) if inv.incoming else (owner, inv.counterpart)
        values = {
            "From": sender.name,
            "To": receiver.name,
            "Sent At": invitation_date(inv.sent_at),
            "Message": _content(fmt, inv.message),
            "Direction": "INCOMING" if inv.incoming else "OUTGOING",
            "inviterProfileUrl": sender.profile_url,
            "inviteeProfileUrl": receiver.profile_url,
        }
        rows.append([values[c] for c in fmt.invitation_columns])
    return rows


def _connection_rows(fmt: EraFormat, connections: Sequence[ExportConnection]) -> list[list[str]]:
    rows = []
    for conn in sorted(connections, key=lambda c: c.connected_on, reverse=True):
        p = conn.person
        values = {
            "First Name": p.first_name,
            "Last Name": p.last_name,
            "URL": p.profile_url,
            "Email Address": p.email,
            "Company": p.company,
            "Position": p.position,
            "Connected On": connection_date(conn.connected_on),
        }
        rows.append([values[c] for c in fmt.connection_columns])
    return rows


def _profile_row(owner: Person) -> list[str]:
    values = {
        "First Name": owner.first_name,
        "Last Name": owner.last_name,
        "Headline": owner.headline,
        "Geo Location": owner.location,
    }
    return [values.get(c, "") for c in PROFILE_COLUMNS]


def _csv_bytes(
    fmt: EraFormat,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    excel: str | None,
    preamble: Sequence[str] = (),
) -> bytes:
    delimiter = {"utf16-tab": "\t", "semicolon": ";"}.get(excel or "", ",")
    terminator = "\r\n" if excel in {"utf16-tab", "semicolon", "crlf", "utf8-bom"} else fmt.line_terminator
    buf = io.StringIO()
    for line in preamble:
        buf.write(line + terminator)
    writer = csv.writer(
        buf,
        delimiter=delimiter,
        lineterminator=terminator,
        quoting=csv.QUOTE_ALL if fmt.quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    if excel == "utf16-tab":
        return text.encode("utf-16")  # BOM + native (little-endian here) order, as Excel writes
    if excel == "utf8-bom":
        return text.encode("utf-8-sig")
    return text.encode("utf-8")


def write_export(
    target: Path,
    era: str,
    owner: Person,
    conversations: Sequence[ExportConversation] = (),
    invitations: Sequence[ExportInvitation] = (),
    connections: Sequence[ExportConnection] = (),
    *,
    as_zip: bool = False,
    excel: str | None = None,
    with_profile: bool = True,
) -> Path:
    """Write an export of ``owner`` in ``era``'s format to ``target`` (a folder, or a zip if ``as_zip``).

    Writes ``messages.csv``, ``Invitations.csv``, ``Connections.csv`` (with its ``Notes:``
    preamble) and ``Profile.csv``; ``excel`` (one of :data:`EXCEL_VARIANTS`) re-encodes them as a
    spreadsheet re-save would. Returns ``target``.
    """
    fmt = _era(era)
    if excel is not None and excel not in EXCEL_VARIANTS:
        raise ValueError(f"unknown excel variant {excel!r}; choose one of {', '.join(EXCEL_VARIANTS)}")
    files: dict[str, bytes] = {
        "messages.csv": _csv_bytes(fmt, fmt.message_columns, _message_rows(fmt, owner, conversations), excel),
        "Invitations.csv": _csv_bytes(
            fmt, fmt.invitation_columns, _invitation_rows(fmt, owner, invitations), excel
        ),
        "Connections.csv": _csv_bytes(
            fmt,
            fmt.connection_columns,
            _connection_rows(fmt, connections),
            excel,
            preamble=("Notes:", _quoted(CONNECTIONS_NOTE), ""),
        ),
    }
    if with_profile:
        files["Profile.csv"] = _csv_bytes(fmt, PROFILE_COLUMNS, [_profile_row(owner)], excel)
    if as_zip:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
    else:
        target.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (target / name).write_bytes(data)
    return target


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# --- the benchmark export -------------------------------------------------------------------------------

_FIRST = (
    "Anna", "Ben", "Chen", "Dara", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Lars", "Maya",
    "Nikhil", "Olga", "Pavel", "Qing", "Rosa", "Sami", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf",
    "Zofia", "Amara", "Bruno", "Carla", "Dmitri", "Esra", "Felix", "Gita", "Hamza", "Ivy", "Jakub",
)  # fmt: skip
_LAST = (
    "Adler", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen", "Kim",
    "Laurent", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi", "Sato", "Tanaka", "Umarov", "Varga",
    "Wang", "Xu", "Yilmaz", "Zhou", "Andersen", "Brennan", "Chowdhury", "Delgado", "Evans", "Fontaine",
)  # fmt: skip
_TOPICS = (
    "quantum sensing", "battery chemistry", "protein design", "edge AI accelerators", "photonic chips",
    "gene therapy vectors", "satellite navigation", "high-entropy alloys", "post-quantum cryptography",
    "autonomous drones", "semiconductor lithography", "synthetic biology", "fusion materials",
)  # fmt: skip
_CITIES = ("Singapore", "Dubai", "Hong Kong", "Istanbul", "Vienna", "Shanghai", "Moscow", "Doha", "Geneva")
_EVENTS = (
    "the Berlin meetup",
    "NeurIPS",
    "the Photonics West booth",
    "our alumni dinner",
    "the summer school",
)
_ORDINARY_OPENERS = (
    "Hi {first}, thanks for connecting! I enjoyed your talk on {topic}.",
    "Hello {first}, are you going to {event} next week? Would be good to catch up.",
    "Congrats on the new role, {first}! Well deserved.",
    "Hi {first}, could you share the slides from your session on {topic}? Many thanks.",
    "Hey {first}, we are hiring a senior engineer in {topic} at our Munich office. Open to a chat?",
    "Dear {first}, I am organising a panel on {topic} at {event}. Would you like to join as a speaker?",
    "Hi {first}, quick question about your paper on {topic}: which dataset did you use for the benchmark?",
    "Hello {first}, I run a small startup in {topic} and would value 15 minutes of your advice.",
    "Hi {first}, our team is reviewing vendors for {topic} tooling. Could I send you a short demo?",
    "Hi {first},\nGreat meeting you at {event}.\nLet's stay in touch!",
)  # fmt: skip
_ORDINARY_REPLIES = (
    "Thanks, happy to chat. How about Thursday?",
    "Sure, I will send them over tomorrow.",
    "Thank you! Much appreciated.",
    "Not right now, but thanks for thinking of me.",
    "Sounds good, let me check my calendar.",
    "We used the public benchmark; details are in the appendix.",
    "Great, see you there!",
    "Could you send more details by e-mail?",
)
_SUSPICIOUS_OPENERS = (
    "Hello {first}, I am a senior consultant with {firm}, a policy think tank in {city}. We are preparing a "
    "confidential report on {topic} for our clients and your profile stood out. We offer {fee} USD per short "
    "paper, fully remote. Could we continue on WhatsApp?",
    "Dear {first}, our client, a fast-growing firm in {topic}, is looking for experts like you for a "
    "part-time advisory role. The compensation is generous and all travel to {city} is covered. Please send "
    "your CV and a short summary of your current projects.",
    "Hi {first}, please review the job description for the position we discussed: {url} (the document is "
    "protected, password {pw}).",
    "Dear {first}, we would like to invite you to an expert workshop on {topic} in {city}. All expenses paid "
    "and an honorarium of {fee} USD. Kindly share your recent unpublished results beforehand.",
    "Hello {first}, I represent {firm}. We fund promising researchers in {topic} and can offer a consulting "
    "contract of {fee} USD per month. Discretion is important to our investors.",
)  # fmt: skip
_SUSPICIOUS_FOLLOWUPS = (
    "Have you had a chance to think about our offer? My personal number is +{phone} on WhatsApp and "
    "Telegram.",
    "Our director would like to meet you in {city}; we will book the flights. Please do not discuss this "
    "with your colleagues yet.",
    "For the first paper, could you describe the current status of your lab's work on {topic}?",
    "I have transferred the first payment. Please confirm your bank details and send the draft.",
)  # fmt: skip
_SUSPICIOUS_INVITES = (
    "Hi {first}, I lead research partnerships at {firm}. I'd love to connect with experts in {topic}.",
    "Dear {first}, we have a well-paid consulting opportunity in {topic}. Let's connect.",
    "Hello {first}, your work on {topic} is impressive. I have a proposal that may interest you.",
)
_FIRMS = (
    "Global Horizon Insights", "Eastbridge Strategic Advisory", "Orion Policy Institute",
    "Sino-Euro Tech Forum", "Meridian Talent Partners", "Atlas Futures Consulting",
)  # fmt: skip
_ORDINARY_INVITES = (
    "Hi {first}, we met at {event}. Would be great to connect.",
    "Hello {first}, fellow {topic} researcher here. Let's connect!",
)


def _person(rng: random.Random, i: int) -> Person:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return Person(first, last, slug=f"{first.lower()}-{last.lower()}-{i:05x}", company="Example GmbH")


def write_large_export(target: Path, n_messages: int, seed: int) -> None:
    """Stream a 2025-era export with about ``n_messages`` message rows to ``target``.

    A folder, or a zip when ``target`` ends in ``.zip``. Conversations hold 1 to 6 messages; about
    3% are suspicious (templated approaches by a few personas, some opened with an invitation
    note), the rest ordinary traffic, a quarter of it started by the owner. Deterministic for a seed.
    """
    rng = random.Random(seed)
    fmt = ERA_FORMATS["2025"]
    owner = Person(
        "Alex", "Benchmark", slug="alex-benchmark-0001", headline="Principal scientist, quantum sensing"
    )
    people = [_person(rng, i) for i in range(max(100, min(50_000, n_messages // 20)))]
    personas = [_person(rng, 0x100000 + i) for i in range(40)]
    connections = [
        ExportConnection(p, date(2018, 1, 1) + timedelta(days=rng.randrange(2500)))
        for p in people[: min(len(people) * 3 // 10, 30_000)]
    ]
    invitations: list[ExportInvitation] = []
    start = datetime(2021, 1, 1)
    span = int(timedelta(days=5 * 365).total_seconds())

    def produce(out: IO[str]) -> None:
        writer = csv.writer(out, lineterminator=fmt.line_terminator)
        writer.writerow(fmt.message_columns)
        owner_name, owner_url = owner.name, owner.profile_url
        written = 0
        conv_no = 0
        while written < n_messages:
            conv_no += 1
            size = min(rng.randint(1, 6), n_messages - written)
            suspicious = rng.random() < 0.03
            other = rng.choice(personas) if suspicious else rng.choice(people)
            fill = {
                "first": owner.first_name,
                "topic": rng.choice(_TOPICS),
                "event": rng.choice(_EVENTS),
                "city": rng.choice(_CITIES),
                "firm": rng.choice(_FIRMS),
                "fee": rng.choice((500, 1500, 3000, 5000)),
                "url": f"https://docs-share.example/{rng.getrandbits(40):x}",
                "pw": f"{rng.randrange(10**6):06d}",
                "phone": f"44 7{rng.randrange(10**9):09d}",
            }
            when = start + timedelta(seconds=rng.randrange(span))
            inbound_first = suspicious or rng.random() < 0.75
            if suspicious and rng.random() < 0.5:
                note = rng.choice(_SUSPICIOUS_INVITES).format(**fill)
                invitations.append(ExportInvitation(other, when - timedelta(hours=rng.randint(1, 72)), note))
            rows = []
            for k in range(size):
                from_other = (k % 2 == 0) == inbound_first
                if from_other:
                    if k == 0:
                        pool = _SUSPICIOUS_OPENERS if suspicious else _ORDINARY_OPENERS
                    else:
                        pool = _SUSPICIOUS_FOLLOWUPS if suspicious else _ORDINARY_REPLIES
                    text = rng.choice(pool).format(**fill)
                    sender, sender_url, to, to_url = other.name, other.profile_url, owner_name, owner_url
                elif k:
                    text = rng.choice(_ORDINARY_REPLIES)
                    sender, sender_url, to, to_url = owner_name, owner_url, other.name, other.profile_url
                else:
                    text = rng.choice(_ORDINARY_OPENERS).format(**{**fill, "first": other.first_name})
                    sender, sender_url, to, to_url = owner_name, owner_url, other.name, other.profile_url
                rows.append(
                    [
                        f"2-{seed:x}-{conv_no:08x}",
                        "",
                        sender,
                        sender_url,
                        to,
                        to_url,
                        when.isoformat(sep=" ") + " UTC",
                        "",
                        text,
                        "INBOX",
                        "",
                        "No",
                        "No",
                    ]
                )
                when += timedelta(seconds=rng.randint(60, 3 * 86_400))
            rows.reverse()
            writer.writerows(rows)
            written += size
        # Ordinary contacts send invitation notes too, most of them never followed by a message.
        for _ in range(max(1, n_messages // 2000)):
            other = rng.choice(people)
            fill_note = {
                "first": owner.first_name,
                "event": rng.choice(_EVENTS),
                "topic": rng.choice(_TOPICS),
            }
            sent = start + timedelta(seconds=rng.randrange(span))
            invitations.append(
                ExportInvitation(other, sent, rng.choice(_ORDINARY_INVITES).format(**fill_note))
            )

    others = {
        "Invitations.csv": lambda: _csv_bytes(
            fmt, fmt.invitation_columns, _invitation_rows(fmt, owner, invitations), None
        ),
        "Connections.csv": lambda: _csv_bytes(
            fmt,
            fmt.connection_columns,
            _connection_rows(fmt, connections),
            None,
            preamble=("Notes:", _quoted(CONNECTIONS_NOTE), ""),
        ),
        "Profile.csv": lambda: _csv_bytes(fmt, PROFILE_COLUMNS, [_profile_row(owner)], None),
    }
    if target.suffix.lower() == ".zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            with (
                zf.open("messages.csv", "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False) as text,
            ):
                produce(text)
            for name, make in others.items():
                zf.writestr(name, make())
    else:
        target.mkdir(parents=True, exist_ok=True)
        with (target / "messages.csv").open("w", encoding="utf-8", newline="", buffering=1 << 20) as text:
            produce(text)
        for name, make in others.items():
            (target / name).write_bytes(make())
