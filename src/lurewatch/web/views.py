"""What each page shows, built once for both the HTML page and its JSON twin.

Pure functions from the data model (and the store's rows) to the API's pydantic models; the routers
only fetch, check permissions and render.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from lurewatch.model import Account, Approach, Assessment, CaseState, Signal
from lurewatch.store.cases import InboxPage
from lurewatch.web import schemas

#: Most characters of one message shown on a page (the stored text may be longer).
MAX_SHOWN_CHARS = 100_000


def segments(text: str, message_index: int, signals: Sequence[Signal]) -> list[schemas.Segment]:
    """``text`` cut where evidence spans start and end, each piece naming the signals covering it.

    Spans are offsets into the message's text (``message[i].text`` evidence); spans in other fields
    (subject, profile) are listed with their signal but not highlighted here.
    """
    text = text[:MAX_SHOWN_CHARS]
    field = f"message[{message_index}].text"
    spans: list[tuple[int, int, str]] = []
    for signal in signals:
        for ev in signal.evidence:
            if ev.field == field and ev.message_index == message_index:
                start, end = max(0, ev.start), min(len(text), ev.end)
                if start < end:
                    spans.append((start, end, signal.indicator_id))
    if not spans:
        return [schemas.Segment(text=text, signals=[])] if text else []
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[schemas.Segment] = []
    for lo, hi in pairwise(cuts):
        covering = sorted({sid for s, e, sid in spans if s <= lo and hi <= e})
        piece = text[lo:hi]
        if out and out[-1].signals == covering:
            out[-1].text += piece
        else:
            out.append(schemas.Segment(text=piece, signals=covering))
    return out


def account_out(account: Account) -> schemas.AccountOut:
    return schemas.AccountOut(
        key=account.key,
        name=account.name,
        profile_url=account.profile_url,
        email=account.email,
        headline=account.headline,
        company=account.company,
        location=account.location,
        sector=account.sector,
    )


def case_out(state: CaseState | None) -> schemas.CaseOut | None:
    if state is None:
        return None
    return schemas.CaseOut(
        status=state.status,
        verdict=state.verdict,
        assignee=state.assignee,
        reporters=list(state.reporters),
        notes=[schemas.NoteOut(author=n.author, text=n.text, created_at=n.created_at) for n in state.notes],
        updated_at=state.updated_at,
    )


def approach_out(
    approach: Approach,
    assessment: Assessment,
    state: CaseState | None,
    campaigns: Sequence[str] = (),
) -> schemas.ApproachOut:
    signals = assessment.signals
    return schemas.ApproachOut(
        id=approach.id,
        category=assessment.category.value,
        risk=round(_finite(assessment.risk), 4),
        severity=assessment.severity,
        channel=approach.channel.value,
        sent_at=approach.sent_at,
        sender=account_out(approach.sender),
        recipient=account_out(approach.recipient),
        sender_is_connection=approach.sender_is_connection,
        language=assessment.language,
        persona=assessment.persona,
        category_scores={c.value: round(_finite(v), 4) for c, v in assessment.category_scores.items()},
        signals=[
            schemas.SignalOut(
                id=s.indicator_id,
                title=s.title,
                weight=round(_finite(s.weight), 4),
                sources=list(s.sources),
                evidence=[
                    schemas.EvidenceOut(
                        field=e.field, text=e.text, start=e.start, end=e.end, message_index=e.message_index
                    )
                    for e in s.evidence
                ],
            )
            for s in signals
        ],
        advice=list(assessment.advice),
        messages=[
            schemas.MessageOut(
                id=m.id,
                sender_key=m.sender_key,
                sent_at=m.sent_at,
                inbound=m.inbound,
                subject=m.subject,
                text=m.text[:MAX_SHOWN_CHARS],
                segments=segments(m.text, i, signals),
            )
            for i, m in enumerate(approach.conversation.messages)
        ],
        case=case_out(state),
        campaigns=list(campaigns),
    )


def inbox_out(page: InboxPage, filters: dict[str, Any], facets: dict[str, list[str]]) -> schemas.InboxOut:
    return schemas.InboxOut(
        rows=[
            schemas.InboxRowOut(
                id=r.id,
                category=r.category,
                risk=round(_finite(r.risk), 4),
                severity=r.severity,
                sender_name=r.sender_name,
                sender_key=r.sender_key,
                recipient_name=r.recipient_name,
                recipient_key=r.recipient_key,
                recipient_sector=r.recipient_sector,
                channel=r.channel,
                sent_at=r.sent_at,
                top_signals=r.top_signals,
                status=r.status,
                verdict=r.verdict,
                assignee=r.assignee,
            )
            for r in page.rows
        ],
        offset=page.offset,
        limit=page.limit,
        has_more=page.has_more,
        filters=filters,
        facets=facets,
    )


def campaign_summary(record: dict[str, Any]) -> schemas.CampaignSummaryOut:
    return schemas.CampaignSummaryOut(
        campaign_id=str(record.get("campaign_id", "")),
        category=str(record.get("category", "")),
        risk=_finite(float(record.get("risk", 0.0))),
        severity=str(record.get("severity", "")),
        messages=len(record.get("message_ids") or ()),
        accounts=len(record.get("account_ids") or ()),
        recipients=len(record.get("recipient_ids") or ()),
        first_seen=record.get("first_seen"),
        last_seen=record.get("last_seen"),
        exemplar_text=exemplar_text(record)[:500],
        source=str(record.get("source", "")),
        found_at=str(record.get("found_at", "")),
    )


def exemplar_text(record: dict[str, Any]) -> str:
    exemplar = record.get("exemplar")
    return str(exemplar.get("text") or "") if isinstance(exemplar, dict) else ""


# -- pictures ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    max_count: int
    first: str
    last: str


def timeline_chart(timeline: Iterable[Any], width: int = 720, height: int = 160) -> Chart:
    """Bars of messages per day, for an inline SVG (no script, so nothing in the data can run)."""
    days = [(str(d.get("date", "")), int(d.get("messages", 0))) for d in timeline if isinstance(d, dict)][
        :2000
    ]
    if not days:
        return Chart(width, height, (), 0, "", "")
    top = max(c for _, c in days) or 1
    step = width / len(days)
    plot = height - 20
    bars = tuple(
        Bar(
            x=round(i * step, 2),
            y=round(plot - plot * c / top, 2),
            width=round(max(step - 1, 1), 2),
            height=round(plot * c / top, 2),
            label=day,
            count=c,
        )
        for i, (day, c) in enumerate(days)
    )
    return Chart(width, height, bars, top, days[0][0], days[-1][0])


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    label: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    kind: str
    title: str


@dataclass(frozen=True, slots=True)
class LinkPicture:
    size: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    kinds: tuple[str, ...]


def link_picture(record: dict[str, Any], size: int = 520, max_nodes: int = 60) -> LinkPicture:
    """The campaign's accounts on a circle, joined by the evidence that links them (one colour a kind)."""
    personas = {
        str(p.get("account_id")): str(p.get("name") or p.get("account_id"))
        for p in record.get("personas") or ()
    }
    accounts = [str(a) for a in (record.get("account_ids") or ())][:max_nodes]
    if not accounts:
        return LinkPicture(size, (), (), ())
    centre, radius = size / 2, size / 2 - 60
    place: dict[str, Node] = {}
    for i, acc in enumerate(accounts):
        angle = 2 * math.pi * i / len(accounts) - math.pi / 2
        place[acc] = Node(
            id=acc,
            label=personas.get(acc, acc)[:40],
            x=round(centre + radius * math.cos(angle), 1),
            y=round(centre + radius * math.sin(angle), 1),
        )
    edges: list[Edge] = []
    kinds: list[str] = []
    for link in record.get("links") or ():
        kind = str(link.get("kind", ""))
        members = [str(a) for a in (link.get("account_ids") or ()) if str(a) in place]
        if kind not in kinds:
            kinds.append(kind)
        # A star from the first account keeps the picture readable for a value shared by many.
        hub = members[0] if members else None
        for other in members[1:]:
            a, b = place[hub], place[other]  # type: ignore[index]
            edges.append(Edge(a.x, a.y, b.x, b.y, kind, f"{kind}: {str(link.get('value', ''))[:80]}"))
            if len(edges) >= 400:
                break
    return LinkPicture(size, tuple(place.values()), tuple(edges), tuple(kinds))


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


