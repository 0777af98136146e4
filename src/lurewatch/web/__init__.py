"""The web dashboard and JSON API (``lurewatch serve``)."""

from __future__ import annotations

from lurewatch.web.app import create_app

__all__ = ["create_app"]
