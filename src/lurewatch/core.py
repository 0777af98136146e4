"""The core object the CLI and web adapters drive: reading inputs, screening, and the workspace."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lurewatch.errors import InputError, LurewatchError
from lurewatch.ingest.read import STDIN, InputKind, detect_kind, input_digest, iter_approaches, resolve_input
from lurewatch.model import Approach, Assessment, Category, IngestStats
from lurewatch.settings import Settings, get_settings

if TYPE_CHECKING:
    from lurewatch.campaigns.backend import Progress, StreamSource
    from lurewatch.campaigns.engine import CampaignOptions, CampaignRun
    from lurewatch.screen.engine import Screener
    from lurewatch.screen.textmodel import TextModel
    from lurewatch.screen.training import CrossValidation, Example
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

            self._screener = Screener(
                load_catalogue(self.settings.catalogue), self.settings, model=self.load_model()
            )
        return self._screener

    @property
    def workers(self) -> int:
        """Scoring worker processes for long inputs (the ``workers`` setting, -1 resolved)."""
        if self.settings.workers >= 0:
            return self.settings.workers
        # One per core: the main process spends part of its time waiting for results, and on two
        # cores two workers beat one (benchmarks/results/scan.json). A single core scores in-process,
        # and so do the rules alone: they cost less than handing an approach to another process.
        cores = os.cpu_count() or 1
        if cores < 2 or self.model_path() is None:
            return 0
        return min(8, cores)

    @property
    def models_dir(self) -> Path:
        """Where `lurewatch train` keeps the models it makes: ``models/`` beside the workspace file."""
        return self.settings.workspace.parent / "models"

    def model_path(self) -> Path | None:
        """The model file the ``model`` setting selects, or None for the rules alone."""
        from lurewatch.screen.textmodel import BUNDLED_MODEL, ModelError, newest_model

        choice = self.settings.model.strip()
        if choice.lower() == "off":
            return None
        if choice.lower() == "bundled":
            return BUNDLED_MODEL
        if choice.lower() == "auto":
            return newest_model(self.models_dir) or BUNDLED_MODEL
        path = Path(choice).expanduser()
        if path.is_dir():
            found = newest_model(path)
            if found is None:
                raise ModelError(f"{path}: no model-*.npz in this folder (LUREWATCH_MODEL)")
            return found
        return path

    def load_model(self) -> TextModel | None:
        from lurewatch.screen.textmodel import TextModel

        path = self.model_path()
        return None if path is None else TextModel.load(path)

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
        return self.screener.assess_many(self._approaches(planned, reports, on_approach), self.workers)

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

    def campaign_options(self, **overrides: object) -> CampaignOptions:
        """Campaign options from the settings, with ``overrides`` (None values ignored) on top."""
        from lurewatch.campaigns.engine import CampaignOptions

        s = self.settings
        values: dict[str, object] = {
            "threshold": s.campaign_threshold,
            "min_recipients": s.campaign_min_recipients,
            "link_threshold": s.campaign_link_threshold,
            "max_accounts_per_key": s.campaign_max_accounts_per_key,
            "photo_distance": s.campaign_photo_distance,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return CampaignOptions(**values)  # type: ignore[arg-type]
        except ValueError as exc:
            raise InputError("campaign options", str(exc)) from None

    def find_campaigns(
        self,
        source: StreamSource,
        options: CampaignOptions | None = None,
        progress: Progress | None = None,
        engine: str = "local",
        spark_master: str | None = None,
    ) -> CampaignRun:
        """Campaigns in a message stream (a file, Parquet paths Spark reads, or the workspace's approaches).

        ``engine`` is ``local`` (this process) or ``spark`` (the same algorithm as Spark jobs; the master
        is ``spark_master``, else the ``LUREWATCH_SPARK_MASTER`` setting, else spark-submit's or
        ``local[*]``).
        """
        from lurewatch.campaigns.engine import find_campaigns
        from lurewatch.campaigns.local import LocalBackend

        if engine == "spark":
            from lurewatch.campaigns.spark import SparkBackend, spark_session

            spark = spark_session(spark_master or self.settings.spark_master)
            with SparkBackend(spark) as distributed:
                return find_campaigns(
                    source, distributed, self.screener, options or self.campaign_options(), progress
                )
        if engine != "local":
            raise InputError("engine", f"unknown engine {engine!r}: use local or spark")
        cores = os.cpu_count() or 1
        workers = self.settings.workers if self.settings.workers >= 0 else (0 if cores < 2 else min(8, cores))
        with LocalBackend(workers=workers) as backend:
            return find_campaigns(
                source, backend, self.screener, options or self.campaign_options(), progress, screen_workers=0
            )

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
        items = self.screener.assess_many(
            iter_approaches(path, self.settings, report.stats, kind), self.workers
        )
        summary = workspace.import_approaches(
            source=str(path),
            digest=digest,
            kind=kind.value,
            items=_counting(items, report),
            stats=report.stats,
            progress=on_approach,
        )
        return report, summary

    # -- owners ------------------------------------------------------------------------------------

    def screen_counterparty(
        self,
        subject: str,
        data: Sequence[Path],
        lists: Sequence[Path] | None = None,
        *,
        threshold: float | None = None,
        max_chain: int | None = None,
        as_of: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[Any, int]:
        """Load ownership files, find ``subject`` and screen it: (ScreeningResult, parties matching).

        Lists default to the files in ``LUREWATCH_LISTS_DIR`` when it exists; thresholds to the settings.
        Raises :class:`LurewatchError` when the subject is not found or ``as_of`` is not a date.
        """
        from datetime import date

        from lurewatch.owners import find_subject, load_graph, load_secrecy_list, make_matcher
        from lurewatch.owners.graph import day_number
        from lurewatch.owners.lists import load_lists
        from lurewatch.owners.matching import ListIndex
        from lurewatch.owners.screen import screen

        s = self.settings
        reference = day_number(as_of) if as_of else day_number(date.today().isoformat())
        if as_of and reference < 0:
            raise LurewatchError(f"as-of date {as_of!r} is not a date (YYYY-MM-DD)")
        graph, _report = load_graph(
            list(data),
            max_file_bytes=s.owners_max_file_bytes,
            progress=(lambda _p, n: progress(n)) if progress is not None else None,
        )
        list_paths = list(lists) if lists else ([s.lists_dir] if s.lists_dir.is_dir() else [])
        index = load_lists(list_paths) if list_paths else ListIndex()
        found = find_subject(graph, subject)
        if not found:
            raise LurewatchError(
                f"{subject!r}: not found in the ownership data (try a company number or the exact name)"
            )
        result = screen(
            graph,
            found[0],
            threshold=threshold if threshold is not None else s.owners_threshold,
            max_chain=max_chain or s.owners_max_chain,
            max_nodes=s.owners_max_nodes,
            max_paths=s.owners_max_paths,
            recent_days=s.owners_recent_days,
            as_of_day=reference,
            secrecy=load_secrecy_list(s.owners_secrecy_list),
            matcher=make_matcher(index, s.owners_match_threshold),
        )
        return result, len(found)

    # -- training ----------------------------------------------------------------------------------

    def training_examples(
        self,
        paths: Sequence[str] = (),
        workspace: Workspace | None = None,
        on_example: Callable[[int], None] | None = None,
    ) -> list[Example]:
        """Labelled approaches from corpus files and a workspace's verdicts, with the rules' verdicts.

        The model learns from what the rules said, so examples are assessed by the rules alone.
        """
        from lurewatch.screen.engine import Screener
        from lurewatch.screen.training import Example

        labelled: list[tuple[Approach, Category]] = []
        for path, kind in self.plan(paths):
            if kind is not InputKind.CORPUS:
                raise InputError(str(path), "training reads labelled corpus files (JSON Lines, see SCHEMA)")
            for approach in iter_approaches(path, self.settings, IngestStats(), kind):
                if approach.label is None:
                    raise InputError(str(path), f"record {approach.id} has no label")
                labelled.append((approach, approach.label))
        if workspace is not None:
            labelled.extend(workspace.labelled_approaches())
        from lurewatch.screen.combine import model_view

        rules = Screener(self.screener.catalogue, self.settings)
        examples = []
        assessed = rules.assess_many(a for a, _ in labelled)
        for n, ((approach, assessment), (_, label)) in enumerate(zip(assessed, labelled, strict=True)):
            examples.append(Example(approach, model_view(rules, assessment), label))
            if on_example is not None:
                on_example(n + 1)
        return examples

    def train_model(
        self,
        examples: Sequence[Example],
        out_dir: Path | None = None,
        *,
        folds: int = 5,
        seed: int = 0,
        sources: Sequence[str] = (),
        on_fold: Callable[[int], None] | None = None,
    ) -> tuple[TextModel, Path, CrossValidation | None]:
        """Cross-validate (when ``folds`` >= 2), then fit on everything and save a new model version.

        Models are never overwritten: each goes to ``model-<UTC time stamp>.npz`` in ``out_dir``
        (default :attr:`models_dir`), where ``LUREWATCH_MODEL=auto`` picks the newest.
        """
        from lurewatch.screen.textmodel import MODEL_GLOB
        from lurewatch.screen.training import cross_validate, train

        ids = [i.id for i in self.screener.catalogue.indicators]
        cv = None
        if folds >= 2:
            cv = cross_validate(examples, ids, folds=folds, seed=seed, on_fold=on_fold)
        model = train(
            examples,
            ids,
            seed=seed,
            metadata={"sources": list(sources), "catalogue_version": self.screener.catalogue.version},
        )
        folder = out_dir or self.models_dir
        stem = MODEL_GLOB.replace("*", model.version).removesuffix(".npz")
        path = folder / f"{stem}.npz"
        n = 1
        while path.exists():
            n += 1
            path = folder / f"{stem}-{n}.npz"
        model.save(path)
        return model, path, cv


def _counting(
    items: Iterable[tuple[Approach, Assessment]], report: SourceReport
) -> Iterator[tuple[Approach, Assessment]]:
    for item in items:
        report.approaches += 1
        yield item
