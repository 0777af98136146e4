"""Command-line interface: a thin Typer layer over :class:`lurewatch.core.Lurewatch`.

Everything printed for people goes to stderr except the table/JSON the command exists to produce, so
``lurewatch scan --json x.zip | jq`` works. Text written by adversaries is never interpreted as Rich
markup or terminal control sequences.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from lurewatch import __version__
from lurewatch.core import Lurewatch, SourceReport
from lurewatch.display import approach_json, clean_line, compact_signals, explain_lines
from lurewatch.errors import LurewatchError
from lurewatch.model import Approach, Assessment, Category
from lurewatch.settings import Settings

if TYPE_CHECKING:
    from lurewatch.store.workspace import Workspace

app = typer.Typer(
    name="lurewatch",
    help="Screen LinkedIn, InMail and e-mail approaches for covert state recruitment, malware lures and scams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

out = Console(highlight=False, soft_wrap=False)
# Soft wrap: an error or summary stays one line however narrow the terminal (or 80 columns when piped).
err = Console(stderr=True, highlight=False, soft_wrap=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace database file (default: LUREWATCH_WORKSPACE)."),
]
CatalogueOption = Annotated[
    Path | None,
    typer.Option("--catalogue", help="Extra indicator catalogue (TOML) merged over the bundled one."),
]
CATEGORY_STYLE = {
    Category.STATE_APPROACH: "bold red",
    Category.MALWARE_LURE: "bold magenta",
    Category.SCAM: "yellow",
    Category.COMMERCIAL: "cyan",
    Category.BENIGN: "green",
}


def _existing_workspace(core: Lurewatch, workspace: Path | None) -> Workspace:
    location = workspace or core.settings.database_url or core.settings.workspace
    if isinstance(location, Path) and not location.exists():
        raise LurewatchError(f"{location}: no workspace here yet; run `lurewatch import PATH` first")
    return core.open_workspace(location)


def _core(catalogue: Path | None = None) -> Lurewatch:
    settings = Settings.from_env()
    if catalogue is not None:
        settings = dataclasses.replace(settings, catalogue=catalogue)
    return Lurewatch(settings)


class _Ticker:
    """A progress bar redrawn from the loop that does the work, at most ten times a second.

    Rich's own refresh thread is not used: scoring may fork worker processes, and forking while
    another thread holds a lock can deadlock the child.
    """

    def __init__(self, progress: Progress, description: str) -> None:
        self._progress = progress
        self._task = progress.add_task(description, total=None)
        self._next = 0.0
        self._enabled = not progress.disable

    def set(self, completed: int) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if now >= self._next:
            self._next = now + 0.1
            self._progress.update(self._task, completed=completed, refresh=True)


@contextmanager
def _progress(description: str) -> Iterator[_Ticker]:
    progress = Progress(
        SpinnerColumn(),
        # not markup: the description carries a path the user typed, and "[/]" in it would raise
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(bar_width=None),
        TextColumn("{task.completed:,} approaches"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        auto_refresh=False,
        disable=not err.is_terminal,
    )
    with progress:
        yield _Ticker(progress, description)


@app.command()
def scan(
    paths: Annotated[
        list[str], typer.Argument(help="LinkedIn exports (.zip or folder), .eml, mbox, corpus .jsonl.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per approach on stdout.")] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write every approach to this CSV file.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows in the ranked table (0 = all).", min=0)] = 50,
    min_risk: Annotated[float, typer.Option(help="Hide approaches below this risk.", min=0.0, max=1.0)] = 0.0,
    catalogue: CatalogueOption = None,
) -> None:
    """Read inputs, screen every approach and print a ranked table (or JSON lines)."""
    core = _core(catalogue)
    reports: list[SourceReport] = []
    categories: Counter[str] = Counter()
    # Only the top rows are kept for the table, so a scan of millions of messages stays flat in memory.
    top: list[tuple[float, int, Approach, Assessment]] = []
    with _progress("Screening") as progress, _csv_sink(csv_file) as write_csv:
        for n, (approach, assessment) in enumerate(core.scan(paths, reports)):
            progress.set(n + 1)
            categories[assessment.category.value] += 1
            if assessment.risk < min_risk:
                continue
            if write_csv is not None:
                write_csv(approach, assessment)
            if as_json:
                out.file.write(json.dumps(approach_json(approach, assessment), ensure_ascii=False) + "\n")
                continue
            entry = (assessment.risk, -n, approach, assessment)
            if limit == 0 or len(top) < limit:
                heapq.heappush(top, entry)
            else:
                heapq.heappushpop(top, entry)
    if not as_json:
        ranked = sorted(top, key=lambda e: (e[0], e[1]), reverse=True)
        _print_table([_row(a, s) for _, _, a, s in ranked], title="Approaches, highest risk first")
    _print_source_summary(reports, categories)


@dataclasses.dataclass(frozen=True, slots=True)
class _Row:
    risk: float
    category: str
    sender: str
    recipient: str
    date: str
    signals: list[str]  # "<id> <title>", strongest first
    source: str = ""


def _print_table(rows: list[_Row], title: str) -> None:
    """The ranked table; narrow terminals (and pipes, 80 columns) get signal ids only and no source column."""
    if not rows:
        err.print("No approaches to show.")
        return
    width = out.width
    show_source = width >= 150 and any(r.source for r in rows)
    table = Table(title=title, expand=False)
    table.add_column("risk", justify="right", no_wrap=True, min_width=4)
    table.add_column("category", no_wrap=True, min_width=14)
    table.add_column("sender", max_width=24 if width >= 120 else 14, overflow="ellipsis", no_wrap=True)
    table.add_column("recipient", max_width=20 if width >= 120 else 13, overflow="ellipsis", no_wrap=True)
    table.add_column("date", no_wrap=True, min_width=10)
    table.add_column("top signals", overflow="ellipsis", no_wrap=width < 120)
    if show_source:
        table.add_column("source", max_width=40, overflow="ellipsis", no_wrap=True)
    for r in rows:
        signals = (
            compact_signals(r.signals) if width >= 120 else " ".join(p.split(" ", 1)[0] for p in r.signals)
        )
        cells: list[Any] = [
            f"{r.risk:.2f}",
            Text(r.category, style=CATEGORY_STYLE.get(Category(r.category), "")),
            Text(clean_line(r.sender, 60)),
            Text(clean_line(r.recipient, 60)),
            r.date,
            Text(signals),
        ]
        if show_source:
            cells.append(Text(clean_line(r.source, 60)))
        table.add_row(*cells)
    out.print(table)


def _row(approach: Approach, assessment: Assessment) -> _Row:
    strongest = sorted(assessment.signals, key=lambda s: s.weight, reverse=True)[:4]
    return _Row(
        assessment.risk,
        assessment.category.value,
        approach.sender.name or approach.sender.key,
        approach.recipient.name or approach.recipient.key,
        approach.sent_at.strftime("%Y-%m-%d") if approach.sent_at else "",
        [f"{s.indicator_id} {s.title}" for s in strongest],
        Path(approach.source).name,
    )


def _print_source_summary(reports: list[SourceReport], categories: Counter[str]) -> None:
    for report in reports:
        s = report.stats
        set_aside = [
            f"{value:,} {label}"
            for value, label in (
                (s.sponsored_filtered, "sponsored"),
                (s.system_filtered, "system"),
                (s.drafts_dropped, "drafts"),
                (s.outbound_skipped, "started by the owner"),
                (s.empty_skipped, "empty"),
                (s.too_large_skipped, "too-large e-mails"),
                (s.messages_dropped, "dropped messages"),
                (s.truncated_fields, "truncated fields"),
            )
            if value
        ]
        line = f"{clean_line(report.source, 200)} ({report.kind.value}): {report.approaches:,} approaches"
        if set_aside:
            line += "; set aside: " + ", ".join(set_aside)
        err.print(Text(line), style="dim")
    if categories:
        err.print(
            Text("By category: " + ", ".join(f"{c} {n:,}" for c, n in categories.most_common())), style="dim"
        )


@contextmanager
def _csv_sink(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield None
        return
    from lurewatch.display import CSV_HEADER, csv_row
    from lurewatch.export.csv import atomic_csv

    with atomic_csv(path, CSV_HEADER) as write_row:
        yield lambda approach, assessment: write_row(csv_row(approach, assessment))
    err.print(Text(f"CSV written to {path}"), style="dim")


@app.command()
def check(
    as_json: Annotated[bool, typer.Option("--json", help="Print the assessment as JSON.")] = False,
    catalogue: CatalogueOption = None,
) -> None:
    """Score one pasted message (read from stdin) and explain the verdict in plain words."""
    from lurewatch.ingest.read import read_stdin_text

    core = _core(catalogue)
    if sys.stdin.isatty():
        err.print("Paste the message, then press Ctrl-D (Ctrl-Z then Enter on Windows).")
    text = read_stdin_text(core.settings)
    approach, assessment = core.check_text(text)
    if as_json:
        out.file.write(json.dumps(approach_json(approach, assessment), ensure_ascii=False) + "\n")
        return
    for line, style in explain_lines(approach, assessment):
        out.print(Text(line, style=style or ""))


@app.command("import")
def import_(
    paths: Annotated[
        list[str], typer.Argument(help="LinkedIn exports (.zip or folder), .eml, mbox, corpus .jsonl.")
    ],
    workspace: WorkspaceOption = None,
    catalogue: CatalogueOption = None,
) -> None:
    """Import inputs into the workspace (each input all-or-nothing; importing the same file again adds nothing)."""
    core = _core(catalogue)
    core.plan(paths)  # fail on a bad path before importing anything
    failures = 0
    with core.open_workspace(workspace) as ws:
        for path_text in paths:
            try:
                with _progress(f"Importing {clean_line(path_text, 60)}") as progress:
                    report, summary = core.import_path(ws, path_text, progress.set)
            except LurewatchError as exc:
                # One bad export must not stop the others; it left the workspace untouched.
                failures += 1
                err.print(
                    Text(f"lurewatch: error: {clean_line(str(exc), 500)} (nothing imported from it)"),
                    style="red",
                )
                continue
            if summary.already_imported:
                err.print(Text(f"{clean_line(report.source, 200)}: already imported, nothing added"))
            else:
                err.print(
                    Text(
                        f"{clean_line(report.source, 200)}: {summary.approaches_added:,} approaches added"
                        + (
                            f", {summary.approaches_skipped_duplicate:,} already in the workspace"
                            if summary.approaches_skipped_duplicate
                            else ""
                        )
                    )
                )
    if failures:
        raise typer.Exit(2)


@app.command()
def report(
    workspace: WorkspaceOption = None,
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    min_risk: Annotated[float, typer.Option(help="Hide approaches below this risk.", min=0.0, max=1.0)] = 0.0,
    limit: Annotated[int, typer.Option(help="Rows to show (0 = all).", min=0)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per approach on stdout.")] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the listed approaches to this CSV file.")
    ] = None,
) -> None:
    """List the workspace's approaches, highest risk first."""
    core = _core()
    with _existing_workspace(core, workspace) as ws:
        rows = ws.list_approaches(
            category=category.value if category else None, min_risk=min_risk, limit=limit or None
        )
        full = [ws.get_approach(r.id) for r in rows] if (as_json or csv_file) else []
        counts = ws.counts()
    pairs = [p for p in full if p is not None]
    if csv_file is not None:
        with _csv_sink(csv_file) as write_csv:
            for approach, assessment in pairs:
                write_csv(approach, assessment)
    if as_json:
        for approach, assessment in pairs:
            out.file.write(json.dumps(approach_json(approach, assessment), ensure_ascii=False) + "\n")
        return
    _print_table(
        [
            _Row(
                r.risk,
                r.category,
                r.sender_name or r.sender_key,
                r.recipient_name or r.recipient_key,
                r.sent_at.strftime("%Y-%m-%d") if r.sent_at else "",
                [p for p in r.top_signals.split("; ") if p],
                Path(r.import_source or r.source).name,
            )
            for r in rows
        ],
        title=f"Workspace approaches, highest risk first ({counts.get('approaches', 0):,} in all)",
    )
    by_category = ", ".join(f"{c.value} {counts[c.value]:,}" for c in Category if counts.get(c.value))
    if by_category:
        err.print(Text("By category: " + by_category), style="dim")


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to build the demo exports and workspace.")
    ] = Path("lurewatch-demo"),
    limit: Annotated[int, typer.Option(help="Rows in the printed report.", min=1)] = 25,
) -> None:
    """Build the bundled demo (a fictional organisation's 25 LinkedIn exports), import it and print the report."""
    from lurewatch.demo import build_demo

    core = _core()
    with _progress("Building the demo workspace") as progress:
        result = build_demo(core, directory, on_approach=progress.set)
    err.print(
        Text(
            f"Demo: {result.staff} staff exports ({', '.join(result.eras)} header eras) imported into "
            f"{result.workspace} ({result.approaches:,} approaches)."
        )
    )
    report(workspace=result.workspace, category=None, min_risk=0.0, limit=limit, as_json=False, csv_file=None)
    err.print(
        Text(
            f"Next: lurewatch report --workspace {result.workspace} --json   |   "
            f"lurewatch scan {result.exports_dir}/*.zip"
        ),
        style="dim",
    )
    err.print(
        Text(
            f"Dashboard: lurewatch users add NAME --workspace {result.workspace}   then   "
            f"lurewatch serve --workspace {result.workspace}"
        ),
        style="dim",
    )


