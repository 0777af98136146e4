"""Query parameters shared by a page and its JSON twin, read once as FastAPI dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from lurewatch.store.cases import InboxFilter

Text64 = Annotated[str | None, Query(max_length=64)]
Text200 = Annotated[str | None, Query(max_length=200)]
Ids = Annotated[list[str] | None, Query(max_length=1000)]
Risk = Annotated[float, Query(ge=0, le=1)]


@dataclass(frozen=True, slots=True)
class InboxQuery:
    where: InboxFilter
    limit: int
    offset: int


def inbox_query(
    category: Text64 = None,
    status: Text64 = None,
    severity: Text64 = None,
    sector: Text200 = None,
    campaign: Text200 = None,
    reporter: Text64 = None,
    assignee: Text64 = None,
    min_risk: Risk = 0.0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> InboxQuery:
    """The inbox's filters (an empty value is no filter, as a form sends it), page size and offset."""
    where = InboxFilter(
        category or None,
        status or None,
        severity or None,
        sector or None,
        campaign or None,
        reporter or None,
        assignee or None,
        min_risk,
    )
    return InboxQuery(where, limit, offset)


@dataclass(frozen=True, slots=True)
class Selection:
    """What an export holds: named approaches and campaigns, else every approach at or above min_risk."""

    approaches: list[str]
    campaigns: list[str]
    min_risk: float


def export_selection(approach: Ids = None, campaign: Ids = None, min_risk: Risk = 0.0) -> Selection:
    return Selection(approach or [], campaign or [], min_risk)
