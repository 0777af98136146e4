"""Scoring a stream of approaches in worker processes while this process keeps reading.

Parsing an export and scoring its approaches cost about the same, and both are pure Python, so on
two cores the fastest arrangement is a pipeline: this process reads and threads the input, counts
templated wording (M9, which needs the whole stream in order), and hands chunks of approaches to
workers that score them. Results come back in input order, identical to
:meth:`Screener.assess_many` in one process (a test pins that).

On Linux workers are forked, so they start with the caller's screener already built (compiling
the catalogue takes most of a second). The caller must then not be running other threads that hold
locks (the CLI draws its progress bar without a thread for this reason). Elsewhere workers are
spawned and build their own :class:`Screener` from the caller's catalogue, settings and scorer;
spawning re-imports the main module, so a script that scores in parallel on macOS or Windows
needs the usual ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lurewatch.model import Approach, Assessment
    from lurewatch.screen.engine import Screener

#: chunks handed out per worker before this process waits for the oldest one: enough to keep the
#: workers busy across a slow stretch of input, few enough that memory stays bounded
CHUNKS_IN_FLIGHT_PER_WORKER = 4

_worker_screener: Screener | None = None


def _adopt_screener(screener: Screener) -> None:
    global _worker_screener
    _worker_screener = screener


def _build_screener(catalogue: object, settings: object, scorer: object, model: object) -> None:
    global _worker_screener
    from lurewatch.screen.engine import Screener

    _worker_screener = Screener(catalogue, settings, scorer=scorer, model=model)  # type: ignore[arg-type]


def _score_chunk(items: list[tuple[Approach, int]]) -> list[Assessment]:
    screener = _worker_screener
    assert screener is not None, "worker not initialised"
    return screener._assess_batch(items)


def assess_parallel(
    screener: Screener, approaches: Iterable[Approach], workers: int, *, chunk_size: int = 256
) -> Iterator[tuple[Approach, Assessment]]:
    """``screener.assess_many(approaches)`` with scoring spread over ``workers`` processes.

    A stream that ends within its first window is scored here: starting workers would cost more
    than it saves. An exception raised while scoring is re-raised here, and the workers are stopped
    when the caller stops iterating.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    chunk_size = max(1, chunk_size)
    return _pipeline(screener, iter(approaches), workers, chunk_size)


def _pipeline(
    screener: Screener, approaches: Iterator[Approach], workers: int, chunk_size: int
) -> Iterator[tuple[Approach, Assessment]]:
    window_size = screener.template_window
    windows = screener._windows(approaches)
    first = next(windows, None)
    if first is None:
        return
    if len(first) < window_size:
        # the whole stream fits in one window: starting workers would cost more than it saves
        yield from zip([a for a, _ in first], screener._assess_batch(first), strict=True)
        return

    if sys.platform == "linux":
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_adopt_screener,
            initargs=(screener,),
        )
    else:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_build_screener,
            initargs=(screener.catalogue, screener.settings, screener.scorer, screener.model),
        )
    pending: deque[tuple[list[Approach], Future[list[Assessment]]]] = deque()
    # Whole windows are handed out at once, so a window in flight must not stall the next one.
    limit = workers * CHUNKS_IN_FLIGHT_PER_WORKER + 2 * -(-window_size // chunk_size)

    def submit(items: list[tuple[Approach, int]]) -> Iterator[tuple[Approach, Assessment]]:
        for start in range(0, len(items), chunk_size):
            chunk = items[start : start + chunk_size]
            pending.append(([a for a, _ in chunk], pool.submit(_score_chunk, chunk)))
            while len(pending) > limit:
                yield from collect()
            while pending and pending[0][1].done():
                yield from collect()

    def collect() -> Iterator[tuple[Approach, Assessment]]:
        chunk, future = pending.popleft()
        yield from zip(chunk, future.result(), strict=True)

    try:
        yield from submit(first)
        del first
        for items in windows:
            yield from submit(items)
        while pending:
            yield from collect()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
