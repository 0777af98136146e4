"""Presentation shared by the CLI and exports: JSON records, CSV rows and plain-words explanations.

Message text is written by adversaries, so everything shown on a terminal goes through
:func:`clean_line`, which removes control characters (terminal escape sequences included).
"""

from __future__ import annotations

import re
from typing import Any

from lurewatch.model import Approach, Assessment, Category, Signal
from lurewatch.screen.language import language_name
from lurewatch.screen.persona import persona_words

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")

CATEGORY_WORDS = {
    Category.STATE_APPROACH: "looks like a covert approach by a state intelligence service",
    Category.MALWARE_LURE: "looks like a lure to make you open a file or run code (malware)",
    Category.SCAM: "looks like a money-motivated scam",
    Category.COMMERCIAL: "looks like commercial outreach (sales or marketing)",
    Category.BENIGN: "shows no red flags of a state approach, lure or scam",
}


def clean_line(text: str | None, max_chars: int) -> str:
    """One display line: control and bidi-override characters become spaces, long text is cut with an ellipsis."""
    if not text:
        return ""
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= max_chars else line[: max_chars - 1] + "…"


def signal_summary(assessment: Assessment, count: int) -> str:
    """``C1 M3 M6 - <title of the strongest>``: the ids of the strongest signals and what the first means."""
    strongest = sorted(assessment.signals, key=lambda s: s.weight, reverse=True)[:count]
    return compact_signals([f"{s.indicator_id} {s.title}" for s in strongest])


def compact_signals(parts: list[str]) -> str:
    if not parts:
        return ""
    ids = " ".join(p.split(" ", 1)[0] for p in parts)
    title = parts[0].split(" ", 1)[1] if " " in parts[0] else ""
    return clean_line(f"{ids} - {title}", 70)


def _signal_json(signal: Signal) -> dict[str, Any]:
    return {
        "id": signal.indicator_id,
        "title": signal.title,
        "weight": round(signal.weight, 4),
        "evidence": signal.first_evidence,
        "spans": [
            {
                "field": e.field,
                "text": e.text,
                "start": e.start,
                "end": e.end,
                "message_index": e.message_index,
            }
            for e in signal.evidence
        ],
        "sources": list(signal.sources),
    }


def approach_json(approach: Approach, assessment: Assessment) -> dict[str, Any]:
    """The JSON record of one screened approach (``scan --json``, ``report --json``, ``check --json``)."""
    record: dict[str, Any] = {
        "id": approach.id,
        "category": assessment.category.value,
        "risk": round(assessment.risk, 4),
        "severity": assessment.severity,
        "channel": approach.channel.value,
        "sent_at": approach.sent_at.isoformat() if approach.sent_at else None,
        "sender": {
            "key": approach.sender.key,
            "name": approach.sender.name,
            "profile_url": approach.sender.profile_url,
            "email": approach.sender.email,
            "headline": approach.sender.headline,
            "company": approach.sender.company,
        },
        "recipient": {"key": approach.recipient.key, "name": approach.recipient.name},
        "sender_is_connection": approach.sender_is_connection,
        "messages": len(approach.conversation.messages),
        "signals": [_signal_json(s) for s in assessment.signals],
        "category_scores": {c.value: round(v, 4) for c, v in assessment.category_scores.items()},
        "risk_rose_at": assessment.risk_rose_at,
        "rule_risk": assessment.rule_risk,
        "model_version": assessment.model_version or None,
        "model_terms": [{"term": term, "weight": weight} for term, weight in assessment.model_terms],
        "language": assessment.language,
        "persona": assessment.persona,
        "advice": list(assessment.advice),
        "catalogue_version": assessment.catalogue_version,
        "source": approach.source,
    }
    if approach.label is not None:
        record["label"] = approach.label.value
    return record


CSV_HEADER = (
    "id",
    "risk",
    "severity",
    "category",
    "channel",
    "sent_at",
    "sender_name",
    "sender_key",
    "sender_headline",
    "recipient_name",
    "recipient_key",
    "sender_is_connection",
    "signals",
    "first_message",
    "source",
)


def csv_row(approach: Approach, assessment: Assessment) -> list[object]:
    first = approach.conversation.messages[0].text if approach.conversation.messages else ""
    return [
        approach.id,
        round(assessment.risk, 4),
        assessment.severity,
        assessment.category.value,
        approach.channel.value,
        approach.sent_at.isoformat() if approach.sent_at else "",
        # Names are adversary-written too: a CSV gets `cat` to a terminal as often as opened in a spreadsheet.
        clean_line(approach.sender.name, 300),
        approach.sender.key,
        clean_line(approach.sender.headline, 300),
        clean_line(approach.recipient.name, 300),
        approach.recipient.key,
        "" if approach.sender_is_connection is None else str(approach.sender_is_connection).lower(),
        " | ".join(f"{s.indicator_id}: {clean_line(s.first_evidence, 120)}" for s in assessment.signals),
        clean_line(first, 2000),
        approach.source,
    ]


def percent(risk: float) -> str:
    """A probability in words a reader will not take for certainty: never "100%" or "0%" unless exact."""
    if 0.995 <= risk < 1.0:
        return "over 99%"
    if 0.0 < risk < 0.005:
        return "under 1%"
    return f"{risk:.0%}"


def _inbound_count(approach: Approach) -> int:
    return sum(1 for m in approach.conversation.messages if m.inbound)


def explain_lines(approach: Approach, assessment: Assessment) -> list[tuple[str, str | None]]:
    """A plain-words explanation of one verdict, as ``(line, rich style)`` pairs."""
    lines: list[tuple[str, str | None]] = []
    verdict = CATEGORY_WORDS[assessment.category]
    lines.append((f"Verdict: this message {verdict}.", "bold"))
    lines.append(
        (
            f"Risk that it is a state approach or malware lure: {percent(assessment.risk)} ({assessment.severity}).",
            None,
        )
    )
    if assessment.language == "und":
        lines.append(("Language: not determined (too short or unclear)", None))
    elif assessment.language is not None:
        lines.append((f"Language: {clean_line(language_name(assessment.language), 40)}", None))
    if assessment.persona is not None:
        lines.append((f"Sender presents as: {clean_line(persona_words(assessment.persona), 60)}", None))
    if assessment.signals:
        lines.append(("", None))
        lines.append(("Why:", "bold"))
        for signal in sorted(assessment.signals, key=lambda s: s.weight, reverse=True):
            lines.append((f"  • {signal.indicator_id} {clean_line(signal.title, 100)}", None))
            if signal.first_evidence:
                lines.append((f'      "{clean_line(signal.first_evidence, 160)}"', "italic"))
            if signal.sources:
                lines.append((f"      source: {clean_line(signal.sources[0], 160)}", "dim"))
    else:
        lines.append(("No red flag from the catalogue fired.", None))
    if assessment.model_terms:
        lines.append(("", None))
        lines.append(("What the text model weighed most:", "bold"))
        terms = ", ".join(f'"{clean_line(term, 60)}"' for term, _ in assessment.model_terms)
        lines.append((f"  {terms}", None))
    if assessment.risk_rose_at is not None and _inbound_count(approach) > 1:
        lines.append(("", None))
        lines.append(
            (
                f"The risk reached the alert level at message {assessment.risk_rose_at + 1} of the thread.",
                None,
            )
        )
    if assessment.advice:
        lines.append(("", None))
        lines.append(("What to do:", "bold"))
        for advice in assessment.advice:
            lines.append((f"  - {clean_line(advice, 300)}", None))
    return lines
