"""The JSON API's response and request bodies: the OpenAPI schema is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "analyst", "reporter"]


class Me(BaseModel):
    username: str
    role: Role
    #: send this in the X-CSRF-Token header of every POST, PATCH and DELETE
    csrf_token: str
    expires_at: datetime


class LoginBody(BaseModel):
    model_config = ConfigDict(strict=True)

    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    #: the value of the lurewatch_login_csrf cookie that GET /api/login-token set
    csrf_token: str = Field(default="", max_length=128)


class LoginToken(BaseModel):
    csrf_token: str


class EvidenceOut(BaseModel):
    field: str
    text: str
    start: int
    end: int
    message_index: int | None


class SignalOut(BaseModel):
    id: str
    title: str
    weight: float
    sources: list[str]
    evidence: list[EvidenceOut]


class Segment(BaseModel):
    """A piece of a message's text; ``signals`` names the indicators whose evidence covers it."""

    text: str
    signals: list[str]


class MessageOut(BaseModel):
    id: str
    sender_key: str
    sent_at: datetime | None
    inbound: bool
    subject: str
    text: str
    segments: list[Segment]


class AccountOut(BaseModel):
    key: str
    name: str
    profile_url: str | None = None
    email: str | None = None
    headline: str | None = None
    company: str | None = None
    location: str | None = None
    sector: str | None = None


class NoteOut(BaseModel):
    author: str
    text: str
    created_at: datetime


class CaseOut(BaseModel):
    status: str
    verdict: str | None
    assignee: str | None
    reporters: list[str]
    notes: list[NoteOut]
    updated_at: datetime | None


class ApproachOut(BaseModel):
    id: str
    category: str
    risk: float
    severity: str
    channel: str
    sent_at: datetime | None
    sender: AccountOut
    recipient: AccountOut
    sender_is_connection: bool | None
    language: str | None
    persona: str | None
    category_scores: dict[str, float]
    signals: list[SignalOut]
    advice: list[str]
    messages: list[MessageOut]
    case: CaseOut | None
    campaigns: list[str]


class InboxRowOut(BaseModel):
    id: str
    category: str
    risk: float
    severity: str
    sender_name: str
    sender_key: str
    recipient_name: str
    recipient_key: str
    recipient_sector: str | None
    channel: str
    sent_at: datetime | None
    top_signals: str
    status: str
    verdict: str | None
    assignee: str | None


class InboxOut(BaseModel):
    rows: list[InboxRowOut]
    offset: int
    limit: int
    has_more: bool
    filters: dict[str, str | float | None]
    facets: dict[str, list[str]]


class ReportText(BaseModel):
    model_config = ConfigDict(strict=True)

    text: str = Field(min_length=1, max_length=1_000_000)


class ReportOut(BaseModel):
    added: int
    merged: int
    approaches: list[ApproachOut]


class CaseChange(BaseModel):
    model_config = ConfigDict(strict=True)

    status: Literal["new", "triaged", "closed"] | None = None
    verdict: str | None = Field(default=None, max_length=32)
    #: a username, or "" to unassign
    assignee: str | None = Field(default=None, max_length=64)


class NoteIn(BaseModel):
    model_config = ConfigDict(strict=True)

    text: str = Field(min_length=1, max_length=20_000)


class CampaignSummaryOut(BaseModel):
    campaign_id: str
    category: str
    risk: float
    severity: str
    messages: int
    accounts: int
    recipients: int
    first_seen: str | None
    last_seen: str | None
    exemplar_text: str
    source: str
    found_at: str


class CampaignListOut(BaseModel):
    campaigns: list[CampaignSummaryOut]


class CampaignOut(BaseModel):
    """A stored campaign in the form ``lurewatch campaigns --json`` prints (see the README)."""

    model_config = ConfigDict(extra="allow")

    campaign_id: str
    category: str
    risk: float
    severity: str
    message_ids: list[str]
    account_ids: list[str]
    recipient_ids: list[str]
    links: list[dict[str, Any]]
    personas: list[dict[str, Any]]
    timeline: list[Any]
    source: str
    found_at: str


class SettingOut(BaseModel):
    name: str
    env: str
    value: str
    description: str


class AuditOut(BaseModel):
    id: int
    at: datetime
    username: str | None
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any]


class SettingsOut(BaseModel):
    version: str
    workspace: str
    counts: dict[str, int]
    settings: list[SettingOut]
    audit: list[AuditOut]


class UserOut(BaseModel):
    username: str
    role: Role
    created_at: datetime
    disabled: bool


class UsersOut(BaseModel):
    users: list[UserOut]


class UserIn(BaseModel):
    model_config = ConfigDict(strict=True)

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
    password: str = Field(min_length=10, max_length=1024)
    role: Role = "reporter"


class UserChange(BaseModel):
    model_config = ConfigDict(strict=True)

    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=1024)


class OwnersOut(BaseModel):
    """``screening``: the record of ``lurewatch owners screen --json``; ``graph``: nodes, edges and flagged
    paths as :func:`lurewatch.owners.screen.graph_view` gives them."""

    screening: dict[str, Any]
    graph: dict[str, Any]


class Problem(BaseModel):
    detail: str
