"""The campaign engine end to end on the local backend: evidence, grouping, screening, quality."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from lurewatch.campaigns.engine import (
    LINK_RULES,
    CampaignOptions,
    campaign_id,
    campaign_record,
    find_campaigns,
)
from lurewatch.campaigns.evaluation import read_truth, score
from lurewatch.campaigns.local import LocalBackend, is_sensitive_sector
from lurewatch.core import Lurewatch
from lurewatch.ingest.stream import FileStream, RowsStream
from lurewatch.model import Category
from lurewatch.settings import Settings
from lurewatch.synth.stream import write_stream

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
PITCH = (
    "Dear {r}, I came across your impressive profile. I represent a client who is keen to understand "
    "developments in {topic}. They offer a paid consultation of USD {n} for a short report, no confidential "
    "material needed. Please add me on {contact} to discuss. Best regards, {s}"
)
TOPICS = ("quantum error correction", "radar signal processing", "EUV lithography", "hypersonic materials")
SECTORS = ("quantum computing", "defence", "semiconductors", "aerospace", "retail")


@pytest.fixture(scope="module")
def screener():
    return Lurewatch(Settings()).screener


def _row(i: int, sender: str, name: str, recipient: str, text: str, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "message_id": f"m{i:04d}",
        "sent_at": T0 + timedelta(hours=i),
        "sender_id": sender,
        "sender_name": name,
        "recipient_id": recipient,
        "text": text,
        "recipient_sector": SECTORS[i % len(SECTORS)],
        "recipient_org": f"Org {i % 4}",
    }
    row.update(extra)
    return row


def _operation(
    start: int, personas: list[tuple[str, str]], contact: str, recipients: int, **profile: object
) -> list[dict]:
    rows = []
    for k in range(recipients):
        sender, name = personas[k % len(personas)]
        text = PITCH.format(
            r=f"Person{k}", topic=TOPICS[k % 4], n=1000 + 50 * k, contact=contact, s=name.split()[0]
        )
        rows.append(_row(start + k, sender, name, f"u{start + k}", text, **profile))
    return rows


def _background(start: int, count: int) -> list[dict]:
    phrases = (
        "Hi {r}, are you coming to the alumni dinner on Friday? We already have {n} people signed up.",
        "Hello {r}, thanks for the notes on the reading group, I pushed my changes to the shared folder.",
        "Morning {r}, running about {n} minutes late for the lab meeting, start without me.",
    )
    return [
        _row(
            start + i,
            f"bg-{i}",
            f"Colleague {i}",
            f"u{i % 7}",
            phrases[i % 3].format(r=f"P{i}", n=i % 40 + 3),
        )
        for i in range(count)
    ]


def _run(rows: list[dict], screener, **options: object):
    source = RowsStream("test", lambda: [rows])
    return find_campaigns(source, LocalBackend(), screener, CampaignOptions(**options))  # type: ignore[arg-type]


def test_personas_sharing_a_handle_are_one_campaign_with_its_reason(screener) -> None:
    personas = [("wang-jianguo-1", "Wang Jianguo"), ("cathy-wong-2", "Cathy Wong"), ("j-wang-3", "J. Wang")]
    rows = _operation(0, personas, "WeChat: cathywon67", 12) + _background(100, 60)
    run = _run(rows, screener)
    assert len(run.campaigns) == 1
    campaign = run.campaigns[0]
    assert set(campaign.account_ids) == {p[0] for p in personas}
    assert len(campaign.message_ids) == 12
    assert campaign.category == Category.STATE_APPROACH
    wechat = [link for link in campaign.links if link.kind == "wechat"]
    assert wechat and wechat[0].value == "cathywon67"
    assert "WeChat" in wechat[0].explanation
    assert campaign.campaign_id == campaign_id(campaign.account_ids)
    record = campaign_record(campaign)
    for key in ("campaign_id", "category", "risk", "message_ids", "account_ids", "recipient_ids", "links"):
        assert key in record
    assert record["exemplar"]["text"].startswith("Dear Person")
    assert campaign.sensitive_share == pytest.approx(
        10 / 12, abs=1e-4
    )  # two of twelve targets work in retail


def test_two_operations_with_one_script_but_no_shared_identity_stay_apart(screener) -> None:
    first = _operation(0, [("op1-a", "Helen Li"), ("op1-b", "Li Hua")], "WeChat: helenli01", 10)
    second = _operation(50, [("op2-a", "David Chen"), ("op2-b", "Chen Wei")], "WeChat: dchen88", 10)
    run = _run(first + second + _background(100, 40), screener)
    groups = sorted(tuple(c.account_ids) for c in run.campaigns)
    assert groups == [("op1-a", "op1-b"), ("op2-a", "op2-b")]


def test_one_account_fanning_out_one_wording_is_a_campaign(screener) -> None:
    rows = _operation(0, [("lone-operator", "Grace Lee")], "Telegram @gracelee_consult", 8) + _background(
        100, 40
    )
    run = _run(rows, screener)
    assert [c.account_ids for c in run.campaigns] == [("lone-operator",)]
    assert any(link.kind == "text" for link in run.campaigns[0].links)


def test_a_stock_value_shared_by_too_many_accounts_joins_nobody(screener) -> None:
    # sixty unrelated people link the same big shared domain: not evidence of one operator
    rows = [
        _row(
            i,
            f"person-{i}",
            f"Person {i}",
            f"u{i}",
            f"Hi, the slides are at https://www.slides-hub.com/deck{i} thanks",
        )
        for i in range(60)
    ]
    run = _run(rows, screener, max_accounts_per_key=50)
    assert run.campaigns == []
    assert run.stats["stock_values_ignored"].get("domain", 0) >= 1


def test_results_do_not_depend_on_the_number_of_workers(tmp_path: Path, screener) -> None:
    path = tmp_path / "s.parquet"
    write_stream(20_000, path, seed=3, campaigns=4, truth=tmp_path / "t.jsonl")
    runs = []
    for workers in (0, 2):
        with LocalBackend(workers=workers) as backend:
            runs.append(find_campaigns(FileStream(path, batch_rows=4096), backend, screener))
    assert [(c.campaign_id, c.message_ids) for c in runs[0].campaigns] == [
        (c.campaign_id, c.message_ids) for c in runs[1].campaigns
    ]


def test_planted_campaigns_are_recovered_on_a_synthetic_stream(tmp_path: Path, screener) -> None:
    path = tmp_path / "s.parquet"
    truth_path = tmp_path / "t.jsonl"
    write_stream(60_000, path, seed=11, campaigns=6, truth=truth_path)
    run = find_campaigns(FileStream(path), LocalBackend(), screener)
    truth, sequences = read_truth(truth_path)
    result = score(run.campaigns, truth, sequences)
    assert result.precision >= 0.95
    assert result.recall >= 0.95
    assert result.sequences_merged == []
    assert {c.category for c in run.campaigns} <= {
        Category.STATE_APPROACH,
        Category.MALWARE_LURE,
        Category.SCAM,
    }


def test_include_benign_lists_the_recruiter_sequences_without_merging_them(tmp_path: Path, screener) -> None:
    path = tmp_path / "s.parquet"
    truth_path = tmp_path / "t.jsonl"
    write_stream(60_000, path, seed=11, campaigns=6, truth=truth_path)
    run = find_campaigns(FileStream(path), LocalBackend(), screener, CampaignOptions(include_benign=True))
    truth, sequences = read_truth(truth_path)
    by_message = {m: c for c in run.campaigns for m in c.message_ids}
    for seq_id, messages in sequences.items():
        holders = {by_message[m].campaign_id for m in messages if m in by_message}
        assert len(holders) <= 1, seq_id
        for holder in holders:
            held = next(c for c in run.campaigns if c.campaign_id == holder)
            assert not set(held.message_ids) & truth.keys(), f"{seq_id} merged into a planted campaign"


def test_empty_and_tiny_streams(screener) -> None:
    assert _run([], screener).campaigns == []
    run = _run(_background(0, 5), screener)
    assert run.campaigns == []
    assert run.stats["messages"] == 5


def test_hostile_text_is_carried_verbatim_and_bounded(screener) -> None:
    evil = '<script>alert(1)</script>=HYPERLINK("x") \x00\u202e' + "A" * 30_000
    rows = _operation(0, [("p1", "Ann Lee"), ("p2", "Lee Ann")], "WeChat: annlee77", 6)
    rows[0]["text"] = evil + rows[0]["text"]
    run = _run(rows, screener)
    assert len(run.campaigns) == 1
    assert len(run.campaigns[0].exemplar_text) <= 20_000


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        CampaignOptions(threshold=1.5)
    with pytest.raises(ValueError):
        CampaignOptions(max_accounts_per_key=1)


def test_every_rule_is_explained_and_weighted() -> None:
    for kind, rule in LINK_RULES.items():
        assert rule.kind == kind
        assert 0 < rule.weight <= 1
        assert rule.description


@pytest.mark.parametrize(
    ("sector", "sensitive"),
    [
        ("quantum computing", True),
        ("Artificial Intelligence", True),
        ("defence", True),
        ("retail", False),
        ("", False),
        (None, False),
    ],
)
def test_sensitive_sectors(sector, sensitive) -> None:
    assert is_sensitive_sector(sector) is sensitive


def test_backend_tables_have_the_documented_columns(screener) -> None:
    rows = _operation(0, [("p1", "Ann Lee"), ("p2", "Lee Ann")], "WeChat: annlee77", 6)
    backend = LocalBackend()
    backend.ingest(RowsStream("t", lambda: [rows]))
    backend.text_clusters(0.7)
    keys = backend.account_keys(50)
    assert keys.column_names == ["kind", "value", "accounts", "messages"]
    assert keys.schema.field("accounts").type == pa.list_(pa.string())
    links = pa.table({"account_a": ["p1"], "account_b": ["p2"]})
    assert backend.assign_groups(links) == 1
    summaries = backend.group_summaries(3, 3600)
    assert summaries.num_rows == 1
    assert summaries.column("accounts").to_pylist() == [2]
    members = backend.group_messages(summaries.column("group").to_pylist(), sample=2, with_text=True)
    assert 1 <= members.num_rows <= 2  # the earliest message of each wording, at most two
    assert members.column("rank").to_pylist() == list(range(members.num_rows))
    assert members.column("text")[0].as_py().startswith("Dear Person")
    everything = backend.group_messages(summaries.column("group").to_pylist())
    assert sorted(everything.column("message_id").to_pylist()) == [r["message_id"] for r in rows]


def test_weak_values_join_a_pair_only_together() -> None:
    from lurewatch.campaigns.engine import _combine_weak

    crowd = [f"acc{i}" for i in range(40)]  # one common name at one big company: forty people
    values = [
        ("name_company", "li wei | acme", 0.5, crowd),
        ("name_text", "li wei | text:7", 0.5, ["acc3", "acc9"]),  # two of them also share wording
        ("name_text", "li wei | text:8", 0.5, ["acc5", "zed"]),  # zed shares no company
    ]
    joined, contributing = _combine_weak(values, 0.6)
    assert [(x, y, sorted(kinds)) for x, y, kinds in joined] == [
        ("acc3", "acc9", ["name_company", "name_text"])
    ]
    assert contributing == {("name_company", "li wei | acme"), ("name_text", "li wei | text:7")}
    assert _combine_weak(values[:1], 0.6) == ([], set())
