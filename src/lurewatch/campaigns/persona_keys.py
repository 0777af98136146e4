"""Persona keys: the evidence that several accounts are one operator's personas (issue 4).

Pure functions, no I/O, no global state beyond caches of pure functions. Four families of keys:

* **Contact keys** found in message text (:func:`contact_keys`, :func:`contact_keys_batch`): e-mail
  addresses, phone numbers, messaging handles (WeChat, WhatsApp, Telegram, Signal, bare ``@name``),
  URLs and their registered domains.
* **Name keys** (:func:`name_key`, :func:`name_keys`, :func:`name_similarity`): an order-insensitive
  key of a person's name that folds Hanzi, Wade-Giles and Cantonese/Hokkien romanisations to pinyin.
* **Company keys** (:func:`company_key`, :func:`company_similarity`): claimed employers with legal
  forms, punctuation and connectors dropped, so that look-alikes collide.
* **Photo hashes** (:func:`parse_photo_hash`, :func:`photo_hash_pairs`, :func:`photo_hash_matches`):
  all pairs of 64-bit perceptual hashes within a Hamming distance, by the pigeonhole principle.

Every key comes with something a person can read: a span in the text, or a short reason.

Contact keys
------------
``kind`` is one of :data:`CONTACT_KINDS`; ``value`` is normalised:

========== ==================================================================================
email      ``local@domain``, case-folded (every large provider treats the local part case-blind)
phone      digits, with a leading ``+`` when the text gave ``+`` or ``00``; at least 8 digits
wechat     the WeChat ID (case-folded) or the phone number it was given as
whatsapp   the phone number (WhatsApp has no other identifier)
telegram   the username without ``@`` (case-folded), or a phone number
signal     the username (``name.01``) or a phone number
handle     a bare ``@name`` with no platform word before it (case-folded, without ``@``)
url        host (lower-cased, without ``www.``) and path, without scheme, query or fragment
domain     the registered domain (Public Suffix List): ``apply.evil-consult.co.uk`` ->
           ``evil-consult.co.uk``
========== ==================================================================================

A number or handle after a platform word also yields a ``phone`` key, so that the same number given
for WhatsApp in one message and as a plain phone number in another still links. A ``t.me/``,
``wa.me/`` or ``signal.me`` link yields the platform key only: the link is just the platform's
address for the handle.

**Shared hosts.** For hosts in :data:`SHARED_HOSTS` (document and file hosting, meeting and booking
services, social networks, link shorteners, webmail) the registered domain is never a key: millions
of unrelated people share ``docs.google.com`` or ``gmail.com``. Their URLs are keys only through the
first two *identifying* path segments (``calendly.com/jane-doe/intro``,
``docs.google.com/document/d/<id>``): segments such as ``d``, ``document``, ``in``, ``j``, ``edit``
(:data:`STRUCTURAL_SEGMENTS`) are kept but not counted, and trailing ones are dropped, because
"first two segments" alone would make ``docs.google.com/document/d`` one key for every Google
document. A shared-host URL with no identifying segment yields nothing. E-mail addresses at webmail
providers are keys as full addresses only.

**What is not recognised** (a deliberate trade of recall for precision): a national phone number
without a leading ``0`` unless a phone word (tel, phone, WhatsApp, Handy, portable, ...) stands within
32 characters before it; a platform handle without a marker (``:``, ``ID``, ``@``, ``ist``,
``lautet``, ``est``, ...) unless it contains a digit or ``_``; a handle written before its platform
word; URLs without a scheme or ``www.`` whose top-level domain is not in :data:`BARE_TLDS`;
non-ASCII local parts, host names and URL paths (CJK text runs into addresses without spaces, so an
ASCII-only address stops at the first Hanzi).

**Bounded work.** Texts are cut to :data:`MAX_CHARS` characters. Every pattern starts only at the
beginning of a token (a negative look-behind on its own character class) and uses bounded
repetitions whose alternatives cannot overlap; the scanners try them only at anchors (``@``, ``://``,
``www.``, a dot before a listed top-level domain), and the scans back from an anchor to the start of
its token never cover a character twice. So the work is linear whatever the input (tests time
adversarial strings of 100,000 characters against a plain regular-expression scan, and 25,000
against 100,000).
Full-width forms (``＠``, ``：``, ``１２３``) are folded to ASCII one for one, so spans stay valid.

**Batch throughput.** :func:`contact_keys_batch` screens the whole Arrow array once with RE2
(``pyarrow.compute.match_substring_regex`` on :data:`SCREEN_PATTERN`: ``@``, ``://``, ``www.``,
platform words, ``微信``, runs of 8+ digits with separators, hosts ending in a known top-level
domain, full-width forms) and runs the Python extraction only on the rows that can contain a key,
and there only the scanners whose cue (:data:`SCREEN_PATTERNS`) the row has. Each screen is a
superset of what its scanner can find, so the result equals :func:`contact_keys` row by row (tested
on generated texts and on a synthetic stream). Measured on the 200,000-message synthetic stream
(``lurewatch synth 200000 s.parquet --seed 1``: half of its messages carry a link, 2% a contact
handle) on one core (``taskset -c 0``; Python 3.11, pyarrow 26): screen 0.07 s, per-scanner cues
0.07 s, Python extraction of the 100,439 screened rows 0.82 s; about **205,000 messages/s** end to
end (seed 2: 203,000; target 150,000). Most of the time goes to rows with a link, about 8
microseconds each.

Name keys
---------
:func:`name_key` NFKC-normalises and case-folds, strips diacritics and honorifics, moves bracketed or
quoted parts (``Wang Jianguo (Cathy)``) and, in a name that also has Latin letters, runs of Hanzi into
*aliases*, converts Hanzi to pinyin without tones (pypinyin, imported only when Hanzi are present),
and in a Chinese name (Hanzi, or a token that is a Chinese surname in any romanisation) splits
given names into syllables (``Chien-Kuo``, ``Chienkuo``, ``Jian Guo`` -> ``jian guo``) and folds each
syllable to pinyin:

1. :data:`ROMANISATION_TABLE`, a curated table of Cantonese, Hokkien/Teochew and Wade-Giles surname
   spellings (``Wong`` -> wang, ``Chan`` -> chen, ``Cheung``/``Chang`` -> zhang, ``Lee`` -> li,
   ``Kuo`` -> guo, ``Hsu`` -> xu, ``Tsai`` -> cai, ``Tan`` -> tan or chen, ``Lim`` -> lin, ...);
2. a pinyin syllable stays itself;
3. Wade-Giles (:data:`WADE_GILES`, generated from pypinyin's Wade-Giles table with apostrophes and
   diacritics removed): unmarked aspiration is ambiguous (``chien`` = jian or qian), and the
   unaspirated reading is the canonical one.

The key is the sorted syllables: ``Jianguo Wang``, ``Wang Jianguo``, ``王建国`` and ``Chien-kuo Wong``
all give ``guo jian wang``. Every reading is kept, so :func:`name_keys` can block ``Chiang`` with
both ``Jiang`` and ``Qiang``. ü is folded to u (``Lü``, ``Lyu``, ``Lv`` -> ``lu``). Sorting
syllables merges ``Wang Jianguo`` with the rarer ``Guo Jianwang``: fine for blocking;
:func:`name_similarity` compares the syllables in the order of the name's parts and keeps them apart.

Common names (``Li Wei``, ``John Smith``) are shared by many unrelated people: a name key is a
blocking key and one signal among several, never a link on its own.

Photo hashes
------------
:func:`photo_hash_matches` finds every pair within ``max_distance`` bits: split 64 bits into
``max_distance + 1`` blocks; two hashes that close agree on at least one block (pigeonhole). Exact
duplicates are grouped first; per block, hashes are sorted by block value and paired within equal
groups, then verified with a popcount. A group larger than ``max_group`` (a default avatar, a blank
image) is not paired but reported, and :data:`COMMON_PHOTO_HASHES` (all zeros, all ones) are never
paired.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz

from lurewatch.identity import normalise_email, normalise_name

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = [
    "BARE_TLDS",
    "COMMON_PHOTO_HASHES",
    "CONTACT_KINDS",
    "MAX_CHARS",
    "MAX_PHOTO_GROUP",
    "ROMANISATION_TABLE",
    "SCREEN_PATTERN",
    "SCREEN_PATTERNS",
    "SHARED_HOSTS",
    "STRUCTURAL_SEGMENTS",
    "WADE_GILES",
    "ContactKey",
    "PhotoHashMatches",
    "company_key",
    "company_similarity",
    "contact_keys",
    "contact_keys_batch",
    "name_key",
    "name_keys",
    "name_similarity",
    "parse_photo_hash",
    "photo_hash_matches",
    "photo_hash_pairs",
]


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of a table written as text (easier to read and review)."""
    return frozenset(text.split())


