"""STIX 2.1 bundles of screened approaches and campaigns, for sharing with a CTI platform (OpenCTI, MISP, ...).

What a bundle holds (every object built with the ``stix2`` library, ``allow_custom=False``):

* the TLP 2.0 ``marking-definition`` chosen (:data:`TLP2_MARKINGS`), referenced by every other object;
* an ``identity`` for the producer (the reporting organisation): ``created_by_ref`` of every SDO and
  SRO, and where every ``sighting`` was made;
* per sender persona a ``threat-actor`` when its approach or campaign is a threat once the analyst's
  verdict is counted (state approach -> ``spy``, malware lure -> ``unknown``, scam -> ``criminal``),
  else an individual ``identity``; related to its ``user-account`` (``account_type`` ``linkedin`` with
  the profile slug as ``user_id``, or ``email`` with the address, plus an ``email-addr``);
* per approach an ``observed-data`` wrapping the sender's account and the contacts it wrote (e-mail
  addresses, URLs, domains, WeChat / WhatsApp / Telegram / Signal / @ handles; phone numbers have no STIX
  observable type and are left out), a ``note`` with lurewatch's assessment (category, risk, red flags,
  an excerpt of the opening message), a ``note`` per analyst note and an ``opinion`` for the verdict
  (about the assessment note, see :func:`lurewatch.export.common.verdict_opinion`);
* for threats, an ``indicator`` per matchable value (``user-account``, ``email-addr``, ``url``,
  ``domain-name``) that ``indicates`` the threat actor (and the campaigns the approach belongs to), is
  ``based-on`` the observed data and has a ``sighting`` by the producer; the threat actor ``targets``
  the recipient's identity;
* per campaign a ``campaign`` ``attributed-to`` its personas' threat actors, ``targets`` the
  organisations it wrote to, with an ``observed-data`` of its accounts and shared contacts and their
  indicators.

Ids are deterministic: SDO and SRO ids are UUIDv5 of stable keys (the account key, the approach id,
the pattern, ...), SCO ids are the spec's own UUIDv5 of their id-contributing properties, so exporting
the same selection again yields the same ids and a platform merges rather than duplicates. Timestamps
come from the data (message times, campaign first/last seen, note and case times); ``now`` stands in
only where the data has none.

Pattern string literals are escaped by ``stix2.patterns.StringConstant`` (backslash and quote), and all
text goes through :func:`lurewatch.export.common.bounded`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import stix2
from stix2 import (
    AndBooleanExpression,
    EqualityComparisonExpression,
    ObjectPath,
    ObservationExpression,
    OrBooleanExpression,
    StringConstant,
)

from lurewatch.export.common import (
    MAX_DESCRIPTION_CHARS,
    MAX_NOTE_CHARS,
    MAX_VALUE_CHARS,
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
from lurewatch.model import Approach, Assessment, Campaign, CampaignPersona, CaseState, Category

#: The OASIS TLP 2.0 extension (cti-stix-common-objects, extension-definition-specifications/tlp-2.0).
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: The official TLP 2.0 marking-definition ids published with that extension; stix2 3.0 ships only
#: TLP 1.0's (``stix2.TLP_AMBER`` ...), so these are built here exactly as published.
TLP2_MARKINGS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_TLP2_CREATED = "2022-10-01T00:00:00.000Z"
#: namespace of lurewatch's deterministic SDO/SRO ids
ID_NAMESPACE = uuid.UUID("6c1f0a52-3b0e-5d6c-9a55-6c7572657761")
#: the producer identity is one object everywhere: it is stamped with a fixed time, not the export's
_PRODUCER_CREATED = datetime(2024, 1, 1, tzinfo=UTC)
#: most organisations a campaign is said to target
MAX_TARGET_ORGS = 200

_THREAT_ACTOR_TYPES: dict[Category, list[str]] = {
    Category.STATE_APPROACH: ["spy"],
    Category.MALWARE_LURE: ["unknown"],
    Category.SCAM: ["criminal"],
}
# Messaging handles are user accounts of that platform; bare @handles name no platform.
_HANDLE_KINDS = {"wechat", "whatsapp", "telegram", "signal", "handle"}


def tlp2_marking(tlp: str) -> stix2.MarkingDefinition:
    """The official TLP 2.0 marking definition of ``tlp`` (``clear``, ``green``, ``amber``, ``amber+strict``, ``red``)."""
    level = tlp_level(tlp)
    return stix2.MarkingDefinition(
        id=TLP2_MARKINGS[level],
        created=_TLP2_CREATED,
        name=f"TLP:{level.upper()}",
        extensions={TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}},
    )


def stable_id(stix_type: str, *parts: str) -> str:
    """``<type>--<UUIDv5>`` of the parts: the same parts always give the same id."""
    return f"{stix_type}--{uuid.uuid5(ID_NAMESPACE, key_digest(stix_type, *parts))}"


def stix_bundle(
    approaches: Sequence[tuple[Approach, Assessment, CaseState | None]],
    campaigns: Sequence[Campaign] = (),
    *,
    tlp: str = "amber",
    producer: str = "lurewatch",
    now: datetime | None = None,
) -> str:
    """A STIX 2.1 bundle (JSON text) of ``approaches`` (with their assessment and case state) and ``campaigns``.

    ``tlp`` marks every object (TLP 2.0); ``producer`` names the reporting organisation; ``now`` is the
    time used where the data has none (default: the current time). Raises ValueError on an unknown TLP
    level. See the module documentation for the objects and relationships.
    """
    builder = _Builder(tlp2_marking(tlp), producer, utc(now) or datetime.now(UTC))
    for approach, _assessment, _case in approaches:
        builder.seen(approach.sender.key, *message_window(approach))
    for campaign in campaigns:
        for persona in campaign.personas:
            builder.seen(persona.account_id, utc(persona.first_seen), utc(persona.last_seen))
    campaigns_of: dict[str, list[Campaign]] = {}
    for campaign in campaigns:
        for mid in dict.fromkeys(campaign.message_ids):
            campaigns_of.setdefault(mid, []).append(campaign)
    for campaign in campaigns:
        builder.add_campaign(campaign)
    for approach, assessment, case in approaches:
        builder.add_approach(approach, assessment, case, campaigns_of.get(approach.id, []))
    return builder.bundle()


class _Builder:
    """Objects by id, in the order they were first made; a second object with the same id is the same thing."""

    def __init__(self, marking: stix2.MarkingDefinition, producer: str, now: datetime) -> None:
        self.marking = marking
        self.now = now
        self.objects: dict[str, Any] = {marking.id: marking}
        #: first and last time each account was seen across the whole selection
        self.windows: dict[str, tuple[datetime, datetime]] = {}
        name = bounded(producer, 300, one_line=True) or "lurewatch"
        self.producer_name = name
        self.producer = self._put(
            stix2.Identity(
                id=stable_id("identity", "producer", name),
                created=_PRODUCER_CREATED,
                modified=_PRODUCER_CREATED,
                name=name,
                identity_class="organization",
                description="The organisation that screened these approaches with lurewatch and reported them.",
                object_marking_refs=[marking.id],
            )
        )

    def _id(self, stix_type: str, *parts: str) -> str:
        # keyed by the producer too: two organisations exporting the same persona make two objects, each
        # with its own created_by_ref, rather than two conflicting versions of one
        return stable_id(stix_type, self.producer_name, *parts)

    def seen(self, key: str, first: datetime | None, last: datetime | None) -> None:
        first = first or last
        last = last or first
        if first is None or last is None:
            return
        held = self.windows.get(key)
        self.windows[key] = (min(held[0], first), max(held[1], last)) if held else (first, last)

    # -- common --------------------------------------------------------------------------------------

    def _put(self, obj: Any) -> Any:
        return self.objects.setdefault(obj.id, obj)

    def _common(self, created: datetime, modified: datetime | None = None) -> dict[str, Any]:
        return {
            "created": created,
            "modified": max(created, modified or created),
            "created_by_ref": self.producer.id,
            "object_marking_refs": [self.marking.id],
        }

    def _sco(self, cls: type, **props: Any) -> Any:
        return self._put(cls(object_marking_refs=[self.marking.id], **props))

    def _relate(
        self, source: str, relationship: str, target: str, when: datetime, description: str = ""
    ) -> None:
        extra = {"description": description} if description else {}
        self._put(
            stix2.Relationship(
                id=self._id("relationship", relationship, source, target),
                relationship_type=relationship,
                source_ref=source,
                target_ref=target,
                **self._common(when),
                **extra,
            )
        )

    def bundle(self) -> str:
        ids = sorted(self.objects)
        bundle = stix2.Bundle(
            id=self._id("bundle", *ids), objects=list(self.objects.values()), allow_custom=False
        )
        return bundle.serialize(ensure_ascii=False)

    # -- accounts ------------------------------------------------------------------------------------

    def _account(self, key: str, name: str, platform: str, profile_url: str | None = None) -> list[str]:
        """SCOs of one account: its user-account (and email-addr for an address); returns their ids."""
        kind, handle = split_key(key)
        handle = bounded(handle, MAX_VALUE_CHARS, one_line=True)
        props: dict[str, Any] = {}
        if platform:
            props["account_type"] = platform
        # user_id makes the SCO's id deterministic (without an id-contributing property the spec falls
        # back to a random UUIDv4); keys that are not handles (``name:...``, stream ids) are used whole
        if kind in {"linkedin", "email"} and handle:
            props["user_id"] = handle
        else:
            props["user_id"] = bounded(key, MAX_VALUE_CHARS, one_line=True) or "unknown:"
        if name:
            props["display_name"] = name
        account = self._sco(stix2.UserAccount, **props)
        ids = [account.id]
        if kind == "email" and is_email_address(handle):
            address = self._sco(
                stix2.EmailAddress,
                value=handle,
                belongs_to_ref=account.id,
                **({"display_name": name} if name else {}),
            )
            ids.append(address.id)
        return ids

    def _persona(
        self,
        key: str,
        name: str,
        category: Category,
        first: datetime,
        last: datetime,
        description: str,
    ) -> str:
        """The threat actor (or, when not a threat, the individual identity) behind one sender account."""
        label = name or bounded(split_key(key)[1], 300, one_line=True) or "unknown sender"
        first, last = self.windows.get(key, (first, last))
        if category in THREAT_EXPORT_CATEGORIES:
            obj = stix2.ThreatActor(
                id=self._id("threat-actor", key),
                name=label,
                threat_actor_types=_THREAT_ACTOR_TYPES[category],
                description=description,
                first_seen=first,
                last_seen=last,
                **self._common(first, last),
            )
        else:
            obj = stix2.Identity(
                id=self._id("identity", "account", key),
                name=label,
                identity_class="individual",
                description=description,
                **self._common(first, last),
            )
        return self._put(obj).id

    def _indicator(self, pattern: str, name: str, category: Category, when: datetime) -> str:
        return self._put(
            stix2.Indicator(
                id=self._id("indicator", pattern),
                name=bounded(name, 300, one_line=True),
                description=f"Seen in approaches lurewatch classed as {category.value}.",
                indicator_types=["malicious-activity"],
                pattern=pattern,
                pattern_type="stix",
                valid_from=when,
                **self._common(when),
            )
        ).id

    def _sight(self, indicator: str, observed: str, first: datetime, last: datetime, count: int) -> None:
        self._put(
            stix2.Sighting(
                id=self._id("sighting", indicator, observed),
                sighting_of_ref=indicator,
                where_sighted_refs=[self.producer.id],
                observed_data_refs=[observed],
                first_seen=first,
                last_seen=last,
                count=max(1, min(count, 999_999_999)),
                **self._common(first, last),
            )
        )

    # -- approaches ----------------------------------------------------------------------------------

    def add_approach(
        self,
        approach: Approach,
        assessment: Assessment,
        case: CaseState | None,
        campaigns: list[Campaign],
    ) -> None:
        first, last = message_window(approach)
        first = first or self.now
        last = last or first
        category = effective_category(assessment, case)
        threat = category in THREAT_EXPORT_CATEGORIES
        sender = approach.sender
        name = display_name(sender)
        platform = account_platform(sender.key, approach.channel)
        account_ids = self._account(sender.key, bounded(sender.name, 300, one_line=True), platform)
        persona = self._persona(sender.key, name, category, first, last, _persona_description(sender))
        for sco in account_ids:
            self._relate(persona, "related-to", sco, first, "operates this account")
        observables = [
            made
            for o in approach_observables(approach)
            if (made := self._observable(o.kind, o.value, o.original))
        ]
        contact_ids = [sco for sco, _, _ in observables]
        observed = self._put(
            stix2.ObservedData(
                id=self._id("observed-data", "approach", approach.id),
                first_observed=first,
                last_observed=last,
                number_observed=max(1, len(inbound_messages(approach))),
                object_refs=list(dict.fromkeys(account_ids + contact_ids)),
                **self._common(first, last),
            )
        ).id
        assessment_note = self._put(
            stix2.Note(
                id=self._id(
                    "note",
                    "assessment",
                    approach.id,
                    assessment.category.value,
                    f"{assessment.risk:.4f}",
                    assessment.catalogue_version,
                    assessment.model_version,
                ),
                abstract=bounded(
                    f"lurewatch: {assessment.category.value}, risk {assessment.risk:.2f} ({assessment.severity})",
                    300,
                ),
                content=assessment_summary(approach, assessment),
                authors=["lurewatch"],
                object_refs=[observed, persona],
                **self._common(first),
            )
        ).id
        if threat:
            recipient = approach.recipient
            target = self._put(
                stix2.Identity(
                    id=self._id("identity", "account", recipient.key),
                    name=display_name(recipient) or "unknown recipient",
                    identity_class="individual",
                    **self._common(first),
                )
            ).id
            self._relate(persona, "targets", target, first)
            indicators = self._account_indicators(sender.key, platform, name, category, first)
            indicators += [
                self._indicator(pattern, label, category, first) for _, pattern, label in observables
            ]
            for indicator in dict.fromkeys(i for i in indicators if i):
                self._relate(indicator, "indicates", persona, first)
                for campaign in campaigns:
                    self._relate(indicator, "indicates", self._id("campaign", campaign.campaign_id), first)
                self._relate(indicator, "based-on", observed, first)
                self._sight(indicator, observed, first, last, len(inbound_messages(approach)))
        if case is not None:
            self._case(approach, assessment, case, assessment_note, [observed, persona], first)

    def _case(
        self,
        approach: Approach,
        assessment: Assessment,
        case: CaseState,
        assessment_note: str,
        refs: list[str],
        first: datetime,
    ) -> None:
        for note in case.notes:
            created = utc(note.created_at) or first
            digest = key_digest(note.text)
            self._put(
                stix2.Note(
                    id=self._id("note", "case", approach.id, note.author, created.isoformat(), digest),
                    abstract=bounded(f"Analyst note by {note.author}", 300, one_line=True),
                    content=bounded(note.text, MAX_NOTE_CHARS) or "(empty note)",
                    authors=[bounded(note.author, 300, one_line=True) or "analyst"],
                    object_refs=refs,
                    **self._common(created),
                )
            )
        opinion = verdict_opinion(assessment, case.verdict)
        if opinion is None:
            return
        when = utc(case.updated_at) or self.now
        self._put(
            stix2.Opinion(
                id=self._id("opinion", approach.id, str(case.verdict), assessment_note),
                opinion=opinion,
                explanation=bounded(
                    f"Analyst verdict: {case.verdict} (case {case.status}). lurewatch had assessed "
                    f"{assessment.category.value} with risk {assessment.risk:.2f}.",
                    MAX_DESCRIPTION_CHARS,
                ),
                authors=[bounded(case.assignee, 300, one_line=True) or "analyst"],
                object_refs=[assessment_note],
                **self._common(max(when, first)),
            )
        )

    def _account_indicators(
        self, key: str, platform: str, name: str, category: Category, when: datetime
    ) -> list[str | None]:
        kind, handle = split_key(key)
        handle = bounded(handle, MAX_VALUE_CHARS, one_line=True)
        if kind == "linkedin" and handle:
            pattern = _pattern(
                "user-account", [("account_type", "linkedin"), ("user_id", handle)], conjunction=True
            )
            return [self._indicator(pattern, f"LinkedIn account {handle} ({name})", category, when)]
        if kind == "email" and is_email_address(handle):
            pattern = _pattern("email-addr", [("value", handle)])
            return [self._indicator(pattern, f"E-mail sender {handle}", category, when)]
        if kind == "email" and handle:
            pattern = _pattern(
                "user-account", [("account_type", "email"), ("user_id", handle)], conjunction=True
            )
            return [self._indicator(pattern, f"E-mail sender {handle}", category, when)]
        return []

    def _observable(self, kind: str, value: str, written: str | None = None) -> tuple[str, str, str] | None:
        """The SCO, indicator pattern and indicator name of a contact value, or None when it has no STIX form.

        ``written`` is a URL as the message wrote it; without it (a campaign's link, host and path only)
        the pattern accepts either scheme.
        """
        value = bounded(value, MAX_VALUE_CHARS, one_line=True)
        if not value:
            return None
        if kind == "email":
            if not is_email_address(value):
                return None
            sco = self._sco(stix2.EmailAddress, value=value).id
            return sco, _pattern("email-addr", [("value", value)]), f"E-mail address {value}"
        if kind == "domain":
            if not is_host_name(value):
                return None
            sco = self._sco(stix2.DomainName, value=value).id
            return sco, _pattern("domain-name", [("value", value)]), f"Domain {value}"
        if kind == "url":
            if written:
                url = url_of(bounded(written, MAX_VALUE_CHARS, one_line=True))
                return self._sco(stix2.URL, value=url).id, _pattern("url", [("value", url)]), f"URL {url}"
            sco = self._sco(stix2.URL, value=url_of(value)).id
            pattern = _pattern("url", [("value", "https://" + value), ("value", "http://" + value)])
            return sco, pattern, f"URL {value}"
        if kind in _HANDLE_KINDS:
            if kind == "handle":
                sco = self._sco(stix2.UserAccount, user_id=value).id
                return sco, _pattern("user-account", [("user_id", value)]), f"Handle @{value}"
            sco = self._sco(stix2.UserAccount, account_type=kind, user_id=value).id
            comparisons = [("account_type", kind), ("user_id", value)]
            return sco, _pattern("user-account", comparisons, conjunction=True), f"{kind} account {value}"
        return None  # photos, names, wording, phone numbers: evidence, but no STIX observable

    # -- campaigns -----------------------------------------------------------------------------------

    def add_campaign(self, campaign: Campaign) -> None:
        first = utc(campaign.first_seen) or self.now
        last = utc(campaign.last_seen) or first
        threat = campaign.category in THREAT_EXPORT_CATEGORIES
        campaign_ref = self._put(
            stix2.Campaign(
                id=self._id("campaign", campaign.campaign_id),
                name=f"lurewatch campaign {bounded(campaign.campaign_id, 100, one_line=True)}",
                description=_campaign_description(campaign),
                first_seen=first,
                last_seen=last,
                **self._common(first, last),
            )
        ).id
        personas = {p.account_id: p for p in campaign.personas}
        persona_ids: dict[str, str] = {}
        sco_ids: list[str] = []
        indicators: list[str | None] = []
        for account in campaign.account_ids:
            persona = personas.get(account) or CampaignPersona(account_id=account)
            p_first = utc(persona.first_seen) or first
            p_last = utc(persona.last_seen) or p_first
            name = bounded(persona.name, 300, one_line=True)
            platform = account_platform(account)
            accounts = self._account(account, name, platform)
            sco_ids += accounts
            ref = self._persona(
                account,
                name or bounded(split_key(account)[1], 300, one_line=True),
                campaign.category,
                p_first,
                p_last,
                _campaign_persona_description(persona),
            )
            persona_ids[account] = ref
            for sco in accounts:
                self._relate(ref, "related-to", sco, p_first, "operates this account")
            if threat:
                self._relate(campaign_ref, "attributed-to", ref, p_first)
                for indicator in self._account_indicators(
                    account, platform, name, campaign.category, p_first
                ):
                    indicators.append(indicator)
                    if indicator:
                        self._relate(indicator, "indicates", ref, p_first)
            else:
                self._relate(campaign_ref, "related-to", ref, p_first, "sent the campaign's messages")
        for link in campaign.links:
            made = self._observable(link.kind, link.value)
            if made is None:
                continue
            sco, pattern, label = made
            sco_ids.append(sco)
            if threat:
                indicator = self._indicator(pattern, label, campaign.category, first)
                indicators.append(indicator)
                for account in link.account_ids:
                    if account in persona_ids:
                        self._relate(indicator, "indicates", persona_ids[account], first)
        for org, _count in campaign.targets_by_org[:MAX_TARGET_ORGS]:
            org_name = bounded(org, 300, one_line=True)
            if not org_name:
                continue
            target = self._put(
                stix2.Identity(
                    id=self._id("identity", "organisation", org_name),
                    name=org_name,
                    identity_class="organization",
                    **self._common(first),
                )
            ).id
            self._relate(campaign_ref, "targets", target, first)
        if not sco_ids:
            return
        observed = self._put(
            stix2.ObservedData(
                id=self._id("observed-data", "campaign", campaign.campaign_id),
                first_observed=first,
                last_observed=last,
                number_observed=max(1, len(campaign.message_ids)),
                object_refs=list(dict.fromkeys(sco_ids)),
                **self._common(first, last),
            )
        ).id
        for indicator in dict.fromkeys(i for i in indicators if i):
            self._relate(indicator, "indicates", campaign_ref, first)
            self._relate(indicator, "based-on", observed, first)
            self._sight(indicator, observed, first, last, len(campaign.message_ids))


def _pattern(sco_type: str, comparisons: list[tuple[str, str]], *, conjunction: bool = False) -> str:
    """``[type:prop = 'value' AND|OR ...]`` with every value escaped as a STIX string literal."""
    terms = [
        EqualityComparisonExpression(ObjectPath(sco_type, [prop]), StringConstant(value))
        for prop, value in comparisons
    ]
    if len(terms) == 1:
        return str(ObservationExpression(terms[0]))
    joined = AndBooleanExpression(terms) if conjunction else OrBooleanExpression(terms)
    return str(ObservationExpression(joined))


def _persona_description(account: Any) -> str:
    parts = []
    if account.headline:
        parts.append(f"Headline: {bounded(account.headline, 500, one_line=True)}")
    if account.company:
        parts.append(f"Claims to work for: {bounded(account.company, 300, one_line=True)}")
    if account.location:
        parts.append(f"Location shown: {bounded(account.location, 200, one_line=True)}")
    parts.append(f"Account: {bounded(account.key, 300, one_line=True)}")
    return bounded("\n".join(parts), MAX_DESCRIPTION_CHARS)


def _campaign_persona_description(persona: CampaignPersona) -> str:
    parts = [f"Account: {bounded(persona.account_id, 300, one_line=True)}"]
    if persona.headline:
        parts.append(f"Headline: {bounded(persona.headline, 500, one_line=True)}")
    if persona.company:
        parts.append(f"Claims to work for: {bounded(persona.company, 300, one_line=True)}")
    parts.append(f"{persona.messages:,} messages to {persona.recipients:,} recipients")
    return bounded("\n".join(parts), MAX_DESCRIPTION_CHARS)


def _campaign_description(campaign: Campaign) -> str:
    lines = [
        f"lurewatch found {len(campaign.message_ids):,} messages from {len(campaign.account_ids):,} accounts "
        f"to {len(campaign.recipient_ids):,} recipients, classed as {campaign.category.value} "
        f"(risk {campaign.risk:.2f}, {campaign.severity}).",
    ]
    if campaign.targets_by_sector:
        lines.append(
            "Sectors targeted: "
            + ", ".join(f"{bounded(s, 60, one_line=True)} ({n})" for s, n in campaign.targets_by_sector[:10])
        )
    if campaign.links:
        lines.append("Why these accounts belong together:")
        for link in campaign.links[:30]:
            lines.append(
                f"- {link.kind} {bounded(link.value, 200, one_line=True)}: "
                f"{bounded(link.explanation, 300, one_line=True)}"
            )
    if campaign.exemplar_text:
        lines.append("Exemplar message (excerpt):")
        lines.append(bounded(campaign.exemplar_text, 1000))
    return bounded("\n".join(lines), MAX_DESCRIPTION_CHARS)


__all__ = [
    "ID_NAMESPACE",
    "TLP2_EXTENSION_ID",
    "TLP2_MARKINGS",
    "stable_id",
    "stix_bundle",
    "tlp2_marking",
]