@app.command("eval")
def eval_(
    paths: Annotated[
        list[str], typer.Argument(help="Labelled corpus files (JSON Lines with a 'label' per record).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print every metric as one JSON object.")] = False,
    plots: Annotated[
        Path | None,
        typer.Option("--plots", help="Write reliability.png and confusion.png into this folder."),
    ] = None,
    threshold_report: Annotated[
        bool,
        typer.Option("--threshold-report", help="Also list benign FPR and recall at every risk threshold."),
    ] = False,
    cv: Annotated[
        int,
        typer.Option(
            "--cv",
            help="Cross-validate instead: retrain the text model on K-1 folds, score the held-out fold (0 = off).",
            min=0,
            max=20,
        ),
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed of the --cv folds.")] = 0,
    catalogue: CatalogueOption = None,
) -> None:
    """Measure detection quality on labelled records: per-label metrics, confusion, recall at 1%/2% benign FPR, calibration."""
    from lurewatch.evaluation import Predictions
    from lurewatch.ingest.read import InputKind

    if plots is not None and plots.exists() and not plots.is_dir():
        raise LurewatchError(f"{plots}: exists and is not a folder (--plots needs a folder)")
    core = _core(catalogue)
    for path, kind in core.plan(paths):
        if kind is not InputKind.CORPUS:
            raise LurewatchError(
                f"{path}: not a labelled corpus file ({kind.value}); eval reads JSON Lines records "
                "with a 'label' (see ../shared/eval/SCHEMA.md)"
            )
    if cv == 1:
        raise LurewatchError("--cv needs at least 2 folds")
    if cv:
        predictions = _cross_validated(core, paths, cv, seed)
        method = f"{cv}-fold cross-validation (model retrained per fold, seed {seed})"
    else:
        predictions = Predictions()
        with _progress("Evaluating") as progress:
            for approach, assessment in core.scan(paths):
                predictions.add(approach, assessment)
                progress.set(len(predictions))
        method = "current screener"
    _report_evaluation(
        core,
        predictions,
        paths,
        method=method,
        as_json=as_json,
        plots=plots,
        threshold_report=threshold_report,
    )


def _cross_validated(core: Lurewatch, paths: list[str], folds: int, seed: int) -> Any:
    """Out-of-fold predictions: each record scored by a model (calibration included) that never saw it."""
    from lurewatch.evaluation import Predictions
    from lurewatch.screen.training import cross_validate

    with _progress("Reading labelled examples") as progress:
        examples = core.training_examples(paths, on_example=progress.set)
    with _progress(f"Cross-validating ({folds} folds)") as progress:
        result = cross_validate(
            examples,
            [i.id for i in core.screener.catalogue.indicators],
            folds=folds,
            seed=seed,
            on_fold=progress.set,
        )
    predictions = Predictions()
    version = f"catalogue {core.screener.catalogue.version}, {folds}-fold models"
    for example, predicted, risk, probs in zip(
        examples, result.predicted, result.risks, result.probabilities, strict=True
    ):
        predictions.add_values(example.approach.id, example.label, predicted, risk, probs, version)
    return predictions


def _report_evaluation(
    core: Lurewatch,
    predictions: Any,
    paths: list[str],
    *,
    method: str,
    as_json: bool,
    plots: Path | None,
    threshold_report: bool,
) -> None:
    """Compute the metrics of ``predictions`` (a :class:`lurewatch.evaluation.Predictions`) and show them."""
    from lurewatch.evaluation import RISK_DECIMALS

    if not predictions:
        raise LurewatchError(f"{', '.join(paths)}: no labelled records to evaluate")
    evaluation = predictions.evaluate(fixed_thresholds=(core.settings.alert_threshold,))
    versions = "; ".join(v for v, _ in predictions.versions.most_common())
    subtitle = f"lurewatch {__version__}, {versions}, {len(predictions):,} records, {method}"
    written: dict[str, Path] = {}
    if plots is not None:
        from lurewatch.plots import write_plots

        try:
            written = write_plots(evaluation, plots, subtitle)
        except OSError as exc:
            raise LurewatchError(f"{plots}: cannot write the plots: {exc.strerror or exc}") from None
    if as_json:
        data = {
            "lurewatch": __version__,
            "method": method,
            "versions": dict(predictions.versions),
            "files": list(paths),
            "risk_decimals": RISK_DECIMALS,
            "alert_threshold": core.settings.alert_threshold,
            **evaluation.to_dict(threshold_report=threshold_report),
        }
        if written:
            data["plots"] = {name: str(path) for name, path in written.items()}
        out.file.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        _print_evaluation(evaluation, subtitle, threshold_report)
        out.print(Text(_evaluation_summary(evaluation)), soft_wrap=True)
    for path in written.values():
        err.print(Text(f"Written: {path}"), style="dim")


def _print_evaluation(evaluation: Any, subtitle: str, threshold_report: bool) -> None:
    from lurewatch.evaluation import fmt

    out.print(Text(f"Evaluation: {clean_line(subtitle, 300)}", style="bold"), soft_wrap=True)
    per_label = Table(title="Per label")
    per_label.add_column("label", no_wrap=True, min_width=14)
    for name in ("support", "pred.", "prec.", "recall", "FPR", "F1", "AUC"):
        per_label.add_column(name, justify="right", no_wrap=True, min_width=5)
    for m in (*evaluation.per_label, evaluation.threat):
        style = CATEGORY_STYLE[Category(m.label)] if m.label != "threat" else "bold"
        per_label.add_row(
            Text("threat (S+M)" if m.label == "threat" else m.label, style=style),
            str(m.support),
            str(m.predicted),
            fmt(m.precision),
            fmt(m.recall),
            fmt(m.fpr),
            fmt(m.f1),
            fmt(m.auc),
            end_section=m.label == evaluation.per_label[-1].label,
        )
    out.print(per_label)
    out.print(
        Text(
            f"macro F1 {fmt(evaluation.macro_f1)} (mean over {', '.join(evaluation.macro_f1_labels)})",
            style="bold",
        ),
        soft_wrap=True,
    )

    confusion = Table(title="Confusion matrix (rows: true label, columns: predicted)")
    confusion.add_column("true label", no_wrap=True, min_width=14)
    for label in evaluation.labels:
        # the first word is enough to name a column and keeps the table within 80 columns
        confusion.add_column(label.split("_")[0], justify="right", no_wrap=True)
    confusion.add_column("total", justify="right", no_wrap=True)
    for label, row in zip(evaluation.labels, evaluation.confusion, strict=True):
        cells = [
            Text(str(v), style="bold" if other == label else ("dim" if v == 0 else ""))
            for other, v in zip(evaluation.labels, row, strict=True)
        ]
        confusion.add_row(label, *cells, str(sum(row)))
    out.print(confusion)

    points = Table(title="Recall at benign FPR <= max FPR (flagged: risk >= threshold)")
    points.add_column("positives", no_wrap=True, min_width=14)
    for name in ("max FPR", "threshold", "recall", "flagged", "benign FPR"):
        points.add_column(name, justify="right", no_wrap=True)
    for p in evaluation.operating_points:
        target = f"{p.target_fpr:.0%}" if p.target_fpr is not None else "(alert)"
        threshold = f"{p.threshold:.4f}" if p.threshold is not None else ("none" if p.benign_total else "n/a")
        points.add_row(
            p.positives,
            target,
            threshold,
            fmt(p.recall),
            f"{p.true_positives}/{p.positives_total}",
            f"{fmt(p.benign_fpr)} ({p.benign_flagged}/{p.benign_total})",
        )
    out.print(points)
    for note in sorted({p.note for p in evaluation.operating_points if p.note}):
        err.print(Text(f"note: {note}"), style="dim")

    cal = evaluation.calibration
    bins = Table(
        title=f"Calibration of the risk against threat (S+M): ECE {cal.ece:.3f}, Brier {cal.brier:.3f}"
    )
    for name in ("risk bin", "records", "mean risk", "observed threat share", "gap"):
        bins.add_column(name, justify="right", no_wrap=True)
    for b in cal.bins:
        gap = None if b.mean_risk is None or b.observed is None else b.observed - b.mean_risk
        closing = "]" if b.upper >= 1.0 else ")"
        bins.add_row(
            f"[{b.lower:.1f}, {b.upper:.1f}{closing}",
            str(b.count),
            fmt(b.mean_risk),
            fmt(b.observed),
            "n/a" if gap is None else f"{gap:+.3f}",
        )
    out.print(bins)

    if threshold_report:
        rows = Table(title="Every threshold (flag risk >= threshold)")
        for name in ("threshold", "flagged", "benign flagged", "benign FPR", "state recall", "threat recall"):
            rows.add_column(name, justify="right", no_wrap=True)
        for r in evaluation.threshold_rows:
            rows.add_row(
                f"{r.threshold:.4f}",
                str(r.flagged),
                str(r.benign_flagged),
                fmt(r.benign_fpr),
                fmt(r.state_recall),
                fmt(r.threat_recall),
            )
        out.print(rows)


def _evaluation_summary(evaluation: Any) -> str:
    """One line: macro F1, recall at 1% / 2% benign FPR (with thresholds), ECE and Brier."""
    from lurewatch.evaluation import fmt

    parts = [f"{evaluation.records:,} records", f"macro F1 {fmt(evaluation.macro_f1)}"]
    for positives, name in (("threat", "threat"), ("state_approach", "state-approach")):
        at = [p for p in evaluation.operating_points if p.positives == positives and p.target_fpr is not None]
        recalls = " / ".join(fmt(p.recall) for p in at)
        targets = " / ".join(f"{p.target_fpr:.0%}" for p in at)
        parts.append(f"{name} recall {recalls} at benign FPR <= {targets}")
    cal = evaluation.calibration
    parts.append(f"ECE {cal.ece:.3f}")
    parts.append(f"Brier {cal.brier:.3f}")
    return "; ".join(parts)


@app.command()
def train(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Labelled corpus files (JSON Lines with a 'label' per record) to learn from."),
    ] = None,
    from_workspace: Annotated[
        bool,
        typer.Option(
            "--from-workspace", help="Also learn from the analyst verdicts stored in the workspace."
        ),
    ] = False,
    workspace: WorkspaceOption = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the new model (default: models/ beside the workspace)."),
    ] = None,
    folds: Annotated[
        int, typer.Option(help="Cross-validation folds reported before training (0 = skip).", min=0, max=20)
    ] = 5,
    seed: Annotated[int, typer.Option(help="Random seed of the folds and the optimiser.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    catalogue: CatalogueOption = None,
) -> None:
    """Retrain the text model on labelled files and/or workspace verdicts; the new version is kept beside the old."""
    from lurewatch.evaluation import evaluate
    from lurewatch.screen.textmodel import CLASSES

    if not paths and not from_workspace:
        raise LurewatchError("nothing to learn from: give labelled corpus files, --from-workspace, or both")
    if folds == 1:
        raise LurewatchError("--folds must be 0 (no cross-validation) or at least 2")
    core = _core(catalogue)
    ws = None
    if from_workspace:
        ws = _existing_workspace(core, workspace)
    if workspace is not None and out_dir is None:
        out_dir = workspace.parent / "models"
    try:
        with _progress("Reading labelled examples") as progress:
            examples = core.training_examples(paths or [], ws, on_example=progress.set)
    finally:
        if ws is not None:
            ws.close()
    with _progress("Training") as progress:
        model, path, cv = core.train_model(
            examples,
            out_dir,
            folds=folds,
            seed=seed,
            sources=list(paths or []) + (["workspace"] if ws else []),
            on_fold=progress.set,
        )
    result: dict[str, Any] = {
        "model": str(path),
        "version": model.version,
        "examples": model.metadata.get("examples", {}),
    }
    summary = ""
    if cv is not None:
        scores = [[p[c] for c in CLASSES] for p in cv.probabilities]
        evaluation = evaluate(cv.labels, cv.predicted, cv.risks, scores)
        result["cross_validation"] = {"folds": cv.folds, "seed": cv.seed, **evaluation.to_dict()}
        summary = _evaluation_summary(evaluation)
    if as_json:
        out.file.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    counts = ", ".join(f"{n:,} {label}" for label, n in result["examples"].items())
    out.print(
        Text(f"Trained model {model.version} on {len(examples):,} examples ({counts})."), soft_wrap=True
    )
    if summary:
        out.print(Text(f"Cross-validated ({folds} folds): {summary}"), soft_wrap=True)
    out.print(Text(f"Saved: {path}"), soft_wrap=True)
    active = core.model_path()
    if active is not None and active.resolve() == path.resolve():
        out.print(Text("It is the model lurewatch now uses (LUREWATCH_MODEL=auto)."), soft_wrap=True)
    else:
        out.print(Text(f"To use it: LUREWATCH_MODEL={path}"), soft_wrap=True)


@app.command()
def verdict(
    approach_id: Annotated[str, typer.Argument(help="The approach's id, as `lurewatch report` shows it.")],
    value: Annotated[
        str,
        typer.Argument(
            help="confirmed, benign, false_positive, or the category it should have had "
            "(state_approach, malware_lure, scam, commercial)."
        ),
    ],
    workspace: WorkspaceOption = None,
) -> None:
    """Record an analyst's verdict on an imported approach (it marks it triaged; `train --from-workspace` learns from it)."""
    core = _core()
    with _existing_workspace(core, workspace) as ws:
        ws.set_verdict(approach_id, value)
    err.print(Text(f"{clean_line(approach_id, 200)}: verdict {clean_line(value, 40)} recorded"))


@app.command()
def indicators(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalogue as JSON lines.")] = False,
    catalogue: CatalogueOption = None,
) -> None:
    """List the red-flag catalogue: each indicator's id, weight, title and sources."""
    core = _core(catalogue)
    cat = core.screener.catalogue
    if as_json:
        for ind in cat.indicators:
            out.file.write(
                json.dumps(
                    {
                        "id": ind.id,
                        "title": ind.title,
                        "weight": ind.weight,
                        "supports": [c.value for c in ind.supports],
                        "sources": list(ind.sources),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        return
    table = Table(title=f"Indicator catalogue {cat.version} ({len(cat.indicators)} indicators)")
    for name in ("id", "weight", "supports", "title", "sources"):
        table.add_column(name, overflow="fold")
    for ind in cat.indicators:
        table.add_row(
            ind.id,
            f"{ind.weight:.2f}",
            ", ".join(c.value for c in ind.supports),
            Text(ind.title),
            Text("; ".join(ind.sources[:2]) + (" ..." if len(ind.sources) > 2 else "")),
        )
    out.print(table)


@app.command()
def campaigns(
    stream: Annotated[
        str | None,
        typer.Argument(
            help="Message stream (.parquet, .csv, .jsonl) in the documented columns; with --engine spark also a "
            "folder or glob of Parquet files, or any path Spark reads (hdfs://, s3a://); default: the workspace's approaches.",
            metavar="[STREAM]",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per campaign on stdout.")] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Also write campaigns.parquet and campaign_members.parquet into this folder."
        ),
    ] = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save/--no-save", help="Store the campaigns in the workspace (replacing this source's)."
        ),
    ] = True,
    engine: Annotated[
        str,
        typer.Option(help="Where the work runs: local (NumPy / DuckDB in this process) or spark (pyspark)."),
    ] = "local",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="With --engine spark: the Spark master, e.g. local[4], spark://host:7077, yarn "
            "(default LUREWATCH_SPARK_MASTER, else spark-submit's, else local[*]).",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Wording similarity that counts as the same (default LUREWATCH_CAMPAIGN_THRESHOLD).",
            min=0.05,
            max=0.99,
        ),
    ] = None,
    min_recipients: Annotated[
        int | None,
        typer.Option(
            help="Fewest distinct recipients of a campaign (default LUREWATCH_CAMPAIGN_MIN_RECIPIENTS).",
            min=1,
        ),
    ] = None,
    link_threshold: Annotated[
        float | None,
        typer.Option(
            help="Weight a link needs to join accounts (default LUREWATCH_CAMPAIGN_LINK_THRESHOLD).",
            min=0.0,
            max=1.0,
        ),
    ] = None,
    include_benign: Annotated[
        bool,
        typer.Option(
            "--all", help="Also list groups that screen as benign or commercial (recruiter, sales sequences)."
        ),
    ] = False,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help="Ground truth (JSON Lines, as `lurewatch synth` writes): print B-cubed precision and recall.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows in the printed table (0 = all).", min=0)] = 25,
) -> None:
    """Find coordinated campaigns: approaches that belong together and the personas one operator runs."""
    from lurewatch.campaigns.engine import campaign_record
    from lurewatch.ingest.stream import FileStream, RowsStream

    if engine not in {"local", "spark"}:
        raise LurewatchError(f"unknown engine {engine!r}: use local or spark")
    if spark_master is not None and engine != "spark":
        raise LurewatchError("--spark-master needs --engine spark")
    core = _core()
    options = core.campaign_options(
        threshold=threshold,
        min_recipients=min_recipients,
        link_threshold=link_threshold,
        include_benign=include_benign,
    )
    if truth is not None and not truth.is_file():
        raise LurewatchError(f"{truth}: no such ground-truth file")
    ws = None
    if stream is None:
        ws = _existing_workspace(core, workspace)
        source: Any = RowsStream(f"workspace:{ws.url}", ws.stream_rows)
        source_name = "workspace"
    elif engine == "spark" and _spark_reads_itself(stream):
        from lurewatch.campaigns.spark import SparkStream

        source = SparkStream(stream)
        source_name = stream if "://" in stream else str(Path(stream).resolve())
    else:
        source = FileStream(Path(stream))
        source_name = str(Path(stream).resolve())
    started = time.monotonic()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(bar_width=None),
        TextColumn("{task.completed:,} messages"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        auto_refresh=False,
        disable=not err.is_terminal,
    )
    try:
        with progress:
            task = progress.add_task("Reading and sketching", total=source.size_hint())
            last = [0.0]

            def tick(stage: str, done: int, total: int | None) -> None:
                now = time.monotonic()
                if stage == "sketching":
                    if now - last[0] >= 0.1 or (total and done >= total):
                        last[0] = now
                        progress.update(task, completed=done, total=total, refresh=True)
                else:
                    progress.update(task, description=stage.capitalize(), refresh=True)

            run = core.find_campaigns(source, options, tick, engine=engine, spark_master=spark_master)
        records = [campaign_record(c) for c in run.campaigns]
        if save:
            target = ws or core.open_workspace(workspace)
            target.save_campaigns(run.campaigns, records, source_name)
        if out_dir is not None:
            from lurewatch.export.campaigns_parquet import write_campaigns

            write_campaigns(out_dir, run.campaigns, records)
    finally:
        if ws is not None:
            ws.close()
    elapsed = time.monotonic() - started
    if as_json:
        for record in records:
            out.print(Text(json.dumps(record, ensure_ascii=False)), soft_wrap=True)
    else:
        _print_campaigns(run.campaigns, limit)
    stats = getattr(source, "stats", None)
    set_aside = ""
    if stats is not None:
        skipped = stats.skipped_no_message_id + stats.skipped_no_sender
        if skipped or stats.bad_sent_at or stats.truncated_fields:
            set_aside = (
                f"; set aside: {skipped:,} rows without message_id or sender_id, {stats.bad_sent_at:,} unreadable "
                f"sent_at, {stats.truncated_fields:,} fields cut"
            )
    err.print(
        Text(
            f"{run.stats.get('messages', 0):,} messages, {run.stats.get('candidates', 0):,} candidate groups screened, "
            f"{len(run.campaigns):,} campaigns in {elapsed:.1f} s{set_aside}."
            + (" Saved to the workspace." if save else "")
            + (f" Parquet in {out_dir}." if out_dir is not None else "")
        )
    )
    if truth is not None:
        from lurewatch.campaigns.evaluation import read_truth, read_truth_categories, score

        true_map, sequences = read_truth(truth)
        result = score(run.campaigns, true_map, sequences, read_truth_categories(truth))
        err.print(
            Text(
                f"Against {truth}: B-cubed precision {result.precision:.4f}, recall {result.recall:.4f}; "
                f"{result.predicted_campaigns} campaigns found, {result.true_campaigns} planted, "
                f"{result.categories_matched} of them given their planted category; "
                f"benign sequences merged into a campaign: {len(result.sequences_merged)}"
            )
        )


