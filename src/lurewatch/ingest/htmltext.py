"""HTML to plain text for e-mail bodies, with nothing executed and nothing hidden from the screener.

Built on :class:`html.parser.HTMLParser` (no third-party parser, no DOM, no network): what a
reader would see is kept, what a browser would run or hide (script, style, head, template,
noscript, svg, title) is dropped, and link targets are written out next to their text because a
link whose text says one thing and whose target says another is exactly what screening looks for.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

#: Elements whose whole content is never shown to a reader.
_HIDDEN = frozenset({"script", "style", "head", "template", "noscript", "svg", "title"})
#: Elements the parser itself must treat as raw text, so markup inside them is never interpreted.
_RAW_TEXT = frozenset({"script", "style"})
#: Elements allowed inside <head>; any other start tag ends the head implicitly, as in a browser.
_HEAD_CONTENT = frozenset(
    {"base", "link", "meta", "title", "style", "script", "noscript", "template", "object"}
)
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
#: Blocks set off by a blank line rather than a single line break.
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr"})
_CELL = frozenset({"td", "th"})
#: Link schemes whose target is code or inline data rather than a place; never worth printing.
_SILENT_SCHEMES = ("javascript:", "vbscript:", "data:")
_MAX_HREF = 2048
_MAX_LINK_TEXT = 4096

_SPACES = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Invisible characters used to pad e-mail preheaders and to split words past keyword filters.
_INVISIBLE = re.compile(r"[\u00ad\u034f\u200b\u200c\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BLANK_RUNS = re.compile(r"\n{3,}")
_URL_NOISE = re.compile(r"^(?:https?://|mailto:)?(?:www\.)?", re.IGNORECASE)

# Fallback when the standard parser gives up: drop hidden elements wholesale, then every tag.
_HIDDEN_BLOCK = re.compile(
    r"<(script|style|head|template|noscript|svg|title)\b.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL
)
_ANY_TAG = re.compile(r"<[^<>]*>")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_TAG_OPEN = re.compile(r"<[A-Za-z/!?]")


def html_to_text(html_source: str, max_chars: int) -> str:
    """The text a reader of ``html_source`` would see, at most ``max_chars`` characters long.

    Link targets are appended in brackets when they differ from the link text. Input beyond
    ``max(65536, 10 * max_chars)`` characters is not read: the output could not hold it anyway and
    the parser's cost must stay bounded on hostile input.
    """
    if max_chars <= 0 or not html_source:
        return ""
    source = html_source[: max(65_536, 10 * max_chars)]
    extractor = _TextExtractor(output_limit=2 * max_chars + 1024)
    try:
        extractor.feed(source)
        extractor.close()
        raw = extractor.text()
    except Exception:
        # html.parser still raises AssertionError and friends on some malformed declarations; the
        # regex fallback is cruder but cannot fail, and it drops hidden elements the same way.
        raw = _fallback_text(source)
    return _tidy(raw, max_chars)


class _TextExtractor(HTMLParser):
    def __init__(self, output_limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._size = 0
        self._limit = output_limit
        self._hidden: dict[str, int] = {}
        self._hidden_depth = 0
        self._in_head = False
        self._closing = False
        # index into self.rawdata where the data being handled starts (see updatepos)
        self._pos = 0
        self._href: str | None = None
        self._link_text: list[str] = []
        self._link_text_size = 0
        self._pending_breaks = 0

    # --- position tracking -------------------------------------------------------------------
    # html.parser reports a construct it cannot parse (an unterminated tag, a tag with junk in it)
    # by passing its raw source to handle_data. Knowing where the data starts lets handle_data tell
    # that apart from text and drop it, so attribute values such as onerror="..." never leak.

    def goahead(self, end: bool) -> None:
        self._pos = 0
        super().goahead(end)

    def updatepos(self, i: int, j: int) -> int:
        self._pos = j
        return super().updatepos(i, j)

    # --- end of input: an unterminated construct swallows the rest, as it does in a browser -----
    # (and the parser's own recovery would rescan the remainder once per "<", which is quadratic)

    def close(self) -> None:
        self._closing = True
        super().close()
        self._end_link()

    def parse_starttag(self, i: int) -> int:
        k = super().parse_starttag(i)
        return len(self.rawdata) if k < 0 and self._closing else k

    def parse_endtag(self, i: int) -> int:
        k = super().parse_endtag(i)
        return len(self.rawdata) if k < 0 and self._closing else k

    def parse_comment(self, i: int, report: bool = True) -> int:
        k = super().parse_comment(i, report)
        return len(self.rawdata) if k < 0 and self._closing else k

    def parse_pi(self, i: int) -> int:
        k = super().parse_pi(i)
        return len(self.rawdata) if k < 0 and self._closing else k

    def parse_html_declaration(self, i: int) -> int:
        try:
            k = super().parse_html_declaration(i)
        except AssertionError:
            # unknown marked section such as <![foo[ ... ]]>: a bogus comment to the next ">"
            gt = self.rawdata.find(">", i + 2)
            k = gt + 1 if gt >= 0 else -1
        return len(self.rawdata) if k < 0 and self._closing else k

    # --- content -----------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._in_head and (tag == "body" or tag not in _HEAD_CONTENT):
            self._in_head = False
        if tag in _HIDDEN:
            if tag == "head":
                self._in_head = True
            else:
                self._hidden[tag] = self._hidden.get(tag, 0) + 1
                self._hidden_depth += 1
            return
        if self._hidden_depth:
            return
        if tag == "a":
            self._end_link()
            href = next((value for name, value in attrs if name == "href" and value), None)
            self._href = href.strip()[:_MAX_HREF] if href else None
            self._link_text = []
            self._link_text_size = 0
        elif tag == "br":
            self._pending_breaks += 1
        elif tag in _BLOCK:
            self._block_boundary(tag)
        elif tag in _CELL:
            self._emit(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _RAW_TEXT:
            # Browsers ignore the "/" of <script/>: what follows is script until </script>.
            self.handle_starttag(tag, attrs)
            self.set_cdata_mode(tag)
            return
        if tag in _HIDDEN:
            return
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self._end_link()

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
            return
        if tag in _HIDDEN:
            if self._hidden.get(tag, 0) > 0:
                self._hidden[tag] -= 1
                self._hidden_depth -= 1
            return
        if self._hidden_depth:
            return
        if tag == "a":
            self._end_link()
        elif tag in _BLOCK:
            self._block_boundary(tag)
        elif tag in _CELL:
            self._emit(" ")

    def handle_data(self, data: str) -> None:
        if self._hidden_depth or self.cdata_elem is not None:
            return
        if len(data) > 1 and self.rawdata.startswith("<", self._pos):
            return  # raw source of a construct the parser could not parse, not text
        if self._in_head:
            if not data.strip():
                return
            self._in_head = False  # text ends the head implicitly
        if self._href is not None and self._link_text_size < _MAX_LINK_TEXT:
            self._link_text.append(data)
            self._link_text_size += len(data)
        self._emit(data)

    def _end_link(self) -> None:
        href, self._href = self._href, None
        if href is None:
            return
        label = "".join(self._link_text)
        self._link_text = []
        self._link_text_size = 0
        if href.lower().startswith(_SILENT_SCHEMES) or href.startswith("#"):
            return
        if _comparable(href) != _comparable(label):
            self._emit(f" [{href}]")

    def _block_boundary(self, tag: str) -> None:
        # Adjacent boundaries (</li><li>, </div><p>) make one break, not one each.
        self._pending_breaks = max(self._pending_breaks, 2 if tag in _PARAGRAPH else 1)

    def _emit(self, text: str) -> None:
        if self._pending_breaks:
            if not text.strip():
                return  # whitespace next to a block boundary is not shown
            breaks = "\n" * min(self._pending_breaks, 2)
            self._pending_breaks = 0
            self._emit(breaks)
        if self._size >= self._limit:
            return
        text = text[: self._limit - self._size]
        self._parts.append(text)
        self._size += len(text)

    def text(self) -> str:
        return "".join(self._parts)


def _comparable(url_or_text: str) -> str:
    text = " ".join(url_or_text.split()).casefold()
    return _URL_NOISE.sub("", text).rstrip("/")


def _fallback_text(source: str) -> str:
    text = _COMMENT.sub(" ", source)
    text = _HIDDEN_BLOCK.sub(" ", text)
    text = _ANY_TAG.sub(" ", text)
    # whatever is left after the last complete tag may be an unterminated one: drop it
    unterminated = _TAG_OPEN.search(text)
    if unterminated:
        text = text[: unterminated.start()]
    return html.unescape(text)


def _tidy(text: str, max_chars: int) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", _INVISIBLE.sub("", text)))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
    return text[:max_chars].rstrip()