# ==================================================================================================
# Contact keys

MAX_CHARS = 4096
"""Texts are cut to this many characters before extraction (hostile input is bounded)."""

CONTACT_KINDS = ("email", "phone", "wechat", "whatsapp", "telegram", "signal", "handle", "url", "domain")


@dataclass(frozen=True, slots=True)
class ContactKey:
    """One piece of contact evidence: ``text[span[0]:span[1]]`` is where it was found."""

    kind: str
    value: str
    span: tuple[int, int]


SHARED_HOSTS: frozenset[str] = _words(
    """
    google.com docs.google.com drive.google.com sites.google.com meet.google.com forms.gle goo.gl
    googleusercontent.com storage.googleapis.com
    github.com gist.github.com githubusercontent.com gitlab.com bitbucket.org
    dropbox.com dropboxusercontent.com db.tt box.com wetransfer.com we.tl mega.nz icloud.com apple.com
    onedrive.live.com 1drv.ms sharepoint.com live.com microsoft.com office.com office365.com
    teams.microsoft.com teams.live.com forms.office.com aka.ms
    zoom.us zoom.com webex.com gotomeeting.com whereby.com calendly.com doodle.com eventbrite.com
    eventbrite.co.uk eventbrite.de eventbrite.fr typeform.com surveymonkey.com jotform.com
    notion.so notion.site medium.com substack.com wordpress.com wix.com
    linkedin.com lnkd.in facebook.com fb.com fb.me instagram.com twitter.com x.com t.co youtube.com
    youtu.be tiktok.com reddit.com wikipedia.org researchgate.net academia.edu arxiv.org doi.org
    bit.ly bitly.com tinyurl.com ow.ly buff.ly is.gd rb.gy cutt.ly shorturl.at rebrand.ly tiny.cc
    t.ly s.id v.gd qrco.de
    t.me telegram.me telegram.org telegram.dog wa.me whatsapp.com signal.me signal.org signal.group
    wechat.com weixin.qq.com qq.com
    gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de msn.com
    yahoo.com yahoo.co.uk yahoo.fr yahoo.de ymail.com aol.com me.com mac.com
    protonmail.com protonmail.ch proton.me pm.me tutanota.com tuta.io fastmail.com hushmail.com
    zoho.com mail.com gmx.de gmx.net gmx.com gmx.at gmx.ch web.de t-online.de freenet.de
    orange.fr free.fr laposte.net wanadoo.fr sfr.fr
    163.com 126.com yeah.net sina.com sina.cn sohu.com aliyun.com 139.com foxmail.com
    mail.ru yandex.ru yandex.com naver.com daum.net hanmail.net rediffmail.com
    """
)
"""Hosts (and, through their suffixes, sub-hosts) whose registered domain millions of unrelated
people share: document and file hosting, meetings and bookings, social networks, link shorteners,
messaging platforms and webmail. Their registered domain is never a ``domain`` key."""

STRUCTURAL_SEGMENTS: frozenset[str] = _words(
    """
    d e u 0 1 j l s w r c g p in pub company school posts feed file files folders folder drive
    document spreadsheets presentation forms viewform edit view preview open share sharing invite
    join meetup-join meeting meetings embed watch status blob tree raw main master sites personal
    layouts :w: :x: :p: :b: :f: :u: :v: :o: :i: usp
    """
)
"""URL path segments on shared hosts that name a kind of page rather than a person or a document:
kept in a ``url`` key but not counted among its two identifying segments."""

BARE_TLDS: frozenset[str] = _words(
    """
    com net org info biz io co app dev xyz top online site tech club live pro cloud page link website
    space store shop work jobs email digital global group world network solutions services center
    agency consulting partners ltd inc llc tv ai us uk de fr cn hk tw sg mo ru eu ch at nl be it es
    se no dk fi ie pl cz pt gr hu ro bg ua by kz jp kr in au ca nz br mx za ae sa ir kp vn th my ph
    id pk tr il
    """
)
"""Top-level domains accepted for a host written without scheme or ``www.`` (``evil-consult.com``).
Left out on purpose: TLDs that are also common file extensions or abbreviations (``py``, ``sh``,
``md``, ``rs``, ``pl``, ``cc``, ``so``, ``zip``, ``mov``, ``ps``, ``me``)."""

_PLATFORM_LINK_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog", "wa.me", "signal.me"})
_TELEGRAM_RESERVED = frozenset({"joinchat", "addstickers", "share", "proxy", "socks", "iv", "s", "c"})