def _spark_reads_itself(stream: str) -> bool:
    """Parquet that Spark reads directly: a URI, a folder, a glob or a .parquet file (others are staged)."""
    if "://" in stream or any(ch in stream for ch in "*?["):
        return True
    path = Path(stream)
    return path.is_dir() or path.suffix.lower() in {".parquet", ".pq"}


def _print_campaigns(found: list[Any], limit: int) -> None:
    from rich import box

    table = Table(
        title=f"{len(found):,} campaigns, highest risk first", title_justify="left", box=box.SIMPLE_HEAD
    )
    table.add_column("campaign", no_wrap=True)
    table.add_column("category", no_wrap=True)
    table.add_column("risk", justify="right", no_wrap=True, min_width=4)
    table.add_column("msgs", justify="right", no_wrap=True)
    table.add_column("accts", justify="right", no_wrap=True, min_width=5)
    table.add_column("targets", justify="right", no_wrap=True)
    table.add_column("exemplar", overflow="ellipsis", no_wrap=True, max_width=max(10, out.width - 76))
    for c in found[: limit or None]:
        table.add_row(
            Text(c.campaign_id),
            Text(c.category.value, style=CATEGORY_STYLE.get(c.category, "")),
            f"{c.risk:.2f}",
            f"{len(c.message_ids):,}",
            f"{len(c.account_ids):,}",
            f"{len(c.recipient_ids):,}",
            Text(clean_line(c.exemplar_text, 200)),
        )
    out.print(table)
    if len(found) > (limit or len(found)):
        err.print(
            Text(
                f"... and {len(found) - limit:,} more (--limit 0 lists all; --json gives links and personas)"
            )
        )


