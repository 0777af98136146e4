"""The bundled demo: 25 exports in every header era, imported, with the planted approaches ranked on top."""

from __future__ import annotations

from pathlib import Path

import pytest

from lurewatch.core import Lurewatch
from lurewatch.demo import STAFF, build_demo
from lurewatch.errors import LurewatchError
from lurewatch.settings import Settings
from lurewatch.synth.linkedin_export import ERAS


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lurewatch, Path]:
    core = Lurewatch(Settings())
    target = tmp_path_factory.mktemp("demo") / "demo"
    result = build_demo(core, target)
    assert result.staff == len(STAFF) == 25
    assert set(result.eras) == set(ERAS)
    assert len(list(result.exports_dir.glob("*.zip"))) == 25
    return core, result.workspace


def test_planted_approaches_rank_first(demo: tuple[Lurewatch, Path]) -> None:
    core, workspace = demo
    with core.open_workspace(workspace) as ws:
        rows = ws.list_approaches()
    senders = [r.sender_name for r in rows]
    # The escalating fake consultancy, the German BfV-style headhunter, the Dream-Job lure and the
    # think-tank note sent to three researchers are the top six. The risk is the probability of a
    # state approach or malware lure, so the advance-fee scam is not among them, but it is a scam.
    assert set(senders[:6]) == {"Helen Zhao", "Jessica Li", "Ryan Mitchell", "Kevin Wang"}
    assert senders[:6].count("Kevin Wang") == 3
    assert all(r.risk >= core.settings.alert_threshold for r in rows[:6])
    categories = {r.sender_name: r.category for r in rows}
    assert categories["Ryan Mitchell"] == "malware_lure"
    assert categories["Jessica Li"] == "state_approach"
    assert categories["Helen Zhao"] == "state_approach"
    assert categories["Brenda Coleman"] == "scam"


def test_ordinary_traffic_is_not_flagged(demo: tuple[Lurewatch, Path]) -> None:
    core, workspace = demo
    planted = {"Helen Zhao", "Jessica Li", "Ryan Mitchell", "Kevin Wang", "Brenda Coleman"}
    with core.open_workspace(workspace) as ws:
        rows = ws.list_approaches()
    ordinary = [r for r in rows if r.sender_name not in planted]
    assert len(ordinary) > 50
    assert all(r.category in {"benign", "commercial"} for r in ordinary), [
        (r.sender_name, r.category) for r in ordinary if r.category not in {"benign", "commercial"}
    ]
    assert max(r.risk for r in ordinary) < 0.4


def test_rebuilding_replaces_only_a_demo_folder(demo: tuple[Lurewatch, Path], tmp_path: Path) -> None:
    core, _ = demo
    foreign = tmp_path / "precious"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("keep me", encoding="utf-8")
    with pytest.raises(LurewatchError, match="not a lurewatch demo"):
        build_demo(core, foreign)
    assert (foreign / "thesis.tex").read_text(encoding="utf-8") == "keep me"
