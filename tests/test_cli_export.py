"""`lurewatch export stix|misp|csv` over a workspace: selection, verdicts, atomic output, bad input."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from pymisp import MISPEvent
from stix2validator import ValidationOptions, validate_string
from typer.testing import CliRunner

from export_samples import campaign
from lurewatch.campaigns.engine import campaign_record
from lurewatch.cli import app
from lurewatch.store import Workspace
from test_cli import run

runner = CliRunner()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str]:
    """The demo workspace with one verdict and one stored campaign over its two riskiest approaches."""
    folder = tmp_path_factory.mktemp("export")
    assert runner.invoke(app, ["demo", "--dir", str(folder / "demo"), "--limit", "1"]).exit_code == 0
    path = folder / "demo" / "workspace.sqlite"
    with Workspace.open(path) as ws:
        rows = ws.list_approaches(min_risk=0.5)
        top = [r.id for r in rows[:2]]
        found = [ws.get_approach(aid) for aid in top]
        accounts = tuple(dict.fromkeys(a.sender.key for a, _ in found))  # type: ignore[union-attr]
        stored = replace(
            campaign(),
            campaign_id="cmp-demo00000001",
            message_ids=tuple(top),
            account_ids=accounts,
            member_accounts=tuple(a.sender.key for a, _ in found),  # type: ignore[union-attr]
            member_recipients=tuple(a.recipient.key for a, _ in found),  # type: ignore[union-attr]
            personas=(),
        )
        ws.save_campaigns([stored], [campaign_record(stored)], source="test")
        ws.set_verdict(top[0], "false_positive")
    return path, top, "cmp-demo00000001"


def stix_objects(text: str) -> list[dict]:
    result = validate_string(text, ValidationOptions(version="2.1"))
    assert result.is_valid, result.as_dict()
    return json.loads(text)["objects"]


def test_stix_of_the_riskiest_approaches_to_a_file(workspace, tmp_path: Path) -> None:
    path, _top, _ = workspace
    out = tmp_path / "bundle.json"
    result = runner.invoke(
        app,
        [
            "export",
            "stix",
            "-w",
            str(path),
            "--min-risk",
            "0.5",
            "--tlp",
            "red",
            "--producer",
            "Lockhaven Security",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.json"]  # no temporary file left
    objects = stix_objects(out.read_text(encoding="utf-8"))
    assert any(o["type"] == "identity" and o["name"] == "Lockhaven Security" for o in objects)
    assert all(
        o["object_marking_refs"] == ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]
        for o in objects
        if o["type"] != "marking-definition"
    )
    observed = [o for o in objects if o["type"] == "observed-data"]
    with Workspace.open(path) as ws:
        expected = len(ws.list_approaches(min_risk=0.5))
    assert len(observed) == expected
    # the stored verdict became an opinion
    assert [o["opinion"] for o in objects if o["type"] == "opinion"] == ["strongly-disagree"]


def test_stix_of_a_campaign_includes_its_member_approaches(workspace) -> None:
    path, top, cid = workspace
    result = runner.invoke(app, ["export", "stix", "-w", str(path), "--campaign", cid])
    assert result.exit_code == 0, result.output
    objects = stix_objects(result.stdout)
    assert [o["name"] for o in objects if o["type"] == "campaign"] == [f"lurewatch campaign {cid}"]
    assert len([o for o in objects if o["type"] == "observed-data"]) == 1 + len(top)


def test_misp_of_chosen_approaches(workspace) -> None:
    path, top, _ = workspace
    result = runner.invoke(
        app,
        [
            "export",
            "misp",
            "-w",
            str(path),
            "--approach",
            top[1],
            "--approach",
            top[0],
            "--distribution",
            "1",
            "--tlp",
            "green",
        ],
    )
    assert result.exit_code == 0, result.output
    event = MISPEvent()
    event.load(result.stdout)
    assert [t.name for t in event.tags] == ["tlp:green"]
    assert int(event.distribution) == 1
    assert len([o for o in event.objects if o.name in {"instant-message", "email"}]) == 2


def test_csv_with_case_state(workspace, tmp_path: Path) -> None:
    path, top, _ = workspace
    out = tmp_path / "inbox.csv"
    result = runner.invoke(app, ["export", "csv", "-w", str(path), "--approach", top[0], "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["id"] for r in rows] == [top[0]]
    assert (
        rows[0]["status"] == "triaged" and rows[0]["verdict"] == "false_positive" and rows[0]["notes"] == "0"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "stix", "--approach", "no-such-id"], "no approach no-such-id"),
        (["export", "misp", "--campaign", "cmp-nope"], "no campaign cmp-nope"),
        (["export", "stix", "--tlp", "purple"], "unknown TLP level"),
        (["export", "csv", "--out", "missing-dir/x.csv"], "cannot write"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(workspace, tmp_path: Path, args: list[str], message: str) -> None:
    path, _, _ = workspace
    result = run(*args, "-w", path, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_missing_workspace_is_refused(tmp_path: Path) -> None:
    result = run("export", "stix", "-w", tmp_path / "none.sqlite", cwd=tmp_path)
    assert result.returncode == 2
    assert "no workspace here yet" in result.stderr
