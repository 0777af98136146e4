"""PNG pictures of an :class:`~lurewatch.evaluation.Evaluation`: reliability diagram and confusion matrix.

matplotlib is imported here only, inside the functions, and through its object-oriented API on the
Agg canvas (no pyplot, no global backend switch), so importing lurewatch or running ``lurewatch
check`` never pays for it. Each picture is written to a temporary file beside the target and moved
into place, so a failed write leaves no half-written PNG.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from lurewatch.evaluation import N_BINS, Evaluation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RELIABILITY_PNG = "reliability.png"
CONFUSION_PNG = "confusion.png"


def write_plots(evaluation: Evaluation, directory: Path, subtitle: str) -> dict[str, Path]:
    """Write ``reliability.png`` and ``confusion.png`` into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, figure in (
        (RELIABILITY_PNG, reliability_figure(evaluation, subtitle)),
        (CONFUSION_PNG, confusion_figure(evaluation, subtitle)),
    ):
        path = directory / name
        _save(figure, path)
        written[name.removesuffix(".png")] = path
    return written


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: Path) -> None:
    # opened with "x" (not mkstemp) so the file gets the usual permissions of the user's umask
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("xb") as fh:
            figure.savefig(fh, format="png")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def reliability_figure(evaluation: Evaluation, subtitle: str) -> Figure:
    """Observed share of state approaches and malware lures against the mean risk, per risk bin."""
    cal = evaluation.calibration
    figure = _new_figure(6.4, 7.0)
    top, bottom = figure.subplots(2, 1, height_ratios=[3, 1], sharex=True)
    width = 1.0 / N_BINS
    filled = [b for b in cal.bins if b.count]
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    top.bar(
        [b.lower for b in filled],
        [b.observed for b in filled],
        width=width,
        align="edge",
        color="#4c72b0",
        alpha=0.35,
        edgecolor="#4c72b0",
        label="observed share per bin",
    )
    top.plot(
        [b.mean_risk for b in filled],
        [b.observed for b in filled],
        marker="o",
        color="#c44e52",
        label="(mean risk, observed share)",
    )
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("observed share: state approach or malware lure")
    top.legend(loc="upper left", fontsize=9)
    top.grid(alpha=0.3)
    top.set_title(
        f"Reliability of the risk score (ECE {cal.ece:.3f}, Brier {cal.brier:.3f})\n{subtitle}", fontsize=10
    )
    bottom.bar(
        [b.lower for b in cal.bins], [b.count for b in cal.bins], width=width, align="edge", color="grey"
    )
    bottom.set_xlabel(f"risk ({N_BINS} equal-width bins)")
    bottom.set_ylabel("records")
    bottom.set_ylim(0, max(b.count for b in cal.bins) * 1.25)
    bottom.grid(alpha=0.3)
    for b in cal.bins:
        if b.count:
            bottom.annotate(
                str(b.count), (b.lower + width / 2, b.count), ha="center", va="bottom", fontsize=8
            )
    return figure


def confusion_figure(evaluation: Evaluation, subtitle: str) -> Figure:
    """Counts of true label (rows) against predicted category (columns); colour is the share of the row."""
    labels = list(evaluation.labels)
    matrix = [list(row) for row in evaluation.confusion]
    shares = [[v / sum(row) if sum(row) else 0.0 for v in row] for row in matrix]
    figure = _new_figure(7.2, 6.2)
    ax = figure.subplots()
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(labels)), labels=[c.replace("_", " ") for c in labels], rotation=30, ha="right")
    ax.set_yticks(
        range(len(labels)), labels=[f"{c.replace('_', ' ')} ({sum(matrix[i])})" for i, c in enumerate(labels)]
    )
    ax.set_xlabel("predicted category")
    ax.set_ylabel("true label (records)")
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            ax.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                fontsize=11,
                color="white" if shares[i][j] > 0.6 else "black",
            )
    figure.colorbar(image, ax=ax, label="share of the true label's records", shrink=0.8)
    macro = "n/a" if evaluation.macro_f1 is None else f"{evaluation.macro_f1:.3f}"
    ax.set_title(f"Confusion matrix (macro F1 {macro})\n{subtitle}", fontsize=10)
    return figure
