"""The project's own exceptions. The CLI turns :class:`InputError` into one line and exit code 2."""

from __future__ import annotations


class LurewatchError(Exception):
    """Base class of every error lurewatch raises on purpose."""


class InputError(LurewatchError):
    """Input that cannot be read safely: wrong format, too large, hostile archive, bad encoding.

    ``source`` names the file (or ``<stdin>``); ``problem`` says what is wrong in plain words.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class CatalogueError(LurewatchError):
    """An indicator catalogue file that is malformed (bad TOML, unknown matcher, invalid regex)."""


class StoreError(LurewatchError):
    """The workspace cannot be opened or written."""
