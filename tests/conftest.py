from __future__ import annotations

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
