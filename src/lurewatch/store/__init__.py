"""The workspace store: imports, accounts, approaches and assessments in SQLite or PostgreSQL."""

from __future__ import annotations

from lurewatch.store.workspace import (
    IMPORT_KINDS,
    ApproachRow,
    ImportRow,
    ImportSummary,
    Workspace,
    clean_key,
    clean_text,
)

__all__ = [
    "IMPORT_KINDS",
    "ApproachRow",
    "ImportRow",
    "ImportSummary",
    "Workspace",
    "clean_key",
    "clean_text",
]
