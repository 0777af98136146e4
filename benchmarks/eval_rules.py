"""Per-label precision, recall and false-positive rate of the rule engine over the labelled corpus.

    .venv/bin/python benchmarks/eval_rules.py [FILE.jsonl ...] [--errors] [--indicators] [--json]

Without files it reads ../shared/eval/*.jsonl next to the repository. ``--errors`` lists every
misclassified record with the signals that fired; ``--indicators`` compares each indicator's firing
with the corpus annotation (which ids the record's author saw). Numbers are never plain accuracy: for
each label, precision = TP / (TP + FP), recall = TP / (TP + FN), FPR = FP / (FP + TN).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lurewatch.identity import account_key
from lurewatch.model import Account, Approach, Assessment, Category, Channel, Conversation, Message
from lurewatch.screen.engine import Screener

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO.parent / "shared" / "eval"
LABELS: tuple[Category, ...] = tuple(Category)
THREATS = frozenset({Category.STATE_APPROACH, Category.MALWARE_LURE})


def load_records(paths: Iterable[Path]) -> list[tuple[Path, int, dict[str, Any]]]:
    out = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    out.append((path, number, json.loads(line)))
    return out


def to_approach(record: dict[str, Any], source: str, line: int) -> Approach:
    """The ingest module's converter when it is there, else a minimal one for this script."""
    try:
        from lurewatch.ingest.corpus import approach_from_record
    except ImportError:
        return _minimal_approach(record, source)
    return approach_from_record(record, source, line)