# Full-width ASCII forms and the ideographic space, folded one for one so that spans stay valid.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"(?:{_LABEL}\.){{1,10}}(?:[a-z]{{2,24}}|xn--[a-z0-9-]{{1,59}})"
# Patterns start only at a token start (a look-behind on their own class) and have bounded
# repetitions whose alternatives cannot overlap: no catastrophic backtracking. The scanners below
# also only try them at anchors found with str.find or a literal-led pattern (``@``, ``://``, a dot
# before a top-level domain), because CPython's regex engine tries a look-behind-led pattern at every
# position, which costs about 0.1 microsecond per character.
_EMAIL = re.compile(
    rf"(?<![a-z0-9._%+\-])(?P<local>[a-z0-9._%+\-]{{1,64}})@(?P<domain>{_HOST})(?![a-z0-9\-])",
    re.IGNORECASE | re.ASCII,
)
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_URL = re.compile(
    rf"(?<![a-z0-9@.\-/])(?P<scheme>(?:https?|ftp)://)?(?P<host>{_HOST})(?![a-z0-9\-])"
    r"(?::[0-9]{1,5})?(?P<rest>[/?#][a-z0-9\-._~:/?#\[\]@!$&()*+,;=%]{0,2048})?",
    re.IGNORECASE | re.ASCII,
)
_TLD_DOT = re.compile(r"\.([a-z]{2,24})(?![a-z0-9\-])", re.IGNORECASE | re.ASCII)
_BARE_OR_LINK_TLDS = BARE_TLDS | {"me", "dog"}  # t.me, wa.me, telegram.dog
_AT_HANDLE = re.compile(
    r"(?<![a-z0-9_.+\-@])@(?P<h>[a-z_](?:[a-z0-9_.]{0,30}[a-z0-9_])?)(?![a-z0-9_@])",
    re.IGNORECASE | re.ASCII,
)
_PHONE_SEP = " .\\-/()\u00a0"
_PHONE_BODY = rf"(?:\+|\(\+?)?[0-9](?:[{_PHONE_SEP}]{{0,3}}[0-9]){{6,19}}"
_PHONE = re.compile(rf"(?<![a-z0-9+\-/.,])(?P<num>{_PHONE_BODY})(?![a-z0-9])", re.IGNORECASE | re.ASCII)
_PHONE_AT = re.compile(rf"{_PHONE_BODY}(?![a-z0-9])", re.IGNORECASE | re.ASCII)
_PHONE_CUE = re.compile(
    r"tel|phone|mobil|mob\b|cell|call|ring|sms|text|whats|signal|wechat|telegram|handy|nummer|"
    r"anruf|tél|portable|numéro|numero|appel|fax|电话|手机|微信",
    re.IGNORECASE,
)
_MONEY_BEFORE = re.compile(r"(?:[$€£¥]|usd|eur|gbp|chf|cny|rmb|hkd|jpy|sgd|dm)\s?$", re.IGNORECASE)
_MONEY_AFTER = re.compile(r"\s?(?:[$€£¥%]|usd|eur|gbp|chf|cny|rmb|hkd|jpy|sgd|k\b)", re.IGNORECASE)
_DATE = re.compile(r"[0-9]{1,4}[./\-][0-9]{1,2}[./\-][0-9]{1,4}|[0-9]{4} ?[\-/] ?[0-9]{4}")
_PLATFORM = re.compile(
    r"(?<![a-z])(?:(?P<wechat>we[ \-]?chat|weixin)|(?P<whatsapp>whats[ \-]?app)|(?P<telegram>telegram)"
    r"|(?P<signal>signal))(?![a-z])|(?P<wechat_cjk>微信号?)",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[\s:=()\[\]\-–—,;/|.]*")
_WORD = re.compile(r"@?[a-z][a-z0-9_.\-]{0,31}", re.IGNORECASE | re.ASCII)
_WINDOW = 80
_PLATFORM_IDS = {
    "wechat": re.compile(r"[a-z][a-z0-9_\-]{5,19}"),  # WeChat IDs: 6-20 characters, a letter first
    "telegram": re.compile(r"[a-z][a-z0-9_]{4,31}"),  # Telegram usernames: 5-32 characters
    "signal": re.compile(r"[a-z_][a-z0-9_]{2,31}\.[0-9]{2,9}"),  # Signal usernames carry a .number
}
_PLATFORM_WORDS = _words("wechat weixin whatsapp telegram signal we chat whats app")
# Words that may stand between a platform word and its value; the markers also make what follows
# the value ("WeChat ID cathy" but not "WeChat tomorrow").
_MARKER_WORDS = _words(
    "id is ist est lautet handle username user name nummer number numero no nr num pseudo identifiant tel"
)
_FILLER_WORDS = _MARKER_WORDS | _words(
    """
    account acct konto compte profile profil contact kontakt me mich moi my mein meine meiner mon ma
    at on unter sous sur au via or oder ou and und et also auch aussi directly direkt directement
    here hier ici the la le weiter further
    """
)
_STOP_WORDS = _words(
    """
    please bitte merci thanks thank danke today heute tomorrow morgen demain group gruppe groupe
    channel kanal chaine message messages nachricht messenger call anruf appel video voice desktop
    web business official offiziell officiel number contact kontakt discuss chat send sende envoyer
    more mehr plus details detail info information informations only nur seulement instead
    """
)
_PUNCT_TAIL = ".,;:!?'\"*>}"


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # The list bundled with the package: never fetched at run time.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


@lru_cache(maxsize=1 << 16)
def _host_info(host: str) -> tuple[str | None, bool]:
    """(registered domain or None, whether the host is a shared host) of a lower-case host."""
    labels = host.split(".")
    shared = any(".".join(labels[i:]) in SHARED_HOSTS for i in range(len(labels) - 1))
    return _psl().privatesuffix(host), shared


def _strip_url_tail(rest: str) -> str:
    """The path without trailing sentence punctuation (and an unbalanced closing bracket)."""
    while rest:
        last = rest[-1]
        if last.isalnum() or last == "/":
            break
        unbalanced = (last == ")" and rest.count("(") < rest.count(")")) or (
            last == "]" and rest.count("[") < rest.count("]")
        )
        if last not in _PUNCT_TAIL and not unbalanced:
            break
        rest = rest[:-1]
    return rest


def _identifying_path(segments: list[str]) -> list[str]:
    """Segments up to the second identifying one, trailing structural segments dropped."""
    kept: list[str] = []
    identifying = 0
    for seg in segments:
        if identifying == 2:
            break
        kept.append(seg)
        if seg.lower() not in STRUCTURAL_SEGMENTS:
            identifying += 1
    while kept and kept[-1].lower() in STRUCTURAL_SEGMENTS:
        kept.pop()
    return kept if identifying else []


_Raw = tuple[str, str, int, int]  # kind, value, start, end
# at one position, a platform key before the phone number it was given as
_KIND_RANK = {
    kind: i
    for i, kind in enumerate(
        ("email", "wechat", "whatsapp", "telegram", "signal", "phone", "handle", "url", "domain")
    )
}

# Which scanners a text needs (see _extract); the batch sets them from RE2 screens.
_AT, _LINK, _HOSTNAME, _PLATFORM_CUE, _DIGITS, _WIDE = 1, 2, 4, 8, 16, 32
_ALL = _AT | _LINK | _HOSTNAME | _PLATFORM_CUE | _DIGITS | _WIDE


def _phone_value(raw: str, text: str, start: int, end: int, cue: bool) -> str | None:
    """The normalised number of a phone-like match, or None for amounts, dates and short numbers."""
    body = raw.lstrip("(")
    intl = body.startswith("+") or body.startswith("00")
    if intl:
        raw = raw.replace("(0)", "")  # +44 (0) 20 ...: the trunk prefix is not dialled from abroad
    digits = "".join(ch for ch in raw if ch.isdigit())
    if body.startswith("00"):
        digits = digits[2:]
    if not 8 <= len(digits) <= 15:  # E.164 has at most 15 digits
        return None
    if _MONEY_BEFORE.search(text, max(0, start - 5), start) or _MONEY_AFTER.match(text, end, end + 5):
        return None
    if intl:
        return "+" + digits
    if _DATE.fullmatch(raw.strip()):
        return None
    if digits[0] == "0" or cue or _PHONE_CUE.search(text, max(0, start - 32), start):
        return digits
    return None


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def _email_keys(t: str, out: list[_Raw], taken: list[tuple[int, int]]) -> None:
    floor = 0
    at = t.find("@")
    while at != -1:
        start = at
        lowest = max(floor, at - 65)
        while start > lowest and t[start - 1] in _LOCAL_CHARS:
            start -= 1
        m = _EMAIL.match(t, start) if start < at else None
        address = normalise_email(m.group()) if m else None
        if m is None or address is None:
            at = t.find("@", at + 1)
            continue
        domain = m.group("domain").lower()
        out.append(("email", address.casefold(), m.start(), m.end()))
        taken.append((m.start(), m.end()))
        registered, shared = _host_info(domain)
        if registered and not shared:
            out.append(("domain", registered, m.start("domain"), m.end("domain")))
        floor = m.end()
        at = t.find("@", floor)


def _url_anchors(t: str, flags: int) -> list[int]:
    """Positions where a URL may start: before ``scheme://``, ``www.``, or a host ending in a TLD."""
    anchors: list[int] = []
    at = t.find("://")
    while at != -1:
        head = t[max(0, at - 5) : at].lower()
        for scheme in ("https", "http", "ftp"):
            if head.endswith(scheme):
                anchors.append(at - len(scheme))
                break
        at = t.find("://", at + 3)
    if not flags & _HOSTNAME:
        return anchors
    low = t.lower()
    at = low.find("www.")
    while at != -1:
        anchors.append(at)
        at = low.find("www.", at + 4)
    floor = 0
    for m in _TLD_DOT.finditer(t):
        dot = m.start()
        if m.group(1).lower() in _BARE_OR_LINK_TLDS:
            start = dot
            while start > floor and t[start - 1] in _HOST_CHARS:
                start -= 1
            # Reaching the floor means this host starts before the previous dot, where it was tried
            # already; so every character is scanned back over at most once.
            if start > floor or floor == 0:
                anchors.append(start)
            floor = dot + 1
    return sorted(set(anchors))


def _url_keys(t: str, flags: int, out: list[_Raw], taken: list[tuple[int, int]]) -> None:
    last_end = 0
    for anchor in _url_anchors(t, flags):
        if anchor < last_end:
            continue
        m = _URL.match(t, anchor)
        if m is None or (taken and _overlaps(anchor, m.end(), taken)):
            continue
        scheme, host, rest = m.group("scheme", "host", "rest")
        host = host.lower()
        www = host.startswith("www.")
        bare = host[4:] if www else host
        if (
            not (scheme or www or host in _PLATFORM_LINK_HOSTS)
            and host[host.rfind(".") + 1 :] not in BARE_TLDS
        ):
            continue
        query = fragment = ""
        if rest:
            rest = _strip_url_tail(rest)
            end = m.start("rest") + len(rest)
            path = rest
            if "#" in path:
                path, _, fragment = path.partition("#")
            if "?" in path:
                path, _, query = path.partition("?")
            segments = [seg for seg in path.split("/") if seg]
        else:
            end = m.end("host")
            segments = []
        last_end = end
        platform = bare in _PLATFORM_LINK_HOSTS or bare.endswith("whatsapp.com")
        if platform and _platform_link(bare, segments, query, fragment, anchor, end, out):
            taken.append((anchor, end))
            continue
        registered, shared = _host_info(bare)
        if registered is None:
            continue
        taken.append((anchor, end))
        if shared:
            segments = _identifying_path(segments)
            if segments:
                out.append(("url", bare + "/" + "/".join(segments), anchor, end))
            continue
        out.append(("url", bare + "/" + "/".join(segments) if segments else bare, anchor, end))
        out.append(("domain", registered, m.start("host"), m.end("host")))


def _platform_link(
    host: str, segments: list[str], query: str, fragment: str, start: int, end: int, out: list[_Raw]
) -> bool:
    """Keys of a t.me / wa.me / signal.me / api.whatsapp.com link; False if it names no one."""
    if host in ("t.me", "telegram.me", "telegram.dog"):
        name = segments[0].casefold() if segments else ""
        if name not in _TELEGRAM_RESERVED and _PLATFORM_IDS["telegram"].fullmatch(name):
            out.append(("telegram", name, start, end))
            return True
        return False
    number = ""
    if host == "wa.me" and segments:
        number = segments[0]
    elif host.endswith("whatsapp.com"):
        number = next((v for k, _, v in (p.partition("=") for p in query.split("&")) if k == "phone"), "")
    elif host == "signal.me" and fragment.startswith("p/"):
        number = fragment[2:]
    digits = "".join(ch for ch in number if ch.isdigit())
    if not (number.lstrip("+").isdigit() and 8 <= len(digits) <= 15):
        return False
    kind = "signal" if host == "signal.me" else "whatsapp"
    out.append((kind, "+" + digits, start, end))
    out.append(("phone", "+" + digits, start, end))
    return True


def _platform_keys(t: str, out: list[_Raw], taken: list[tuple[int, int]]) -> None:
    for m in _PLATFORM.finditer(t):
        kind = m.lastgroup or ""
        if kind == "wechat_cjk":
            kind = "wechat"
        # Read a few words after the platform word: separators, filler ("ID", "lautet", "au"),
        # then a phone number or a handle. Bounded: at most 8 steps within 80 characters.
        pos, limit = m.end(), min(len(t), m.end() + _WINDOW)
        marker = False
        for _ in range(8):
            sep = _SEPARATORS.match(t, pos, limit)
            if sep is None:  # pragma: no cover - the pattern matches the empty string
                break
            marker = marker or ":" in sep.group() or "=" in sep.group()
            pos = sep.end()
            if pos >= limit:
                break
            phone = _PHONE_AT.match(t, pos)
            if phone:
                value = _phone_value(phone.group(), t, pos, phone.end(), cue=True)
                if value:
                    out.append((kind, value, m.start(), phone.end()))
                    out.append(("phone", value, pos, phone.end()))
                    taken.append((m.start(), phone.end()))
                break
            word = _WORD.match(t, pos, limit)
            if word is None:
                break
            raw = word.group().rstrip(".-")
            low = raw.casefold()
            name = low.lstrip("@")
            if low in _FILLER_WORDS or name in _PLATFORM_WORDS:
                marker = marker or low in _MARKER_WORDS
                pos = word.end()
                continue
            if name in _STOP_WORDS or kind == "whatsapp":  # WhatsApp knows phone numbers only
                break
            valid = _PLATFORM_IDS[kind].fullmatch(name)
            explicit = marker or raw.startswith("@") or any(ch.isdigit() or ch == "_" for ch in name)
            if valid and explicit:
                value_end = word.start() + len(raw)
                out.append((kind, name, m.start(), value_end))
                taken.append((m.start(), value_end))
            break


def _handle_keys(t: str, out: list[_Raw], taken: list[tuple[int, int]]) -> None:
    at = t.find("@")
    while at != -1:
        m = _AT_HANDLE.match(t, at)
        if m and not _overlaps(m.start(), m.end(), taken):
            out.append(("handle", m.group("h").casefold(), m.start(), m.end()))
        at = t.find("@", at + 1)


def _phone_keys(t: str, out: list[_Raw], taken: list[tuple[int, int]]) -> None:
    for m in _PHONE.finditer(t):
        if _overlaps(m.start(), m.end(), taken):
            continue
        value = _phone_value(m.group("num"), t, m.start(), m.end(), cue=False)
        if value:
            out.append(("phone", value, m.start(), m.end()))


def _extract(text: str, flags: int = _ALL) -> list[_Raw]:
    """(kind, value, start, end) of every contact key in ``text`` (not cut), first occurrence each.

    ``flags`` may leave out scanners that cannot find anything in this text (the batch knows from
    its RE2 screens); the result is the same as with every scanner.
    """
    t = text
    if flags & _WIDE and not text.isascii():
        t = text.translate(_FULLWIDTH)  # slow (a dict lookup per character): only when needed
        if t != text:  # folded full-width forms may hide any cue from the screens
            flags = _ALL
    out: list[_Raw] = []
    taken: list[tuple[int, int]] = []
    has_at = flags & _AT and "@" in t
    if has_at:
        _email_keys(t, out, taken)
    if flags & (_LINK | _HOSTNAME):
        _url_keys(t, flags, out, taken)
    if flags & _PLATFORM_CUE:
        _platform_keys(t, out, taken)
    if has_at:
        _handle_keys(t, out, taken)
    if flags & _DIGITS:
        _phone_keys(t, out, taken)
    if not out:
        return out
    seen: set[tuple[str, str]] = set()
    unique: list[_Raw] = []
    for key in sorted(out, key=lambda k: (k[2], _KIND_RANK[k[0]])):
        if (key[0], key[1]) not in seen:
            seen.add((key[0], key[1]))
            unique.append(key)
    return unique


def contact_keys(text: str | None) -> list[ContactKey]:
    """Every contact key in ``text`` (cut to :data:`MAX_CHARS`), in order of position, each once.

    >>> [(k.kind, k.value) for k in contact_keys("Add me on WeChat: CathyWon67 or cathy@Evil.co.uk")]
    [('wechat', 'cathywon67'), ('email', 'cathy@evil.co.uk'), ('domain', 'evil.co.uk')]
    """
    if not text:
        return []
    return [ContactKey(k, v, (s, e)) for k, v, s, e in _extract(text[:MAX_CHARS])]


_TLD_ALTERNATION = "|".join(sorted(_BARE_OR_LINK_TLDS))
SCREEN_PATTERNS: dict[str, str] = {
    "at": "@",
    "link": "://",
    # www., or a host at a token start (not after / or @) that ends in a listed TLD; the end is
    # spelt out rather than \b, as "evil.com_x" ends a host for the scanner but has no \b
    "hostname": r"www\.|(?:^|[^a-z0-9@./\-])[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:"
    + _TLD_ALTERNATION
    + r")(?:[^a-z0-9\-]|$)",
    "platform": r"we[ \-]?chat|weixin|微信|whats[ \-]?app|telegram|signal",
    # a phone number needs 8 digits: a run of digits and separators at least 8 long
    "digits": r"[0-9][0-9 .\-/()\x{00a0}]{6,}[0-9]",
    # full-width forms are folded to ASCII before extraction and may hide any cue
    "wide": r"[\x{ff01}-\x{ff5e}\x{3000}]",
}
"""RE2 patterns (case-insensitive), one per scanner: a text that matches none has no contact key."""
SCREEN_PATTERN = "|".join(f"(?:{p})" for p in SCREEN_PATTERNS.values())
"""Their union: the first screen of :func:`contact_keys_batch`."""
_FLAG_OF = {"hostname": _HOSTNAME, "platform": _PLATFORM_CUE, "digits": _DIGITS, "wide": _WIDE}


def _as_string_array(texts: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
    if not isinstance(texts, pa.Array):
        texts = pa.array(list(texts), pa.string())
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        texts = texts.cast(pa.string())
    return texts


def contact_keys_batch(texts: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.Table:
    """Contact keys of many texts: a table of ``row`` (int64 position in ``texts``), ``kind``, ``value``.

    Rows come in order, and within a row in order of position, exactly as :func:`contact_keys`. The
    batch is screened with RE2 (:data:`SCREEN_PATTERN`); only rows that can hold a key reach Python,
    and there only the scanners whose cue (:data:`SCREEN_PATTERNS`) the row has.
    """
    arr = _as_string_array(texts)
    schema = pa.schema([("row", pa.int64()), ("kind", pa.string()), ("value", pa.string())])
    if len(arr) == 0:
        return schema.empty_table()
    # Screens see whole texts, Python the cut ones: a cue past the cut only costs a wasted scan.
    screen = pc.fill_null(pc.match_substring_regex(arr, SCREEN_PATTERN, ignore_case=True), False)
    rows_in = np.flatnonzero(screen.to_numpy(zero_copy_only=False))
    if len(rows_in) == 0:
        return schema.empty_table()
    sub = arr.take(pa.array(rows_in))
    # '@' and '://' are checked in Python (cheaper than an RE2 pass); the other cues by RE2, first
    # together (most rows that pass the screen have a plain https:// link and none of them), then one
    # by one on the few rows that have any
    flags = np.full(len(rows_in), _AT | _LINK, np.int64)
    rare = "|".join(f"(?:{SCREEN_PATTERNS[name]})" for name in _FLAG_OF)
    some = np.flatnonzero(
        pc.match_substring_regex(sub, rare, ignore_case=True).to_numpy(zero_copy_only=False)
    )
    if len(some):
        few = sub.take(pa.array(some))
        for name, flag in _FLAG_OF.items():
            hit = pc.match_substring_regex(few, SCREEN_PATTERNS[name], ignore_case=True)
            flags[some] |= np.where(hit.to_numpy(zero_copy_only=False), flag, 0)
    rows: list[int] = []
    kinds: list[str] = []
    values: list[str] = []
    extract = _extract
    for row, text, flag in zip(rows_in.tolist(), sub.to_pylist(), flags.tolist(), strict=True):
        for kind, value, _, _ in extract(text[:MAX_CHARS], flag):
            rows.append(row)
            kinds.append(kind)
            values.append(value)
    return pa.table(
        [pa.array(rows, pa.int64()), pa.array(kinds, pa.string()), pa.array(values, pa.string())],
        schema=schema,
    )


# ==================================================================================================
# Name keys

_PINYIN = _words(
    """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao
    ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui
    chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di dian diang diao die
    ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng fo fou fu ga gai gan
    gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen
    heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju
    juan jue jun ka kai kan kang kao ke ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan
    lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lue lun luo ma mai
    man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei nen
    neng ni nia nian niang niao nie nin ning niu nong nou nu nuan nue nun nuo o ou pa pai pan pang pao
    pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu
    quan que qun ran rang rao re ren reng ri rong rou ru ruan rui run ruo sa sai san sang sao se sei sen
    seng sha shai shan shang shao she shei shen sheng shi shong shou shu shua shuai shuan shuang shui
    shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting tong tou
    tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu
    xu xuan xue xun ya yai yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao
    ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan
    zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo
    """
)


def _readings_table(spec: str) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v.split(",")) for k, _, v in (item.partition("=") for item in spec.split())}


WADE_GILES: dict[str, tuple[str, ...]] = _readings_table(
    """
    cha=zha,cha chai=zhai,chai chan=zhan,chan chang=zhang,chang chao=zhao,chao che=zhe,che
    chei=zhei chen=zhen,chen cheng=zheng,cheng chi=ji,qi chia=jia,qia chiang=jiang,qiang chiao=jiao,qiao
    chieh=jie,qie chien=jian,qian chih=zhi,chi chin=jin,qin ching=jing,qing chiu=jiu,qiu
    chiung=jiong,qiong cho=zhuo,chuo chou=zhou,chou chu=zhu,chu,ju,qu chua=zhua chuai=zhuai,chuai
    chuan=zhuan,chuan,juan,quan chuang=zhuang,chuang chueh=jue,que chui=zhui,chui chun=zhun,chun,jun,qun
    chung=zhong,chong erh=er ho=he hsi=xi hsia=xia hsiang=xiang hsiao=xiao hsieh=xie hsien=xian hsin=xin
    hsing=xing hsiu=xiu hsiung=xiong hsu=xu hsuan=xuan hsueh=xue hsun=xun hung=hong i=yi jan=ran
    jang=rang jao=rao je=re jen=ren jeng=reng jih=ri jo=ruo jou=rou ju=ru juan=ruan jui=rui jun=run
    jung=rong ka=ga,ka kai=gai,kai kan=gan,kan kang=gang,kang kao=gao,kao kei=gei ken=gen,ken
    keng=geng,keng ko=ge,ke kou=gou,kou ku=gu,ku kua=gua,kua kuai=guai,kuai kuan=guan,kuan
    kuang=guang,kuang kuei=gui,kui kun=gun,kun kung=gong,kong kuo=guo,kuo lieh=lie lien=lian lo=luo,lo
    lueh=lue lung=long mieh=mie mien=mian nieh=nie nien=nian no=nuo nueh=nue nung=nong o=e,o pa=ba,pa
    pai=bai,pai pan=ban,pan pang=bang,pang pao=bao,pao pei=bei,pei pen=ben,pen peng=beng,peng pi=bi,pi
    piao=biao,piao pieh=bie,pie pien=bian,pian pin=bin,pin ping=bing,ping po=bo,po pu=bu,pu shih=shi
    shung=shong so=suo ssu=si szu=si sung=song ta=da,ta tai=dai,tai tan=dan,tan tang=dang,tang
    tao=dao,tao te=de,te tei=dei ten=den teng=deng,teng ti=di,ti tiang=diang tiao=diao,tiao tieh=die
    tien=dian,tian ting=ding,ting tiu=diu to=duo,tuo tou=dou,tou tsa=za,ca tsai=zai,cai tsan=zan,can
    tsang=zang,cang tsao=zao,cao tse=ze,ce tsei=zei tsen=zen,cen tseng=zeng,ceng tso=zuo,cuo
    tsou=zou,cou tsu=zu,cu tsuan=zuan,cuan tsui=zui,cui tsun=zun,cun tsung=zong,cong tu=du,tu
    tuan=duan,tuan tui=dui,tui tun=dun,tun tung=dong,tong tzu=zi,ci yeh=ye yen=yan yu=you,yu yueh=yue
    yung=yong
    """
)
"""Wade-Giles syllable -> pinyin readings, unaspirated first. Generated from pypinyin's Wade-Giles
table (``pypinyin.style.wadegiles._convert_table``) with apostrophes and diacritics removed, since
they are usually dropped in names (``Ch'ien`` and ``Chien`` are both written ``Chien``); entries that
map to themselves are omitted."""

ROMANISATION_TABLE: dict[str, tuple[str, ...]] = _readings_table(
    """
    wong=wang,huang chan=chen,zhan,chan cheung=zhang chang=zhang,chang lee=li lau=liu chou=zhou,chou
    chow=zhou chao=zhao,chao chiu=zhao,qiu,jiu hsu=xu tsui=xu,cui,zui woo=wu ng=wu yeung=yang
    kuo=guo,kuo kwok=guo quek=guo tsai=cai,zai choi=cai chua=cai chien=jian,qian chiang=jiang,qiang
    ho=he lam=lin lim=lin leung=liang yip=ye tse=xie,ze,ce tsang=zeng,zang,cang tseng=zeng,ceng
    lo=luo,lu law=luo mak=mai fung=feng fong=fang tam=tan tang=tang,deng tong=tong,tang siu=xiao
    yuen=yuan kwan=guan poon=pan pang=pang,peng chu=zhu,chu,ju,qu tan=tan,chen teo=zhang goh=wu
    ong=wang,weng koh=xu tay=zheng ang=hong,ang yeo=yang soh=su sim=shen seah=xie au=ou yau=qiu,you
    lyu=lu lv=lu nyu=nu
    """
)
"""Curated romanisations of Chinese syllables (mostly surnames) -> pinyin readings, the first one
canonical: Cantonese (Hong Kong, Macau: Wong, Chan, Cheung, Lee, Lau, Chow, Ng, Yeung, Leung, ...),
Hokkien/Teochew (Singapore, Malaysia, Taiwan: Tan, Lim, Teo, Goh, Ong, Koh, Tay, Chua, Ang, Yeo, ...)
and Wade-Giles spellings whose usual reading in a name is not the first Wade-Giles one (Chang ->
zhang, Kuo -> guo, Tsai -> cai, Chao -> zhao, Chou -> zhou)."""

_CN_SURNAMES = _words(
    """
    wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie
    song tang han feng deng cao peng zeng xiao tian dong yuan pan cai jiang yu du ye cheng su wei lu
    ding ren shen yao cui zhong tan fan jin shi liao jia xia fu fang bai zou meng xiong qin qiu hou yin
    xue yan duan lei long tao gu mao hao gong shao wan qian dai mo kong xiang chang kang niu hong wen qi
    yi ge ou shang geng ni lai qiao zhan bao ji yue zhuo che mu
    ouyang sima zhuge shangguan dongfang huangfu linghu murong situ xiahou zhangsun yuwen gongsun
    """
)
_SURNAME_HANZI = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha", "区": "ou",
    "盖": "ge", "乐": "yue", "缪": "miao", "覃": "qin", "翟": "zhai", "褚": "chu", "宓": "fu",
    "冼": "xian", "洗": "xian", "种": "chong", "过": "guo", "阚": "kan", "召": "shao", "员": "yun",
}  # fmt: skip
"""Surnames whose reading differs from the character's most common one (pypinyin reads 曾 as ceng)."""
_COMPOUND_SURNAMES = _words(
    "欧阳 司马 诸葛 上官 东方 皇甫 令狐 慕容 司徒 夏侯 长孙 宇文 公孙 尉迟 万俟 端木 轩辕"
)
_HONORIFICS = _words(
    "mr mrs ms miss mx dr prof professor herr frau mme mlle madame monsieur sir dame phd mba msc bsc md jr sr dipl ing"
)
_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
_BRACKETED = re.compile(
    r"\(([^()]*)\)|\[([^\[\]]*)\]|\{([^{}]*)\}|\"([^\"]*)\"|“([^”]*)”|«([^»]*)»|「([^」]*)」"
)
_NAME_APOSTROPHES = str.maketrans("", "", "'’‘`ʼ´")
_NAME_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"})
_NAME_SPLIT = re.compile(r"[^\w\-]+|_")  # letters of any script stay (Cyrillic, Greek, kana, ...)
_MAX_READINGS = 16


