"""lurewatch: screen professional-network approaches for covert state recruitment.

The public facade. Everything importable from here is supported API; everything else is private
and may change. Heavy parts (the screener, the workspace store) load on first use so that a
one-message ``lurewatch check`` starts quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lurewatch.errors import CatalogueError, InputError, LurewatchError, StoreError
from lurewatch.model import (
    Account,
    Approach,
    Assessment,
    Category,
    Channel,
    Conversation,
    Evidence,
    IngestStats,
    Message,
    Signal,
)
from lurewatch.settings import Settings

if TYPE_CHECKING:
    from lurewatch.core import Lurewatch
    from lurewatch.screen.catalogue import Catalogue, load_catalogue
    from lurewatch.screen.engine import Screener
    from lurewatch.store.workspace import Workspace

__version__ = "0.1.0"

__all__ = [
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
]

_LAZY = {
    "Lurewatch": ("lurewatch.core", "Lurewatch"),
    "Catalogue": ("lurewatch.screen.catalogue", "Catalogue"),
    "load_catalogue": ("lurewatch.screen.catalogue", "load_catalogue"),
    "Screener": ("lurewatch.screen.engine", "Screener"),
    "Workspace": ("lurewatch.store.workspace", "Workspace"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lurewatch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
