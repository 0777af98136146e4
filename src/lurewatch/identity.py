"""Account keys: one normalised handle per person or persona, whatever form the input gave."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

_LINKEDIN_HOST = re.compile(r"(?:^|\.)linkedin\.com$", re.IGNORECASE)
# LinkedIn member ids (``ACoAA...``) are case-sensitive; vanity slugs are not.
_MEMBER_ID = re.compile(r"^AC[a-zA-Z0-9_-]{20,}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def linkedin_slug(url: str | None) -> str | None:
    """The profile slug of a LinkedIn profile URL, normalised, or None if it is not one.

    Accepts ``https://www.linkedin.com/in/jane-doe-1a2b3c/``, country hosts (``uk.linkedin.com``),
    missing scheme, query strings, fragments, percent-encoded non-ASCII slugs and mixed case.
    """
    if not url:
        return None
    url = url.strip().strip('"').strip()
    if not url:
        return None
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not _LINKEDIN_HOST.search(host):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0].lower() not in {"in", "pub"}:
        return None
    slug = unquote(segments[1]).strip()
    if not slug:
        return None
    if _MEMBER_ID.match(slug):
        return slug
    return unicodedata.normalize("NFC", slug).casefold()


def normalise_name(name: str | None) -> str:
    if not name:
        return ""
    name = unicodedata.normalize("NFKC", name)
    return " ".join(name.casefold().split())


def normalise_email(address: str | None) -> str | None:
    if not address:
        return None
    address = address.strip().strip("<>").strip()
    if not _EMAIL.match(address):
        return None
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def account_key(*, profile_url: str | None = None, email: str | None = None, name: str | None = None) -> str:
    """The best key visible: LinkedIn slug, else e-mail address, else normalised name."""
    slug = linkedin_slug(profile_url)
    if slug:
        return f"linkedin:{slug}"
    addr = normalise_email(email)
    if addr:
        return f"email:{addr.casefold()}"
    norm = normalise_name(name)
    return f"name:{norm}" if norm else "unknown:"
