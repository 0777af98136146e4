"""MISP events (MISP core format JSON) of screened approaches and campaigns, built with PyMISP.

Objects come from the MISP object templates bundled with PyMISP and are made with ``strict=True``, so a
template or object relation that does not exist raises instead of producing an event MISP would
reject. What an event holds:

* the tag ``tlp:<level>`` (MISP's TLP 2.0 taxonomy: clear, green, amber, amber+strict, red);
* per sender persona a ``user-account`` object (``account-type`` ``linkedin`` or ``email``, the slug or
  address as ``user-id``, the name as ``display-name``, the profile URL as ``link``) and, for threats,
  an ``impersonation`` object for the fake profile (``type-of-account`` LinkedIn, ``objective``);
* per recipient a ``person`` object with ``role`` Target, which the persona's user account ``targets``;
* per approach its opening message as an ``instant-message`` (LinkedIn) or ``email`` object (bounded
  excerpt), and an ``annotation`` object with lurewatch's assessment (category, risk, red flags) that
  ``annotates`` the message; analyst notes are MISP analyst-data Notes on that annotation and the verdict
  an analyst-data Opinion (0-100: see :data:`lurewatch.export.common.MISP_OPINION`);
* for threats, the contacts the sender gave: ``url``, ``domain``, ``email-src`` and ``phone-number``
  attributes (``to_ids`` on the first three), messaging handles (WeChat, WhatsApp, Telegram, Signal) as
  further ``user-account`` objects;
* per campaign an ``annotation`` (Executive Summary) that annotates its personas' user accounts, and
  its shared contacts as attributes.

UUIDs are UUIDv5 of stable keys (with the producer), so the same selection exported again has the same
UUIDs and MISP updates rather than duplicates.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymisp import MISPAttribute, MISPEvent, MISPObject, MISPOrganisation

from lurewatch.export.common import (
    MAX_DESCRIPTION_CHARS,
    MAX_EXCERPT_CHARS,
    MAX_NOTE_CHARS,
    MAX_VALUE_CHARS,
    MISP_OPINION,
    THREAT_EXPORT_CATEGORIES,
    account_platform,
    approach_observables,
    assessment_summary,
    bounded,
    display_name,
    effective_category,
    inbound_messages,
    is_email_address,
    is_host_name,
    key_digest,
    message_window,
    split_key,
    tlp_level,
    url_of,
    utc,
    verdict_opinion,
)
from lurewatch.model import Account, Approach, Assessment, Campaign, CaseState, Category, Channel

MISP_NAMESPACE = uuid.UUID("0b9e4a3c-2f1d-5e8a-8c61-6d6973702d6c")
#: MISP distribution levels: 0 your organisation only, 1 this community, 2 connected, 3 all
DISTRIBUTIONS = (0, 1, 2, 3)
_OBJECTIVE = {
    Category.STATE_APPROACH: "Information stealing",
    Category.MALWARE_LURE: "Information stealing",
    Category.SCAM: "Other",
}
_APP_USED = {"wechat": "WeChat", "whatsapp": "WhatsApp", "telegram": "Telegram", "signal": "Signal"}
# MISP attribute type, category and whether IDS should match it, per contact kind
_ATTRIBUTE_OF = {
    "url": ("url", "Network activity", True),
    "domain": ("domain", "Network activity", True),
    "email": ("email-src", "Payload delivery", True),
    "phone": ("phone-number", "Social network", False),
}


def misp_event(
    approaches: Sequence[tuple[Approach, Assessment, CaseState | None]],
    campaigns: Sequence[Campaign] = (),
    *,
    tlp: str = "amber",
    producer: str = "lurewatch",
    info: str | None = None,
    distribution: int = 0,
    now: datetime | None = None,
) -> str:
    """One MISP event (``{"Event": {...}}`` JSON text) of ``approaches`` and ``campaigns``.

    ``distribution`` is MISP's (0: your organisation only, the default); ``now`` stands in where the
    data has no time. Raises ValueError on an unknown TLP level or distribution.
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}")
    builder = _EventBuilder(producer, utc(now) or datetime.now(UTC))
    event = builder.event
    event.add_tag(f"tlp:{tlp_level(tlp)}")
    event.distribution = distribution
    for campaign in campaigns:
        builder.add_campaign(campaign)
    for approach, assessment, case in approaches:
        builder.add_approach(approach, assessment, case)
    keys = sorted(a.id for a, _, _ in approaches) + sorted(c.campaign_id for c in campaigns)
    event.uuid = builder.uuid("event", *keys)
    event.info = bounded(info, 300, one_line=True) if info else builder.default_info(approaches, campaigns)
    event.threat_level_id = builder.threat_level
    event.analysis = _analysis([case for _, _, case in approaches])
    first, last = builder.window or (builder.now, builder.now)
    event.set_date(first.date())
    event.timestamp = last
    event.published = False
    return json.dumps({"Event": json.loads(event.to_json())}, ensure_ascii=False)


