"""What the STIX, MISP and CSV exports share: bounded text, account keys, verdicts and observables.

Everything exported was written, at least in part, by the adversary: names, headlines, message text,
URLs. Text leaves lurewatch through :func:`bounded` (no control characters, no lone surrogates, a length
limit with a visible marker), so a 100,000-character message cannot become a 100,000-character STIX
description, and a NUL or an unpaired surrogate cannot make the JSON unreadable downstream.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from lurewatch.model import (
    CASE_VERDICTS,
    Account,
    Approach,
    Assessment,
    CaseState,
    Category,
    Channel,
    Message,
)

#: the categories whose senders are exported as threats (threat-actor, indicators, MISP to_ids)
THREAT_EXPORT_CATEGORIES: frozenset[Category] = frozenset(
    {Category.STATE_APPROACH, Category.MALWARE_LURE, Category.SCAM}
)

#: longest name, handle or URL exported
MAX_VALUE_CHARS = 1024
#: longest description or summary
MAX_DESCRIPTION_CHARS = 4000
#: longest excerpt of a message
MAX_EXCERPT_CHARS = 1000
#: longest analyst note
MAX_NOTE_CHARS = 10_000
#: contact observables (URLs, addresses, handles) taken from one approach's messages
MAX_OBSERVABLES_PER_APPROACH = 50

TLP_LEVELS: tuple[str, ...] = ("clear", "green", "amber", "amber+strict", "red")

# What an exported e-mail address or host name may be: ASCII addr-specs and host names, as the OASIS
# STIX validator checks them. Other addresses (quoted or internationalised local parts) stay account
# handles only, so every export still validates.
_EMAIL_ADDR = re.compile(r"^[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def is_email_address(value: str) -> bool:
    return bool(_EMAIL_ADDR.match(value))


def is_host_name(value: str) -> bool:
    return bool(_HOST_NAME.match(value))


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SPACE = re.compile(r"\s+")


def key_digest(*parts: str) -> str:
    """A hex digest of ``parts`` (taken whole, lone surrogates included) to derive deterministic ids from."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def bounded(value: object, limit: int, *, one_line: bool = False) -> str:
    """``value`` as text fit to export: control characters and lone surrogates replaced, at most ``limit`` characters.

    Cut text ends in ``[... N more characters]`` so that a reader knows it was cut.
    """
    if value is None:
        return ""
    text = _CONTROL.sub("\ufffd", value if isinstance(value, str) else str(value))
    if one_line:
        text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    marker = f" [... {len(text) - limit:,} more characters]"
    return text[: max(0, limit - len(marker))] + marker


def tlp_level(tlp: str) -> str:
    """The TLP 2.0 level named by ``tlp`` (``amber``, ``TLP:AMBER``, ``amber+strict``); ValueError otherwise."""
    level = tlp.strip().lower().removeprefix("tlp:").replace("_", "+").replace(" ", "")
    if level == "white":  # TLP 1.0's name for what TLP 2.0 calls clear
        level = "clear"
    if level not in TLP_LEVELS:
        raise ValueError(f"unknown TLP level {tlp!r}; use one of: {', '.join(TLP_LEVELS)}")
    return level


def utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (naive datetimes are taken to be UTC already)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def split_key(key: str) -> tuple[str, str]:
    """An account key's platform and handle: ``linkedin:jane-doe`` -> ``("linkedin", "jane-doe")``."""
    platform, sep, handle = key.partition(":")
    if not sep:
        return "", key
    return platform.lower(), handle


def account_platform(key: str, channel: Channel | None = None) -> str:
    """``linkedin`` or ``email`` for the account type of an exported account (or the key's own platform)."""
    platform, _ = split_key(key)
    if platform in {"linkedin", "email"}:
        return platform
    if channel is Channel.EMAIL:
        return "email"
    if channel in {Channel.LINKEDIN_MESSAGE, Channel.LINKEDIN_INMAIL, Channel.LINKEDIN_INVITATION}:
        return "linkedin"
    return platform


def effective_category(assessment: Assessment, case: CaseState | None) -> Category:
    """The category an approach has once the analyst's verdict is taken into account.

    ``confirmed`` keeps the assessed category, ``benign`` and ``false_positive`` make it benign, a
    category name sets that category (the same reading as ``Workspace.labelled_approaches``).
    """
    verdict = case.verdict if case else None
    if verdict in (None, "confirmed"):
        return assessment.category
    if verdict in ("benign", "false_positive"):
        return Category.BENIGN
    try:
        return Category(verdict)
    except ValueError:
        return assessment.category


def verdict_opinion(assessment: Assessment, verdict: str | None) -> str | None:
    """The STIX opinion (``opinion-enum``) an analyst's verdict expresses about lurewatch's assessment.

    ``confirmed`` -> strongly-agree; ``false_positive`` -> strongly-disagree; ``benign`` -> disagree (the
    analyst judged it harmless without saying lurewatch was wrong to look); a category name: the same as
    assessed -> strongly-agree, the same side (threat or not) -> agree, the other side -> disagree.
    None without a verdict or with a value that is neither a verdict nor a category.
    """
    if verdict is None:
        return None
    if verdict == "confirmed":
        return "strongly-agree"
    if verdict == "false_positive":
        return "strongly-disagree"
    if verdict == "benign":
        return "disagree"
    try:
        said = Category(verdict)
    except ValueError:
        return None
    if said == assessment.category:
        return "strongly-agree"
    same_side = (said in THREAT_EXPORT_CATEGORIES) == (assessment.category in THREAT_EXPORT_CATEGORIES)
    return "agree" if same_side else "disagree"