@dataclass(frozen=True, slots=True)
class _Syllable:
    canon: str
    readings: frozenset[str]
    raw: str


@dataclass(frozen=True, slots=True)
class _Part:
    """One word of a name (a hyphenated given name is one part of several syllables)."""

    syllables: tuple[_Syllable, ...]
    raw: str
    initial: bool = False
    hanzi: bool = False

    @property
    def canon(self) -> str:
        return "".join(s.canon for s in self.syllables)


@dataclass(frozen=True, slots=True)
class _Name:
    parts: tuple[_Part, ...]
    aliases: tuple[tuple[_Part, ...], ...]
    chinese: bool

    @property
    def key(self) -> str:
        return _key_of(self.parts)


def _key_of(parts: Sequence[_Part]) -> str:
    return " ".join(sorted(s.canon for p in parts for s in p.syllables))


def _syllable(s: str) -> _Syllable:
    readings = ROMANISATION_TABLE.get(s, ()) + ((s,) if s in _PINYIN else ()) + WADE_GILES.get(s, ())
    canon = readings[0] if readings else s
    return _Syllable(canon, frozenset(readings) or frozenset({s}), s)


@lru_cache(maxsize=1 << 14)
def _segment(piece: str) -> tuple[str, ...]:
    """A run of Latin letters as romanised Chinese syllables (fewest syllables), or itself."""
    if piece in ROMANISATION_TABLE or piece in _PINYIN or piece in WADE_GILES or len(piece) > 30:
        return (piece,)
    n = len(piece)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[n] = ()
    for i in range(n - 1, -1, -1):
        for j in range(min(n, i + 6), i, -1):  # longest first: ties keep the longer first syllable
            rest = best[j]
            sub = piece[i:j]
            if rest is not None and (sub in _PINYIN or sub in WADE_GILES):
                cand = (sub, *rest)
                current = best[i]
                if current is None or len(cand) < len(current):
                    best[i] = cand
    return best[0] or (piece,)


