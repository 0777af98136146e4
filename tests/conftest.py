from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EVAL_DIR = SHARED / "eval"


def eval_files() -> list[Path]:
    return sorted(EVAL_DIR.glob("*.jsonl")) if EVAL_DIR.exists() else []


@pytest.fixture
def shared_eval() -> list[Path]:
    files = eval_files()
    if not files:
        pytest.skip("../shared/eval is not present")
    return files


#: A PostgreSQL database the workspace tests may empty and reuse (``.ci/run`` starts one on loopback).
PG_URL = os.environ.get("LUREWATCH_TEST_POSTGRES_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def workspace_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh workspace location on each back-end (PostgreSQL skips without LUREWATCH_TEST_POSTGRES_URL)."""
    if request.param == "sqlite":
        return str(tmp_path / "nested" / "dir" / "workspace.sqlite")
    if not PG_URL:
        pytest.skip("LUREWATCH_TEST_POSTGRES_URL not set")
    from sqlalchemy import create_engine, text

    from lurewatch.store.tables import VERSION_TABLE, Base

    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    engine.dispose()
    return PG_URL