#: MISP opinions are 0-100; the STIX opinion-enum's five steps spread over it
MISP_OPINION: dict[str, int] = {
    "strongly-disagree": 0,
    "disagree": 25,
    "neutral": 50,
    "agree": 75,
    "strongly-agree": 100,
}


def inbound_messages(approach: Approach) -> list[Message]:
    """The messages of the approach the sender wrote (all of them when none names the sender)."""
    mine = [m for m in approach.conversation.messages if m.sender_key == approach.sender.key]
    return mine or list(approach.conversation.messages)


def message_window(approach: Approach) -> tuple[datetime | None, datetime | None]:
    times = [t for m in inbound_messages(approach) if (t := utc(m.sent_at)) is not None]
    return (min(times), max(times)) if times else (None, None)


@dataclass(frozen=True, slots=True)
class Observable:
    """A contact value the sender gave in a message: ``kind`` as in :mod:`lurewatch.campaigns.persona_keys`."""

    kind: str
    value: str
    #: the text as the message wrote it (for URLs: with its scheme and query)
    original: str


def approach_observables(approach: Approach) -> list[Observable]:
    """E-mail addresses, URLs, domains and messaging handles the sender wrote, each once, at most
    :data:`MAX_OBSERVABLES_PER_APPROACH`."""
    from lurewatch.campaigns.persona_keys import contact_keys

    out: list[Observable] = []
    seen: set[tuple[str, str]] = set()
    for message in inbound_messages(approach):
        for key in contact_keys(message.text):
            if (key.kind, key.value) in seen:
                continue
            seen.add((key.kind, key.value))
            start, end = key.span
            original = bounded(message.text[start:end], MAX_VALUE_CHARS, one_line=True)
            out.append(Observable(key.kind, bounded(key.value, MAX_VALUE_CHARS, one_line=True), original))
            if len(out) >= MAX_OBSERVABLES_PER_APPROACH:
                return out
    return out


def url_of(observable_text: str) -> str:
    """A URL as written in a message, with a scheme (``www.x.org/a`` -> ``http://www.x.org/a``)."""
    text = observable_text.strip()
    return text if "://" in text else "http://" + text


def display_name(account: Account) -> str:
    return bounded(account.name, 300, one_line=True) or bounded(split_key(account.key)[1], 300, one_line=True)


def signal_lines(assessment: Assessment) -> Iterator[str]:
    for signal in assessment.signals:
        evidence = bounded(signal.first_evidence, 200, one_line=True)
        yield f"- {signal.indicator_id}: {bounded(signal.title, 300, one_line=True)}" + (
            f' ("{evidence}")' if evidence else ""
        )


def assessment_summary(approach: Approach, assessment: Assessment) -> str:
    """Plain words on what lurewatch concluded and why, with an excerpt of the opening message."""
    first = inbound_messages(approach)[0] if approach.conversation.messages else None
    lines = [
        f"lurewatch assessed this {approach.channel.value.replace('_', ' ')} approach as "
        f"{assessment.category.value} (risk {assessment.risk:.2f}, {assessment.severity}).",
        f"Sender: {display_name(approach.sender)} ({bounded(approach.sender.key, 300, one_line=True)}); "
        f"recipient: {display_name(approach.recipient)}.",
    ]
    if approach.sender.headline:
        lines.append(f"Sender's headline: {bounded(approach.sender.headline, 300, one_line=True)}")
    signals = list(signal_lines(assessment))
    if signals:
        lines.append("Red flags:")
        lines.extend(signals[:30])
    if first is not None and first.text:
        lines.append("Opening message (excerpt):")
        lines.append(bounded(first.text, MAX_EXCERPT_CHARS))
    if assessment.catalogue_version or assessment.model_version:
        lines.append(
            f"Indicator catalogue {assessment.catalogue_version or '-'}, text model {assessment.model_version or '-'}."
        )
    return bounded("\n".join(lines), MAX_DESCRIPTION_CHARS)


__all__ = [
    "CASE_VERDICTS",
    "MAX_DESCRIPTION_CHARS",
    "MAX_EXCERPT_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_OBSERVABLES_PER_APPROACH",
    "MAX_VALUE_CHARS",
    "MISP_OPINION",
    "THREAT_EXPORT_CATEGORIES",
    "TLP_LEVELS",
    "Observable",
    "account_platform",
    "approach_observables",
    "assessment_summary",
    "bounded",
    "display_name",
    "effective_category",
    "inbound_messages",
    "is_email_address",
    "is_host_name",
    "key_digest",
    "message_window",
    "split_key",
    "tlp_level",
    "url_of",
    "utc",
    "verdict_opinion",
]
