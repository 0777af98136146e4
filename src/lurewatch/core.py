"""The core object the CLI and web adapters drive: reading inputs, screening, and the workspace."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lurewatch.errors import InputError
from lurewatch.ingest.read import STDIN, InputKind, detect_kind, input_digest, iter_approaches, resolve_input
from lurewatch.model import Approach, Assessment, IngestStats
from lurewatch.settings import Settings, get_settings

if TYPE_CHECKING:
    from lurewatch.screen.engine import Screener
    from lurewatch.store.workspace import ImportSummary, Workspace


@dataclass(slots=True)
class SourceReport:
    """What one input yielded: its kind and the counts of what was read and set aside."""

    source: str
    kind: InputKind
    stats: IngestStats = field(default_factory=IngestStats)
    approaches: int = 0


class Lurewatch:
    """Reads inputs, screens approaches and keeps the workspace; one per process is plenty."""

    def __init__(self, settings: Settings | None = None, screener: Screener | None = None) -> None:
        self.settings = settings or get_settings()
        self._screener = screener

    @property
    def screener(self) -> Screener:
        if self._screener is None:
            from lurewatch.screen.catalogue import load_catalogue
            from lurewatch.screen.engine import Screener

            self._screener = Screener(load_catalogue(self.settings.catalogue), self.settings)
        return self._screener

    def plan(self, paths: Sequence[str]) -> list[tuple[Path, InputKind]]:
        """Check every input up front so a typo in the last path fails before minutes of work on the first."""
        planned = []
        for text in paths:
            path = resolve_input(text)
            planned.append((path, detect_kind(path, self.settings)))
        return planned

    def scan(
        self,
        paths: Sequence[str],
        reports: list[SourceReport] | None = None,
        on_approach: Callable[[SourceReport], None] | None = None,
    ) -> Iterator[tuple[Approach, Assessment]]:
        """Stream ``(approach, assessment)`` over all inputs, in input order."""
        planned = self.plan(paths)
        return self.screener.assess_many(self._approaches(planned, reports, on_approach))

    def _approaches(
        self,
        planned: list[tuple[Path, InputKind]],
        reports: list[SourceReport] | None,
        on_approach: Callable[[SourceReport], None] | None,
    ) -> Iterator[Approach]:
        for path, kind in planned:
            report = SourceReport(str(path), kind)
            if reports is not None:
                reports.append(report)
            for approach in iter_approaches(path, self.settings, report.stats, kind):
                report.approaches += 1
                if on_approach is not None:
                    on_approach(report)
                yield approach

    def check_text(self, text: str, source: str = "<stdin>") -> tuple[Approach, Assessment]:
        from lurewatch.ingest.text import approach_from_text

        approach = approach_from_text(text, source=source, settings=self.settings)
        return approach, self.screener.assess(approach)

    def open_workspace(self, location: str | Path | None = None) -> Workspace:
        from lurewatch.store.workspace import Workspace

        target = location or self.settings.database_url or self.settings.workspace
        return Workspace.open(target)

    def import_path(
        self,
        workspace: Workspace,
        path_text: str,
        on_approach: Callable[[int], None] | None = None,
    ) -> tuple[SourceReport, ImportSummary]:
        """Import one input into ``workspace`` in a single transaction (all of it or nothing)."""
        if path_text == STDIN:
            raise InputError("<stdin>", "import reads files; use `lurewatch check` for a pasted message")
        path = resolve_input(path_text)
        kind = detect_kind(path, self.settings)
        report = SourceReport(str(path), kind)
        digest = input_digest(path)
        items = self.screener.assess_many(iter_approaches(path, self.settings, report.stats, kind))
        summary = workspace.import_approaches(
            source=str(path),
            digest=digest,
            kind=kind.value,
            items=_counting(items, report),
            stats=report.stats,
            progress=on_approach,
        )
        return report, summary


def _counting(
    items: Iterable[tuple[Approach, Assessment]], report: SourceReport
) -> Iterator[tuple[Approach, Assessment]]:
    for item in items:
        report.approaches += 1
        yield item
