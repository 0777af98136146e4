"""Persona keys for campaign detection: contact keys, name keys, company keys, photo-hash pairs."""

from __future__ import annotations

import itertools
import re
import time

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lurewatch.campaigns import persona_keys as pk
from lurewatch.campaigns.persona_keys import (
    COMMON_PHOTO_HASHES,
    MAX_CHARS,
    SHARED_HOSTS,
    ContactKey,
    company_key,
    company_similarity,
    contact_keys,
    contact_keys_batch,
    name_key,
    name_keys,
    name_similarity,
    parse_photo_hash,
    photo_hash_matches,
    photo_hash_pairs,
)


def kv(text: str) -> list[tuple[str, str]]:
    return [(k.kind, k.value) for k in contact_keys(text)]


# --------------------------------------------------------------------------------------------------
# contact keys: each kind, several languages


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # WeChat
        ("Please add me on WeChat: CathyWon67 to discuss.", [("wechat", "cathywon67")]),
        ("my wechat ID cathywon67", [("wechat", "cathywon67")]),
        ("WeChat ID is cathy_won", [("wechat", "cathy_won")]),
        ("We Chat (ID: cathywon67)", [("wechat", "cathywon67")]),
        ("Gerne auf WeChat weiter: cathywon67", [("wechat", "cathywon67")]),
        ("meine WeChat-ID lautet cathywon", [("wechat", "cathywon")]),
        ("mon identifiant WeChat : cathywon67", [("wechat", "cathywon67")]),
        ("微信: cathywon67", [("wechat", "cathywon67")]),
        ("加我微信cathy67详谈", [("wechat", "cathy67")]),
        ("微信号：ｃａｔｈｙ６７ 谢谢", [("wechat", "cathy67")]),
        ("weixin: cathywon67", [("wechat", "cathywon67")]),
        # WhatsApp: a number only, also given as a phone key
        ("WhatsApp +852 51234567", [("whatsapp", "+85251234567"), ("phone", "+85251234567")]),
        ("per WhatsApp unter +49 151 2345 6789", [("whatsapp", "+4915123456789"), ("phone", "+4915123456789")]),
        ("écrivez-moi sur WhatsApp au +33 6 12 34 56 78", [("whatsapp", "+33612345678"), ("phone", "+33612345678")]),
        ("Whats App: 0049 151 23456789", [("whatsapp", "+4915123456789"), ("phone", "+4915123456789")]),
        ("WhatsApp me 51234567", [("whatsapp", "51234567"), ("phone", "51234567")]),
        ("wa.me/85251234567", [("whatsapp", "+85251234567"), ("phone", "+85251234567")]),
        ("https://api.whatsapp.com/send?phone=85251234567&text=hi", [("whatsapp", "+85251234567"), ("phone", "+85251234567")]),
        # Telegram
        ("Contact my assistant on Telegram @x_consult today", [("telegram", "x_consult")]),
        ("auf Telegram unter @X_Consult", [("telegram", "x_consult")]),
        ("sur Telegram : x_consult", [("telegram", "x_consult")]),
        ("https://t.me/x_consult", [("telegram", "x_consult")]),
        ("Telegram: t.me/X_Consult.", [("telegram", "x_consult")]),
        ("Telegram +44 7700 900123", [("telegram", "+447700900123"), ("phone", "+447700900123")]),
        # Signal
        ("Signal: +44 7700 900123", [("signal", "+447700900123"), ("phone", "+447700900123")]),
        ("Signal-Nummer: +49 151 2345 6789", [("signal", "+4915123456789"), ("phone", "+4915123456789")]),
        ("mon numéro Signal : +33 6 12 34 56 78", [("signal", "+33612345678"), ("phone", "+33612345678")]),
        ("Signal username: cathy.07", [("signal", "cathy.07")]),
        ("https://signal.me/#p/+447700900123", [("signal", "+447700900123"), ("phone", "+447700900123")]),
        # bare handles and e-mail
        ("ping me @JDoe_99 anytime", [("handle", "jdoe_99")]),
        ("Write to Cathy.Won+jobs@Evil-Consult.CO.UK.", [("email", "cathy.won+jobs@evil-consult.co.uk"), ("domain", "evil-consult.co.uk")]),
        ("Kontakt: hayeslin78@gmail.com", [("email", "hayeslin78@gmail.com")]),
        ("联系cathy67@qq.com谢谢", [("email", "cathy67@qq.com")]),
        # phones without a platform
        ("call me on 07700 900123", [("phone", "07700900123")]),
        ("Tel.: 0049 (0) 151 23456789", [("phone", "+4915123456789")]),
        ("+44 (0) 20 7946 0958", [("phone", "+442079460958")]),
        ("Rufen Sie mich an: 030 1234567", [("phone", "0301234567")]),
        ("appelez-moi au 06 12 34 56 78", [("phone", "0612345678")]),
        ("(+852) 5123-4567", [("phone", "+85251234567")]),
        # URLs and registered domains
        ("Apply at https://apply.evil-consult.co.uk/jobs/42?ref=abc#top", [("url", "apply.evil-consult.co.uk/jobs/42"), ("domain", "evil-consult.co.uk")]),
        ("Details: www.Talent-Portal-HR.com/Brief.", [("url", "talent-portal-hr.com/Brief"), ("domain", "talent-portal-hr.com")]),
        ("visit expertbridge-consult.com/register today", [("url", "expertbridge-consult.com/register"), ("domain", "expertbridge-consult.com")]),
        ("see (https://secure-docsview.io/view)", [("url", "secure-docsview.io/view"), ("domain", "secure-docsview.io")]),
        ("HTTP://EVIL.EXAMPLE.ORG", [("url", "evil.example.org"), ("domain", "example.org")]),
        ("https://lab.github.io/paper", [("url", "lab.github.io/paper"), ("domain", "lab.github.io")]),
    ],
)  # fmt: skip
def test_contact_kinds(text: str, expected: list[tuple[str, str]]) -> None:
    assert kv(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We offer USD 12345678 for the report.",
        "Budget: 1.000.000 EUR, or 2 500 000 €, or 12345678 USD",
        "Between 2019-2023 I worked there; on 2026-01-05 and 05.01.2026 we met.",
        "Room B35, 42 minutes, 1800 USD, 2026, 1234567",
        "order 123456789 shipped",  # a national number without a leading 0 or a phone word
        "radar signal processing and signal-to-noise ratio",
        "WeChat tomorrow? Let's use WeChat please",
        "Telegram group for the conference",
        "I'll WhatsApp you later",
        "see main.py, file.txt, e.g. the notes, Dr.Smith",
        "email me at name@ (not an address)",
        "growth of 12345678%",
    ],
)
def test_no_false_contacts(text: str) -> None:
    assert kv(text) == []


