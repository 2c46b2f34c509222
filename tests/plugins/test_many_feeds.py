"""An rss source with thousands of feed URLs: bounded concurrency, per-URL conditional GET and errors, per-URL
details on the run; and `import_opml`, which is how such lists arrive."""

import re
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from werkzeug import Response

from apps.plugins.models import CollectionRun, FeedState, Source
from apps.plugins.services import source_collect
from apps.trends.models import Item
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db
FEEDS = 2000
BROKEN = 1313


def _feed(number: int) -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>feed {number}</title>'
        f"<item><title>Story {number}</title><link>https://news.example/{number}</link><guid>g-{number}</guid></item>"
        "</channel></rss>"
    ).encode()


@pytest.fixture
def feed_server(httpserver):
    """/feed/N answers a one-item feed with ETag "vN" (304 when asked with it); /feed/1313 answers 500."""
    seen = {"requests": 0, "conditional": 0}

    def _handler(request):
        seen["requests"] += 1
        number = int(request.path.rsplit("/", 1)[1])
        if number == BROKEN:
            return Response("broken", status=500)
        if request.headers.get("If-None-Match") == f'"v{number}"':
            seen["conditional"] += 1
            return Response(status=304)
        return Response(_feed(number), content_type="application/rss+xml", headers={"ETag": f'"v{number}"'})

    httpserver.expect_request(re.compile(r"/feed/\d+")).respond_with_handler(_handler)
    return seen


def test_a_2000_feed_source_collects_every_feed_but_the_broken_one_in_bounded_time(httpserver, feed_server):
    urls = [httpserver.url_for(f"/feed/{n}") for n in range(FEEDS)]
    source = SourceFactory(name="big", config={"urls": urls})

    started = time.monotonic()
    run = source_collect(source=source)
    elapsed = time.monotonic() - started

    print(f"2,000 feeds collected in {elapsed:.1f} s")
    assert elapsed < 90
    assert run.status == CollectionRun.Status.SUCCESS
    assert (run.fetched_count, run.new_count) == (FEEDS - 1, FEEDS - 1)
    assert Item.objects.filter(source=source).count() == FEEDS - 1
    broken = httpserver.url_for(f"/feed/{BROKEN}")
    assert run.details["feeds"][broken]["status"] == "failed" and "HTTP 500" in run.details["feeds"][broken]["error"]
    assert run.details["feeds"][urls[0]] == {"status": "ok", "fetched": 1, "ms": run.details["feeds"][urls[0]]["ms"]}
    assert f"HTTP 500 INTERNAL SERVER ERROR from {broken}" in run.error
    assert FeedState.objects.filter(source=source).count() == FEEDS
    assert FeedState.objects.get(source=source, url=urls[7]).etag == '"v7"'

    second = source_collect(source=source)
    assert feed_server["conditional"] == FEEDS - 1  # every good feed asked with its own ETag
    assert second.status == CollectionRun.Status.SUCCESS and second.fetched_count == 0
    assert second.details["feeds"][urls[7]]["status"] == "not_modified"


def test_a_failing_feed_never_fails_the_others_and_the_run_page_lists_each_url(admin_client, httpserver, serve):
    good = serve("/good", "rss2_bbc.xml")
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    source = SourceFactory(config={"urls": [good, httpserver.url_for("/gone"), "http://10.0.0.1/feed"]})
    run = source_collect(source=source)
    assert run.status == CollectionRun.Status.SUCCESS and run.fetched_count == 3
    assert [row["status"] for row in run.details["feeds"].values()] == ["ok", "failed", "failed"]
    page = admin_client.get(reverse("admin:plugins_collectionrun_change", args=[run.pk])).content.decode()
    assert "3 entries, 2 failed" in page and "HTTP 404" in page and good in page


def test_when_every_feed_fails_the_run_fails_with_the_first_errors(httpserver):
    httpserver.expect_request("/a").respond_with_data("", status=500)
    httpserver.expect_request("/b").respond_with_data("", status=502)
    source = SourceFactory(config={"urls": [httpserver.url_for("/a"), httpserver.url_for("/b")]})
    run = source_collect(source=source)
    assert run.status == CollectionRun.Status.FAILED
    assert "all 2 feeds failed" in run.error and "(temporary)" in run.error


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>subscriptions</title></head><body>
  <outline text="News">
    <outline text="A" type="rss" xmlUrl="https://a.example/feed"/>
    <outline text="Tech">
      <outline text="B" type="rss" xmlUrl="https://b.example/rss.xml"/>
      <outline text="A again" type="rss" xmlUrl="https://a.example/feed"/>
    </outline>
  </outline>
  <outline text="C" type="rss" xmlURL="http://c.example/atom"/>
  <outline text="not a feed" xmlUrl="file:///etc/passwd"/>
  <outline text="folder only"/>
</body></opml>
"""


def test_import_opml_creates_the_source_with_nested_outlines_deduplicated(tmp_path):
    path = tmp_path / "feeds.opml"
    path.write_text(OPML)
    out, err = StringIO(), StringIO()
    call_command("import_opml", str(path), "--source", "reader", stdout=out, stderr=err)
    source = Source.objects.get(name="reader")
    assert source.kind == "rss" and source.enabled
    assert source.config["urls"] == ["https://a.example/feed", "https://b.example/rss.xml", "http://c.example/atom"]
    assert "Created rss source 'reader': 3 feed(s) added, 3 in all; 1 duplicate(s) and 1 refused" in out.getvalue()
    assert "file:///etc/passwd" in err.getvalue()

    path.write_text(OPML.replace("https://b.example/rss.xml", "https://d.example/new"))
    call_command("import_opml", str(path), "--source", "reader", stdout=out, stderr=err)
    source.refresh_from_db()
    assert len(source.config["urls"]) == 4 and source.config["urls"][-1] == "https://d.example/new"
    assert "Extended rss source 'reader': 1 feed(s) added, 4 in all" in out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<opml><body><outline xmlUrl='https://a.example/f'></body>", "line 1, column"),
        ("<html><body/></html>", "root element is <html>"),
        ('<!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>', "refused"),
        ("<opml><body><outline text='x'/></body></opml>", "no feed URLs found"),
        ("", "line 1, column 1"),
    ],
)
def test_import_opml_refuses_bad_files_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.opml"
    path.write_text(content)
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("import_opml", str(path), "--source", "reader", stdout=StringIO(), stderr=StringIO())
    assert not Source.objects.filter(name="reader").exists()


def test_import_opml_into_a_source_of_another_kind_is_refused(tmp_path):
    SourceFactory(name="hn", kind="hackernews", config={})
    path = tmp_path / "feeds.opml"
    path.write_text(OPML)
    with pytest.raises(CommandError, match="is a hackernews source"):
        call_command("import_opml", str(path), "--source", "hn", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match=r"cannot read"):
        call_command("import_opml", str(tmp_path / "missing.opml"), "--source", "x", stdout=StringIO())