def _minimal_approach(record: dict[str, Any], source: str) -> Approach:
    s = record.get("sender") or {}
    r = record.get("recipient") or {}
    sender = Account(
        key=account_key(profile_url=s.get("profile_url"), email=s.get("email"), name=s.get("name")),
        name=s.get("name") or "",
        profile_url=s.get("profile_url"),
        email=s.get("email"),
        headline=s.get("headline"),
        company=s.get("company"),
        location=s.get("location"),
        connections=s.get("connections"),
        account_age_days=s.get("account_age_days"),
        photo=s.get("photo"),
    )
    recipient = Account(
        key=account_key(name=r.get("name")),
        name=r.get("name") or "",
        headline=r.get("headline"),
        sector=r.get("sector"),
    )
    channel = Channel(record["channel"])
    messages = []
    for i, m in enumerate(record["messages"]):
        inbound = m.get("from") == "sender"
        sent = (
            datetime.strptime(m["date"], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
            if m.get("date")
            else None
        )
        messages.append(
            Message(
                id=f"{record['id']}:{i}",
                conversation_id=record["id"],
                sender_key=sender.key if inbound else recipient.key,
                sent_at=sent,
                text=m.get("text") or "",
                subject=m.get("subject") or "",
                inbound=inbound,
                channel=channel,
            )
        )
    conversation = Conversation(id=record["id"], messages=tuple(messages), channel=channel)
    label = Category(record["label"]) if record.get("label") else None
    return Approach(
        id=record["id"],
        sender=sender,
        recipient=recipient,
        conversation=conversation,
        channel=channel,
        sender_is_connection=record.get("connected"),
        source=source,
        label=label,
    )


@dataclass
class LabelStats:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn


@dataclass
class Evaluation:
    per_label: dict[Category, LabelStats] = field(default_factory=dict)
    threat: LabelStats = field(default_factory=LabelStats)
    results: list[tuple[Approach, Assessment, dict[str, Any]]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def benign_fpr_threat(self) -> float:
        """Share of benign records flagged as a threat (state approach or malware lure)."""
        benign = [a for ap, a, _ in self.results if ap.label is Category.BENIGN]
        return sum(a.category in THREATS for a in benign) / len(benign) if benign else 0.0


def evaluate(paths: Sequence[Path], screener: Screener | None = None) -> Evaluation:
    records = load_records(paths)
    approaches = [to_approach(rec, str(path), line) for path, line, rec in records]
    screener = screener or Screener()
    start = time.perf_counter()
    assessed = list(screener.assess_many(approaches))
    ev = Evaluation(seconds=time.perf_counter() - start)
    ev.per_label = {label: LabelStats() for label in LABELS}
    for (approach, assessment), (_, _, rec) in zip(assessed, records, strict=True):
        ev.results.append((approach, assessment, rec))
        truth, predicted = Category(rec["label"]), assessment.category
        for label, st in ev.per_label.items():
            if predicted is label and truth is label:
                st.tp += 1
            elif predicted is label:
                st.fp += 1
            elif truth is label:
                st.fn += 1
            else:
                st.tn += 1
        is_threat, flagged = truth in THREATS, predicted in THREATS
        if is_threat and flagged:
            ev.threat.tp += 1
        elif flagged:
            ev.threat.fp += 1
        elif is_threat:
            ev.threat.fn += 1
        else:
            ev.threat.tn += 1
    return ev


def report(ev: Evaluation) -> str:
    lines = [f"{'label':<16}{'support':>8}{'precision':>11}{'recall':>8}{'FPR':>8}"]
    for label, st in ev.per_label.items():
        lines.append(f"{label.value:<16}{st.support:>8}{st.precision:>11.3f}{st.recall:>8.3f}{st.fpr:>8.3f}")
    t = ev.threat
    lines.append(f"{'threat (S+M)':<16}{t.support:>8}{t.precision:>11.3f}{t.recall:>8.3f}{t.fpr:>8.3f}")
    lines.append(f"benign flagged as a threat: {ev.benign_fpr_threat:.3f}")
    confusion = Counter((Category(rec["label"]), a.category) for _, a, rec in ev.results)
    lines.append("")
    lines.append("confusion (rows: truth, columns: predicted)")
    lines.append(" " * 16 + "".join(f"{c.value[:10]:>11}" for c in LABELS))
    for truth in LABELS:
        lines.append(f"{truth.value:<16}" + "".join(f"{confusion[(truth, p)]:>11}" for p in LABELS))
    n = len(ev.results)
    lines.append(
        f"\n{n} approaches in {ev.seconds * 1000:.1f} ms ({n / ev.seconds:,.0f}/s)" if ev.seconds else ""
    )
    return "\n".join(lines)


def errors(ev: Evaluation) -> str:
    out = []
    for approach, a, rec in ev.results:
        if a.category.value != rec["label"]:
            fired = ", ".join(f"{s.indicator_id}={s.weight:.2f}" for s in a.signals)
            scores = " ".join(f"{c.value[:5]}={v:.2f}" for c, v in a.category_scores.items())
            out.append(
                f"{approach.id} truth={rec['label']} got={a.category.value} risk={a.risk:.2f} [{scores}]"
            )
            out.append(f"    fired: {fired}")
            out.append(f"    annotated: {', '.join(rec.get('indicators', []))}")
    return "\n".join(out)


def indicator_table(ev: Evaluation) -> str:
    fired_ids = sorted({s.indicator_id for _, a, _ in ev.results for s in a.signals})
    annotated_ids = sorted({i for _, _, rec in ev.results for i in rec.get("indicators", [])})
    lines = [f"{'id':<5}{'fired':>7}{'annot':>7}{'both':>7}{'by label fired (sa/ml/sc/co/be)':>36}"]
    for ind in sorted(
        set(fired_ids) | set(annotated_ids), key=lambda x: (x[0], int(x[1:]) if x[1:].isdigit() else 0)
    ):
        fired = {ap.id for ap, a, _ in ev.results if any(s.indicator_id == ind for s in a.signals)}
        annotated = {ap.id for ap, _, rec in ev.results if ind in rec.get("indicators", [])}
        by_label = Counter(ap.label for ap, a, _ in ev.results if ap.id in fired)
        per = "/".join(str(by_label[c]) for c in LABELS)
        lines.append(f"{ind:<5}{len(fired):>7}{len(annotated):>7}{len(fired & annotated):>7}{per:>36}")
    return "\n".join(lines)


def short_conversations(records: Sequence[dict[str, Any]], n: int) -> list[Approach]:
    """``n`` short conversations: each corpus record's first inbound message (and, for every third, its
    second), with the sender's profile and a distinct sender and recipient, so nothing is cached."""
    out: list[Approach] = []
    i = 0
    while len(out) < n:
        rec = records[i % len(records)]
        inbound = [m for m in rec["messages"] if m.get("from") == "sender"]
        keep = inbound[:2] if i % 3 == 0 else inbound[:1]
        clone = dict(rec, id=f"{rec['id']}#{i}", messages=keep)
        clone["sender"] = dict(rec["sender"], name=f"{rec['sender'].get('name')} {i}", profile_url=None)
        clone["recipient"] = dict(rec.get("recipient") or {}, name=f"recipient {i}")
        out.append(_minimal_approach(clone, "<throughput>"))
        i += 1
    return out


def throughput(records: Sequence[dict[str, Any]], n: int, rounds: int = 3) -> dict[str, float]:
    """Approaches per second of ``Screener.assess_many`` on ``n`` short conversations (best of ``rounds``)."""
    approaches = short_conversations(records, n)
    screener = Screener()
    best = 0.0
    # The prepared inputs are not part of the pipeline: move them out of the garbage collector's way
    # so that its full collections do not time the traversal of 20,000 fixtures.
    gc.collect()
    gc.freeze()
    try:
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in screener.assess_many(approaches):
                pass
            best = max(best, n / (time.perf_counter() - start))
    finally:
        gc.unfreeze()
    messages = sum(len(a.conversation.messages) for a in approaches)
    chars = sum(len(m.text) for a in approaches for m in a.conversation.messages)
    return {
        "approaches": n,
        "messages_per_approach": messages / n,
        "chars_per_message": chars / messages,
        "per_second": best,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--errors", action="store_true", help="list misclassified records")
    parser.add_argument("--indicators", action="store_true", help="indicator firing vs. corpus annotation")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    parser.add_argument(
        "--throughput",
        type=int,
        metavar="N",
        help="also time the engine on N short conversations built from the corpus",
    )
    args = parser.parse_args(argv)
    files = args.files or sorted(DEFAULT_DIR.glob("*.jsonl"))
    if not files:
        print(f"no corpus files given and none in {DEFAULT_DIR}", file=sys.stderr)
        return 2
    ev = evaluate(files)
    if args.json:
        table = {
            label.value: {
                "support": st.support,
                "precision": round(st.precision, 4),
                "recall": round(st.recall, 4),
                "fpr": round(st.fpr, 4),
            }
            for label, st in ev.per_label.items()
        }
        table["threat"] = {
            "support": ev.threat.support,
            "precision": round(ev.threat.precision, 4),
            "recall": round(ev.threat.recall, 4),
            "fpr": round(ev.threat.fpr, 4),
        }
        print(json.dumps(table, indent=2))
    else:
        print(report(ev))
    if args.indicators:
        print()
        print(indicator_table(ev))
    if args.errors:
        print()
        print(errors(ev))
    if args.throughput:
        t = throughput([rec for _, _, rec in load_records(files)], args.throughput)
        print(
            f"\nthroughput: {t['per_second']:,.0f} short conversations/s on one core "
            f"({t['approaches']:,} approaches, {t['messages_per_approach']:.2f} messages of "
            f"{t['chars_per_message']:.0f} characters on average)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