def _analysis(cases: list[CaseState | None]) -> int:
    """MISP analysis: 0 initial, 1 ongoing, 2 complete (every case closed)."""
    known = [c for c in cases if c is not None]
    if known and all(c.status == "closed" for c in known):
        return 2
    return 1 if any(c.status != "new" for c in known) else 0


class _EventBuilder:
    def __init__(self, producer: str, now: datetime) -> None:
        self.producer = bounded(producer, 300, one_line=True) or "lurewatch"
        self.now = now
        self.event = MISPEvent()
        self.event.Orgc = MISPOrganisation()
        self.event.Orgc.from_dict(name=self.producer, uuid=self.uuid("organisation"))
        self.objects: dict[str, MISPObject] = {}
        self.attributes: dict[tuple[str, str], MISPAttribute] = {}
        self.references: set[tuple[str, str, str]] = set()
        self.threat_level = 4  # undefined until something is rated
        self.window: tuple[datetime, datetime] | None = None

    def uuid(self, *parts: str) -> str:
        return str(uuid.uuid5(MISP_NAMESPACE, key_digest(self.producer, *parts)))

    def _saw(self, first: datetime, last: datetime) -> None:
        self.window = (
            (min(self.window[0], first), max(self.window[1], last)) if self.window else (first, last)
        )

    def _rate(self, category: Category, risk: float) -> None:
        # MISP threat levels: 1 high, 2 medium, 3 low, 4 undefined
        if category not in THREAT_EXPORT_CATEGORIES:
            level = 3
        else:
            level = 1 if risk >= 0.7 else 2 if risk >= 0.4 else 3
        self.threat_level = min(self.threat_level, level)

    def default_info(self, approaches: Sequence[Any], campaigns: Sequence[Campaign]) -> str:
        parts = []
        if approaches:
            parts.append(f"{len(approaches)} approach{'es' if len(approaches) != 1 else ''}")
        if campaigns:
            parts.append(f"{len(campaigns)} campaign{'s' if len(campaigns) != 1 else ''}")
        return f"lurewatch: {' and '.join(parts) or 'nothing selected'} on professional networks (covert recruitment, lures, scams)"

    # -- objects -------------------------------------------------------------------------------------

    def _object(
        self, key: tuple[str, ...], name: str, attributes: list[tuple[str, Any]], comment: str = ""
    ) -> MISPObject:
        """The object of ``key``, made once: ``attributes`` are (object relation, value) pairs."""
        object_uuid = self.uuid("object", name, *key)
        held = self.objects.get(object_uuid)
        if held is not None:
            return held
        obj = MISPObject(name, strict=True, standalone=False)
        obj.uuid = object_uuid
        if comment:
            obj.comment = bounded(comment, 300, one_line=True)
        for relation, value in attributes:
            if value is None or value == "":
                continue
            attribute = obj.add_attribute(relation, value=value)
            if attribute is not None:
                attribute.uuid = self.uuid("object-attribute", object_uuid, relation, str(value))
        obj.to_dict(strict=True)  # raises on a missing required relation or a repeated single one
        self.event.add_object(obj)
        self.objects[object_uuid] = obj
        return obj

    def _reference(self, source: MISPObject, relationship: str, target: MISPObject | MISPAttribute) -> None:
        if (source.uuid, relationship, target.uuid) in self.references:
            return
        self.references.add((source.uuid, relationship, target.uuid))
        reference = source.add_reference(target.uuid, relationship)
        reference.uuid = self.uuid("reference", source.uuid, relationship, target.uuid)

    def _attribute(self, kind: str, value: str, comment: str, to_ids: bool) -> MISPAttribute | None:
        made = _ATTRIBUTE_OF.get(kind)
        if made is None:
            return None
        misp_type, category, ids = made
        value = bounded(url_of(value) if kind == "url" else value, MAX_VALUE_CHARS, one_line=True)
        if (
            not value
            or (kind == "email" and not is_email_address(value))
            or (kind == "domain" and not is_host_name(value))
        ):
            return None
        held = self.attributes.get((misp_type, value))
        if held is not None:
            return held
        attribute = self.event.add_attribute(
            misp_type,
            value,
            category=category,
            to_ids=ids and to_ids,
            comment=bounded(comment, 300, one_line=True),
            uuid=self.uuid("attribute", misp_type, value),
        )
        assert isinstance(attribute, MISPAttribute)
        self.attributes[(misp_type, value)] = attribute
        return attribute

    def _account(self, key: str, name: str, platform: str, profile_url: str | None = None) -> MISPObject:
        kind, handle = split_key(key)
        handle = bounded(handle, MAX_VALUE_CHARS, one_line=True)
        attributes: list[tuple[str, Any]] = [
            (
                "user-id",
                handle
                if kind in {"linkedin", "email"} and handle
                else bounded(key, MAX_VALUE_CHARS, one_line=True) or "unknown:",
            ),
            ("account-type", platform),
            ("display-name", name),
        ]
        if kind == "email" and is_email_address(handle):
            attributes.append(("email", handle))
        if profile_url:
            attributes.append(("link", bounded(profile_url, MAX_VALUE_CHARS, one_line=True)))
        return self._object(("account", key), "user-account", attributes)

    def _persona(
        self, account: Account | None, key: str, name: str, platform: str, category: Category
    ) -> MISPObject:
        profile_url = account.profile_url if account else None
        user = self._account(key, name, platform, profile_url)
        if category in THREAT_EXPORT_CATEGORIES:
            fake = self._object(
                ("impersonation", key),
                "impersonation",
                [
                    ("account-name", name or split_key(key)[1] or key),
                    (
                        "account-url",
                        bounded(profile_url, MAX_VALUE_CHARS, one_line=True) if profile_url else None,
                    ),
                    ("type-of-account", "LinkedIn" if platform == "linkedin" else "Other"),
                    ("type", "Person"),
                    ("objective", _OBJECTIVE[category]),
                ],
                comment=f"Persona lurewatch classed as {category.value}",
            )
            self._reference(fake, "related-to", user)
        return user

    def _target(self, recipient: Account) -> MISPObject:
        _, handle = split_key(recipient.key)
        return self._object(
            ("person", recipient.key),
            "person",
            [
                ("full-name", bounded(recipient.name, 300, one_line=True)),
                ("handle", bounded(handle or recipient.key, MAX_VALUE_CHARS, one_line=True)),
                ("role", "Target"),
            ],
        )

    # -- approaches ----------------------------------------------------------------------------------

    def add_approach(self, approach: Approach, assessment: Assessment, case: CaseState | None) -> None:
        first, last = message_window(approach)
        first = first or self.now
        last = last or first
        self._saw(first, last)
        category = effective_category(assessment, case)
        self._rate(category, assessment.risk)
        threat = category in THREAT_EXPORT_CATEGORIES
        sender = approach.sender
        name = bounded(sender.name, 300, one_line=True)
        platform = account_platform(sender.key, approach.channel)
        user = self._persona(sender, sender.key, name, platform, category)
        target = self._target(approach.recipient)
        self._reference(user, "targets", target)
        message = self._message(approach, first)
        self._reference(message, "authored-by", user)
        note = self._object(
            ("assessment", approach.id, assessment.category.value, f"{assessment.risk:.4f}"),
            "annotation",
            [
                ("text", assessment_summary(approach, assessment)),
                ("type", "Annotation"),
                ("format", "text"),
                ("creation-date", first),
            ],
            comment=f"lurewatch: {assessment.category.value}, risk {assessment.risk:.2f}",
        )
        self._reference(note, "annotates", message)
        if threat:
            for observable in approach_observables(approach):
                self._contact(observable.kind, observable.value, observable.original, user, first)
            if sender.key.startswith("email:"):
                address = self._attribute(
                    "email", split_key(sender.key)[1], "sender of a screened approach", True
                )
                if address is not None:
                    self._reference(user, "related-to", address)
        if case is not None:
            self._case(case, assessment, note, first)

    def _message(self, approach: Approach, first: datetime) -> MISPObject:
        opening = inbound_messages(approach)[0]
        excerpt = bounded(opening.text, MAX_EXCERPT_CHARS)
        subject = bounded(opening.subject, 300, one_line=True)
        sender, recipient = approach.sender, approach.recipient
        if approach.channel is Channel.EMAIL and is_email_address(split_key(sender.key)[1]):
            attributes: list[tuple[str, Any]] = [
                ("from", split_key(sender.key)[1]),
                ("from-display-name", bounded(sender.name, 300, one_line=True)),
                (
                    "to",
                    split_key(recipient.key)[1] if is_email_address(split_key(recipient.key)[1]) else None,
                ),
                ("subject", subject),
                ("send-date", first),
                ("email-body", excerpt),
            ]
            return self._object(("message", approach.id), "email", attributes)
        attributes = [
            ("from-user", bounded(split_key(sender.key)[1] or sender.key, MAX_VALUE_CHARS, one_line=True)),
            ("from-name", bounded(sender.name, 300, one_line=True)),
            (
                "to-user",
                bounded(split_key(recipient.key)[1] or recipient.key, MAX_VALUE_CHARS, one_line=True),
            ),
            ("to-name", bounded(recipient.name, 300, one_line=True)),
            ("subject", subject),
            ("sent-date", first),
            ("body", excerpt or display_name(sender)),
        ]
        return self._object(
            ("message", approach.id), "instant-message", attributes, comment=approach.channel.value
        )

    def _contact(self, kind: str, value: str, written: str | None, user: MISPObject, when: datetime) -> None:
        if kind in _APP_USED or kind == "handle":
            handle = self._object(
                ("handle", kind, value),
                "user-account",
                [("user-id", value), ("account-type", kind if kind != "handle" else None)],
                comment=f"{_APP_USED.get(kind, 'messaging')} contact given in a screened approach",
            )
            self._reference(user, "related-to", handle)
            return
        attribute = self._attribute(
            kind,
            written if kind == "url" and written else value,
            "contact given in a screened approach",
            True,
        )
        if attribute is not None:
            self._reference(user, "related-to", attribute)

    def _case(self, case: CaseState, assessment: Assessment, note: MISPObject, first: datetime) -> None:
        for case_note in case.notes:
            created = utc(case_note.created_at) or first
            analyst_note = note.add_note(
                bounded(case_note.text, MAX_NOTE_CHARS) or "(empty note)",
                authors=bounded(case_note.author, 300, one_line=True) or "analyst",
                created=_analyst_time(created),
            )
            analyst_note.uuid = self.uuid(
                "note", note.uuid, case_note.author, created.isoformat(), case_note.text
            )
        opinion = verdict_opinion(assessment, case.verdict)
        if opinion is None:
            return
        misp_opinion = note.add_opinion(
            MISP_OPINION[opinion],
            bounded(
                f"Analyst verdict: {case.verdict} ({opinion}); case {case.status}.", MAX_DESCRIPTION_CHARS
            ),
            authors=bounded(case.assignee, 300, one_line=True) or "analyst",
            created=_analyst_time(utc(case.updated_at) or first),
        )
        misp_opinion.uuid = self.uuid("opinion", note.uuid, str(case.verdict))

    # -- campaigns -----------------------------------------------------------------------------------

    def add_campaign(self, campaign: Campaign) -> None:
        first = utc(campaign.first_seen) or self.now
        last = utc(campaign.last_seen) or first
        self._saw(first, last)
        self._rate(campaign.category, campaign.risk)
        threat = campaign.category in THREAT_EXPORT_CATEGORIES
        personas = {p.account_id: p for p in campaign.personas}
        users: dict[str, MISPObject] = {}
        for account in campaign.account_ids:
            persona = personas.get(account)
            name = bounded(persona.name if persona else "", 300, one_line=True)
            users[account] = self._persona(None, account, name, account_platform(account), campaign.category)
        summary = self._object(
            ("campaign", campaign.campaign_id),
            "annotation",
            [
                ("text", _campaign_summary(campaign)),
                ("type", "Executive Summary"),
                ("format", "text"),
                ("creation-date", first),
                ("modification-date", last),
            ],
            comment=f"lurewatch campaign {campaign.campaign_id}: {campaign.category.value}, risk {campaign.risk:.2f}",
        )
        for user in users.values():
            self._reference(summary, "annotates", user)
        for link in campaign.links:
            if link.kind in _APP_USED or link.kind == "handle":
                for account in link.account_ids:
                    if account in users:
                        self._contact(link.kind, link.value, None, users[account], first)
                continue
            attribute = self._attribute(
                link.kind, link.value, f"shared by the accounts of campaign {campaign.campaign_id}", threat
            )
            if attribute is None:
                continue
            for account in link.account_ids:
                if account in users:
                    self._reference(users[account], "related-to", attribute)


