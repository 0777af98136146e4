"""Scoring in worker processes gives exactly what scoring in one process gives, in the same order."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import pytest

from lurewatch.ingest.read import iter_approaches
from lurewatch.model import Account, Approach, Channel, Conversation, IngestStats, Message
from lurewatch.screen.catalogue import Indicator
from lurewatch.screen.engine import NoisyOrScorer, Scores, Screener
from lurewatch.settings import Settings
from lurewatch.synth.linkedin_export import write_large_export

TEMPLATE = (
    "Dear {name}, our consultancy advises clients on {field} policy. We would pay an honorarium of "
    "USD 800 for a short report on your current research; we can continue on WeChat."
)


def campaign_approach(n: int) -> Approach:
    sender = Account(key="linkedin:persona", name="Persona")
    recipient = Account(key=f"linkedin:target-{n}", name=f"Target{n} Person")
    text = TEMPLATE.format(name=f"Target{n}", field="quantum")
    message = Message(id=f"c{n}:0", conversation_id=f"c{n}", sender_key=sender.key, sent_at=None, text=text)
    return Approach(
        id=f"c{n}",
        sender=sender,
        recipient=recipient,
        conversation=Conversation(id=f"c{n}", messages=(message,)),
        channel=Channel.LINKEDIN_MESSAGE,
    )


@pytest.fixture(scope="module")
def approaches(tmp_path_factory: pytest.TempPathFactory) -> list[Approach]:
    export = tmp_path_factory.mktemp("export")
    write_large_export(export, 4000, seed=11)
    items = list(iter_approaches(export, Settings(), IngestStats()))
    # A templated campaign spread across windows, so that M9 depends on the window bookkeeping.
    for n in range(6):
        items.insert(len(items) * (n + 1) // 7, campaign_approach(n))
    return items


def serial_and_parallel(screener: Screener, items: Sequence[Approach], workers: int) -> tuple[list, list]:
    serial = [(a.id, s) for a, s in screener.assess_many(items)]
    parallel = [(a.id, s) for a, s in screener.assess_many(items, workers=workers, chunk_size=16)]
    return serial, parallel


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_give_the_same_results_in_the_same_order(approaches: list[Approach], workers: int) -> None:
    screener = Screener(template_window=64)
    serial, parallel = serial_and_parallel(screener, approaches, workers)
    assert len(serial) == len(approaches) > 500
    assert parallel == serial
    assert any(sig.indicator_id == "M9" for _, a in serial for sig in a.signals)


def test_a_stream_shorter_than_one_window_is_scored_in_this_process(approaches: list[Approach]) -> None:
    screener = Screener(template_window=10_000)
    serial, parallel = serial_and_parallel(screener, approaches[:50], workers=2)
    assert parallel == serial


def test_workers_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="workers"):
        Screener().assess_many([], workers=-1)


class FailingScorer(NoisyOrScorer):
    """Fails on the approach whose signals include M9, to check errors reach the caller."""

    def score(self, fired: Sequence[tuple[Indicator, float]]) -> Scores:
        if any(ind.id == "M9" for ind, _ in fired):
            raise RuntimeError("scorer failed on purpose")
        return super().score(fired)


def test_an_error_in_a_worker_reaches_the_caller(approaches: list[Approach]) -> None:
    screener = Screener(scorer=FailingScorer(), template_window=64)
    with pytest.raises(RuntimeError, match="on purpose"):
        for _ in screener.assess_many(approaches, workers=2, chunk_size=16):
            pass


def test_stopping_early_stops_the_workers(approaches: list[Approach]) -> None:
    screener = Screener(template_window=64)
    stream = screener.assess_many(approaches, workers=2, chunk_size=16)
    first = [next(stream) for _ in range(200)]
    stream.close()  # type: ignore[attr-defined]
    assert [a.id for a, _ in first] == [a.id for a in approaches[:200]]


def test_model_objects_survive_pickling(approaches: list[Approach]) -> None:
    screener = Screener()
    pairs = list(screener.assess_many(approaches[:300]))
    assert pickle.loads(pickle.dumps(pairs)) == pairs
    assert pickle.loads(pickle.dumps(screener.catalogue)).version == screener.catalogue.version


def test_parallel_scan_of_an_export_matches_the_serial_one(tmp_path: Path) -> None:
    write_large_export(tmp_path, 1500, seed=3)
    screener = Screener(template_window=32)
    items = list(iter_approaches(tmp_path, Settings(), IngestStats()))
    serial, parallel = serial_and_parallel(screener, items, workers=1)
    assert parallel == serial
