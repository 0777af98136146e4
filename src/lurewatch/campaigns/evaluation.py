"""Measuring campaign detection against a ground truth (``lurewatch synth --truth``, or one's own).

B-cubed precision and recall (Bagga and Baldwin 1998; Amigó et al. 2009) of campaign membership over
messages: for each message, precision is the share of its predicted campaign that shares its true
campaign, recall the share of its true campaign found in its predicted campaign. Messages that are in
a predicted campaign but in no true one (or the reverse) count as singletons on the side that lacks
them, so reporting a benign group costs precision and missing part of a campaign costs recall. The
averages run over the messages of predicted campaigns (precision) and of true campaigns (recall):
background messages that both sides leave alone are not counted, or they would swamp both figures.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lurewatch.errors import InputError
from lurewatch.model import Campaign


@dataclass(slots=True)
class CampaignScore:
    precision: float
    recall: float
    predicted_messages: int
    true_messages: int
    predicted_campaigns: int
    true_campaigns: int
    #: benign sequences (recruiters, sales) any of whose messages landed in a predicted campaign
    sequences_merged: list[str] = field(default_factory=list)
    #: per true campaign: recall of its messages and the predicted campaign holding most of them
    per_campaign: dict[str, dict[str, object]] = field(default_factory=dict)
    #: true campaigns whose best-matching found campaign was given their planted category (None: no labels)
    categories_matched: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "bcubed_precision": round(self.precision, 4),
            "bcubed_recall": round(self.recall, 4),
            "predicted_messages": self.predicted_messages,
            "true_messages": self.true_messages,
            "predicted_campaigns": self.predicted_campaigns,
            "true_campaigns": self.true_campaigns,
            "sequences_merged": self.sequences_merged,
            "categories_matched": self.categories_matched,
            "per_campaign": self.per_campaign,
        }


def bcubed(predicted: Mapping[str, str], truth: Mapping[str, str]) -> tuple[float, float]:
    """B-cubed (precision, recall) of item -> cluster maps, with the convention of the module docstring."""
    pred_sizes = Counter(predicted.values())
    true_sizes = Counter(truth.values())
    both = Counter((predicted[i], truth[i]) for i in predicted.keys() & truth.keys())
    precision = 0.0
    for item, p in predicted.items():
        t = truth.get(item)
        precision += (both[(p, t)] if t is not None else 1) / pred_sizes[p]
    recall = 0.0
    for item, t in truth.items():
        p = predicted.get(item)
        recall += (both[(p, t)] if p is not None else 1) / true_sizes[t]
    return (
        precision / len(predicted) if predicted else 1.0,
        recall / len(truth) if truth else 1.0,
    )


def read_truth(path: str | Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(message -> true campaign, sequence id -> its messages) from a ground-truth JSON Lines file."""
    campaigns: dict[str, str] = {}
    sequences: dict[str, set[str]] = {}
    try:
        with Path(path).open(encoding="utf-8") as fh:
            for _n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                if record.get("type") == "campaign":
                    for m in record.get("message_ids", []):
                        campaigns[str(m)] = str(record["campaign_id"])
                elif record.get("type") == "sequence":
                    sequences[str(record["sequence_id"])] = {str(m) for m in record.get("message_ids", [])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(str(path), f"not a ground-truth file (line {locals().get('n', 0)}): {exc}") from exc
    return campaigns, sequences


def read_truth_categories(path: str | Path) -> dict[str, str]:
    """The planted category of each true campaign in a ground-truth file (campaign id -> category)."""
    out: dict[str, str] = {}
    try:
        with Path(path).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    record = json.loads(line)
                    if record.get("type") == "campaign" and record.get("category"):
                        out[str(record["campaign_id"])] = str(record["category"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(str(path), f"not a ground-truth file: {exc}") from exc
    return out


def score(
    campaigns: Iterable[Campaign],
    truth: Mapping[str, str],
    sequences: Mapping[str, set[str]],
    categories: Mapping[str, str] | None = None,
) -> CampaignScore:
    """B-cubed scores; with ``categories`` (true campaign -> planted category) also whether each true
    campaign's best match was given that category."""
    campaigns = list(campaigns)
    predicted = {m: c.campaign_id for c in campaigns for m in c.message_ids}
    precision, recall = bcubed(predicted, truth)
    merged = sorted(s for s, msgs in sequences.items() if msgs & predicted.keys())
    per: dict[str, dict[str, object]] = {}
    by_true: dict[str, list[str]] = {}
    for m, t in truth.items():
        by_true.setdefault(t, []).append(m)
    for t, msgs in sorted(by_true.items()):
        holders = Counter(predicted.get(m) for m in msgs)
        best, count = max(
            ((p, n) for p, n in holders.items() if p is not None), key=lambda x: x[1], default=(None, 0)
        )
        per[t] = {"messages": len(msgs), "found_in": best, "recall": round(count / len(msgs), 4)}
        if categories is not None:
            found = next((c.category.value for c in campaigns if c.campaign_id == best), None)
            per[t]["category"] = categories.get(t)
            per[t]["found_category"] = found
    return CampaignScore(
        precision=precision,
        recall=recall,
        predicted_messages=len(predicted),
        true_messages=len(truth),
        predicted_campaigns=len(campaigns),
        true_campaigns=len(set(truth.values())),
        sequences_merged=merged,
        per_campaign=per,
        categories_matched=None
        if categories is None
        else sum(
            1
            for v in per.values()
            if v.get("category") is not None and v.get("category") == v.get("found_category")
        ),
    )


__all__ = ["CampaignScore", "bcubed", "read_truth", "read_truth_categories", "score"]
