"""Stage 1: tidy text, canonical URL without tracking parameters, content hash.

Markup was stripped (and entities decoded) once, at ingest; the text stored is text, so this stage never strips
again: a title about ``<script>`` tags keeps its words.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from apps.trends.ingest import text_tidy
from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext

TITLE_MAX_CHARS = 1000
# Full-text indexing and embedding need only the start of a long text; a 5 MB body would also overflow
# PostgreSQL's tsvector limit (1 MB).
TEXT_MAX_CHARS = 20_000

_WORD = re.compile(r"\w+")
_TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref", "ref_src", "cmpid"}
_TRACKING_PREFIXES = ("utm_", "__hs", "_hs", "mkt_", "oly_")


def text_clean(value: str | None, *, max_chars: int) -> str:
    """``text_tidy`` on one line, at most ``max_chars`` long."""
    if not value:
        return ""
    # Bound the regex work on huge inputs before cleaning.
    return text_tidy(value[: max_chars * 4], multiline=False)[:max_chars]


def url_canonical(url: str | None) -> str:
    """Lower-case scheme and host, no fragment, no default port, no tracking parameters, sorted query."""
    if not url:
        return ""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    port = parts.port if parts.port and parts.port not in (80, 443) else None
    netloc = f"{host}:{port}" if port else host
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_PARAMS and not k.lower().startswith(_TRACKING_PREFIXES)
    )
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))[:2048]


def content_hash(title: str, text: str) -> str:
    """Hash of the words only, case-folded, so punctuation and spacing variants collide."""
    words = " ".join(_WORD.findall(f"{title}\n{text}".casefold()))
    return hashlib.sha256(words.encode("utf-8")).hexdigest() if words else ""


def normalise(items: list[Item], ctx: StageContext) -> int:
    """Clean each item in place; returns how many were normalised."""
    for item in items:
        item.title = text_clean(item.title, max_chars=TITLE_MAX_CHARS)
        item.text = text_clean(item.text, max_chars=TEXT_MAX_CHARS)
        if not item.title:
            # An item needs something to show and to embed; fall back to the start of its text.
            item.title = item.text[:200] or "(untitled)"
        item.canonical_url = url_canonical(item.url) or item.canonical_url
        item.content_hash = content_hash(item.title, item.text)
    ctx.counts["normalised"] += len(items)
    return len(items)
