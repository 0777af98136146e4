"""Campaign detection: which approaches belong together, which personas are one operator, whom they target.

The algorithm, on any :class:`~lurewatch.campaigns.backend.CampaignBackend`:

1. **Sketch** every message: normalised text (names, greetings, numbers, links masked), its exact key,
   MinHash LSH band keys and a b-bit verification sketch; and the contact keys in its text (e-mail,
   phone, WeChat / WhatsApp / Telegram / Signal handles, URLs and registered domains).
2. **Wording**: near-identical messages (exact keys first, then band collisions verified) are grouped.
3. **Evidence between accounts** (:data:`LINK_RULES`): accounts sharing a photo hash (identical, or
   a few bits apart), a contact key, a URL or a non-shared registered domain, or the same name
   (order, romanisation, initials and pinyin folded) together with the same claimed company and the
   same wording (each of those two alone is common among honest people, so they only count together). A value shared by more than ``max_accounts_per_key`` accounts is a stock value
   (a webmail domain, a default avatar, a platform's boilerplate), counted but not used.
   Text similarity on its own never joins two accounts: different operations reuse one script, and
   ordinary people send stock phrases, so wording joins accounts only together with a name.
4. **Groups**: connected components of accounts over links of weight at least ``link_threshold``.
5. **Candidates**: groups reaching at least ``min_recipients`` distinct recipients, through several
   accounts or through one wording repeated to that many people (fan-out).
6. **Screening**: a sample of each candidate (the earliest message of each wording, most repeated
   first, up to ``sample``) goes through the approach screener; each sampled message counts as many
   times as its wording was sent in the group. The campaign's category is the argmax of the weighted
   mean category scores (benign and commercial discounted for persona rotation: see
   :func:`_campaign_category`) and its risk the weighted mean risk. Campaigns of benign or commercial
   category (recruiter and sales sequences) are kept only with ``include_benign``.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from lurewatch.campaigns.backend import CampaignBackend, KeyRule, Progress, StreamSource
from lurewatch.model import (
    Account,
    Approach,
    Campaign,
    CampaignLink,
    CampaignPersona,
    Category,
    Channel,
    Conversation,
    Message,
)

LINK_RULES: dict[str, KeyRule] = {
    rule.kind: rule
    for rule in (
        KeyRule("photo_hash", 0.9, "the same profile photo (identical perceptual hash)"),
        KeyRule("photo_hash_near", 0.8, "nearly the same profile photo (perceptual hashes a few bits apart)"),
        KeyRule("email", 0.9, "the same e-mail address in their messages"),
        KeyRule("phone", 0.9, "the same phone number in their messages"),
        KeyRule("wechat", 0.9, "the same WeChat ID in their messages"),
        KeyRule("whatsapp", 0.9, "the same WhatsApp number in their messages"),
        KeyRule("telegram", 0.9, "the same Telegram handle in their messages"),
        KeyRule("signal", 0.9, "the same Signal contact in their messages"),
        KeyRule("handle", 0.7, "the same @handle in their messages"),
        KeyRule("url", 0.8, "the same link in their messages"),
        KeyRule("domain", 0.7, "links to the same registered domain (not a shared host)"),
        KeyRule("name_company", 0.5, "the same name, or a variant of it, claiming the same company"),
        KeyRule("name_text", 0.5, "the same name, or a variant of it, sending near-identical wording"),
    )
}
#: evidence kinds the contact extractor may emit that no rule names get this weight (below the default threshold)
UNKNOWN_KIND_WEIGHT = 0.5
THREAT_CAMPAIGN_CATEGORIES = frozenset({Category.STATE_APPROACH, Category.MALWARE_LURE, Category.SCAM})
_CHANNELS = {
    "inmail": Channel.LINKEDIN_INMAIL,
    "invitation": Channel.LINKEDIN_INVITATION,
    "email": Channel.EMAIL,
    "e-mail": Channel.EMAIL,
    "linkedin": Channel.LINKEDIN_MESSAGE,
    "message": Channel.LINKEDIN_MESSAGE,
}


@dataclass(frozen=True, slots=True)
class CampaignOptions:
    #: Jaccard similarity (of character 5-grams after normalisation) above which wording counts as the same
    threshold: float = 0.7
    #: fewest distinct recipients a group must reach to be a campaign
    min_recipients: int = 3
    #: links of at least this weight join accounts (see LINK_RULES)
    link_threshold: float = 0.6
    #: a value shared by more accounts than this is a stock value, not evidence
    max_accounts_per_key: int = 50
    #: photo hashes up to this many bits apart count as the same photo (0: identical only)
    photo_distance: int = 2
    #: messages screened per candidate campaign
    sample: int = 12
    #: window of the busiest-burst count, in seconds
    burst_window_s: int = 3600
    #: also report groups whose screening says benign or commercial (recruiter and sales sequences)
    include_benign: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        if self.min_recipients < 1 or self.sample < 1 or self.burst_window_s < 1:
            raise ValueError("min_recipients, sample and burst_window_s must be at least 1")
        if self.max_accounts_per_key < 2:
            raise ValueError("max_accounts_per_key must be at least 2")
        if not 0 <= self.photo_distance <= 16:
            raise ValueError("photo_distance must be between 0 and 16")


@dataclass(slots=True)
class CampaignRun:
    """What a run found, with the counts and stage times that explain it."""

    campaigns: list[Campaign]
    stats: dict[str, object] = field(default_factory=dict)


def find_campaigns(
    source: StreamSource,
    backend: CampaignBackend,
    screener: object,
    options: CampaignOptions | None = None,
    progress: Progress | None = None,
    screen_workers: int = 0,
) -> CampaignRun:
    """Run the whole algorithm over ``source`` on ``backend``; ``screener`` is a :class:`lurewatch.Screener`."""
    options = options or CampaignOptions()
    stats: dict[str, object] = {"backend": backend.name}
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        timings[stage] = round(now - t0, 3)
        t0 = now

    stats["messages"] = backend.ingest(source, progress)
    lap("sketch")
    _say(progress, "grouping wording")
    stats["wordings_repeated"] = backend.text_clusters(options.threshold)
    lap("text_clusters")
    _say(progress, "linking accounts")
    keys = backend.account_keys(options.max_accounts_per_key)
    photo = backend.photo_pairs(options.photo_distance)
    links, used = _links(keys, photo, options)
    stats["links_by_kind"] = dict(Counter(links.column("kind").to_pylist()))
    stats["stock_values_ignored"] = backend.common_keys
    lap("links")
    stats["account_groups"] = backend.assign_groups(links)
    summaries = backend.group_summaries(
        options.min_recipients, options.burst_window_s, options.max_accounts_per_key
    )
    candidates = _candidates(summaries, options)
    stats["candidates"] = len(candidates)
    lap("groups")
    _say(progress, f"screening {len(candidates):,} candidate groups")
    verdicts = _screen(backend, summaries, candidates, screener, options, screen_workers, progress)
    lap("screening")
    kept = [g for g in candidates if options.include_benign or verdicts[g][0] in THREAT_CAMPAIGN_CATEGORIES]
    members = backend.group_messages(kept) if kept else None
    campaigns = _build(kept, members, summaries, used, verdicts, backend, options)
    lap("report")
    stats["campaigns"] = len(campaigns)
    stats["seconds"] = timings
    return CampaignRun(campaigns, stats)


def _say(progress: Progress | None, stage: str) -> None:
    if progress:
        progress(stage, 0, None)


def _links(keys: pa.Table, photo: pa.Table, options: CampaignOptions) -> tuple[pa.Table, list[CampaignLink]]:
    """Account pairs to join, and the shared values that joined them.

    A value whose rule weight reaches ``link_threshold`` joins its accounts on its own (as a star: the
    first account to each other, which gives the same components with linearly many edges). Weaker
    values join a pair of accounts only together: per pair, the weights of the different kinds they
    share are combined by noisy-OR (``1 - prod(1 - w)``), so a shared name with a shared company (0.5
    each) reaches 0.75, while either alone does not.
    """
    a: list[str] = []
    b: list[str] = []
    kinds: list[str] = []
    used: list[CampaignLink] = []
    weak_values: list[tuple[str, str, float, list[str]]] = []
    weak_messages: list[int] = []
    for kind, value, accounts, messages in zip(
        keys.column("kind").to_pylist(),
        keys.column("value").to_pylist(),
        keys.column("accounts").to_pylist(),
        keys.column("messages").to_pylist(),
        strict=True,
    ):
        rule = LINK_RULES.get(kind)
        weight = rule.weight if rule else UNKNOWN_KIND_WEIGHT
        if weight >= options.link_threshold:
            root = accounts[0]
            for other in accounts[1:]:
                a.append(root)
                b.append(other)
                kinds.append(kind)
            used.append(_link(kind, value, weight, accounts, messages))
        else:
            weak_values.append((kind, value, weight, accounts))
            weak_messages.append(messages)
    joined, contributing = _combine_weak(weak_values, options.link_threshold)
    for x, y, held in joined:
        a.append(x)
        b.append(y)
        kinds.append("+".join(sorted(held)))
    used.extend(
        _link(kind, value, weight, accounts, messages)
        for (kind, value, weight, accounts), messages in zip(weak_values, weak_messages, strict=True)
        if (kind, value) in contributing
    )
    near = LINK_RULES["photo_hash_near"]
    if near.weight >= options.link_threshold:
        for x, y, d in zip(
            photo.column("account_a").to_pylist(),
            photo.column("account_b").to_pylist(),
            photo.column("distance").to_pylist(),
            strict=True,
        ):
            a.append(x)
            b.append(y)
            kinds.append(near.kind)
            used.append(
                CampaignLink(
                    kind=near.kind,
                    value=f"{d} bit{'s' if d != 1 else ''} apart",
                    weight=near.weight,
                    account_ids=(x, y),
                    explanation=f"2 accounts: profile photos whose perceptual hashes differ in {d} of 64 bits",
                )
            )
    table = pa.table(
        {
            "account_a": pa.array(a, pa.string()),
            "account_b": pa.array(b, pa.string()),
            "kind": pa.array(kinds, pa.string()),
        }
    )
    return table, used


def _link(kind: str, value: str, weight: float, accounts: list[str], messages: int | None) -> CampaignLink:
    rule = LINK_RULES.get(kind)
    return CampaignLink(
        kind=kind,
        value=_display_value(kind, value),
        weight=weight,
        account_ids=tuple(accounts),
        message_count=int(messages or 0),
        explanation=f"{len(accounts)} accounts: {rule.description if rule else kind}",
    )


def _combine_weak(
    values: list[tuple[str, str, float, list[str]]], threshold: float
) -> tuple[list[tuple[str, str, set[str]]], set[tuple[str, str]]]:
    """Account pairs whose weak shared values, of at least two kinds, reach ``threshold`` by noisy-OR.

    A qualifying pair shares values of two or more kinds, so at least one of them is not the kind with
    the most pairs: pairs are listed from the other kinds' values only, and the heaviest kind is looked
    up per pair. (Listing every pair of a common kind, such as the same name at the same large company,
    would be quadratic in its groups.) Returns the pairs with the kinds they share, and the (kind, value)
    entries that joined at least one pair.
    """
    by_kind: dict[str, list[tuple[str, float, list[str]]]] = defaultdict(list)
    for kind, value, weight, accounts in values:
        by_kind[kind].append((value, weight, accounts))
    if len(by_kind) < 2:
        return [], set()
    heavy = max(by_kind, key=lambda k: sum(len(acc) * (len(acc) - 1) for _, _, acc in by_kind[k]))
    heavy_of: dict[str, dict[str, float]] = defaultdict(dict)
    for value, weight, accounts in by_kind[heavy]:
        for acc in accounts:
            heavy_of[acc][value] = weight
    pairs: dict[tuple[str, str], dict[str, tuple[float, list[str]]]] = defaultdict(dict)
    for kind, entries in by_kind.items():
        if kind == heavy:
            continue
        for value, weight, accounts in entries:
            for i, x in enumerate(accounts):
                for y in accounts[i + 1 :]:
                    held = pairs[(x, y)].setdefault(kind, (0.0, []))
                    pairs[(x, y)][kind] = (max(held[0], weight), [*held[1], value])
    joined: list[tuple[str, str, set[str]]] = []
    contributing: set[tuple[str, str]] = set()
    for (x, y), held in pairs.items():
        shared_heavy = heavy_of.get(x, {}).keys() & heavy_of.get(y, {}).keys()
        if shared_heavy:
            held[heavy] = (max(heavy_of[x][v] for v in shared_heavy), sorted(shared_heavy))
        if len(held) < 2:
            continue
        miss = 1.0
        for weight, _ in held.values():
            miss *= 1.0 - weight
        if 1.0 - miss >= threshold:
            joined.append((x, y, set(held)))
            contributing.update((kind, v) for kind, (_, vals) in held.items() for v in vals)
    return joined, contributing


def _display_value(kind: str, value: str) -> str:
    if kind == "name_text":
        # "<name key> | text:<cluster>": the cluster number means nothing to a reader
        return value.split(" | text:", 1)[0]
    return value


def _candidates(summaries: pa.Table, options: CampaignOptions) -> list[int]:
    rows = summaries.to_pylist()
    return [
        int(r["group"])
        for r in rows
        if r["recipients"] >= options.min_recipients
        and (r["accounts"] >= 2 or (r["top_reach"] or 0) >= options.min_recipients)
    ]


_Verdict = tuple[Category, float, dict[Category, float], int, tuple[str, str] | None]


def approach_from_row(row: dict[str, object]) -> Approach:
    """A stream row as a one-message approach, for the screener."""
    sent_at = row.get("sent_at")
    sent = sent_at if isinstance(sent_at, datetime) else None
    created = row.get("sender_created_at")
    age = None
    if isinstance(created, str) and sent is not None:
        from lurewatch.ingest.stream import parse_time

        when = parse_time(created)
        if when is not None and when <= sent:
            age = (sent - when).days
    channel = _CHANNELS.get(str(row.get("channel") or "").strip().lower(), Channel.LINKEDIN_MESSAGE)
    sender = Account(
        key=str(row["sender_id"]),
        name=str(row.get("sender_name") or ""),
        headline=_opt(row.get("sender_headline")),
        company=_opt(row.get("sender_company")),
        location=_opt(row.get("sender_location")),
        connections=row.get("sender_connections") if isinstance(row.get("sender_connections"), int) else None,  # type: ignore[arg-type]
        account_age_days=age,
    )
    recipient = Account(key=str(row.get("recipient_id") or ""), sector=_opt(row.get("recipient_sector")))
    mid = str(row["message_id"])
    message = Message(
        id=mid,
        conversation_id=mid,
        sender_key=sender.key,
        sent_at=sent,
        text=str(row.get("text") or ""),
        subject=str(row.get("subject") or ""),
        recipient_keys=(recipient.key,),
        channel=channel,
    )
    conversation = Conversation(id=mid, messages=(message,), title=message.subject, channel=channel)
    return Approach(
        id=mid,
        sender=sender,
        recipient=recipient,
        conversation=conversation,
        channel=channel,
        source="stream",
    )


def _opt(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _screen(
    backend: CampaignBackend,
    summaries: pa.Table,
    candidates: list[int],
    screener: object,
    options: CampaignOptions,
    workers: int,
    progress: Progress | None,
) -> dict[int, _Verdict]:
    """(category, risk, mean category scores, screened, exemplar) per candidate group.

    The exemplar is the sample's first message: the earliest of the group's most repeated wording.
    """
    if not candidates:
        return {}
    sample = backend.group_messages(candidates, sample=options.sample, with_text=True)
    rows = sample.to_pylist()
    groups = [int(r["group"]) for r in rows]
    exemplars = {
        int(r["group"]): (str(r["message_id"]), str(r.get("text") or "")) for r in rows if r["rank"] == 0
    }
    approaches = (approach_from_row(r) for r in rows)
    sums: dict[int, dict[Category, float]] = defaultdict(lambda: defaultdict(float))
    risks: dict[int, float] = defaultdict(float)
    counts: Counter[int] = Counter()
    weights = [float(r.get("weight") or 1) for r in rows]
    accounts = {int(r["group"]): int(r["accounts"]) for r in summaries.to_pylist()}
    totals: dict[int, float] = defaultdict(float)
    assessed = zip(groups, weights, screener.assess_many(approaches, workers), strict=True)  # type: ignore[attr-defined]
    for done, (g, w, (_approach, assessment)) in enumerate(assessed, start=1):
        for cat, score in assessment.category_scores.items():
            sums[g][Category(cat)] += w * score
        risks[g] += w * assessment.risk
        totals[g] += w
        counts[g] += 1
        if progress and done % 1000 == 0:
            progress("screening", done, len(rows))
    out = {}
    for g in candidates:
        n = counts.get(g, 0)
        if n == 0:
            out[g] = (Category.BENIGN, 0.0, {}, 0, None)
            continue
        means = {cat: round(s / totals[g], 4) for cat, s in sums[g].items()}
        category = _campaign_category(means, accounts.get(g, 1))
        out[g] = (category, round(risks[g] / totals[g], 4), means, n, exemplars.get(g))
    return out


#: how much less likely benign or commercial wording is to be what it seems when one operator sends it
#: through several accounts tied together by a shared photo, contact or name (see _campaign_category)
ROTATION_DISCOUNT = 0.5


def _campaign_category(means: dict[Category, float], accounts: int) -> Category:
    """The category with the highest mean score, messages weighted by how often their wording was sent.

    When the group is several accounts joined by identity evidence (persona rotation, itself a mark of
    fake profiles), the benign and commercial scores are halved first: an honest recruiter or salesperson
    writes from one account, so a network of personas sending friendly-looking openers (a roundtable
    invitation, a follow-up) is more likely the early stage of an approach than ordinary traffic.
    """
    if not means:
        return Category.BENIGN
    adjusted = dict(means)
    if accounts >= 2:
        for cat in (Category.BENIGN, Category.COMMERCIAL):
            if cat in adjusted:
                adjusted[cat] *= 1.0 - ROTATION_DISCOUNT
    return max(adjusted, key=lambda c: (adjusted[c], c.value))


def _build(
    kept: list[int],
    members: pa.Table | None,
    summaries: pa.Table,
    used: list[CampaignLink],
    verdicts: dict[int, _Verdict],
    backend: CampaignBackend,
    options: CampaignOptions,
) -> list[Campaign]:
    if not kept or members is None:
        return []
    summary = {int(r["group"]): r for r in summaries.to_pylist()}
    by_group: dict[int, list[dict]] = defaultdict(list)
    for row in members.to_pylist():
        by_group[int(row["group"])].append(row)
    account_group = {row["sender_id"]: g for g, rows in by_group.items() for row in rows}
    links_of: dict[int, list[CampaignLink]] = defaultdict(list)
    for link in used:
        g = account_group.get(link.account_ids[0])
        if g is not None:
            links_of[g].append(link)
    all_accounts = sorted(account_group)
    profiles = {r["sender_id"]: r for r in backend.account_profiles(all_accounts).to_pylist()}
    campaigns = []
    for g in kept:
        rows = by_group.get(g, [])
        if not rows:
            continue
        category, risk, means, screened, exemplar = verdicts[g]
        campaigns.append(
            _campaign(
                g, rows, summary[g], links_of[g], profiles, exemplar, category, risk, means, screened, options
            )
        )
    campaigns.sort(key=lambda c: (-c.risk, -len(c.message_ids), c.campaign_id))
    return campaigns


def _time_key(row: dict) -> tuple[int, datetime, int]:
    sent = row.get("sent_at")
    return (
        (0, sent, row["row"])
        if isinstance(sent, datetime)
        else (1, datetime.max.replace(tzinfo=UTC), row["row"])
    )


def _campaign(
    g: int,
    rows: list[dict],
    summary: dict,
    links: list[CampaignLink],
    profiles: dict[str, dict],
    exemplar: tuple[str, str] | None,
    category: Category,
    risk: float,
    means: dict[Category, float],
    screened: int,
    options: CampaignOptions,
) -> Campaign:
    from lurewatch.campaigns.local import is_sensitive_sector

    rows.sort(key=_time_key)
    accounts = sorted({r["sender_id"] for r in rows})
    recipients = sorted({r["recipient_id"] for r in rows})
    by_sector: dict[str, set[str]] = defaultdict(set)
    by_org: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        by_sector[r["recipient_sector"] or ""].add(r["recipient_id"])
        by_org[r["recipient_org"] or ""].add(r["recipient_id"])
    times = [r["sent_at"] for r in rows if isinstance(r["sent_at"], datetime)]
    timeline = Counter(t.date().isoformat() for t in times)
    personas = []
    for acc in accounts:
        mine = [r for r in rows if r["sender_id"] == acc]
        mine_times = [r["sent_at"] for r in mine if isinstance(r["sent_at"], datetime)]
        prof = profiles.get(acc, {})
        personas.append(
            CampaignPersona(
                account_id=acc,
                name=prof.get("sender_name") or "",
                company=prof.get("sender_company"),
                headline=prof.get("sender_headline"),
                location=prof.get("sender_location"),
                photo_hash=prof.get("sender_photo_hash"),
                messages=len(mine),
                recipients=len({r["recipient_id"] for r in mine}),
                sensitive_recipients=len(
                    {r["recipient_id"] for r in mine if is_sensitive_sector(r["recipient_sector"])}
                ),
                first_seen=min(mine_times) if mine_times else None,
                last_seen=max(mine_times) if mine_times else None,
            )
        )
    wordings = Counter(r["cluster"] for r in rows)
    text_links = []
    for i, (cluster, count) in enumerate(wordings.most_common(), start=1):
        if count < 2:
            break
        mine = [r for r in rows if r["cluster"] == cluster]
        text_links.append(
            CampaignLink(
                kind="text",
                value=f"wording {i}",
                weight=1.0,
                account_ids=tuple(sorted({r["sender_id"] for r in mine})),
                message_count=count,
                explanation=(
                    f"{count} messages to {len({r['recipient_id'] for r in mine})} recipients share near-identical "
                    f"wording (Jaccard at least {options.threshold:g} after names, numbers and links are masked)"
                ),
            )
        )
    known = summary.get("known_sector_recipients") or 0
    return Campaign(
        campaign_id=campaign_id(accounts),
        category=category,
        risk=risk,
        message_ids=tuple(r["message_id"] for r in rows),
        account_ids=tuple(accounts),
        recipient_ids=tuple(recipients),
        links=tuple(sorted(links, key=lambda link: (-link.weight, link.kind, link.value)))
        + tuple(text_links),
        personas=tuple(personas),
        member_accounts=tuple(r["sender_id"] for r in rows),
        member_recipients=tuple(r["recipient_id"] for r in rows),
        category_scores=means,
        targets_by_sector=_ranked(by_sector),
        targets_by_org=_ranked(by_org),
        sensitive_share=round((summary.get("sensitive_recipients") or 0) / known, 4) if known else 0.0,
        first_seen=min(times) if times else None,
        last_seen=max(times) if times else None,
        timeline=tuple(sorted(timeline.items())),
        max_burst=int(summary.get("max_burst") or 0),
        burst_window_s=options.burst_window_s,
        exemplar_message_id=exemplar[0] if exemplar else rows[0]["message_id"],
        exemplar_text=exemplar[1] if exemplar else "",
        templates=sum(1 for c in wordings.values() if c >= 2),
        screened=screened,
    )


def _ranked(groups: dict[str, set[str]]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(((k, len(v)) for k, v in groups.items() if k), key=lambda kv: (-kv[1], kv[0])))


def campaign_id(accounts: Iterable[str]) -> str:
    """A stable id from the member accounts: the same campaign found again keeps its id."""
    digest = hashlib.blake2b("\n".join(sorted(accounts)).encode("utf-8", "surrogatepass"), digest_size=6)
    return "cmp-" + digest.hexdigest()


def campaign_record(c: Campaign) -> dict[str, object]:
    """The JSON form of a campaign (``lurewatch campaigns --json``, the API)."""
    return {
        "campaign_id": c.campaign_id,
        "category": c.category.value,
        "risk": c.risk,
        "severity": c.severity,
        "message_ids": list(c.message_ids),
        "account_ids": list(c.account_ids),
        "recipient_ids": list(c.recipient_ids),
        "links": [
            {
                "kind": link.kind,
                "value": link.value,
                "weight": link.weight,
                "account_ids": list(link.account_ids),
                "message_count": link.message_count,
                "explanation": link.explanation,
            }
            for link in c.links
        ],
        "personas": [
            {
                "account_id": p.account_id,
                "name": p.name,
                "company": p.company,
                "headline": p.headline,
                "location": p.location,
                "photo_hash": p.photo_hash,
                "messages": p.messages,
                "recipients": p.recipients,
                "sensitive_recipients": p.sensitive_recipients,
                "first_seen": _iso(p.first_seen),
                "last_seen": _iso(p.last_seen),
            }
            for p in c.personas
        ],
        "category_scores": {k.value: v for k, v in sorted(c.category_scores.items())},
        "targets_by_sector": [{"sector": k, "recipients": v} for k, v in c.targets_by_sector],
        "targets_by_org": [{"org": k, "recipients": v} for k, v in c.targets_by_org],
        "sensitive_share": c.sensitive_share,
        "first_seen": _iso(c.first_seen),
        "last_seen": _iso(c.last_seen),
        "timeline": [{"date": d, "messages": n} for d, n in c.timeline],
        "max_burst": c.max_burst,
        "burst_window_s": c.burst_window_s,
        "exemplar": {"message_id": c.exemplar_message_id, "text": c.exemplar_text},
        "templates": c.templates,
        "screened": c.screened,
    }


def campaign_from_record(record: dict[str, Any]) -> Campaign:
    """The campaign of a :func:`campaign_record` (as ``Workspace.get_campaign`` returns it).

    The record does not carry each message's sender and recipient; ``member_accounts`` and
    ``member_recipients`` are read when present (a caller may add them) and are empty otherwise. Raises
    ``ValueError`` on a record that is not a campaign record.
    """
    try:
        personas = tuple(
            CampaignPersona(
                account_id=str(p["account_id"]),
                name=str(p.get("name") or ""),
                company=_opt(p.get("company")),
                headline=_opt(p.get("headline")),
                location=_opt(p.get("location")),
                photo_hash=_opt(p.get("photo_hash")),
                messages=int(p.get("messages") or 0),
                recipients=int(p.get("recipients") or 0),
                sensitive_recipients=int(p.get("sensitive_recipients") or 0),
                first_seen=_from_iso(p.get("first_seen")),
                last_seen=_from_iso(p.get("last_seen")),
            )
            for p in record.get("personas") or ()
        )
        links = tuple(
            CampaignLink(
                kind=str(link["kind"]),
                value=str(link["value"]),
                weight=float(link["weight"]),
                account_ids=tuple(str(a) for a in link.get("account_ids") or ()),
                message_count=int(link.get("message_count") or 0),
                explanation=str(link.get("explanation") or ""),
            )
            for link in record.get("links") or ()
        )
        exemplar = record.get("exemplar") or {}
        return Campaign(
            campaign_id=str(record["campaign_id"]),
            category=Category(record["category"]),
            risk=float(record["risk"]),
            message_ids=tuple(str(m) for m in record.get("message_ids") or ()),
            account_ids=tuple(str(a) for a in record.get("account_ids") or ()),
            recipient_ids=tuple(str(r) for r in record.get("recipient_ids") or ()),
            links=links,
            personas=personas,
            member_accounts=tuple(str(a) for a in record.get("member_accounts") or ()),
            member_recipients=tuple(str(r) for r in record.get("member_recipients") or ()),
            category_scores={Category(k): float(v) for k, v in (record.get("category_scores") or {}).items()},
            targets_by_sector=tuple(
                (str(t["sector"]), int(t["recipients"])) for t in record.get("targets_by_sector") or ()
            ),
            targets_by_org=tuple(
                (str(t["org"]), int(t["recipients"])) for t in record.get("targets_by_org") or ()
            ),
            sensitive_share=float(record.get("sensitive_share") or 0.0),
            first_seen=_from_iso(record.get("first_seen")),
            last_seen=_from_iso(record.get("last_seen")),
            timeline=tuple((str(t["date"]), int(t["messages"])) for t in record.get("timeline") or ()),
            max_burst=int(record.get("max_burst") or 0),
            burst_window_s=int(record.get("burst_window_s") or 3600),
            exemplar_message_id=str(exemplar.get("message_id") or ""),
            exemplar_text=str(exemplar.get("text") or ""),
            templates=int(record.get("templates") or 0),
            screened=int(record.get("screened") or 0),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a campaign record: {type(exc).__name__} {exc}") from None


def _from_iso(value: object) -> datetime | None:
    if not value:
        return None
    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def iter_records(campaigns: Iterable[Campaign]) -> Iterator[dict[str, object]]:
    for c in campaigns:
        yield campaign_record(c)


__all__ = [
    "LINK_RULES",
    "THREAT_CAMPAIGN_CATEGORIES",
    "CampaignOptions",
    "CampaignRun",
    "approach_from_row",
    "campaign_from_record",
    "campaign_id",
    "campaign_record",
    "find_campaigns",
    "iter_records",
]
