"""RSS 0.9x/1.0/2.0 and Atom feeds (Google News and Google Trends included) parsed by feedparser from bytes.

feedparser only ever sees bytes our client fetched (wrapped in a stream: given bytes or a string it would
open a local path of that name), after the XML guard in ``feedxml`` (no entity is ever expanded).
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser
from django.conf import settings

from apps.core.config_spec import ConfigField, value_shown
from apps.core.http import FetchError, http_fetch
from apps.core.url_mask import text_urls_masked, url_masked
from apps.plugins.collectors.base import Collector, CollectOutcome
from apps.plugins.collectors.feedxml import feed_document_parse
from apps.plugins.models import FeedState
from apps.trends.ingest import URL_MAX_CHARS, ItemDraft

logger = logging.getLogger(__name__)

# Bozo reasons that leave the entries correct: the parser recovered with another encoding or content type.
_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_DIGITS = re.compile(r"\d+")
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
ERRORS_LISTED = 5  # feed errors quoted in the run's error; all of them are in its details
RSS_MAX_URLS = 10_000  # an OPML export of a large reader; each URL is fetched by a bounded pool


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


@dataclass
class FeedResult:
    """What one feed URL gave: its drafts and status ("ok", "not_modified", "failed"), for the run's details."""

    url: str
    status: str
    drafts: list[ItemDraft] = field(default_factory=list)
    error: str = ""
    permanent: bool = False
    retry_after: datetime | None = None
    etag: str = ""
    last_modified: str = ""
    duration_ms: float = 0.0

    def detail(self) -> dict[str, Any]:
        shown = {"status": self.status, "fetched": len(self.drafts), "ms": round(self.duration_ms)}
        return {**shown, "error": self.error[:300]} if self.error else shown


def feed_fetch(url: str, etag: str = "", last_modified: str = "") -> FeedResult:
    """Fetch and parse one feed; every failure becomes a failed FeedResult, never an exception."""
    started = time.monotonic()
    try:
        response = http_fetch(url, etag=etag, last_modified=last_modified, headers={"Accept": FEED_ACCEPT})
        if response.not_modified:
            result = FeedResult(url, "not_modified", etag=etag, last_modified=last_modified)
        else:
            drafts, warning = feed_parse(
                response.content, url=url, content_type=response.headers.get("content-type", "")
            )
            result = FeedResult(url, "ok", drafts, warning, etag=response.etag, last_modified=response.last_modified)
    except FetchError as exc:
        result = FeedResult(url, "failed", error=exc.message, permanent=exc.permanent, retry_after=exc.retry_after)
    except Exception as exc:
        logger.exception("parsing feed %s crashed", url)
        result = FeedResult(url, "failed", error=f"{type(exc).__name__}: {exc}")
    result.error = text_urls_masked(result.error)  # stored on the feed's state and the run: no credentials
    if result.status == "failed":  # keep the validators of the last good answer
        result.etag, result.last_modified = etag, last_modified
    result.duration_ms = (time.monotonic() - started) * 1000
    return result


class RssCollector(Collector):
    kind = "rss"
    fields = (
        ConfigField(
            "urls",
            list,
            min=1,
            max=RSS_MAX_URLS,
            items=str,
            help='a list of feed URLs, e.g. ["https://example.com/feed"]',
        ),
    )

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        bad = [u for u in config["urls"] if not u.startswith(("http://", "https://"))]
        if bad:
            return [f"'urls' entries must be http(s) URLs, got {value_shown(bad[0])}"]
        long = [u for u in config["urls"] if len(u) > URL_MAX_CHARS]
        return [f"'urls' entries must be at most {URL_MAX_CHARS} characters, got {len(long[0]):,}"] if long else []

    def _validators(self, urls: list[str]) -> dict[str, tuple[str, str]]:
        """Each URL's stored ETag and Last-Modified; a single-feed source from before per-URL state has its
        pair on the source itself."""
        stored = {
            state.url: (state.etag, state.last_modified)
            for state in FeedState.objects.filter(source_id=self.source.pk).only("url", "etag", "last_modified")
        }
        if len(urls) == 1 and urls[0] not in stored:
            stored[urls[0]] = (self.source.etag, self.source.last_modified)
        return stored

    def collect(self) -> CollectOutcome:
        """Every feed fetched by a bounded thread pool, each with its own conditional GET; one feed failing
        never fails the others, and the run's details hold each URL's status and count."""
        urls = list(dict.fromkeys(self.config["urls"]))
        validators = self._validators(urls) if self.source.pk else {}
        workers = max(1, min(settings.TRENDSITE_RSS_CONCURRENCY, len(urls)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"rss-{self.source.name}"[:40]) as pool:
            results = list(pool.map(lambda url: feed_fetch(url, *validators.get(url, ("", ""))), urls))
        return self._outcome(results)

    @staticmethod
    def _outcome(results: list[FeedResult]) -> CollectOutcome:
        failed = [r for r in results if r.status == "failed"]
        if len(failed) == len(results):
            retry_after = max((r.retry_after for r in failed if r.retry_after), default=None)
            message = failed[0].error if len(results) == 1 else f"all {len(results)} feeds failed: "
            raise FetchError(
                message + "; ".join(r.error for r in failed[:ERRORS_LISTED] if len(results) > 1),
                permanent=all(r.permanent for r in failed),
                retry_after=retry_after,
            )
        outcome = CollectOutcome(
            not_modified=all(r.status == "not_modified" for r in results),
            details={"feeds": {url_masked(r.url): r.detail() for r in results}},
            feed_states=results,
        )
        for result in results:
            outcome.drafts.extend(result.drafts)
        warnings = [r.error for r in results if r.error]
        if len(warnings) > ERRORS_LISTED:
            outcome.errors.append(f"{len(failed)} of {len(results)} feeds failed (each is in the run's details)")
        outcome.errors.extend(warnings[:ERRORS_LISTED])
        if len(results) == 1:  # a single feed's validators stay on the source, as before per-URL state
            outcome.etag, outcome.last_modified = results[0].etag, results[0].last_modified
        return outcome
