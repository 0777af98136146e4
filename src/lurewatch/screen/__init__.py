"""Screening: the indicator catalogue, its matchers, the rule engine and the advice it gives."""

from __future__ import annotations

from lurewatch.screen.advice import advice_for
from lurewatch.screen.catalogue import Catalogue, Indicator, load_catalogue
from lurewatch.screen.engine import NoisyOrScorer, Scorer, Scores, Screener, TemplateTracker

__all__ = [
    "Catalogue",
    "Indicator",
    "NoisyOrScorer",
    "Scorer",
    "Scores",
    "Screener",
    "TemplateTracker",
    "advice_for",
    "load_catalogue",
]