# -- ownership graph -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnerNode:
    id: str
    label: str
    kind: str
    x: float
    y: float
    subject: bool
    flagged: bool
    share: str


@dataclass(frozen=True, slots=True)
class OwnerEdge:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    flagged: bool
    control_only: bool
    title: str


@dataclass(frozen=True, slots=True)
class OwnershipPicture:
    width: int
    height: int
    nodes: tuple[OwnerNode, ...]
    edges: tuple[OwnerEdge, ...]
    hidden: int


def _share_text(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return ""
    if abs(hi - lo) < 1e-6:
        return f"{lo:.4g}%"
    return f"{lo:.4g}-{hi:.4g}%"


def ownership_picture(view: dict[str, Any], max_nodes: int = 60, width: int = 960) -> OwnershipPicture:
    """The subject at the bottom and its owners in layers above it (one layer per step up the chain),
    edges from holder down to held, flagged paths marked; only the subject's owners are drawn."""
    subject = str(view.get("subject", ""))
    nodes = {str(n["id"]): n for n in view.get("nodes") or ()}
    holders: dict[str, list[dict[str, Any]]] = {}
    for e in view.get("edges") or ():
        holders.setdefault(str(e["target"]), []).append(e)
    flagged_edges = {
        (str(a), str(b)) for f in view.get("flagged_paths") or () for a, b in f.get("edges") or ()
    }
    flagged_nodes = {n for pair in flagged_edges for n in pair}
    layer = {subject: 0}
    queue = [subject]
    while queue and len(layer) < max_nodes:
        held = queue.pop(0)
        for e in holders.get(held, ()):
            src = str(e["source"])
            if src not in layer and len(layer) < max_nodes:
                layer[src] = layer[held] + 1
                queue.append(src)
    reachable = set(layer)
    queue = [subject]
    while queue:
        held = queue.pop()
        for e in holders.get(held, ()):
            src = str(e["source"])
            if src not in reachable:
                reachable.add(src)
                queue.append(src)
    depth = max(layer.values()) if layer else 0
    rows: dict[int, list[str]] = {}
    for node, d in layer.items():
        rows.setdefault(d, []).append(node)
    row_height = 110
    height = (depth + 1) * row_height + 40
    placed: dict[str, OwnerNode] = {}
    for d, members in rows.items():
        members.sort()
        step = width / (len(members) + 1)
        for i, node in enumerate(members):
            info = nodes.get(node, {})
            placed[node] = OwnerNode(
                id=node,
                label=str(info.get("name") or node)[:34],
                kind=str(info.get("kind") or "entity"),
                x=round(step * (i + 1), 1),
                y=round(height - 40 - d * row_height, 1),
                subject=node == subject,
                flagged=node in flagged_nodes or bool(info.get("matched")),
                share=_share_text(info.get("share_min"), info.get("share_max"))
                if info.get("ultimate_owner")
                else "",
            )
    edges = []
    for held, incoming in holders.items():
        for e in incoming:
            src = str(e["source"])
            if src in placed and held in placed:
                a, b = placed[src], placed[held]
                share = _share_text(e.get("share_min"), e.get("share_max"))
                control = ", ".join(str(c) for c in e.get("control") or ())
                edges.append(
                    OwnerEdge(
                        a.x,
                        a.y,
                        b.x,
                        b.y,
                        label=share or control[:24],
                        flagged=(src, held) in flagged_edges,
                        control_only=not share,
                        title=f"{a.label} → {b.label}: {share or 'no shares'}{'; ' + control if control else ''}"
                        + ("; circular" if e.get("cycle") else ""),
                    )
                )
    return OwnershipPicture(width, height, tuple(placed.values()), tuple(edges), len(reachable) - len(placed))