def _is_cn_surname(token: str) -> bool:
    if token in _CN_SURNAMES or token in ROMANISATION_TABLE:
        return True
    return token in WADE_GILES and any(r in _CN_SURNAMES for r in WADE_GILES[token])


def _fold_latin(text: str) -> str:
    text = text.translate(_NAME_APOSTROPHES)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return text.translate(_NAME_LETTERS)


def _pinyin(chars: str) -> list[str]:
    """One toneless pinyin syllable per character, ü folded to u."""
    from pypinyin import lazy_pinyin  # only names with Hanzi pay for loading the dictionary

    syllables = lazy_pinyin(chars)
    if len(syllables) != len(chars):  # characters without a reading come back grouped: one by one
        syllables = [lazy_pinyin(c)[0] for c in chars]
    return [p.replace("ü", "u").replace("v", "u") for p in syllables]


def _hanzi_part(chars: str, syllables: list[str]) -> _Part:
    return _Part(
        tuple(_Syllable(s, frozenset({s}), c) for s, c in zip(syllables, chars, strict=True)),
        chars,
        hanzi=True,
    )


def _hanzi_parts(runs: list[str]) -> tuple[_Part, ...]:
    """Parts of a name in Hanzi: the runs as written, or a single run split after the surname."""
    if len(runs) > 1:
        return tuple(_hanzi_part(run, _pinyin(run)) for run in runs)
    run = runs[0]
    cut = 2 if run[:2] in _COMPOUND_SURNAMES else 1
    syllables = _pinyin(run)
    if cut == 1 and run[0] in _SURNAME_HANZI:
        syllables[0] = _SURNAME_HANZI[run[0]]
    parts = [_hanzi_part(run[:cut], syllables[:cut])]
    if len(run) > cut:
        parts.append(_hanzi_part(run[cut:], syllables[cut:]))
    return tuple(parts)


