"""Ingest throughput: a 10,000-entry RSS feed from a loopback HTTP server through fetch + parse + upsert.

Prints items/s for the first collection (all new), the second (all updates), and how long that takes
against a bare ``feedparser.parse`` of the same bytes. Medians of ``RUNS`` runs.
"""

from __future__ import annotations

import io
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

ENTRIES = 10_000
RUNS = 3


def feed_bytes(entries: int = ENTRIES) -> bytes:
    start = datetime(2024, 10, 16, tzinfo=UTC)
    items = []
    for n in range(entries):
        when = format_datetime(start - timedelta(minutes=n), usegmt=True)
        description = escape(f"<p>Story {n}: markets &amp; <b>politics</b> moved today, analysts said.</p>")
        items.append(
            f"<item><title>Headline number {n} about the economy &amp; the election</title>"
            f'<link>https://news.example.com/articles/{n}</link><guid isPermaLink="false">bench-{n}</guid>'
            f"<pubDate>{when}</pubDate><description>{description}</description>"
            f"<author>desk{n % 50}@news.example.com (Desk {n % 50})</author></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench</title>'
        "<link>https://news.example.com/</link><description>Bench feed</description><language>en</language>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _serve(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    import feedparser

    from apps.plugins.models import Source
    from apps.plugins.services import source_collect
    from apps.trends.models import Item

    body = feed_bytes()
    server = _serve(body)
    url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    print(f"feed: {ENTRIES:,} entries, {len(body) / 1e6:.1f} MB, served from {url}")
    source, _ = Source.objects.get_or_create(name="bench-rss", defaults={"kind": "rss", "config": {"urls": [url]}})
    first, second, bare = [], [], []
    try:
        for _ in range(RUNS):
            Item.objects.filter(source=source).delete()
            started = time.perf_counter()
            run = source_collect(source=source, trigger="bench", force=True)
            first.append(time.perf_counter() - started)
            assert run.new_count == ENTRIES, (run.status, run.error)
            started = time.perf_counter()
            run = source_collect(source=source, trigger="bench", force=True)
            second.append(time.perf_counter() - started)
            assert run.duplicate_count == ENTRIES, (run.status, run.error)
            started = time.perf_counter()
            feedparser.parse(io.BytesIO(body))
            bare.append(time.perf_counter() - started)
    finally:
        server.shutdown()
    t1, t2, tb = statistics.median(first), statistics.median(second), statistics.median(bare)
    print(f"first collection (all new):    {ENTRIES / t1:8,.0f} items/s  ({t1:.2f} s)")
    print(f"second collection (all update): {ENTRIES / t2:8,.0f} items/s  ({t2:.2f} s)")
    print(f"bare feedparser.parse:         {ENTRIES / tb:8,.0f} items/s  ({tb:.2f} s)")
    print(f"ingest / bare parse time: first {t1 / tb:.2f}x, second {t2 / tb:.2f}x (medians of {RUNS} runs)")