def test_spans_point_at_the_evidence() -> None:
    text = "Hi! WeChat: cathywon67, or cathy@evil-consult.com, or https://evil-consult.com/apply?x=1."
    keys = contact_keys(text)
    assert [text[k.span[0] : k.span[1]] for k in keys] == [
        "WeChat: cathywon67",
        "cathy@evil-consult.com",
        "evil-consult.com",
        "https://evil-consult.com/apply?x=1",
    ]
    assert keys[0] == ContactKey("wechat", "cathywon67", (4, 22))
    # the domain is given once: first where it appears
    assert [k.kind for k in keys] == ["wechat", "email", "domain", "url"]


def test_fullwidth_forms_keep_spans() -> None:
    text = "邮箱：ｃａｔｈｙ＠ｅｖｉｌ．ｃｏｍ"
    (email, domain) = contact_keys(text)
    assert email.value == "cathy@evil.com" and domain.value == "evil.com"
    assert text[email.span[0] : email.span[1]] == "ｃａｔｈｙ＠ｅｖｉｌ．ｃｏｍ"


def test_each_key_once_and_in_order() -> None:
    text = "WeChat: abc123x. WeChat: abc123x. Mail abc@x-corp.com, abc@x-corp.com"
    assert kv(text) == [("wechat", "abc123x"), ("email", "abc@x-corp.com"), ("domain", "x-corp.com")]