@app.command()
def synth(
    messages: Annotated[
        int, typer.Argument(help="Number of messages (rows) to generate.", min=1, metavar="N")
    ],
    out_file: Annotated[
        Path, typer.Argument(help="Output file: .parquet (default format), .csv or .jsonl.", metavar="OUT")
    ],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same bytes.")] = 0,
    campaigns: Annotated[int, typer.Option(help="Planted campaigns.", min=0)] = 10,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="Ground-truth JSON Lines file (default: OUT's name with .truth.jsonl)."),
    ] = None,
) -> None:
    """Generate a synthetic message stream with planted campaigns and its ground truth."""
    from lurewatch.synth.stream import default_truth_path, output_format, write_stream

    truth_file = truth or default_truth_path(out_file)
    try:
        output_format(out_file)
    except ValueError as exc:
        raise LurewatchError(str(exc)) from None
    for path in (out_file, truth_file):
        if not path.parent.is_dir():
            raise LurewatchError(f"{path}: folder {path.parent} does not exist")
        if path.is_dir():
            raise LurewatchError(f"{path}: is a folder")
    if out_file.resolve() == truth_file.resolve():
        raise LurewatchError(f"{out_file}: the stream and the ground truth must be different files")
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(bar_width=None),
        TextColumn("{task.completed:,}/{task.total:,} messages"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        auto_refresh=False,
        disable=not err.is_terminal,
    )
    started = time.monotonic()
    with progress:
        task = progress.add_task(f"Writing {out_file}", total=messages)
        try:
            plan = write_stream(
                messages,
                out_file,
                seed=seed,
                campaigns=campaigns,
                truth=truth_file,
                on_progress=lambda done: progress.update(task, completed=done, refresh=True),
            )
        except (ValueError, OSError) as exc:
            raise LurewatchError(str(exc)) from None
    elapsed = time.monotonic() - started
    planted = sum(len(c.get("message_ids", [])) for c in plan.campaigns)
    err.print(
        Text(
            f"Wrote {messages:,} messages to {out_file} in {elapsed:.1f} s ({planted:,} in "
            f"{len(plan.campaigns)} campaigns, {len(plan.sequences)} benign sequences); "
            f"ground truth in {truth_file}."
        )
    )


