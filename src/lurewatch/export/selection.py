"""Which approaches and campaigns an export holds: shared by `lurewatch export` and the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lurewatch.display import clean_line
from lurewatch.errors import LurewatchError
from lurewatch.model import Approach, Assessment, Campaign, CaseState
from lurewatch.store.cases import Cases
from lurewatch.store.workspace import Workspace

#: Most approaches one export holds (a larger selection is refused, not cut).
MAX_EXPORT_APPROACHES: Final = 20_000

ExportItems = list[tuple[Approach, Assessment, CaseState | None]]


def select_for_export(
    ws: Workspace,
    campaign_ids: Sequence[str] = (),
    approach_ids: Sequence[str] = (),
    min_risk: float = 0.0,
    *,
    limit: int = MAX_EXPORT_APPROACHES,
) -> tuple[ExportItems, list[Campaign]]:
    """The named approaches and campaigns (with the campaigns' stored member approaches), or with no
    names every approach at or above ``min_risk``; each with its full case state (verdict, notes ...)."""
    from lurewatch.campaigns.engine import campaign_from_record

    campaigns = []
    for cid in dict.fromkeys(campaign_ids):
        record = ws.get_campaign(cid)
        if record is None:
            raise LurewatchError(f"no campaign {clean_line(cid, 100)} in the workspace")
        try:
            campaigns.append(campaign_from_record(record))
        except ValueError as exc:
            raise LurewatchError(f"campaign {clean_line(cid, 100)}: {exc}") from None
    wanted: dict[str, bool] = dict.fromkeys(approach_ids, True)  # approach id -> named explicitly
    for campaign in campaigns:
        for mid in campaign.message_ids:
            wanted.setdefault(mid, False)
    if not approach_ids and not campaign_ids:
        wanted = {row.id: False for row in ws.list_approaches(min_risk=min_risk, limit=limit + 1)}
    if len(wanted) > limit:
        raise LurewatchError(
            f"the selection holds over {limit:,} approaches; narrow it (--min-risk, --campaign)"
        )
    cases = Cases(ws)
    items: ExportItems = []
    for aid, named in wanted.items():
        found = ws.get_approach(aid)
        if found is None:
            if named:
                raise LurewatchError(f"no approach {clean_line(aid, 100)} in the workspace")
            continue  # a campaign found in a message stream names messages, not stored approaches
        approach, assessment = found
        if assessment.risk < min_risk and not named:
            continue
        items.append((approach, assessment, cases.state(approach.id)))
    return items, campaigns
