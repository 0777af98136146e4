"""The text model: features, training, calibration, files, and how it combines with the rules."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lurewatch.core import Lurewatch
from lurewatch.model import Account, Approach, Category, Channel, Conversation, Message
from lurewatch.screen.engine import Screener
from lurewatch.screen.textmodel import (
    BUNDLED_MODEL,
    CLASSES,
    HASH_SIZE,
    Featuriser,
    Hyper,
    ModelError,
    TextModel,
    char_grams,
    newest_model,
)
from lurewatch.screen.training import Example, TrainingError, cross_validate, train
from lurewatch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "training" / "corpus").glob("*.jsonl"))


def approach(
    *texts: str | tuple[str, bool], sender: Account | None = None, approach_id: str = "t1"
) -> Approach:
    sender = sender or Account(key="linkedin:sender", name="Sam Sender", headline="Partner, Horizon Advisory")
    recipient = Account(key="linkedin:me", name="Robin Recipient")
    messages = []
    for i, item in enumerate(texts):
        text, inbound = item if isinstance(item, tuple) else (item, True)
        messages.append(
            Message(
                id=f"{approach_id}:{i}",
                conversation_id=approach_id,
                sender_key=sender.key if inbound else recipient.key,
                sent_at=None,
                text=text,
                inbound=inbound,
            )
        )
    return Approach(
        id=approach_id,
        sender=sender,
        recipient=recipient,
        conversation=Conversation(id=approach_id, messages=tuple(messages)),
        channel=Channel.LINKEDIN_MESSAGE,
    )


@pytest.fixture(scope="module")
def core() -> Lurewatch:
    return Lurewatch(Settings(model="bundled"))


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    """The project's own training corpus, assessed by the rules (what the model learns from)."""
    if not CORPUS:
        pytest.skip("training/corpus is missing")
    return Lurewatch(Settings(model="off")).training_examples([str(p) for p in CORPUS])


@pytest.fixture(scope="module")
def small_model(examples: list[Example], tmp_path_factory: pytest.TempPathFactory) -> TextModel:
    rng = np.random.default_rng(0)
    picked = [examples[i] for i in rng.choice(len(examples), size=300, replace=False)]
    ids = [i.id for i in Screener().catalogue.indicators]
    return train(picked, ids, calibration_folds=3)


# -- features -----------------------------------------------------------------------------------


def test_character_grams_stay_inside_words_and_documents() -> None:
    data = b" ab cdef \x00 gh "
    starts, cols = char_grams(data)
    grams = [data[s : s + 4] for s in starts]
    assert b" ab " in grams and b" cde" in grams and b"def " in grams
    assert all(b"\x00" not in g and b" " not in g[1:3] for g in grams)
    assert ((cols >= 0) & (cols < HASH_SIZE)).all()
    assert len(starts) == len(cols)


def test_features_are_deterministic_and_bounded(core: Lurewatch) -> None:
    a = approach("Hello Robin, our client pays 2,000 EUR for a short report. Can we continue on WeChat?")
    rules = core.screener._assess(a, 0)
    f = Featuriser([i.id for i in core.screener.catalogue.indicators], Hyper())
    one, two = f.batch([(a, rules)]), f.batch([(a, rules)])
    assert np.array_equal(one.col, two.col) and np.allclose(one.val, two.val)
    assert one.col.max() < f.width
    # text blocks are L2-normalised: each block's norm is its weight
    text = one.col < HASH_SIZE
    assert (
        np.sqrt((one.val[text] ** 2).sum())
        <= Hyper().word_weight + Hyper().char_weight + Hyper().sender_weight
    )


def test_an_empty_message_still_gets_a_verdict(core: Lurewatch) -> None:
    assessment = core.screener.assess(approach(""))
    assert assessment.category in CLASSES
    assert 0.0 <= assessment.risk <= 1.0


# -- the bundled model ----------------------------------------------------------------------------


def test_bundled_model_loads_quickly_and_is_used_by_default() -> None:
    start = time.perf_counter()
    model = TextModel.load(BUNDLED_MODEL)
    assert time.perf_counter() - start < 5.0  # generous: the benchmark records the real figure
    assert model.metadata.get("bundled") is True
    assert Lurewatch(Settings(workspace=Path("/nonexistent/ws.sqlite"))).model_path() == BUNDLED_MODEL


def test_model_off_means_the_rules_alone() -> None:
    core = Lurewatch(Settings(model="off"))
    assessment = core.screener.assess(approach("Our client pays well for a short report on your lab."))
    assert assessment.model_version == ""
    assert assessment.rule_risk is None