# --------------------------------------------------------------------------------------------------
# shared hosts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://docs.google.com/document/d/1AbCdEf/edit?usp=sharing", [("url", "docs.google.com/document/d/1AbCdEf")]),
        ("https://drive.google.com/file/d/1XyZ/view", [("url", "drive.google.com/file/d/1XyZ")]),
        ("https://calendly.com/jane-doe/intro?c=1", [("url", "calendly.com/jane-doe/intro")]),
        ("https://github.com/evil-org/payload/blob/main/x.py", [("url", "github.com/evil-org/payload")]),
        ("https://www.linkedin.com/in/jane-doe-1a2b3c/", [("url", "linkedin.com/in/jane-doe-1a2b3c")]),
        ("https://teams.microsoft.com/l/meetup-join/19abc/0", [("url", "teams.microsoft.com/l/meetup-join/19abc")]),
        ("https://zoom.us/j/123456789", [("url", "zoom.us/j/123456789")]),
        ("https://bit.ly/3xYz", [("url", "bit.ly/3xYz")]),
        ("https://contoso.sharepoint.com/:w:/g/personal/abc", [("url", "contoso.sharepoint.com/:w:/g/personal/abc")]),
        ("https://www.dropbox.com/s/abc123/offer.docm?dl=1", [("url", "dropbox.com/s/abc123/offer.docm")]),
        # no identifying segment: nothing to link on
        ("https://zoom.us/", []),
        ("https://docs.google.com/document/d/", []),
        # webmail: the address, never the domain
        ("cathy@gmail.com, cathy@Outlook.com, cathy@qq.com, cathy@163.com", [("email", "cathy@gmail.com"), ("email", "cathy@outlook.com"), ("email", "cathy@qq.com"), ("email", "cathy@163.com")]),
        ("cathy@mail.protonmail.com", [("email", "cathy@mail.protonmail.com")]),
    ],
)  # fmt: skip
def test_shared_hosts(text: str, expected: list[tuple[str, str]]) -> None:
    assert kv(text) == expected


def test_shared_hosts_are_a_documented_set() -> None:
    for host in ("docs.google.com", "drive.google.com", "github.com", "calendly.com", "linkedin.com", "zoom.us",
                 "teams.microsoft.com", "dropbox.com", "sharepoint.com", "bit.ly", "gmail.com", "outlook.com",
                 "qq.com", "163.com"):  # fmt: skip
        assert host in SHARED_HOSTS
    assert not {k for k, _ in kv(" ".join(f"https://{h}/a/b" for h in SHARED_HOSTS))} & {"domain"}


# --------------------------------------------------------------------------------------------------
# bounded work


def test_texts_are_cut() -> None:
    pad = "x " * MAX_CHARS
    assert kv("WeChat: early123 " + pad + " WeChat: late1234") == [("wechat", "early123")]
    assert contact_keys(None) == contact_keys("") == []


ADVERSARIAL = {
    "letters": "a",
    "ats": "@",
    "local-at": "a@",
    "dots": "a.",
    "host-runs": "a.com",
    "tld-dots": ".com",
    "digits": "1",
    "digit-space": "1 ",
    "plus": "+1",
    "schemes": "http://",
    "www": "www.",
    "hyphens": "a-",
    "parens": "(1",
    "platform": "WeChat: ",
    "platform-id": "wechat id ",
    "telegram-at": "Telegram @",
    "signal": "signal ",
    "long-labels": "a" * 60 + ".",
    "hyphen-labels": "a-" * 30 + "a.",
    "mixed": "x@y.",
    "fullwidth": "＠",
    "cjk-cue": "微信",
    "email-dots": "a.a@",
}