def _latin_parts(text: str, chinese: bool) -> tuple[_Part, ...]:
    parts: list[_Part] = []
    for token in _NAME_SPLIT.split(_fold_latin(text)):
        pieces = [p for p in token.split("-") if p and any(ch.isalpha() for ch in p)]
        if not pieces or (len(pieces) == 1 and pieces[0] in _HONORIFICS):
            continue
        raw = "".join(pieces)
        if len(raw) == 1:
            parts.append(_Part((_Syllable(raw, frozenset({raw}), raw),), raw, initial=True))
            continue
        if chinese:
            sylls = tuple(_syllable(s) for p in pieces for s in _segment(p))
        else:
            sylls = tuple(_Syllable(p, frozenset({p}), p) for p in pieces)
        parts.append(_Part(sylls, raw))
    return tuple(parts)


def _has_other_letters(text: str) -> bool:
    """Whether ``text`` has letters other than Hanzi."""
    return any(ch.isalpha() for ch in _HANZI.sub("", text))


@lru_cache(maxsize=1 << 16)
def _parse_name(name: str) -> _Name:
    text = unicodedata.normalize("NFKC", name).casefold()
    alias_texts = [next(g for g in m.groups() if g is not None) for m in _BRACKETED.finditer(text)]
    main = _BRACKETED.sub(" ", text)
    if _HANZI.search(main) and _has_other_letters(main):
        # "Jianguo Wang 王建国": the Hanzi are the same name again, not more of it
        alias_texts.extend(_HANZI.findall(main))
        main = _HANZI.sub(" ", main)
    chinese = bool(_HANZI.search(text)) or any(
        _is_cn_surname(tok) for tok in _NAME_SPLIT.split(_fold_latin(text).replace("-", " ")) if tok
    )

    def parts_of(chunk: str) -> tuple[_Part, ...]:
        runs = _HANZI.findall(chunk)
        if runs and not _has_other_letters(chunk):
            return _hanzi_parts(runs)
        return _latin_parts(_HANZI.sub(" ", chunk), chinese)

    parts = parts_of(main)
    aliases = tuple(p for p in (parts_of(a) for a in alias_texts) if p)
    if not parts and aliases:
        parts, aliases = aliases[0], aliases[1:]
    return _Name(parts, aliases, chinese)


def _name(name: str | None) -> _Name | None:
    if not name or not name.strip():
        return None
    parsed = _parse_name(name[:200])
    return parsed if parsed.parts else None


def name_key(name: str | None) -> str:
    """Canonical, order-insensitive key of a person's name ('' for none): sorted pinyin syllables or
    folded words; bracketed or quoted aliases left out (see :func:`name_keys`).

    >>> name_key("Chien-Kuo Wong") == name_key("Wang Jianguo") == name_key("王建国")
    True
    """
    parsed = _name(name)
    return parsed.key if parsed else ""


def _surname_parts(parsed: _Name) -> list[int]:
    """Indices of the parts that may be the surname."""
    full = [i for i, p in enumerate(parsed.parts) if not p.initial]
    if parsed.chinese:
        known = [i for i in full if (parsed.parts[i].hanzi and i == 0) or _is_cn_surname(parsed.parts[i].raw)]
        if known:
            return known
    return sorted({full[0], full[-1]}) if full else []


def _syllable_initials(syllable: _Syllable, hanzi: bool = False) -> set[str]:
    """First letters a syllable may be abbreviated to: as written and in each reading."""
    if hanzi:
        return {syllable.canon[0]}
    return {syllable.raw[0]} | {r[0] for r in syllable.readings}


def _initials(part: _Part) -> set[str]:
    return _syllable_initials(part.syllables[0], part.hanzi)


def _surname_forms(parsed: _Name, part: _Part) -> set[str]:
    """The surname as a key word; each half of a Western double-barrelled one too (Carter-Brooks)."""
    forms = {part.canon}
    if not parsed.chinese and len(part.syllables) > 1:
        forms.update(s.canon for s in part.syllables)
    return forms


def _reading_keys(parts: Sequence[_Part], limit: int) -> list[str]:
    options = [sorted(s.readings, key=lambda r: r != s.canon) for p in parts for s in p.syllables]
    keys: list[str] = []
    for combo in itertools.islice(itertools.product(*options), limit):
        key = " ".join(sorted(combo))
        if key not in keys:
            keys.append(key)
    return keys


def name_keys(name: str | None) -> set[str]:
    """Every key a name should be blocked on: its key, its other romanisation readings (at most
    16), each alias (a one-word alias with each possible surname: ``Wang Jianguo (Cathy)`` ->
    ``cathy wang``), and surname-and-initial forms (``j wang`` for ``J. Wang`` and ``Jianguo Wang``).

    >>> sorted(name_keys("Wang Jianguo (Cathy)"))
    ['c wang', 'cathy wang', 'guo jian wang', 'j wang']
    """
    parsed = _name(name)
    if parsed is None:
        return set()
    keys = set(_reading_keys(parsed.parts, _MAX_READINGS))
    surnames = _surname_parts(parsed)
    for s in surnames:
        surname = parsed.parts[s]
        forms = _surname_forms(parsed, surname)
        for i, part in enumerate(parsed.parts):
            if i != s:
                keys.update(f"{c} {form}" for c in _initials(part) for form in forms)
        for alias in parsed.aliases:
            if len(alias) == 1 and not alias[0].hanzi:
                keys.add(_key_of((alias[0], surname)))
                keys.update(f"{c} {form}" for c in _initials(alias[0]) for form in forms)
    for alias in parsed.aliases:
        if len(alias) > 1 or alias[0].hanzi:
            keys.add(_key_of(alias))
    keys.discard("")
    return keys