def test_a_combined_verdict_keeps_the_rule_signals_and_explains_itself(core: Lurewatch) -> None:
    a = approach(
        "Dear Robin, I lead research at a policy institute. Our important client would pay USD 3,000 "
        "for a confidential report on your lab's plans. Can we continue on WeChat?"
    )
    rules = Lurewatch(Settings(model="off")).screener.assess(a)
    combined = core.screener.assess(a)
    assert [s.indicator_id for s in combined.signals] == [s.indicator_id for s in rules.signals]
    assert combined.rule_risk == rules.risk
    assert combined.category is Category.STATE_APPROACH
    assert combined.risk >= 0.5
    assert combined.model_terms, "an alert names the words the model weighed"
    shown = set(re.findall(r"\w+", " ".join(t for t, _ in combined.model_terms).replace("sender: ", "")))
    present = set(re.findall(r"\w+", (a.conversation.messages[0].text + " partner horizon advisory").lower()))
    assert shown <= present, "terms are the approach's own words, never anything else"
    assert abs(sum(combined.category_scores.values()) - 1.0) < 1e-3


def test_escalation_scores_higher_and_says_where_the_risk_rose(core: Lurewatch) -> None:
    first = "Hi Robin, I enjoyed your talk on photonic chips. Would you be open to an exchange of views?"
    alone = core.screener.assess(approach(first))
    thread = approach(
        first,
        ("Sure, happy to chat.", False),
        "Great. Our client would pay EUR 5,000 for an internal report on your lab's unpublished results, "
        "and we would fly you to Shanghai, all expenses paid. Please keep it confidential and use WeChat.",
    )
    escalated = core.screener.assess(thread)
    assert escalated.risk > alone.risk + 0.2
    assert escalated.risk >= core.settings.alert_threshold
    assert escalated.risk_rose_at == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    small=st.integers(min_value=0, max_value=2_000),
    extra=st.integers(min_value=1, max_value=30_000),
    connected=st.booleans(),
    text=st.sampled_from(
        [
            "Hello, I recruit for a consultancy. Our client pays USD 1,500 for short reports on EU policy.",
            "Thanks for connecting!",
            "Dear Dr Lee, our institute invites you to lecture in Shanghai, all expenses paid, fee USD 5,000.",
            "Hi, we are hiring a senior engineer in Munich; details at careers.example.com/jobs/123.",
        ]
    ),
)
def test_a_large_network_or_shared_contacts_never_lower_the_risk(
    core: Lurewatch, small: int, extra: int, connected: bool, text: str
) -> None:
    """Fakes collect hundreds of real contacts (catalogue P5): more contacts are never reassurance."""
    base = Account(key="linkedin:x", name="Amy Chen", headline="Consultant", connections=small)
    few = core.screener.assess(approach(text, sender=base))
    many = approach(text, sender=dataclasses.replace(base, connections=small + extra))
    many = dataclasses.replace(many, sender_is_connection=connected)
    assert core.screener.assess(many).risk >= few.risk - 1e-9


def test_workers_give_the_same_combined_results(core: Lurewatch, examples: list[Example]) -> None:
    screener = Screener(core.screener.catalogue, core.settings, template_window=64, model=core.screener.model)
    items = [e.approach for e in examples[:400]]
    serial = [(a.id, s) for a, s in screener.assess_many(items)]
    parallel = [(a.id, s) for a, s in screener.assess_many(items, workers=2, chunk_size=32)]
    assert parallel == serial


# -- training -------------------------------------------------------------------------------------


def test_training_needs_every_category(examples: list[Example]) -> None:
    no_scam = [e for e in examples if e.label is not Category.SCAM][:100]
    with pytest.raises(TrainingError, match="scam"):
        train(no_scam, ["M1"])


def test_a_model_survives_saving_and_loading(
    small_model: TextModel, examples: list[Example], tmp_path: Path
) -> None:
    path = tmp_path / "model-1.npz"
    small_model.save(path)
    loaded = TextModel.load(path)
    pairs = [(e.approach, e.rules) for e in examples[:50]]
    p1, r1, _ = small_model.predict(pairs)
    p2, r2, _ = loaded.predict(pairs)
    assert np.allclose(p1, p2, atol=1e-5) and np.allclose(r1, r2, atol=1e-5)
    assert loaded.version == small_model.version
    assert not list(tmp_path.glob("*.part"))


def test_cross_validation_scores_every_example_once(examples: list[Example]) -> None:
    subset = examples[::3]
    cv = cross_validate(subset, [i.id for i in Screener().catalogue.indicators], folds=3)
    assert len(cv.predicted) == len(cv.risks) == len(subset)
    accuracy = np.mean([p == t for p, t in zip(cv.predicted, cv.labels, strict=True)])
    assert accuracy > 0.6  # far above the 0.2 of guessing among five categories


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"not a zip at all", "not a lurewatch model"),
        (b"PK\x03\x04broken", "not a lurewatch model"),
    ],
)
def test_damaged_model_files_are_refused(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "model-bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=problem):
        TextModel.load(path)


def test_a_model_of_another_feature_format_is_refused(small_model: TextModel, tmp_path: Path) -> None:
    import json

    path = tmp_path / "model-old.npz"
    small_model.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["header"]))
    header["feature_version"] = 0
    arrays["header"] = np.array(json.dumps(header))
    np.savez(path, **arrays)
    with pytest.raises(ModelError, match="retrain"):
        TextModel.load(path)