def _best_time(fn, arg, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_inputs_take_linear_time(name: str) -> None:
    unit = ADVERSARIAL[name]
    big = unit * (100_000 // len(unit))
    small = big[: len(big) // 4]
    # The extraction itself (no cut) on 100,000 characters, against a plain one-match-per-character
    # regular-expression scan of the same string: quadratic or exponential work would be orders of
    # magnitude over the bound, linear work is 5-100 times the scan.
    plain = re.compile(".", re.DOTALL)
    t_scan = _best_time(plain.findall, big)
    t_big = _best_time(pk._extract, big)
    assert t_big < 1000 * t_scan, (t_big, t_scan)
    # and four times the text takes about four times as long (quadratic would be sixteen); the bound sits
    # between the two, with room for a busy machine (the best of five runs each)
    t_small = _best_time(pk._extract, small)
    assert t_big < 12 * t_small + 0.02, (t_big, t_small)
    # the public entry point is bounded by the cut
    contact_keys(big)


def test_adversarial_inputs_are_still_read_correctly() -> None:
    assert kv("a" * 100_000 + "@x.com") == []  # a local part of more than 64 characters is no address
    assert kv("a" * 60 + "@evil.com") == [("email", "a" * 60 + "@evil.com"), ("domain", "evil.com")]
    assert kv("1" * 100_000) == []
    assert kv("https://x-corp.com/" + "a" * 100_000)[0][1].startswith("x-corp.com/aaa")
    host = ".".join(["a" * 60] * 3) + ".com"
    assert kv(host) == [("url", host), ("domain", "a" * 60 + ".com")]


# --------------------------------------------------------------------------------------------------
# batch


def _batch_as_lists(table: pa.Table) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for row, kind, value in zip(*(table[c].to_pylist() for c in ("row", "kind", "value")), strict=True):
        out.setdefault(row, []).append((kind, value))
    return out


def _single(texts: list[str | None]) -> dict[int, list[tuple[str, str]]]:
    out = {i: [(k.kind, k.value) for k in contact_keys(t)] for i, t in enumerate(texts)}
    return {i: v for i, v in out.items() if v}


HANDWRITTEN = [
    None,
    "",
    "no keys here, just words",
    "WeChat: cathywon67 and https://docs.google.com/document/d/1AbC/edit",
    "微信号：ｃａｔｈｙ６７",
    "Ｔｅｌｅｇｒａｍ　＠ｘ＿ｃｏｎｓｕｌｔ",
    "Écrivez sur WhatsApp au +33 6 12 34 56 78 ou à cathy@evil-consult.fr",
    "evil-consult.com/apply and WWW.Other-Site.ORG",
    "t.me/x_consult wa.me/85251234567",
    "x" * (MAX_CHARS - 5) + " WeChat: late1234",
    "Tel 030 1234567, 2026-01-05",
]


def test_batch_equals_single_on_handwritten_texts() -> None:
    table = contact_keys_batch(HANDWRITTEN)
    assert table.schema == pa.schema([("row", pa.int64()), ("kind", pa.string()), ("value", pa.string())])
    assert _batch_as_lists(table) == _single(HANDWRITTEN)
    # every input form
    for texts in (
        pa.array(HANDWRITTEN),
        pa.array(HANDWRITTEN, pa.large_string()),
        pa.chunked_array([HANDWRITTEN[:4], HANDWRITTEN[4:]]),
    ):
        assert contact_keys_batch(texts).equals(table)
    assert contact_keys_batch([]).num_rows == 0
    assert contact_keys_batch([None, "nothing"]).num_rows == 0


FRAGMENTS = [
    "WeChat: ", "wechat ID ", "微信", "WhatsApp ", "Telegram @", "Signal: ", "t.me/", "wa.me/", "@", "://",
    "https://", "www.", ".com", ".co.uk", "/", "?", "#", "+44 ", "0049 ", "(0) ", "7700 900123", "51234567",
    "12", "2026-01-05", " ", ". ", ", ", "abc", "x_consult", "cathy", "evil-consult", "gmail", "docs.google",
    "USD ", "%", "é", "王建国", "＠", "：", "１２３", "\n", "_", "-", "evil.com", "Tel ", "WWW.", "x.py",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join), min_size=1, max_size=8))
def test_batch_equals_single_on_generated_texts(texts: list[str]) -> None:
    assert _batch_as_lists(contact_keys_batch(texts)) == _single(texts)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_valid_keys(text: str) -> None:
    for key in contact_keys(text):
        assert key.kind in pk.CONTACT_KINDS and key.value
        assert 0 <= key.span[0] < key.span[1] <= len(text)


def test_batch_on_a_synthetic_stream_finds_the_planted_handles() -> None:
    from lurewatch.synth.stream import generate, make_plan, truth_records

    plan = make_plan(20_000, seed=3)
    texts = pa.Table.from_batches(list(generate(plan)))["text"]
    table = contact_keys_batch(texts)
    found = set(zip(table["kind"].to_pylist(), table["value"].to_pylist(), strict=True))
    # each persona writes its first handle into its messages
    planted = {p["handles"][0] for r in truth_records(plan) if r["type"] == "campaign" for p in r["personas"]}
    assert planted
    for handle in planted:
        assert {(k.kind, k.value) for k in contact_keys(handle)} <= found, handle
    # background links to shared hosts give no domain keys
    domains = {v for k, v in found if k == "domain"}
    assert not domains & {"google.com", "microsoft.com", "zoom.us", "github.com", "calendly.com"}
    sample = texts.to_pylist()[:3000]
    assert _batch_as_lists(contact_keys_batch(sample)) == _single(sample)


# --------------------------------------------------------------------------------------------------
# names


@pytest.mark.parametrize(
    "variants",
    [
        ["Jianguo Wang", "Wang Jianguo", "WANG Jian-Guo", "Jian Guo Wang", "Wang, Jianguo", "王建国", "王 建国",
         "Chien-Kuo Wong", "Chien-kuo Wang", "Wong Chienkuo", "Dr. Wang Jianguo", "Ｗａｎｇ　Ｊｉａｎｇｕｏ",
         "Wang Jianguo (Cathy)", "Jianguo Wang 王建国"],
        ["Xiaoming Zhang", "Hsiao-ming Chang", "Zhang Xiaoming", "Cheung Xiaoming", "张晓明"],
        ["Zhiwei Chen", "Chih-wei Chan", "陈志伟"],
        ["Yifan Wu", "I-fan Woo", "吴一凡"],
        ["Lihua Li", "Li-hua Lee", "李丽华"],
        ["Xin Xu", "Hsin Hsu"],
        ["Jie Zhou", "Chieh Chou"],
        ["Wei Zhao", "Wei Chao"],
        ["Jun Liu", "Jun Lau"],
        ["Yang Wei", "Yeung Wei"],
        ["Lü Xiaoming", "Lyu Xiaoming", "Lv Xiaoming", "吕晓明"],
        ["Zeng Guofan", "曾国藩", "Tsang Kuo-fan"],
        ["Sarah Mitchell", "Mitchell Sarah", "SARAH  MITCHELL", "Mitchell, Sarah", "Ms. Sarah Mitchell"],
        ["Jürgen Müller", "Jurgen Muller"],
        ["Patrick O'Brien", "Patrick OBrien", "O’Brien Patrick"],
    ],
)  # fmt: skip
def test_name_key_variants_collide(variants: list[str]) -> None:
    keys = {name_key(v) for v in variants}
    assert len(keys) == 1, {v: name_key(v) for v in variants}


def test_name_key_values() -> None:
    assert name_key("Chien-Kuo Wong") == "guo jian wang"
    assert name_key("Wang Jianguo (Cathy)") == "guo jian wang"
    assert name_key("Sarah Mitchell") == "mitchell sarah"
    assert name_key(None) == name_key("") == name_key("  ") == name_key("Dr.") == ""
    assert name_key("Иван Петров") == name_key("Петров Иван") == "иван петров"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Wang Jianguo", "Wang Jian"),
        ("Wang Jianguo", "Wang Jianguo Ming"),
        ("Li Wei", "Li Wen"),
        ("Wang Jianguo", "Guo Jianwang"),
        ("John Smith", "Jane Smith"),
        ("Sarah Mitchell", "Sarah Mitchell-Brooks"),
        ("Cathy Wang", "Cathy Li"),
    ],
)
def test_different_names_have_different_keys(a: str, b: str) -> None:
    assert name_key(a) != name_key(b) or (a, b) == ("Wang Jianguo", "Guo Jianwang")
    score, reason = name_similarity(a, b)
    assert score < 0.9, (a, b, score, reason)


