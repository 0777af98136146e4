"""Plain, specific next steps for a screened approach: what to do, what not to do, whom to tell."""

from __future__ import annotations

from collections.abc import Sequence

from lurewatch.model import Category, Channel, Signal

_BASE: dict[Category, tuple[str, ...]] = {
    Category.STATE_APPROACH: (
        "Do not reply, and do not send a CV, reports, papers or any information about your work, however "
        "harmless it seems.",
        "Do not move the conversation to another app, a phone call or a private e-mail address.",
        "Preserve the evidence: keep the messages, save the sender's profile URL and take screenshots of the "
        "profile and the conversation before anything is deleted.",
        "Report it to your organisation's security contact, and report the profile to the platform.",
        "UK: follow NPSA's 'Think Before You Link' guidance (Recognise, Realise, Report, Remove).",
    ),
    Category.MALWARE_LURE: (
        "Do not open the attachment or link, and do not clone, install or run any code, test, command or "
        "'fix' the sender asks for.",
        "If you already opened or ran something, disconnect the device from the network and call IT "
        "security now.",
        "Report it to your IT security team and keep the message, the file name and the link for them.",
    ),
    Category.SCAM: (
        "Never pay a fee, deposit or 'refundable' charge to get a job, grant or appointment, and never "
        "forward money that someone sends you.",
        "Do not share bank details, online-banking logins, ID documents or identity numbers.",
        "Check the employer independently (its own website and switchboard), not through links or numbers "
        "in the message.",
        "Report it: UK to Action Fraud (actionfraud.police.uk), US to ReportFraud.ftc.gov and ic3.gov, and "
        "report the profile to the platform.",
    ),
    Category.COMMERCIAL: (
        "This looks like marketing or sales outreach: ignore it, or unsubscribe / ask to be removed if you "
        "want no more.",
        "It is not a security incident; no need to report it to your security team.",
    ),
    Category.BENIGN: (
        "No red flags of a covert approach, malware lure or scam were found.",
        "If unsure, verify the sender through another channel (the organisation's official website or "
        "switchboard) before sharing anything.",
    ),
}

# Signal-specific lines, in the order they are shown; only for the categories where they make sense.
_THREATS = frozenset({Category.STATE_APPROACH, Category.MALWARE_LURE})
_TAILORED: tuple[tuple[str, frozenset[Category], str], ...] = (
    (
        "M6",
        frozenset({Category.STATE_APPROACH, Category.MALWARE_LURE, Category.SCAM, Category.BENIGN}),
        "Do not move to WhatsApp, WeChat, Telegram, Signal or a private e-mail address, whatever reason "
        "is given.",
    ),
    (
        "M3",
        frozenset({Category.STATE_APPROACH}),
        "Do not write paid reports, notes, papers or 'trial work' for this sender.",
    ),
    (
        "M5",
        frozenset({Category.STATE_APPROACH}),
        "Do not send your CV, personal contact details or anything about a security clearance.",
    ),
    (
        "M4",
        frozenset({Category.STATE_APPROACH}),
        "Do not accept paid travel or a speaking invitation from this sender; talk to your security contact "
        "before any trip it offers.",
    ),
    (
        "C2",
        frozenset({Category.STATE_APPROACH}),
        "An in-person meeting or trip abroad is being arranged: tell your security contact before going.",
    ),
    (
        "C1",
        frozenset({Category.STATE_APPROACH}),
        "The requests have moved towards non-public information: do not share internal, unpublished or "
        "sensitive material.",
    ),
    (
        "X1",
        frozenset({Category.STATE_APPROACH}),
        "Do not share internal, unpublished or export-controlled information.",
    ),
    (
        "C3",
        frozenset({Category.STATE_APPROACH}),
        "Do not install any app or accept any phone or device from this contact.",
    ),
    (
        "C4",
        frozenset({Category.STATE_APPROACH}),
        "Do not introduce colleagues or say who has access to what, and warn colleagues who may be "
        "contacted next.",
    ),
    (
        "C5",
        frozenset({Category.STATE_APPROACH}),
        "Being encouraged to apply for a government or security post by this contact is itself a reason "
        "to report it.",
    ),
    (
        "C6",
        frozenset({Category.STATE_APPROACH, Category.SCAM}),
        "Approaches like this look for money worries or job loss; if that applies to you, talk to your "
        "security contact or an employee assistance service rather than the sender.",
    ),
    (
        "X2",
        frozenset({Category.STATE_APPROACH}),
        "A request to keep the contact or payment secret from your employer is a reason to report it.",
    ),
    ("M8", frozenset({Category.STATE_APPROACH}), "Do not accept cash, cryptocurrency or gift-card payments."),
    (
        "M9",
        frozenset({Category.STATE_APPROACH, Category.SCAM}),
        "The same wording went to several people: tell your security team so colleagues can be warned.",
    ),
    (
        "M10",
        frozenset({Category.MALWARE_LURE}),
        "Real employers do not require running their code on your work machine: if you ever do a test, use a "
        "throw-away virtual machine with no access to work systems.",
    ),
    (
        "S2",
        frozenset({Category.SCAM}),
        "Do not deposit a cheque from an 'employer' and send part of it on: the cheque will bounce and the "
        "money "
        "sent is yours.",
    ),
    (
        "S3",
        frozenset({Category.SCAM}),
        "Jobs that ask you to top up an account to unlock earnings are always scams.",
    ),
    (
        "S5",
        frozenset({Category.SCAM}),
        "Do not receive or forward parcels or payments for others: that is handling stolen goods or money "
        "laundering.",
    ),
    (
        "P4",
        frozenset({Category.COMMERCIAL}),
        "The profile photo looks stock or AI-generated; you can report the profile to the platform as fake.",
    ),
)

_CHANNEL: dict[Channel, str] = {
    Channel.LINKEDIN_MESSAGE: "On LinkedIn, use More > Report / Block on the profile or the message.",
    Channel.LINKEDIN_INMAIL: "On LinkedIn, use More > Report / Block on the profile or the InMail.",
    Channel.LINKEDIN_INVITATION: (
        "On LinkedIn, ignore the invitation and report the profile (More > Report / Block)."
    ),
    Channel.EMAIL: (
        "Forward the e-mail as an attachment (so its headers are kept) to your security or IT team."
    ),
    Channel.PASTED: (
        "Note where the message came from (platform, profile URL or e-mail address) for the report."
    ),
}

MAX_LINES = 10


def advice_for(category: Category, signals: Sequence[Signal], channel: Channel) -> tuple[str, ...]:
    """Advice for an approach: the category's lines, then lines for the signals present and the channel."""
    lines = list(_BASE[category])
    if category is not Category.BENIGN and category is not Category.COMMERCIAL:
        lines.append(_CHANNEL.get(channel, _CHANNEL[Channel.PASTED]))
    present = {s.indicator_id for s in signals}
    for indicator_id, categories, line in _TAILORED:
        if indicator_id in present and category in categories:
            lines.append(line)
    if category is Category.BENIGN:
        weak = sorted(
            s.indicator_id
            for s in signals
            if Category.BENIGN not in s.supports and set(s.supports) & _THREATS
        )
        if weak:
            lines.append(
                f"Some weak signals fired ({', '.join(weak[:6])}); verify the sender before moving off the "
                "platform or sending a CV."
            )
    return tuple(dict.fromkeys(lines))[:MAX_LINES]
