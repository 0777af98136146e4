from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lurewatch.errors import LurewatchError
from lurewatch.settings import Settings, env_name

README = Path(__file__).resolve().parents[1] / "README.md"


def test_defaults_without_environment() -> None:
    assert Settings.from_env({}) == Settings()


def test_values_from_environment() -> None:
    s = Settings.from_env(
        {
            "LUREWATCH_WORKSPACE": "/tmp/ws.sqlite",
            "LUREWATCH_MAX_ZIP_ENTRIES": "7",
            "LUREWATCH_MAX_ZIP_RATIO": "12.5",
            "LUREWATCH_DATABASE_URL": "postgresql+psycopg://u@localhost/db",
        }
    )
    assert s.workspace == Path("/tmp/ws.sqlite")
    assert s.max_zip_entries == 7
    assert s.max_zip_ratio == 12.5
    assert s.database_url == "postgresql+psycopg://u@localhost/db"


@pytest.mark.parametrize("value", ["lots", "-3", "0"])
def test_bad_values_are_clear_errors(value: str) -> None:
    with pytest.raises(LurewatchError, match="LUREWATCH_MAX_ZIP_ENTRIES"):
        Settings.from_env({"LUREWATCH_MAX_ZIP_ENTRIES": value})


def test_readme_documents_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [env_name(f.name) for f in dataclasses.fields(Settings) if env_name(f.name) not in text]
    assert not missing, f"settings missing from README: {missing}"