def test_name_keys_for_blocking() -> None:
    assert name_keys("Wang Jianguo (Cathy)") == {"guo jian wang", "cathy wang", "j wang", "c wang"}
    assert "j wang" in name_keys("J. Wang") & name_keys("Jianguo Wang") & name_keys("王建国")
    # unmarked Wade-Giles aspiration: Chiang is Jiang or Qiang
    assert "qiang wei" in name_keys("Chiang Wei") and "jiang wei" in name_keys("Chiang Wei")
    assert name_keys("Qiang Wei") & name_keys("Chiang Wei")
    assert name_keys("Jun Liu") & name_keys("Chun Lau")
    # Cantonese Wong is Wang or Huang
    assert {"cathy wang", "cathy huang"} <= name_keys("Cathy Wong")
    assert name_keys("S. Mitchell") & name_keys("Sarah Mitchell") == {"s mitchell"}
    assert name_keys(None) == name_keys("") == set()
    assert "j wang" not in name_keys("Jianguo Li")
    assert len(name_keys("Chuan Chu Chun-chung Chen-chiang")) <= 16 + 12


def test_name_keys_link_the_personas_of_each_synthetic_campaign() -> None:
    from lurewatch.synth.stream import make_plan, truth_records

    plan = make_plan(100_000, seed=11, campaigns=15)
    for record in truth_records(plan):
        if record["type"] != "campaign" or len(record["personas"]) < 2:
            continue
        names = sorted({p["sender_name"] for p in record["personas"]})
        # connected components under "shares a name key"
        component = {n: {n} for n in names}
        for a, b in itertools.combinations(names, 2):
            if name_keys(a) & name_keys(b) and component[a] is not component[b]:
                merged = component[a] | component[b]
                for n in merged:
                    component[n] = merged
        groups = {frozenset(c) for c in component.values()}
        # one group of variants of the name; at most one more of personas that use an English given
        # name with the surname ("David Zhang"), which only an alias persona links to the name
        assert len(groups) <= 2, (record["campaign_id"], names)
        if len(groups) == 2:
            # the odd group out: English given names, or an initial ("L. Li") when no persona of the
            # campaign spells that given name out, so nothing can tie the initial to it
            other = min(groups, key=len)
            spelled = {n.split()[0].lower() for g in groups - {other} for n in g}
            assert all(
                (len(n.split()) == 2 and "." not in n and "(" not in n)
                or ("." in n and not any(w.startswith(n[0].lower()) for w in spelled))
                for n in other
            ), other


