"""RSS 0.9x/1.0/2.0 and Atom feeds (Google News and Google Trends included) parsed by feedparser from bytes.

feedparser only ever sees bytes our client fetched (wrapped in a stream: given bytes or a string it would
open a local path of that name), after the XML guard in ``feedxml`` (no entity is ever expanded).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import feedparser

from apps.core.http import FetchError, http_fetch
from apps.plugins.collectors.base import Collector, CollectOutcome, ConfigField
from apps.plugins.collectors.feedxml import feed_document_parse
from apps.trends.ingest import ItemDraft

# Bozo reasons that leave the entries correct: the parser recovered with another encoding or content type.
_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_DIGITS = re.compile(r"\d+")


def _when(entry: dict[str, Any]) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _traffic(value: str) -> int | None:
    # Google Trends writes "200,000+" or "2M+".
    text = value.strip().upper().replace(",", "")
    match = _DIGITS.search(text)
    if not match:
        return None
    number = int(match.group())
    return number * 1_000_000 if "M" in text else number * 1000 if "K" in text else number


def _draft(entry: dict[str, Any], *, language: str, shared_links: set[str]) -> ItemDraft:
    metrics: dict[str, Any] = {}
    if entry.get("ht_approx_traffic"):
        metrics["approx_traffic"] = _traffic(entry["ht_approx_traffic"])
        metrics["approx_traffic_text"] = entry["ht_approx_traffic"]
    if entry.get("slash_comments", "").isdigit():
        metrics["comments"] = int(entry["slash_comments"])
    if entry.get("source", {}).get("title"):
        metrics["publisher"] = entry["source"]["title"]
    content = entry.get("content")
    text = (content[0].get("value") if content else "") or entry.get("summary", "")
    link = entry.get("link", "")
    # Without a guid the link identifies an entry, unless the feed reuses one link for all (Google Trends).
    external_id = entry.get("id") or (f"{link}#{entry.get('title', '')}" if link in shared_links else link)
    return ItemDraft(
        external_id=external_id,
        title=entry.get("title", ""),
        url=entry.get("link", ""),
        text=text,
        author=entry.get("author", ""),
        published_at=_when(entry),
        language_hint=language,
        metrics=metrics,
    )


def feed_parse(content: bytes, *, url: str, content_type: str = "") -> tuple[list[ItemDraft], str]:
    """Drafts from one feed document and a warning ("" when the document was clean).

    Raises FetchError when the bytes are not a feed at all (HTML page, truncated beyond recovery, bomb).
    """
    parsed = feed_document_parse(content, url=url, content_type=content_type)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.entries:
        if not parsed.version:
            detail = f" ({problem})" if problem else ""
            raise FetchError(f"{url} is not an RSS or Atom feed{detail}", permanent=False)
        if problem and not isinstance(problem, _HARMLESS_BOZO):
            raise FetchError(f"feed {url} is not well-formed XML and has no readable entries: {problem}")
    warning = ""
    if problem and not isinstance(problem, _HARMLESS_BOZO):
        warning = f"feed {url} is not well-formed XML ({problem}); kept the {len(parsed.entries)} entries recovered"
    language = (parsed.feed.get("language") or "").split("-")[0]
    links = Counter(entry.get("link", "") for entry in parsed.entries if not entry.get("id"))
    shared_links = {link for link, count in links.items() if count > 1}
    return [_draft(entry, language=language, shared_links=shared_links) for entry in parsed.entries], warning


class RssCollector(Collector):
    kind = "rss"
    fields = (ConfigField("urls", list, min=1, max=200, help='a list of feed URLs, e.g. ["https://example.com/feed"]'),)

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        bad = [u for u in config["urls"] if not isinstance(u, str) or not u.startswith(("http://", "https://"))]
        return [f"'urls' entries must be http(s) URLs, got {bad[0]!r}"] if bad else []

    def collect(self) -> CollectOutcome:
        urls = self.config["urls"]
        # The source has one pair of validators, so conditional GET applies to single-feed sources only.
        conditional = len(urls) == 1
        outcome = CollectOutcome()
        for url in urls:
            try:
                response = http_fetch(
                    url,
                    etag=self.source.etag if conditional else "",
                    last_modified=self.source.last_modified if conditional else "",
                    headers={"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"},
                )
                if response.not_modified:
                    outcome.not_modified = True
                    return outcome
                drafts, warning = feed_parse(
                    response.content, url=url, content_type=response.headers.get("content-type", "")
                )
            except FetchError as exc:
                if len(urls) == 1:
                    raise
                outcome.errors.append(str(exc))
                continue
            if conditional:
                outcome.etag, outcome.last_modified = response.etag, response.last_modified
            if warning:
                outcome.errors.append(warning)
            outcome.drafts.extend(drafts)
        if len(outcome.errors) == len(urls) and not outcome.drafts:
            raise FetchError(f"all {len(urls)} feeds failed: " + "; ".join(outcome.errors))
        return outcome