export_app = typer.Typer(
    name="export",
    help="Export approaches and campaigns from the workspace: STIX 2.1, MISP or spreadsheet-safe CSV.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(export_app, name="export")

CampaignSelection = Annotated[
    list[str] | None,
    typer.Option("--campaign", help="A stored campaign to export, with its member approaches (repeatable)."),
]
ApproachSelection = Annotated[
    list[str] | None, typer.Option("--approach", help="An approach to export (repeatable).")
]
ExportMinRisk = Annotated[
    float,
    typer.Option(
        "--min-risk",
        help="Leave out approaches below this risk (with no --approach or --campaign: every approach at or above it).",
        min=0.0,
        max=1.0,
    ),
]
TlpOption = Annotated[
    str, typer.Option("--tlp", help="TLP 2.0 level: clear, green, amber, amber+strict or red.")
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write to this file (atomically) instead of standard output.")
]
ProducerOption = Annotated[
    str, typer.Option("--producer", help="Name of the reporting organisation in the export.")
]


def _export_selection(
    workspace: Path | None, campaign_ids: list[str] | None, approach_ids: list[str] | None, min_risk: float
) -> tuple[list[Any], list[Any]]:
    from lurewatch.export.selection import select_for_export

    core = _core()
    with _existing_workspace(core, workspace) as ws:
        return select_for_export(ws, campaign_ids or (), approach_ids or (), min_risk)


def _emit(text: str, out_file: Path | None, what: str, *, bom: bool = False) -> None:
    """Print ``text`` or write it to ``out_file`` whole: a temporary file beside it, then renamed."""
    if out_file is None:
        out.file.write(text if text.endswith("\n") else text + "\n")
        return
    tmp = out_file.with_name(f".{out_file.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            fh.write(text)
        tmp.replace(out_file)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LurewatchError(f"{out_file}: cannot write ({exc.strerror})") from None
    err.print(Text(f"{what} written to {out_file}"), style="dim")


def _check_tlp(tlp: str) -> None:
    from lurewatch.export.common import tlp_level

    try:
        tlp_level(tlp)
    except ValueError as exc:
        raise LurewatchError(str(exc)) from None


@export_app.command("stix")
def export_stix(
    workspace: WorkspaceOption = None,
    campaign: CampaignSelection = None,
    approach: ApproachSelection = None,
    min_risk: ExportMinRisk = 0.0,
    tlp: TlpOption = "amber",
    producer: ProducerOption = "lurewatch",
    out_file: OutOption = None,
) -> None:
    """A STIX 2.1 bundle of the selected approaches and campaigns."""
    from lurewatch.export.stix import stix_bundle

    _check_tlp(tlp)
    items, campaigns = _export_selection(workspace, campaign, approach, min_risk)
    _emit(stix_bundle(items, campaigns, tlp=tlp, producer=producer), out_file, "STIX bundle")


@export_app.command("misp")
def export_misp(
    workspace: WorkspaceOption = None,
    campaign: CampaignSelection = None,
    approach: ApproachSelection = None,
    min_risk: ExportMinRisk = 0.0,
    tlp: TlpOption = "amber",
    producer: ProducerOption = "lurewatch",
    distribution: Annotated[
        int,
        typer.Option(
            "--distribution",
            help="MISP distribution: 0 your organisation only, 1 community, 2 connected, 3 all.",
            min=0,
            max=3,
        ),
    ] = 0,
    out_file: OutOption = None,
) -> None:
    """A MISP event (MISP core format JSON) of the selected approaches and campaigns."""
    from lurewatch.export.misp import misp_event

    _check_tlp(tlp)
    items, campaigns = _export_selection(workspace, campaign, approach, min_risk)
    _emit(
        misp_event(items, campaigns, tlp=tlp, producer=producer, distribution=distribution),
        out_file,
        "MISP event",
    )


@export_app.command("csv")
def export_csv(
    workspace: WorkspaceOption = None,
    campaign: CampaignSelection = None,
    approach: ApproachSelection = None,
    min_risk: ExportMinRisk = 0.0,
    out_file: OutOption = None,
) -> None:
    """The selected approaches with their triage state as spreadsheet-safe CSV."""
    import io

    from lurewatch.export.csv import write_inbox_csv

    items, _campaigns = _export_selection(workspace, campaign, approach, min_risk)
    buffer = io.StringIO()
    write_inbox_csv(buffer, items)
    _emit(buffer.getvalue(), out_file, "CSV", bom=True)


@app.command()
def serve(
    workspace: WorkspaceOption = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: LUREWATCH_WEB_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: LUREWATCH_WEB_PORT, 8000).", min=1, max=65535)
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Server processes (each keeps its own login rate limit).", min=1, max=32)
    ] = 1,
) -> None:
    """Run the web dashboard and JSON API (FastAPI on uvicorn) over the workspace."""
    import uvicorn

    core = _core()
    settings = core.settings
    target = workspace or settings.database_url or settings.workspace
    with core.open_workspace(target) as ws:
        from lurewatch.store.users import Users

        if Users(ws).count() == 0:
            err.print(
                "no users yet: create the first admin with `lurewatch users add NAME --role admin`",
                style="yellow",
            )
    host = host or settings.web_host
    port = port or settings.web_port
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.web_secure_cookies:
        err.print(
            f"listening on {host}: serve it behind HTTPS and set LUREWATCH_WEB_SECURE_COOKIES=1",
            style="yellow",
        )
    # The app factory reads its workspace from the environment, so every worker process opens the same one.
    if workspace is not None:
        os.environ["LUREWATCH_WORKSPACE"] = str(workspace)
        os.environ.pop("LUREWATCH_DATABASE_URL", None)
    err.print(Text(f"lurewatch dashboard on http://{host}:{port}/ (workspace {target}); Ctrl-C stops it"))
    uvicorn.run(
        "lurewatch.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
    )