@pytest.mark.parametrize(
    ("a", "b", "score", "reason"),
    [
        ("Sarah Mitchell", "Sarah  MITCHELL", 1.0, "same name"),
        ("Jianguo Wang", "Wang Jianguo", 1.0, "same name in another order"),
        ("Li Wei", "Wei Li", 1.0, "same name in another order"),
        ("Jianguo Wang", "Jian-Guo Wang", 1.0, "same name"),
        ("Jianguo Wang", "Jian Guo Wang", 1.0, "same name, split or hyphenated differently"),
        ("Chien-Kuo Wong", "Jianguo Wang", 0.95, "romanisation variant of the same name"),
        ("Cathy Wong", "Cathy Wang", 0.95, "romanisation variant of the same name"),
        ("王建国", "Jianguo Wang", 0.95, "same name in Hanzi and in pinyin"),
        ("Qiang Wei", "Chiang Wei", 0.9, "romanisation variant of the same name"),
        ("Wang Jianguo (Cathy)", "Cathy Wong", 0.9, "alias 'cathy' with the same surname"),
        ("王建国 (Cathy Wang)", "Cathy Wang", 0.9, "alias 'cathy wang' is the other name"),
        ("J. Wang", "Jianguo Wang", 0.8, "same surname and initial"),
        ("C.K. Wong", "Chien-kuo Wang", 0.8, "same surname and initial"),
        ("S. Mitchell", "Sarah Mitchell", 0.8, "same surname and initial"),
        ("Sarah Mitchell", "Sarah Mitchell-Brooks", 0.85, "one name contains the other (extra: brooks)"),
        ("Wang Jianguo", "Guo Jianwang", 0.5, "same syllables arranged as a different name"),
        (
            "Wang Jianguo",
            "Wang Jian",
            0.6,
            "different syllables in a Chinese name (fuzzy 0.82, capped at 0.60)",
        ),
        (None, "Sarah Mitchell", 0.0, "no name"),
    ],
)
def test_name_similarity_reasons(a: str | None, b: str, score: float, reason: str) -> None:
    assert name_similarity(a, b) == (score, reason)
    assert name_similarity(b, a)[0] == score