def test_newest_model_is_picked_and_older_ones_are_kept(small_model: TextModel, tmp_path: Path) -> None:
    for version in ("20250101T000000.000000Z", "20260101T000000.000000Z"):
        small_model.save(tmp_path / f"model-{version}.npz")
    assert newest_model(tmp_path) == tmp_path / "model-20260101T000000.000000Z.npz"
    assert len(list(tmp_path.glob("model-*.npz"))) == 2
    core = Lurewatch(Settings(model=str(tmp_path)))
    assert core.model_path() == tmp_path / "model-20260101T000000.000000Z.npz"
    with pytest.raises(ModelError, match="no model"):
        Lurewatch(Settings(model=str(tmp_path / "empty"))).model_path() if (
            tmp_path / "empty"
        ).mkdir() is None else None


# -- the commands ---------------------------------------------------------------------------------


def lurewatch(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LUREWATCH_")}
    base["LUREWATCH_WORKSPACE"] = str(cwd / "ws" / "workspace.sqlite")
    return subprocess.run(
        [sys.executable, "-m", "lurewatch", *map(str, args)],
        cwd=cwd,
        env={**base, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 records of each category from the project's training corpus."""
    if not CORPUS:
        pytest.skip("training/corpus is missing")
    per_label: dict[str, list[str]] = {}
    for path in CORPUS:
        for line in path.read_text(encoding="utf-8").splitlines():
            label = json.loads(line)["label"]
            if len(per_label.setdefault(label, [])) < 30:
                per_label[label].append(line)
    out = tmp_path_factory.mktemp("corpus") / "small.jsonl"
    out.write_text("\n".join(line for lines in per_label.values() for line in lines) + "\n", encoding="utf-8")
    return out


def test_train_saves_a_new_version_and_keeps_the_old_one(small_corpus: Path, tmp_path: Path) -> None:
    first = lurewatch("train", small_corpus, "--folds", "3", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["cross_validation"]["records"] == 150
    assert 0.0 <= result["cross_validation"]["calibration"]["ece"] <= 1.0
    second = lurewatch("train", small_corpus, "--folds", "0", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    models = sorted((tmp_path / "ws" / "models").glob("model-*.npz"))
    assert len(models) == 2 and str(models[0]) == result["model"]
    assert "now uses" in second.stdout
    # LUREWATCH_MODEL=auto now scores with the newest model
    scanned = lurewatch("scan", "--json", small_corpus, cwd=tmp_path)
    assert scanned.returncode == 0, scanned.stderr
    versions = {json.loads(line)["model_version"] for line in scanned.stdout.splitlines()}
    assert versions == {models[1].stem.removeprefix("model-")}


def test_train_from_workspace_verdicts(small_corpus: Path, tmp_path: Path) -> None:
    assert lurewatch("import", small_corpus, cwd=tmp_path).returncode == 0
    report = lurewatch("report", "--json", "--limit", "0", cwd=tmp_path)
    first_id = json.loads(report.stdout.splitlines()[0])["id"]
    verdict = lurewatch("verdict", first_id, "false_positive", cwd=tmp_path)
    assert verdict.returncode == 0, verdict.stderr
    bad = lurewatch("verdict", first_id, "maybe", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown verdict" in bad.stderr
    missing = lurewatch("verdict", "no-such-id", "benign", cwd=tmp_path)
    assert missing.returncode == 2 and "no approach" in missing.stderr
    trained = lurewatch("train", "--from-workspace", "--folds", "0", "--json", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    # imported corpus records keep their labels; the verdict overrides one of them
    assert sum(json.loads(trained.stdout)["examples"].values()) == 150


def test_train_refuses_what_it_cannot_learn_from(tmp_path: Path) -> None:
    nothing = lurewatch("train", cwd=tmp_path)
    assert nothing.returncode == 2 and "nothing to learn from" in nothing.stderr
    unlabelled = tmp_path / "message.eml"
    unlabelled.write_text("From: a@example.org\nSubject: hi\n\nHello there", encoding="utf-8")
    wrong = lurewatch("train", unlabelled, cwd=tmp_path)
    assert wrong.returncode == 2 and "labelled corpus" in wrong.stderr


def test_eval_cross_validates(small_corpus: Path, tmp_path: Path) -> None:
    result = lurewatch("eval", "--cv", "3", "--json", small_corpus, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["method"].startswith("3-fold cross-validation")
    assert data["records"] == 150
    assert data["macro_f1"] > 0.5


def test_a_broken_model_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "model-broken.npz"
    broken.write_bytes(b"nonsense")
    result = lurewatch("check", cwd=tmp_path, env={"LUREWATCH_MODEL": str(broken)}, stdin="Hello there")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "not a lurewatch model" in result.stderr


@pytest.mark.parametrize(
    "risk, words",
    [(1.0, "100%"), (0.9996, "over 99%"), (0.5, "50%"), (0.0004, "under 1%"), (0.0, "0%"), (0.994, "99%")],
)
def test_risk_in_words_never_rounds_to_certainty(risk: float, words: str) -> None:
    from lurewatch.display import percent

    assert percent(risk) == words