def _sequences(parts: Sequence[_Part]) -> list[tuple[tuple[_Part, ...], tuple[_Syllable, ...]]]:
    """The syllable sequence of the name read in each order of its parts (at most 24 orders)."""
    orders = itertools.permutations(parts) if len(parts) <= 4 else [tuple(parts)]
    return [(order, tuple(s for p in order for s in p.syllables)) for order in orders]


def _same_name(a: _Name, b: _Name) -> tuple[float, str] | None:
    seq_a, seq_b = _sequences(a.parts), _sequences(b.parts)
    canon_b = {tuple(s.canon for s in seq): order for order, seq in seq_b}
    raw_a = tuple(p.raw for p in a.parts)
    raw_b = tuple(p.raw for p in b.parts)
    hanzi = any(p.hanzi for p in a.parts + b.parts)
    for order_a, seq in seq_a:
        if tuple(s.canon for s in seq) in canon_b:
            if raw_a == raw_b:
                return 1.0, "same name"
            if sorted(raw_a) == sorted(raw_b):
                return 1.0, "same name in another order"
            joined_b = {"".join(p.raw for p in order) for order, _ in seq_b}
            if "".join(p.raw for p in order_a) in joined_b:
                return 1.0, "same name, split or hyphenated differently"
            if hanzi:
                return 0.95, "same name in Hanzi and in pinyin"
            return 0.95, "romanisation variant of the same name"
    for _, sa in seq_a:
        for _, sb in seq_b:
            if len(sa) == len(sb) and all(x.readings & y.readings for x, y in zip(sa, sb, strict=True)):
                return 0.9, "romanisation variant of the same name"
    return None


def _alias_match(a: _Name, b: _Name) -> tuple[float, str] | None:
    """Whether an alias of ``a`` (with a surname of ``a`` if it is one word) is the name ``b``."""
    keys_b = set(_reading_keys(b.parts, _MAX_READINGS))
    for alias in a.aliases:
        label = " ".join(p.raw for p in alias)
        if len(alias) == 1 and not alias[0].hanzi:
            for s in _surname_parts(a):
                if _key_of((alias[0], a.parts[s])) in keys_b:
                    return 0.9, f"alias '{label}' with the same surname"
        elif keys_b & set(_reading_keys(alias, _MAX_READINGS)):
            return 0.9, f"alias '{label}' is the other name"
    return None


def _initial_match(a: _Name, b: _Name) -> bool:
    """``a`` has initials only where ``b`` has full given names, and the same other parts."""
    initials = [p.raw for p in a.parts if p.initial]
    full_a = [p for p in a.parts if not p.initial]
    if not initials or not full_a:
        return False
    rest = list(b.parts)
    for part in full_a:
        match = next((q for q in rest if not q.initial and _part_readings(q) & _part_readings(part)), None)
        if match is None:
            return False
        rest.remove(match)
    rest = [q for q in rest if not q.initial]
    if not rest:
        return False
    wanted = "".join(initials)
    # "J." for one given name, or "C.K." for each syllable of one (Hong Kong style)
    by_part = [_initials(q) for q in rest]
    by_syllable = [_syllable_initials(x, q.hanzi) for q in rest for x in q.syllables]
    if len(wanted) == 1:
        return any(wanted in allowed for allowed in by_part)
    return any(
        len(options) == len(wanted) and all(c in allowed for c, allowed in zip(wanted, options, strict=True))
        for options in (by_part, by_syllable)
    )


def _part_readings(part: _Part) -> set[str]:
    options = [sorted(s.readings) for s in part.syllables]
    return {"".join(c) for c in itertools.islice(itertools.product(*options), _MAX_READINGS)}


def name_similarity(a: str | None, b: str | None) -> tuple[float, str]:
    """How alike two names are, in [0, 1], with a short reason.

    1.0 for the same name (also in another order, or split differently); 0.95 for a romanisation
    variant (``Chien-kuo Wong`` / ``Jianguo Wang``) or Hanzi and pinyin; 0.9 for an alias with the same
    surname; 0.8 for the same surname and initial; otherwise the rapidfuzz ``token_sort_ratio`` of the
    keys, capped at 0.6 for Chinese names that differ in a syllable (``Wang Jianguo`` and ``Wang Jian``
    are different names) and 0.85 for a Western name contained in the other (a middle name added).
    """
    pa_, pb_ = _name(a), _name(b)
    if pa_ is None or pb_ is None:
        return 0.0, "no name"
    same = _same_name(pa_, pb_)
    if same:
        return same
    alias = _alias_match(pa_, pb_) or _alias_match(pb_, pa_)
    if alias:
        return alias
    if _initial_match(pa_, pb_) or _initial_match(pb_, pa_):
        return 0.8, "same surname and initial"
    if pa_.key == pb_.key:  # Wang Jianguo / Guo Jianwang: the same syllables, another surname
        return 0.5, "same syllables arranged as a different name"
    score = fuzz.token_sort_ratio(pa_.key, pb_.key) / 100
    if pa_.chinese and pb_.chinese and score > 0.6:
        return 0.6, f"different syllables in a Chinese name (fuzzy {score:.2f}, capped at 0.60)"
    if not (pa_.chinese or pb_.chinese):
        words_a = {s.canon for p in pa_.parts for s in p.syllables}
        words_b = {s.canon for p in pb_.parts for s in p.syllables}
        small, large = sorted((words_a, words_b), key=len)
        if len(small) >= 2 and small < large and score < 0.85:
            return 0.85, f"one name contains the other (extra: {' '.join(sorted(large - small))})"
    return score, f"fuzzy {score:.2f} (rapidfuzz token_sort_ratio)"


# ==================================================================================================
# Company keys

_LEGAL_FORMS = _words(
    """
    ltd limited llc llp lp plc inc incorporated corp corporation co cos company companies gmbh mbh ag
    kg kgaa ohg ug ev eg se sa sas sasu sarl eurl sca snc sci spa srl sl slu bv nv vof oy oyj ab as
    asa aps pty pte bhd sdn kk gk tbk pt group groupe gruppe grupo holding holdings aktiengesellschaft
    kabushiki kaisha
    """
)
"""Legal forms and group words dropped from the end of a company name (English, German, French,
Dutch, Nordic, Iberian, Italian, Asian), after dots are removed (``S.A.R.L.`` -> ``sarl``)."""
_CJK_LEGAL_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "控股", "公司", "株式会社", "有限會社", "有限公司",
)  # fmt: skip
_CONNECTORS = frozenset({"and", "und", "et", "y", "the", "der", "die", "das", "le", "la", "les"})
_COMPANY_SPLIT = re.compile(r"[^\w]+")