def test_name_similarity_fuzzy() -> None:
    score, reason = name_similarity("Sarah Mitchell", "Sarah Mitchel")
    assert 0.9 < score < 1 and reason == f"fuzzy {score:.2f} (rapidfuzz token_sort_ratio)"
    assert name_similarity("John Smith", "Priya Sharma")[0] < 0.5


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüéß'", min_size=1, max_size=10), min_size=1, max_size=4
    ),
    st.randoms(use_true_random=False),
)
def test_name_key_ignores_word_order_and_case(words: list[str], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = words[:]
    rnd.shuffle(shuffled)
    assert name_key(" ".join(words)) == name_key(" ".join(shuffled).upper())
    assert name_similarity(" ".join(words), " ".join(shuffled))[0] >= (
        1.0 if name_key(" ".join(words)) else 0.0
    )


def test_hanzi_are_read_only_when_present() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from lurewatch.campaigns.persona_keys import name_key, name_keys; "
        "name_key('Chien-Kuo Wong'); name_keys('Sarah Mitchell'); assert 'pypinyin' not in sys.modules; "
        "name_key('王建国'); assert 'pypinyin' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------------------
# companies


@pytest.mark.parametrize(
    "variants",
    [
        ["McKinsey & Partners Asia", "McKinsey and Partners Asia Ltd", "MCKINSEY & PARTNERS ASIA LIMITED", "McKinsey + Partners Asia, Inc."],
        ["Baird & Haldane Strategy", "Baird und Haldane Strategy GmbH", "Baird et Haldane Strategy SAS"],
        ["Siemens", "Siemens AG", "Siemens Aktiengesellschaft", "SIEMENS A.G."],
        ["Société Générale", "Societe Generale S.A.", "Société Générale SA"],
        ["Foo", "Foo GmbH & Co. KG", "Foo Holdings Co., Ltd.", "Foo Group", "The Foo Company", "Foo B.V.", "Foo S.A.R.L."],
        ["Huawei Technologies", "Huawei Technologies Co., Ltd."],
        ["华为技术", "华为技术有限公司", "华为技术股份有限公司"],
        ["Acccenture Strategy", "Acccenture Strategy Group"],
    ],
)  # fmt: skip
def test_company_key_variants_collide(variants: list[str]) -> None:
    assert len({company_key(v) for v in variants}) == 1, {v: company_key(v) for v in variants}


def test_company_key_values() -> None:
    assert company_key("McKinsey & Partners Asia") == "mckinsey partners asia"
    assert company_key("Group") == "group"  # never empty for a non-empty name
    assert company_key(None) == company_key("") == ""
    assert company_key("Collinsford Aerospace") != company_key("Collins Aerospace")


def test_company_similarity() -> None:
    assert company_similarity("Siemens", "Siemens") == (1.0, "same company")
    score, reason = company_similarity("McKinsey & Partners Asia", "McKinsey and Partners Asia Ltd")
    assert score == 1.0 and "legal forms" in reason
    assert company_similarity("DeepFjord", "Deep Fjord") == (0.95, "same company name spaced differently")
    score, reason = company_similarity("Deloitte Strategic Advisory", "Deloite Strategic Advisory")
    assert score > 0.95 and reason == f"fuzzy {score:.2f} (rapidfuzz ratio)"
    assert company_similarity("Siemens", "Siemens Energy") == (0.8, "one name contains the other (siemens)")
    assert company_similarity("Thales", "Airbus")[0] < 0.5
    assert company_similarity(None, "Airbus") == (0.0, "no company")


# --------------------------------------------------------------------------------------------------
# photo hashes


def test_parse_photo_hash() -> None:
    assert parse_photo_hash("14c59a1e351ea9d8") == 0x14C59A1E351EA9D8
    assert parse_photo_hash(" 0X14C59A1E351EA9D8 ") == 0x14C59A1E351EA9D8
    assert parse_photo_hash("ffffffffffffffff") == 2**64 - 1
    for bad in (
        None,
        "",
        "14c59a1e351ea9d",
        "14c59a1e351ea9d80",
        "14c59a1e351ea9dg",
        "0x",
        "-14c59a1e351ea9d8",
    ):
        assert parse_photo_hash(bad) is None


def _brute_force(h: np.ndarray, d: int) -> set[tuple[int, int, int]]:
    out = set()
    for i, j in itertools.combinations(range(len(h)), 2):
        if int(h[i]) in COMMON_PHOTO_HASHES or int(h[j]) in COMMON_PHOTO_HASHES:
            continue
        dist = (int(h[i]) ^ int(h[j])).bit_count()
        if dist <= d:
            out.add((i, j, dist))
    return out


@st.composite
def hash_arrays(draw):  # type: ignore[no-untyped-def]
    """Random hashes with planted duplicates, near duplicates (a few flipped bits) and common ones."""
    base = draw(st.lists(st.integers(0, 2**64 - 1), min_size=0, max_size=40))
    out = list(base)
    for _ in range(draw(st.integers(0, 30))):
        if not base:
            break
        src = draw(st.sampled_from(base))
        for bit in draw(st.lists(st.integers(0, 63), max_size=6)):
            src ^= 1 << bit
        out.append(src)
    out += draw(st.lists(st.sampled_from(sorted(COMMON_PHOTO_HASHES)), max_size=3))
    return np.array(draw(st.permutations(out)) if out else [], dtype=np.uint64)


@settings(max_examples=300, deadline=None)
@given(hash_arrays(), st.integers(0, 8))
def test_photo_hash_pairs_equal_brute_force(h: np.ndarray, d: int) -> None:
    pairs = photo_hash_pairs(h, d)
    assert pairs.dtype == np.int64 and pairs.shape[1] == 3
    assert {tuple(map(int, p)) for p in pairs} == _brute_force(h, d)
    assert len({(int(i), int(j)) for i, j, _ in pairs}) == len(pairs)
    assert (pairs[:, 0] < pairs[:, 1]).all()
    # exact duplicates first, then by distance
    assert (np.diff(pairs[:, 2]) >= 0).all()


def test_photo_hash_pairs_on_larger_random_data() -> None:
    rng = np.random.default_rng(7)
    base = rng.integers(0, 2**64, 400, dtype=np.uint64)
    flips = np.uint64(1) << rng.integers(0, 64, (300, 3)).astype(np.uint64)
    near = base[rng.integers(0, 400, 300)] ^ flips[:, 0] ^ flips[:, 1] ^ flips[:, 2]
    h = np.concatenate([base, near, base[:50]])
    for d in (0, 3, 4, 6):
        assert {tuple(map(int, p)) for p in photo_hash_pairs(h, d)} == _brute_force(h, d)


def test_common_hashes_are_reported_not_paired() -> None:
    h = np.array([0, 0, 2**64 - 1, 5, 5, 1], np.uint64)
    m = photo_hash_matches(h, 4)
    assert m.common_rows.tolist() == [0, 1, 2]
    assert {tuple(map(int, p)) for p in m.pairs} == {(3, 4, 0), (3, 5, 1), (4, 5, 1)}
    assert m.crowded_hashes.shape == (0, 2) and m.crowded_blocks.shape == (0, 3)


def test_a_crowded_exact_hash_is_reported_not_paired() -> None:
    avatar = 0x8000_0000_0000_0001
    h = np.array([avatar] * 50 + [avatar ^ 1, 12345, 12345], np.uint64)
    m = photo_hash_matches(h, 4, max_group=20)
    assert m.crowded_hashes.tolist() == [[avatar, 50]]
    assert {tuple(map(int, p)) for p in m.pairs} == {(51, 52, 0)}
    # under the cap the same rows are paired in full
    assert len(photo_hash_pairs(h, 4, max_group=100)) == 50 * 49 // 2 + 50 + 1


def test_a_crowded_block_is_reported_and_only_its_pairs_can_be_missed() -> None:
    rng = np.random.default_rng(3)
    # 300 distinct hashes that all share their first block (as near-blank images do)
    h = rng.integers(0, 2**51, 300, dtype=np.uint64)
    h[1] = h[0] ^ np.uint64(1 << 40)  # agrees with h[0] on every block but one: still found
    m = photo_hash_matches(h, 4, max_group=100)
    assert m.crowded_blocks.tolist() == [[0, 0, 300]]
    found = {tuple(map(int, p)) for p in m.pairs}
    assert (0, 1, 1) in found
    widths = [13, 13, 13, 13, 12]
    shifts = np.cumsum([0, *widths[::-1]])[:-1][::-1]  # block 0 holds the top bits
    for i, j, _ in _brute_force(h, 4) - found:
        agree = [
            ((int(h[i]) ^ int(h[j])) >> int(s)) & ((1 << w) - 1) == 0
            for s, w in zip(shifts, widths, strict=True)
        ]
        assert agree == [True, False, False, False, False]
    assert found <= _brute_force(h, 4)


def test_photo_hash_input_checks() -> None:
    assert photo_hash_pairs(np.zeros(0, np.uint64)).shape == (0, 3)
    assert photo_hash_pairs([3, 3]).tolist() == [[0, 1, 0]]
    with pytest.raises(ValueError, match="max_distance"):
        photo_hash_pairs(np.zeros(2, np.uint64), 40)
    with pytest.raises(ValueError, match="one-dimensional"):
        photo_hash_pairs(np.zeros((2, 2), np.uint64))
    with pytest.raises(ValueError, match="max_group"):
        photo_hash_pairs(np.zeros(2, np.uint64), max_group=1)
