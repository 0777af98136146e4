"""Rules and text model into one calibrated verdict, and the message at which the risk rose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from lurewatch.model import Approach, Assessment, Category
from lurewatch.screen.textmodel import CLASSES, MODEL_IGNORES

if TYPE_CHECKING:
    from lurewatch.screen.engine import Screener


def model_view(screener: Screener, rule: Assessment) -> Assessment:
    """The rule assessment the model reads: without the indicators it must not see (MODEL_IGNORES),
    and with the rules' scores recomputed without them, so that nothing it reads depends on them."""
    if not any(s.indicator_id in MODEL_IGNORES for s in rule.signals):
        return rule
    kept = tuple(s for s in rule.signals if s.indicator_id not in MODEL_IGNORES)
    scores = screener._score(tuple((screener.positions[s.indicator_id], s.weight) for s in kept))
    return replace(rule, signals=kept, risk=scores.risk, category_scores=dict(scores.by_category))


def _threat_keep(rule: Assessment) -> float:
    """What the ignored indicators that support a threat leave of the risk: the product of 1 - weight."""
    keep = 1.0
    for s in rule.signals:
        if s.indicator_id in MODEL_IGNORES and any(c in _THREATS for c in s.supports):
            keep *= 1.0 - s.weight
    return keep


_THREATS = (Category.STATE_APPROACH, Category.MALWARE_LURE)


def combine(
    screener: Screener, items: Sequence[tuple[Approach, int]], rules: Sequence[Assessment]
) -> list[Assessment]:
    """The model's calibrated category and risk for each rule assessment; signals and evidence kept.

    The indicators the model does not read (a large network, a thin one) still count as the rules
    count them: those supporting a threat raise the model's risk by a noisy-OR, so more contacts can
    raise the risk a little and never lower it.
    """
    model = screener.model
    assert model is not None
    approaches = [a for a, _ in items]
    views = [model_view(screener, r) for r in rules]
    probs, risks, batch = model.predict(list(zip(approaches, views, strict=True)))
    threshold = screener.settings.alert_threshold
    out: list[Assessment] = []
    rising: list[int] = []
    best = probs.argmax(axis=1).tolist()
    rounded = probs.round(4).tolist()
    risk_list = risks.round(4).tolist()
    for k, (approach, rule) in enumerate(zip(approaches, rules, strict=True)):
        category = CLASSES[best[k]]
        risk = risk_list[k]
        keep = _threat_keep(rule)
        if keep < 1.0:
            risk = round(1.0 - (1.0 - risk) * keep, 4)
        explain = category is not Category.BENIGN or risk >= threshold
        out.append(
            replace(
                rule,
                category=category,
                risk=risk,
                category_scores=dict(zip(CLASSES, rounded[k], strict=True)),
                advice=screener._advice(category, rule.signals, approach.channel),
                model_terms=model.top_terms(approach, batch.row(k), category) if explain else (),
                model_version=model.version,
                rule_risk=rule.risk,
                risk_rose_at=None,
            )
        )
        if risk >= threshold:
            rising.append(k)
    if rising:
        _risk_rose_at(screener, items, out, rising)
    return out


def _inbound_indexes(approach: Approach) -> list[int]:
    return [i for i, m in enumerate(approach.conversation.messages) if m.inbound]


def _risk_rose_at(
    screener: Screener, items: Sequence[tuple[Approach, int]], out: list[Assessment], rising: list[int]
) -> None:
    """For alerts, the first inbound message at which the thread so far already reached the threshold.

    Each earlier prefix of a thread (up to and including an inbound message) is scored as if the
    conversation had stopped there, by the rules and the model together.
    """
    model = screener.model
    assert model is not None
    threshold = screener.settings.alert_threshold
    prefixes: list[tuple[int, int]] = []  # (approach position, last message index of the prefix)
    for k in rising:
        inbound = _inbound_indexes(items[k][0])
        if len(inbound) <= 1:
            out[k] = replace(out[k], risk_rose_at=inbound[0] if inbound else None)
            continue
        prefixes.extend((k, i) for i in inbound[:-1])
        out[k] = replace(out[k], risk_rose_at=inbound[-1])
    if not prefixes:
        return
    cut_items = []
    for k, last in prefixes:
        approach, recipients = items[k]
        conversation = replace(approach.conversation, messages=approach.conversation.messages[: last + 1])
        cut_items.append((replace(approach, conversation=conversation), recipients))
    cut_rules = [screener._assess(a, n) for a, n in cut_items]
    views = [model_view(screener, r) for r in cut_rules]
    _, model_risks, _ = model.predict([(a, r) for (a, _), r in zip(cut_items, views, strict=True)])
    cut_risks = [
        1.0 - (1.0 - float(r)) * _threat_keep(rule) for r, rule in zip(model_risks, cut_rules, strict=True)
    ]
    done: set[int] = set()
    for (k, last), risk in zip(prefixes, cut_risks, strict=True):
        if k in done:
            continue
        if risk >= threshold:
            out[k] = replace(out[k], risk_rose_at=last)
            done.add(k)
