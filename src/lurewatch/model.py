"""The one data model every part of lurewatch shares.

Plain frozen dataclasses: parsers produce them, the screening engine reads them, the store persists
them and the CLI / web render them. Nothing here touches files, databases or frameworks.
"""

from __future__ import annotations

import hashlib
import operator
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class Channel(StrEnum):
    LINKEDIN_MESSAGE = "linkedin_message"
    LINKEDIN_INMAIL = "linkedin_inmail"
    LINKEDIN_INVITATION = "linkedin_invitation"
    EMAIL = "email"
    PASTED = "pasted"


class Category(StrEnum):
    STATE_APPROACH = "state_approach"
    MALWARE_LURE = "malware_lure"
    SCAM = "scam"
    COMMERCIAL = "commercial"
    BENIGN = "benign"


#: Categories whose probability makes up the headline risk score.
THREAT_CATEGORIES: frozenset[Category] = frozenset({Category.STATE_APPROACH, Category.MALWARE_LURE})


def severity_of(risk: float) -> str:
    """The severity band of a risk: high from 0.7, medium from 0.4, else low."""
    if risk >= 0.7:
        return "high"
    if risk >= 0.4:
        return "medium"
    return "low"


def _pickled_as_tuple(cls: type[T]) -> type[T]:
    """Pickle ``cls`` as its constructor and a tuple of its fields.

    Approaches and assessments cross process boundaries by the thousand when scoring runs in worker
    processes; the dataclass default (a state dict built through ``dataclasses.fields`` per object)
    made that transfer cost as much as the scoring.
    """
    values = operator.attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]

    def __reduce__(self: T) -> tuple[type[T], tuple[object, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]
    return cls


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Account:
    """A person or persona on one channel, keyed by a normalised handle.

    ``key`` is ``linkedin:<slug>`` for LinkedIn profiles, ``email:<address>`` for e-mail senders and
    ``name:<normalised name>`` when nothing better is visible (see :mod:`lurewatch.identity`).
    """

    key: str
    name: str = ""
    profile_url: str | None = None
    email: str | None = None
    headline: str | None = None
    company: str | None = None
    location: str | None = None
    connections: int | None = None
    account_age_days: int | None = None
    #: what the recipient could see of the photo: stock, model-like, ai-generated, real, none, unknown
    photo: str | None = None
    #: sector of the person (recipients): ai, quantum, biotech, ... (corpus vocabulary)
    sector: str | None = None


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Message:
    id: str
    conversation_id: str
    sender_key: str
    sent_at: datetime | None
    text: str
    subject: str = ""
    #: True when the message was received by the workspace person (the export owner / recipient)
    inbound: bool = True
    recipient_keys: tuple[str, ...] = ()
    channel: Channel = Channel.LINKEDIN_MESSAGE
    folder: str | None = None
    attachments: tuple[str, ...] = ()


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    messages: tuple[Message, ...]
    title: str = ""
    channel: Channel = Channel.LINKEDIN_MESSAGE

    @property
    def started_at(self) -> datetime | None:
        return self.messages[0].sent_at if self.messages else None


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Approach:
    """An inbound first contact (message, InMail, invitation note, e-mail) with its whole thread."""

    id: str
    sender: Account
    recipient: Account
    conversation: Conversation
    channel: Channel
    #: whether the sender is among the recipient's connections; None when unknown
    sender_is_connection: bool | None = None
    #: file or stream the approach came from (for display and provenance only)
    source: str = ""
    #: ground-truth label when the input carries one (the labelled corpus)
    label: Category | None = None

    @property
    def first_message(self) -> Message:
        return self.conversation.messages[0]

    @property
    def sent_at(self) -> datetime | None:
        return self.conversation.started_at

    @property
    def fingerprint(self) -> str:
        """Stable content identity: the same approach imported twice has the same fingerprint."""
        h = hashlib.sha256()
        for part in (self.channel.value, self.sender.key, self.recipient.key):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        for m in self.conversation.messages:
            h.update((m.sent_at.isoformat() if m.sent_at else "").encode())
            h.update(b"\x00")
            h.update(m.sender_key.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
            h.update(m.subject.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
            h.update(m.text.encode("utf-8", "surrogatepass"))
            h.update(b"\x01")
        return h.hexdigest()


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Evidence:
    """Where an indicator fired: a field (``message[2].text``, ``sender.headline``) and a span in it."""

    field: str
    text: str
    start: int = 0
    end: int = 0
    message_index: int | None = None


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Signal:
    """An indicator of the catalogue that fired, with what triggered it and the sources it implements."""

    indicator_id: str
    title: str
    weight: float
    evidence: tuple[Evidence, ...]
    sources: tuple[str, ...] = ()
    supports: tuple[Category, ...] = ()

    @property
    def first_evidence(self) -> str:
        return self.evidence[0].text if self.evidence else ""


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Assessment:
    approach_id: str
    category: Category
    #: probability-like score in [0, 1] that the approach is a state approach or a malware lure
    risk: float
    signals: tuple[Signal, ...]
    advice: tuple[str, ...]
    category_scores: dict[Category, float] = field(default_factory=dict)
    catalogue_version: str = ""
    #: index of the message at which the risk first rose above the alert threshold, if it did
    risk_rose_at: int | None = None
    #: the words of the approach the text model weighed most towards its category, with their weight
    model_terms: tuple[tuple[str, float], ...] = ()
    #: version of the text model that scored it ("" when the rules alone did)
    model_version: str = ""
    #: the rule engine's own risk, before the text model combined it with the wording
    rule_risk: float | None = None
    #: ISO 639-1 code of the inbound text's language ("und" when too short or unclear); None when
    #: not determined (assessments stored before languages were detected)
    language: str | None = None
    #: the kind of sender the approach presents as (one of lurewatch.screen.persona.PERSONAS), or None
    persona: str | None = None

    @property
    def severity(self) -> str:
        return severity_of(self.risk)


@dataclass(slots=True)
class IngestStats:
    """What a parser saw and set aside, so nothing is silently lost."""

    rows_read: int = 0
    messages: int = 0
    invitations: int = 0
    sponsored_filtered: int = 0
    system_filtered: int = 0
    drafts_dropped: int = 0
    outbound_skipped: int = 0
    empty_skipped: int = 0
    connections: int = 0
    truncated_fields: int = 0  # text cut at Settings.max_field_chars
    messages_dropped: int = 0  # past Settings.max_messages_per_conversation; not in ``messages``
    too_large_skipped: int = 0  # e-mails over Settings.max_email_bytes, skipped unread

    def merge(self, other: IngestStats) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class CampaignLink:
    """Why members of a campaign were joined: one shared value and the accounts (or messages) sharing it.

    ``kind`` is the evidence: ``photo_hash``, ``photo_hash_near``, ``email``, ``phone``, ``wechat``,
    ``whatsapp``, ``telegram``, ``signal``, ``handle``, ``url``, ``domain``, ``name_company`` (the same
    normalised name claiming the same company), ``name_text`` (the same name sending near-identical
    wording) or ``text`` (near-identical messages, which join messages, not accounts).
    """

    kind: str
    value: str
    weight: float
    account_ids: tuple[str, ...] = ()
    message_count: int = 0
    explanation: str = ""


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class CampaignPersona:
    """One account of a campaign, with what it claimed and how widely it wrote."""

    account_id: str
    name: str = ""
    company: str | None = None
    headline: str | None = None
    location: str | None = None
    photo_hash: str | None = None
    messages: int = 0
    recipients: int = 0
    sensitive_recipients: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Campaign:
    """Approaches that belong together: one operator's messages, across the personas it used."""

    campaign_id: str
    category: Category
    #: mean risk of the screened members (see lurewatch.campaigns.engine for the sample)
    risk: float
    message_ids: tuple[str, ...]
    account_ids: tuple[str, ...]
    recipient_ids: tuple[str, ...]
    links: tuple[CampaignLink, ...]
    personas: tuple[CampaignPersona, ...] = ()
    #: sender and recipient of each of ``message_ids``, in the same order
    member_accounts: tuple[str, ...] = ()
    member_recipients: tuple[str, ...] = ()
    category_scores: dict[Category, float] = field(default_factory=dict)
    #: distinct recipients per sector, most targeted first ("" when the stream gave none)
    targets_by_sector: tuple[tuple[str, int], ...] = ()
    targets_by_org: tuple[tuple[str, int], ...] = ()
    #: share of recipients with a known sector who work in a sensitive one
    sensitive_share: float = 0.0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    #: messages per day (ISO date, count)
    timeline: tuple[tuple[str, int], ...] = ()
    #: most messages sent within one burst window, and that window in seconds
    max_burst: int = 0
    burst_window_s: int = 3600
    exemplar_message_id: str = ""
    exemplar_text: str = ""
    #: groups of near-identical wording among the members
    templates: int = 0
    screened: int = 0

    @property
    def severity(self) -> str:
        return severity_of(self.risk)


#: What an analyst can conclude about an approach (besides naming the category it should have had).
CASE_VERDICTS: tuple[str, ...] = ("confirmed", "benign", "false_positive")
#: Where a case stands in triage.
CASE_STATUSES: tuple[str, ...] = ("new", "triaged", "closed")


@dataclass(frozen=True, slots=True)
class CaseNote:
    """A free-text note an analyst added to a case."""

    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CaseState:
    """The triage state of one approach: who reported it, who handles it, and what they concluded."""

    approach_id: str
    status: str = "new"
    #: one of :data:`CASE_VERDICTS` or a :class:`Category` value; ``None`` until someone decides
    verdict: str | None = None
    assignee: str | None = None
    #: users who reported this message (duplicate reports of the same message merge into one case)
    reporters: tuple[str, ...] = ()
    notes: tuple[CaseNote, ...] = ()
    updated_at: datetime | None = None


# ==================================================================================================
# Ownership (issue 6): who owns and controls a company, as loaded from BODS, PSC, FtM or CSV.


class PartyKind(StrEnum):
    PERSON = "person"
    ENTITY = "entity"
    STATE = "state"


#: Interest types (BODS 0.4 ``interestType`` codes) that carry an economic share: they make up ownership.
OWNERSHIP_INTERESTS: frozenset[str] = frozenset({"shareholding"})
#: Interest types whose nature is not known: possibly ownership of anywhere between 0% and 100%.
UNKNOWN_INTERESTS: frozenset[str] = frozenset({"unknownInterest", "unpublishedInterest", ""})


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Entity:
    """A company, arrangement, state or state body.

    ``entity_type`` is the BODS 0.4 entity type (``registeredEntity``, ``legalEntity``, ``arrangement``,
    ``anonymousEntity``, ``unknownEntity``, ``state``, ``stateBody``); ``subtype`` its BODS subtype
    (``trust``, ``nomination``, ``governmentDepartment``, ``stateOwnedEnterprise``, ...).
    ``identifiers`` are ``(scheme, value)`` pairs with org-id.guide schemes (``GB-COH``, ``XI-LEI``,
    ``CN-USCC``); ``topics`` are FollowTheMoney topics (``gov.soe``, ``sanction``, ``mil``, ...).
    """

    id: str
    name: str
    entity_type: str = "registeredEntity"
    subtype: str = ""
    jurisdiction: str = ""
    identifiers: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    #: True when its shares are listed on a public market (BODS ``publicListing.hasPublicListing``)
    publicly_listed: bool = False
    #: PSC statements and BODS unspecified reasons about its owners ("no-individual-or-entity-...")
    statements: tuple[str, ...] = ()
    source: str = ""

    @property
    def kind(self) -> PartyKind:
        if self.entity_type in {"state", "stateBody"}:
            return PartyKind.STATE
        return PartyKind.ENTITY


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Person:
    """A natural person. ``person_type`` is BODS ``knownPerson``, ``anonymousPerson`` or ``unknownPerson``."""

    id: str
    name: str
    person_type: str = "knownPerson"
    nationalities: tuple[str, ...] = ()
    #: ``YYYY`` or ``YYYY-MM`` (registers publish no more than month and year)
    birth_date: str = ""
    jurisdiction: str = ""
    identifiers: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    source: str = ""

    @property
    def kind(self) -> PartyKind:
        return PartyKind.PERSON


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Interest:
    """``party_id`` holds an interest in ``subject_id``: a share of the ownership (an interval in percent,
    because registers publish bands such as 25-50%) or a form of control.

    ``interest_type`` is a BODS 0.4 ``interestType`` code: ``shareholding`` is ownership (see
    :data:`OWNERSHIP_INTERESTS`), ``votingRights``, ``appointmentOfBoard``, ``otherInfluenceOrControl``,
    ``boardMember``, ``nominee``, ``trustee`` and the rest are control, kept apart from ownership.
    A missing share is ``None`` (unknown: 0-100%).
    """

    subject_id: str
    party_id: str
    interest_type: str
    share_min: float | None = None
    share_max: float | None = None
    direct: bool = True
    start_date: str = ""
    end_date: str = ""
    details: str = ""
    source: str = ""

    @property
    def is_ownership(self) -> bool:
        return self.interest_type in OWNERSHIP_INTERESTS or self.interest_type in UNKNOWN_INTERESTS

    @property
    def share(self) -> tuple[float, float]:
        """The share as a closed interval in percent; an unknown share is (0, 100)."""
        lo = 0.0 if self.share_min is None else self.share_min
        hi = 100.0 if self.share_max is None else self.share_max
        return lo, hi


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Path:
    """A chain of interests from the screened subject up to a party, one step per edge.

    ``nodes[0]`` is the subject and ``nodes[-1]`` the party; ``steps[i]`` describes the edge from
    ``nodes[i + 1]`` (holder) to ``nodes[i]`` (held): its share interval in percent and its control
    kinds. ``share_min``/``share_max`` are the product of the steps' shares (the party's effective
    ownership along this one path).
    """

    nodes: tuple[str, ...]
    steps: tuple[tuple[float, float, tuple[str, ...]], ...]
    share_min: float
    share_max: float
