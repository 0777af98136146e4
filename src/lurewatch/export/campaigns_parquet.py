"""Campaigns as Parquet: one file of campaigns and one of their member messages, written atomically.

``campaigns.parquet`` has one row per campaign (scalar columns for filtering, the nested parts as JSON
text so any reader can take them); ``campaign_members.parquet`` one row per member message. Both are
written to temporary names and renamed into place, so a killed run leaves the previous files whole.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lurewatch.errors import LurewatchError
from lurewatch.model import Campaign

CAMPAIGNS_FILE = "campaigns.parquet"
MEMBERS_FILE = "campaign_members.parquet"

CAMPAIGN_SCHEMA = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("category", pa.string()),
        ("risk", pa.float64()),
        ("severity", pa.string()),
        ("messages", pa.int64()),
        ("accounts", pa.int64()),
        ("recipients", pa.int64()),
        ("account_ids", pa.list_(pa.string())),
        ("sensitive_share", pa.float64()),
        ("first_seen", pa.timestamp("s", tz="UTC")),
        ("last_seen", pa.timestamp("s", tz="UTC")),
        ("max_burst", pa.int64()),
        ("exemplar_message_id", pa.string()),
        ("exemplar_text", pa.string()),
        ("link_kinds", pa.list_(pa.string())),
        ("record_json", pa.string()),
    ]
)
MEMBER_SCHEMA = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("message_id", pa.string()),
        ("account_id", pa.string()),
        ("recipient_id", pa.string()),
    ]
)


def write_campaigns(
    folder: Path, campaigns: Sequence[Campaign], records: Sequence[dict[str, object]]
) -> tuple[Path, Path]:
    """Write both files into ``folder`` (created if missing); returns their paths."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LurewatchError(f"{folder}: cannot create the output folder: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise LurewatchError(f"{folder}: not a folder")
    rows = [
        {
            "campaign_id": c.campaign_id,
            "category": c.category.value,
            "risk": c.risk,
            "severity": c.severity,
            "messages": len(c.message_ids),
            "accounts": len(c.account_ids),
            "recipients": len(c.recipient_ids),
            "account_ids": list(c.account_ids),
            "sensitive_share": c.sensitive_share,
            "first_seen": c.first_seen,
            "last_seen": c.last_seen,
            "max_burst": c.max_burst,
            "exemplar_message_id": c.exemplar_message_id,
            "exemplar_text": c.exemplar_text,
            "link_kinds": sorted({link.kind for link in c.links}),
            "record_json": json.dumps(record, ensure_ascii=False, sort_keys=True),
        }
        for c, record in zip(campaigns, records, strict=True)
    ]
    members = {
        "campaign_id": [c.campaign_id for c in campaigns for _ in c.message_ids],
        "message_id": [m for c in campaigns for m in c.message_ids],
        "account_id": [a for c in campaigns for a in c.member_accounts],
        "recipient_id": [r for c in campaigns for r in c.member_recipients],
    }
    targets = (folder / CAMPAIGNS_FILE, folder / MEMBERS_FILE)
    tables = (pa.Table.from_pylist(rows, schema=CAMPAIGN_SCHEMA), pa.table(members, schema=MEMBER_SCHEMA))
    temps = []
    try:
        for path, table in zip(targets, tables, strict=True):
            tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
            temps.append(tmp)
            pq.write_table(table, tmp, compression="zstd")
        for tmp, path in zip(temps, targets, strict=True):
            os.replace(tmp, path)
    except OSError as exc:
        raise LurewatchError(f"{folder}: cannot write the campaign files: {exc.strerror or exc}") from None
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()
    return targets


__all__ = ["CAMPAIGNS_FILE", "CAMPAIGN_SCHEMA", "MEMBERS_FILE", "MEMBER_SCHEMA", "write_campaigns"]