def company_key(name: str | None) -> str:
    """Canonical key of a claimed company: case-folded, accents, punctuation, ``&``/``and``/``und``/
    ``et`` and trailing legal forms dropped; Chinese and Japanese legal suffixes too.

    >>> company_key("McKinsey & Partners Asia") == company_key("McKinsey and Partners Asia Ltd.")
    True
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = re.sub(r"(?<=\w)\.(?=\w)", "", text)  # S.A.R.L. -> sarl, l.l.c. -> llc
    text = text.replace("&", " and ").replace("+", " and ")
    tokens = [t for t in _COMPANY_SPLIT.split(text) if t and t != "_" and t not in _CONNECTORS]
    cut = len(tokens)
    while cut > 1 and tokens[cut - 1] in _LEGAL_FORMS:
        cut -= 1
    tokens = tokens[:cut]
    out: list[str] = []
    for tok in tokens:
        stripped = True
        while stripped:
            stripped = False
            for suffix in _CJK_LEGAL_SUFFIXES:
                if tok.endswith(suffix) and len(tok) > len(suffix):
                    tok, stripped = tok[: -len(suffix)], True
        out.append(tok)
    return " ".join(out)


def company_similarity(a: str | None, b: str | None) -> tuple[float, str]:
    """How alike two company names are, in [0, 1], with a short reason (see :func:`name_similarity`)."""
    ka, kb = company_key(a), company_key(b)
    if not ka or not kb:
        return 0.0, "no company"
    if ka == kb:
        if normalise_name(a) == normalise_name(b):
            return 1.0, "same company"
        return 1.0, "same company once case, punctuation, '&'/'and' and legal forms are ignored"
    if ka.replace(" ", "") == kb.replace(" ", ""):
        return 0.95, "same company name spaced differently"
    ratio = fuzz.ratio(ka, kb) / 100
    sort = fuzz.token_sort_ratio(ka, kb) / 100
    score, method = (ratio, "ratio") if ratio >= sort else (sort, "token_sort_ratio")
    words_a, words_b = set(ka.split()), set(kb.split())
    small, large = sorted((words_a, words_b), key=len)
    if small < large and score < 0.8 and any(len(w) >= 4 for w in small):
        return 0.8, f"one name contains the other ({' '.join(sorted(small))})"
    return score, f"fuzzy {score:.2f} (rapidfuzz {method})"


# ==================================================================================================
# Photo hashes

COMMON_PHOTO_HASHES: frozenset[int] = frozenset({0, 0xFFFF_FFFF_FFFF_FFFF})
"""Hashes of uniform images (no photo, a blank or default avatar): never paired, always reported.
Map a missing hash to 0 to have it left out."""

MAX_PHOTO_GROUP = 2048
"""Largest group paired: rows sharing one exact hash, or distinct hashes sharing one block value. A
larger group is a default avatar or a degenerate image (or more hashes than the blocks can separate:
about 8,192 values per block at distance 4, so only beyond ~16 million distinct hashes); pairing it
would add ``size**2 / 2`` meaningless pairs, so it is reported instead."""

_HEX16 = re.compile(r"(?:0x)?([0-9a-f]{16})", re.IGNORECASE)


def parse_photo_hash(s: str | None) -> int | None:
    """A 64-bit perceptual hash from 16 hex digits (optional ``0x``), else None."""
    if s is None:
        return None
    m = _HEX16.fullmatch(s.strip())
    return int(m.group(1), 16) if m else None


@dataclass(frozen=True)
class PhotoHashMatches:
    """Near-duplicate photo hashes, and what was left out of the pairing.

    ``pairs``: (p, 3) int64 rows ``(i, j, hamming)`` with ``i < j``, sorted by distance, then i, j
    (exact duplicates first). ``common_rows``: rows whose hash is in :data:`COMMON_PHOTO_HASHES`.
    ``crowded_hashes``: (m, 2) uint64 ``(hash, rows)`` of exact hashes on more than ``max_group``
    rows, whose rows are paired with nothing. ``crowded_blocks``: (k, 3) int64 ``(block, value,
    distinct hashes)`` of block groups not paired: a pair of hashes that agree *only* on such blocks
    is missed; every other pair within the distance is found.
    """

    pairs: np.ndarray
    common_rows: np.ndarray
    crowded_hashes: np.ndarray
    crowded_blocks: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], np.int64)  # numpy < 2
    return table[x.view(np.uint8).reshape(-1, 8)].sum(axis=1)


def _pairs_in_sorted_groups(starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (a, b), a < b, of every pair within contiguous groups ``[start, start + size)``."""
    if len(sizes) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty
    total = int(sizes.sum())
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    offset = np.arange(total, dtype=np.int64) - first  # position of each member within its group
    position = np.repeat(starts, sizes) + offset
    partners = np.repeat(sizes, sizes) - 1 - offset
    count = int(partners.sum())
    left = np.repeat(position, partners)
    run_start = np.repeat(np.cumsum(partners) - partners, partners)
    right = left + 1 + (np.arange(count, dtype=np.int64) - run_start)
    return left, right


def _groups(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, sizes) of the runs of equal values in a sorted array."""
    if len(sorted_values) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    boundaries = np.flatnonzero(sorted_values[1:] != sorted_values[:-1]) + 1
    starts = np.concatenate([[0], boundaries]).astype(np.int64)
    sizes = np.diff(np.concatenate([starts, [len(sorted_values)]])).astype(np.int64)
    return starts, sizes


def photo_hash_matches(
    hashes: np.ndarray | Sequence[int], max_distance: int = 4, *, max_group: int = MAX_PHOTO_GROUP
) -> PhotoHashMatches:
    """Every pair of rows whose 64-bit hashes differ in at most ``max_distance`` bits (0 to 32).

    Pigeonhole: with ``max_distance + 1`` disjoint blocks of the 64 bits, two hashes within the
    distance agree on some block. Rows are first grouped by exact hash; per block the distinct
    hashes are sorted by block value and paired within equal groups; candidates are deduplicated and
    verified with a popcount; then expanded back to rows. All NumPy, no Python loop over rows.
    """
    if not 0 <= max_distance <= 32:
        raise ValueError("max_distance must be between 0 and 32")
    if max_group < 2:
        raise ValueError("max_group must be at least 2")
    h = np.asarray(hashes)
    if h.ndim != 1:
        raise ValueError("hashes must be a one-dimensional array")
    h = h.astype(np.uint64, copy=False) if h.dtype != np.uint64 else h
    common = np.isin(h, np.array(sorted(COMMON_PHOTO_HASHES), np.uint64))
    rows = np.flatnonzero(~common)
    uniq, inverse, counts = np.unique(h[rows], return_inverse=True, return_counts=True)
    crowded_u = counts > max_group
    crowded_hashes = np.stack([uniq[crowded_u], counts[crowded_u].astype(np.uint64)], axis=1)
    # rows of each distinct hash, contiguous: row_start[u] .. row_start[u] + counts[u]
    by_hash = rows[np.argsort(inverse, kind="stable")]
    row_start = np.cumsum(counts) - counts
    usable = np.flatnonzero(~crowded_u)
    # exact duplicates: all pairs of rows within each usable group
    dup = usable[counts[usable] >= 2]
    a, b = _pairs_in_sorted_groups(row_start[dup], counts[dup])
    exact = np.stack([by_hash[a], by_hash[b]], axis=1) if len(a) else np.zeros((0, 2), np.int64)
    # near duplicates between distinct usable hashes, by block
    values = uniq[usable]
    k = max_distance + 1
    widths = [64 // k + (1 if i < 64 % k else 0) for i in range(k)]
    shift = 64
    candidates: list[np.ndarray] = []
    crowded_blocks: list[np.ndarray] = []
    for block, width in enumerate(widths if max_distance > 0 else []):
        shift -= width
        key = (values >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        order = np.argsort(key, kind="stable")
        starts, sizes = _groups(key[order])
        big = sizes > max_group
        if big.any():
            crowded_blocks.append(
                np.stack(
                    [np.full(int(big.sum()), block), key[order][starts[big]].astype(np.int64), sizes[big]],
                    axis=1,
                )
            )
        keep = (sizes >= 2) & ~big
        left, right = _pairs_in_sorted_groups(starts[keep], sizes[keep])
        if len(left):
            i, j = order[left], order[right]
            candidates.append(np.minimum(i, j) * len(values) + np.maximum(i, j))
    near = np.zeros((0, 3), np.int64)
    if candidates:
        code = np.unique(np.concatenate(candidates))
        i, j = code // len(values), code % len(values)
        dist = _popcount(values[i] ^ values[j])
        close = dist <= max_distance
        ui, uj, dist = usable[i[close]], usable[j[close]], dist[close]
        # every row of one hash with every row of the other
        ci, cj = counts[ui], counts[uj]
        n_pairs = ci * cj
        pair_of = np.repeat(np.arange(len(ui)), n_pairs)
        within = np.arange(int(n_pairs.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(n_pairs) - n_pairs, n_pairs
        )
        ri = by_hash[row_start[ui][pair_of] + within // cj[pair_of]]
        rj = by_hash[row_start[uj][pair_of] + within % cj[pair_of]]
        near = np.stack([np.minimum(ri, rj), np.maximum(ri, rj), dist[pair_of]], axis=1)
    exact3 = np.concatenate([np.sort(exact, axis=1), np.zeros((len(exact), 1), np.int64)], axis=1)
    pairs = np.concatenate([exact3, near]).astype(np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0], pairs[:, 2]))] if len(pairs) else pairs.reshape(0, 3)
    return PhotoHashMatches(
        pairs=pairs,
        common_rows=np.flatnonzero(common).astype(np.int64),
        crowded_hashes=crowded_hashes.astype(np.uint64).reshape(-1, 2),
        crowded_blocks=np.concatenate(crowded_blocks).astype(np.int64)
        if crowded_blocks
        else np.zeros((0, 3), np.int64),
    )


def photo_hash_pairs(
    hashes: np.ndarray | Sequence[int], max_distance: int = 4, *, max_group: int = MAX_PHOTO_GROUP
) -> np.ndarray:
    """(p, 3) int64 ``(i, j, hamming)``, ``i < j``, of every pair of rows within ``max_distance`` bits,
    exact duplicates first: ``photo_hash_matches(...).pairs``. Call :func:`photo_hash_matches` to see
    the rows left out (common and crowded hashes)."""
    return photo_hash_matches(hashes, max_distance, max_group=max_group).pairs