def _analyst_time(when: datetime) -> datetime:
    # MISP analyst data carries naive UTC times (PyMISP reads them back by appending +00:00)
    return when.astimezone(UTC).replace(tzinfo=None)


def _campaign_summary(campaign: Campaign) -> str:
    lines = [
        f"{len(campaign.message_ids):,} messages from {len(campaign.account_ids):,} accounts to "
        f"{len(campaign.recipient_ids):,} recipients, classed as {campaign.category.value} "
        f"(risk {campaign.risk:.2f}, {campaign.severity}).",
    ]
    for link in campaign.links[:30]:
        lines.append(
            f"- {link.kind} {bounded(link.value, 200, one_line=True)}: {bounded(link.explanation, 300, one_line=True)}"
        )
    if campaign.targets_by_org:
        lines.append(
            "Organisations targeted: "
            + ", ".join(f"{bounded(o, 80, one_line=True)} ({n})" for o, n in campaign.targets_by_org[:20])
        )
    if campaign.exemplar_text:
        lines.append("Exemplar message (excerpt):")
        lines.append(bounded(campaign.exemplar_text, MAX_EXCERPT_CHARS))
    return bounded("\n".join(lines), MAX_DESCRIPTION_CHARS)


__all__ = ["DISTRIBUTIONS", "MISP_NAMESPACE", "misp_event"]