users_app = typer.Typer(help="Manage the web dashboard's users.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(users_app, name="users")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise LurewatchError("no terminal to ask for the password: pass --password-stdin and pipe it in")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Again", hide_input=True) != first:
        raise LurewatchError("the two passwords differ")
    return str(first)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits and . _ @ -")],
    role: Annotated[
        str | None,
        typer.Option(help="admin, analyst or reporter (default: admin for the first user, reporter after)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a dashboard user (the first admin is made this way); asks for the password twice."""
    from lurewatch.store.users import Users

    core = _core()
    with core.open_workspace(workspace) as ws:
        users = Users(ws)
        chosen = role or ("admin" if users.count() == 0 else "reporter")
        password = _read_password(password_stdin)
        added = users.add(username, password, chosen, actor="cli")
    err.print(Text(f"user {added.username} added with the {added.role} role"))


@users_app.command("list")
def users_list(workspace: WorkspaceOption = None) -> None:
    """List the dashboard's users."""
    from lurewatch.store.users import Users

    core = _core()
    with _existing_workspace(core, workspace) as ws:
        for u in Users(ws).list():
            # Plain tab-separated lines for scripts (Rich would expand the tabs).
            typer.echo(
                f"{u.username}\t{u.role}\t{'disabled' if u.disabled else 'active'}\t{u.created_at:%Y-%m-%d}"
            )


@users_app.command("set")
def users_set(
    username: Annotated[str, typer.Argument(help="The user to change.")],
    role: Annotated[str | None, typer.Option(help="New role: admin, analyst or reporter.")] = None,
    disable: Annotated[
        bool | None, typer.Option("--disable/--enable", help="Disable (signs them out) or re-enable.")
    ] = None,
    password: Annotated[
        bool,
        typer.Option("--password", help="Set a new password (asked for, or read with --password-stdin)."),
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from stdin.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Change a user's role, disable or re-enable them, or reset their password."""
    from lurewatch.store.users import Users

    core = _core()
    with _existing_workspace(core, workspace) as ws:
        users = Users(ws)
        if users.get(username) is None:
            raise LurewatchError(f"no user {username!r}")
        new_password = _read_password(password_stdin) if (password or password_stdin) else None
        changed = users.change(username, actor="cli", role=role, disabled=disable, password=new_password)
    err.print(
        Text(f"user {changed.username}: {changed.role}, {'disabled' if changed.disabled else 'active'}")
    )


owners_app = typer.Typer(
    help="Screen investors and partners: ultimate owners, paths to state-linked and listed entities.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
lists_app = typer.Typer(
    help="Screening lists (sanctions, export control, military companies).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(owners_app, name="owners")
app.add_typer(lists_app, name="lists")


@owners_app.command("screen")
def owners_screen(
    subject: Annotated[
        str, typer.Argument(help="Name, company number, identifier or node key of the counterparty.")
    ],
    data: Annotated[
        list[Path],
        typer.Option("--data", help="Ownership file (BODS 0.4, PSC snapshot, FtM, CSV); repeatable."),
    ],
    lists: Annotated[
        list[Path] | None,
        typer.Option(
            "--list", help="Screening list file or folder (default: LUREWATCH_LISTS_DIR); repeatable."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Ownership threshold in percent (25; 10 and 50 are common).",
            min=0.0001,
            max=100.0,
        ),
    ] = None,
    max_chain: Annotated[
        int | None, typer.Option("--max-chain", help="Chains longer than this are flagged.", min=1)
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Reference date (YYYY-MM-DD) for recent changes; default today."),
    ] = None,
) -> None:
    """Screen one counterparty: ultimate owners with effective shares, controllers, flags and list matches."""
    from rich.tree import Tree

    from lurewatch.owners.screen import result_json

    core = _core()
    with _progress("Loading ownership data") as ticker:
        result, matching = core.screen_counterparty(
            subject, data, lists, threshold=threshold, max_chain=max_chain, as_of=as_of, progress=ticker.set
        )
    if matching > 1 and not as_json:
        err.print(
            Text(
                f"{matching} parties match {subject!r}; screening the first ({result.graph.id_of(result.subject)})"
            )
        )
    record = result_json(result)
    if as_json:
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    g = result.graph
    subject_node = record["subject"]
    tree = Tree(Text(f"{subject_node['name']} [{subject_node['id']}]", style="bold"))
    owners_branch = tree.add(Text(f"Ultimate owners (threshold {result.threshold:g}%)", style="bold"))
    if not result.ultimate_owners:
        owners_branch.add(Text("none declared"))
    for o in result.ultimate_owners:
        share = (
            f"{o.share_min:.4g}%"
            if abs(o.share_max - o.share_min) < 1e-6
            else f"{o.share_min:.4g}-{o.share_max:.4g}%"
        )
        style = "bold" if o.share_max >= result.threshold else ""
        branch = owners_branch.add(
            Text(
                f"{share}  {g.name_of(o.node) or g.id_of(o.node)} ({g.kind_of(o.node).value})"
                + (" [declared]" if o.declared else ""),
                style=style,
            )
        )
        for p in o.paths[:5]:
            branch.add(Text(_path_line(p, g)))
        if len(o.paths) > 5:
            branch.add(Text(f"... {len(o.paths) - 5} more paths"))
    if result.controllers:
        ctrl = tree.add(Text("Controllers", style="bold"))
        for o in result.controllers:
            branch = ctrl.add(
                Text(
                    f"{g.name_of(o.node) or g.id_of(o.node)} ({', '.join(o.control) or 'majority ownership'})"
                )
            )
            for p in o.paths[:3]:
                branch.add(Text(_path_line(p, g)))
    flags_branch = tree.add(Text(f"Flags ({len(result.flags)})", style="bold"))
    colours = {"high": "bold red", "medium": "yellow", "low": "cyan"}
    for f in result.flags:
        flags_branch.add(
            Text(
                f"[{f.severity}] {f.kind}: {clean_line(f.explanation, 400)}"
                + (f" (rule: {f.rule})" if f.rule else ""),
                style=colours[f.severity],
            )
        )
    if result.matches:
        m_branch = tree.add(Text(f"List matches ({len(result.matches)})", style="bold"))
        for m in result.matches:
            m_branch.add(
                Text(
                    f"{m.node_name} ~ {m.list_name}: {m.entry_name} (score {m.score:.2f}; {clean_line(m.reason, 200)})"
                )
            )
    if result.truncated or result.paths_truncated:
        tree.add(
            Text(
                "Note: the structure is larger than LUREWATCH_OWNERS_MAX_NODES / _MAX_PATHS; results cover what was examined.",
                style="yellow",
            )
        )
    out.print(tree)


def _path_line(path: Any, g: Any) -> str:
    index = {g.id_of(i): i for i in range(g.n)}
    parts = []
    for i, (lo, hi, kinds) in enumerate(path.steps):
        node = path.nodes[i + 1]
        what = []
        if hi > 0:
            what.append(f"{lo:.4g}%" if abs(hi - lo) < 1e-6 else f"{lo:.4g}-{hi:.4g}%")
        what.extend(kinds)
        parts.append(f"<-[{', '.join(what) or 'interest'}]- {g.name_of(index[node]) or node}")
    return clean_line(" ".join(parts), 400)


@lists_app.command("update")
def lists_update(
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Fetch only this file (repeatable); default all.")
    ] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to store them (default: LUREWATCH_LISTS_DIR).")
    ] = None,
) -> None:
    """Download the official list files (needs network access; nothing else in lurewatch goes online)."""
    from lurewatch.owners.lists import SOURCES, update_lists

    settings = Settings.from_env()
    target = directory or settings.lists_dir
    for name, size in update_lists(target, only):
        err.print(Text(f"{name}: {size:,} bytes from {SOURCES[name][0]}"))
    out.print(Text(f"lists stored in {target}"))


@app.command()
def version() -> None:
    """Print the lurewatch version."""
    out.print(f"lurewatch {__version__}")


def main() -> None:
    """Entry point: bad input becomes one line on stderr and exit code 2, never a traceback."""
    try:
        app(standalone_mode=True)
    except LurewatchError as exc:
        err.print(Text(f"lurewatch: error: {clean_line(str(exc), 500)}"), style="red")
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        # `lurewatch scan --json ... | head` closed the pipe: not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
