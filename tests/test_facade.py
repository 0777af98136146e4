"""The public API is what ``lurewatch.__all__`` names; changing it must be deliberate."""

from __future__ import annotations

import subprocess
import sys

import lurewatch

EXPECTED_ALL = {
    "Account",
    "Approach",
    "Assessment",
    "Catalogue",
    "CatalogueError",
    "Category",
    "Channel",
    "Conversation",
    "Evidence",
    "IngestStats",
    "InputError",
    "Lurewatch",
    "LurewatchError",
    "Message",
    "Screener",
    "Settings",
    "Signal",
    "StoreError",
    "Workspace",
    "__version__",
    "load_catalogue",
}


def test_all_is_pinned() -> None:
    assert set(lurewatch.__all__) == EXPECTED_ALL
    assert len(lurewatch.__all__) == len(EXPECTED_ALL)


def test_every_public_name_resolves() -> None:
    for name in lurewatch.__all__:
        assert getattr(lurewatch, name) is not None, name


def test_unknown_attribute_raises() -> None:
    try:
        lurewatch.does_not_exist  # noqa: B018
    except AttributeError as exc:
        assert "does_not_exist" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_light() -> None:
    # `lurewatch check` must start fast: importing the facade must not drag in the store or the web stack.
    code = "import sys, lurewatch; print(' '.join(m for m in ('sqlalchemy', 'alembic', 'typer') if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
