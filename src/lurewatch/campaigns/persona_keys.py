"""Persona keys: the evidence that several accounts are one operator's personas (issue 4).

Pure functions, no I/O, no global state beyond caches of pure functions. So far: **contact keys**
found in message text (:func:`contact_keys`, :func:`contact_keys_batch`): e-mail addresses, phone
numbers, messaging handles (WeChat, WhatsApp, Telegram, Signal, bare ``@name``), URLs and their
registered domains, each with its span in the text.

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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lurewatch.identity import normalise_email

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = [
    "BARE_TLDS",
    "CONTACT_KINDS",
    "MAX_CHARS",
    "SCREEN_PATTERN",
    "SCREEN_PATTERNS",
    "SHARED_HOSTS",
    "STRUCTURAL_SEGMENTS",
    "ContactKey",
    "contact_keys",
    "contact_keys_batch",
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
