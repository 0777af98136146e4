"""Approaches, assessments, cases and campaigns for the export tests, hostile text included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lurewatch.model import (
    Account,
    Approach,
    Assessment,
    Campaign,
    CampaignLink,
    CampaignPersona,
    CaseNote,
    CaseState,
    Category,
    Channel,
    Conversation,
    Evidence,
    Message,
    Signal,
)

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

HOSTILE = (
    "Dear Dr. O'Brien, it's \"urgent\" \\ please reply ] ) ' -- <script>alert('x')</script> "
    '=HYPERLINK("http://evil.example/x") \u202eevil\u202c 王建国 \U0001f600 \x00\x07 \ud800 end\r\nnext line'
)


def approach(
    aid: str = "a1",
    *,
    sender_key: str = "linkedin:jane-smith-4b2",
    sender_name: str = "Jane Smith",
    text: str = "Hello, add me on WeChat: CathyWon67 or write to cathy@evil-consult.co.uk, see https://evil-consult.co.uk/apply?id=7",
    channel: Channel = Channel.LINKEDIN_MESSAGE,
    recipient_key: str = "linkedin:alice-researcher",
    headline: str | None = "Senior Headhunter at Global Talent Partners",
    when: datetime | None = T0,
) -> Approach:
    sender = Account(
        key=sender_key,
        name=sender_name,
        profile_url=f"https://www.linkedin.com/in/{sender_key.partition(':')[2]}/"
        if sender_key.startswith("linkedin:")
        else None,
        email=sender_key.partition(":")[2] if sender_key.startswith("email:") else None,
        headline=headline,
        company="Global Talent Partners",
    )
    recipient = Account(key=recipient_key, name="Alice Researcher", sector="quantum")
    messages = (
        Message(
            id=f"{aid}-m1",
            conversation_id=f"{aid}-c",
            sender_key=sender.key,
            sent_at=when,
            text=text,
            subject="Opportunity",
            recipient_keys=(recipient.key,),
            channel=channel,
        ),
        Message(
            id=f"{aid}-m2",
            conversation_id=f"{aid}-c",
            sender_key=sender.key,
            sent_at=when + timedelta(days=2) if when else None,
            text="Following up: the consulting fee is generous.",
            recipient_keys=(recipient.key,),
            channel=channel,
        ),
    )
    conversation = Conversation(id=f"{aid}-c", messages=messages, title="Opportunity", channel=channel)
    return Approach(id=aid, sender=sender, recipient=recipient, conversation=conversation, channel=channel)


def assessment(
    aid: str = "a1", category: Category = Category.STATE_APPROACH, risk: float = 0.86
) -> Assessment:
    return Assessment(
        approach_id=aid,
        category=category,
        risk=risk,
        signals=(
            Signal(
                indicator_id="off-platform-move",
                title="Asks to move the conversation off the platform",
                weight=0.6,
                evidence=(Evidence(field="message[0].text", text="add me on WeChat", start=7, end=23),),
                sources=("MI5 Think Before You Link",),
                supports=(Category.STATE_APPROACH,),
            ),
        ),
        advice=("Do not move to another app.",),
        catalogue_version="2026.1",
        model_version="m1",
    )


def case(
    aid: str = "a1", verdict: str | None = "confirmed", notes: tuple[str, ...] = ("Reported by Alice.",)
) -> CaseState:
    return CaseState(
        approach_id=aid,
        status="triaged",
        verdict=verdict,
        assignee="sec-officer",
        reporters=("alice",),
        notes=tuple(
            CaseNote(author="sec-officer", text=text, created_at=T0 + timedelta(days=3, minutes=i))
            for i, text in enumerate(notes)
        ),
        updated_at=T0 + timedelta(days=4),
    )


def campaign(category: Category = Category.STATE_APPROACH) -> Campaign:
    accounts = ("linkedin:jane-smith-4b2", "linkedin:smith-jane-99")
    return Campaign(
        campaign_id="cmp-0123456789ab",
        category=category,
        risk=0.81,
        message_ids=("a1", "m2", "m3"),
        account_ids=accounts,
        recipient_ids=("linkedin:alice-researcher", "linkedin:bob", "linkedin:carol"),
        links=(
            CampaignLink(
                kind="wechat",
                value="cathywon67",
                weight=0.9,
                account_ids=accounts,
                message_count=3,
                explanation="2 accounts: the same WeChat ID in their messages",
            ),
            CampaignLink(
                kind="url",
                value="evil-consult.co.uk/apply",
                weight=0.8,
                account_ids=accounts,
                message_count=2,
                explanation="2 accounts: the same link in their messages",
            ),
            CampaignLink(kind="photo_hash", value="a1b2c3d4e5f60718", weight=0.9, account_ids=accounts),
            CampaignLink(kind="phone", value="+441234567890", weight=0.9, account_ids=accounts),
        ),
        personas=(
            CampaignPersona(
                account_id=accounts[0],
                name="Jane Smith",
                company="Global Talent Partners",
                messages=2,
                recipients=2,
                first_seen=T0,
                last_seen=T0 + timedelta(days=5),
            ),
            CampaignPersona(
                account_id=accounts[1],
                name="Smith Jane",
                messages=1,
                recipients=1,
                first_seen=T0 + timedelta(days=1),
                last_seen=T0 + timedelta(days=1),
            ),
        ),
        member_accounts=(accounts[0], accounts[0], accounts[1]),
        member_recipients=("linkedin:alice-researcher", "linkedin:bob", "linkedin:carol"),
        category_scores={Category.STATE_APPROACH: 0.7, Category.BENIGN: 0.1},
        targets_by_sector=(("quantum", 2), ("ai", 1)),
        targets_by_org=(("Institute of Quantum Things", 2), ("=cmd|' /C calc'!A0", 1)),
        sensitive_share=1.0,
        first_seen=T0,
        last_seen=T0 + timedelta(days=5),
        timeline=(("2026-03-02", 2), ("2026-03-03", 1)),
        max_burst=2,
        exemplar_message_id="a1",
        exemplar_text="Hello, add me on WeChat: CathyWon67",
        templates=1,
        screened=3,
    )
