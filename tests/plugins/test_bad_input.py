"""Bad input from the outside world: each fails its run with a clear error, keeps stored items, and leaves
other sources in the same `collect --all` running."""

import socket
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from werkzeug import Response

from apps.plugins.models import CollectionRun, PluginHealth
from apps.plugins.services import source_collect
from apps.trends.models import Item
from tests.plugins.conftest import fixture_bytes
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db

RSS_HEAD = b'<?xml version="1.0" encoding="utf-8"?>\n'
NESTED_BOMB = RSS_HEAD + (
    b'<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    b'<rss version="2.0"><channel><title>bomb</title><item><title>&d;</title><guid>1</guid></item></channel></rss>'
)
WIDE_BOMB = (
    RSS_HEAD
    + b'<!DOCTYPE rss [<!ENTITY big "'
    + b"x" * 50_000
    + b'">]><rss version="2.0"><channel><title>t</title><item><title>boom</title><description>'
    + b"&big;" * 20_000
    + b"</description><guid>1</guid></item></channel></rss>"
)


def _feed_source(url, **kwargs):
    return SourceFactory(kind="rss", config={"urls": [url]}, **kwargs)


def _stored_before(source) -> int:
    Item.objects.create(source=source, external_id="kept", title="Stored before the bad run")
    return Item.objects.filter(source=source).count()


def _assert_failed_cleanly(source, run, message):
    assert run.status == CollectionRun.Status.FAILED
    assert message in run.error
    health = PluginHealth.objects.get(source=source)
    assert message in health.last_error and health.consecutive_failures == 1
    assert Item.objects.filter(source=source, external_id="kept").exists()


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"items": [1, 2', "application/json", "malformed JSON"),
        (NESTED_BOMB, "application/rss+xml", "possible XML bomb"),
        (WIDE_BOMB, "application/rss+xml", "possible XML bomb"),
        (
            b"<!doctype html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>",
            "text/html",
            "is not an RSS or Atom feed",
        ),
        (b"", "application/rss+xml", "is empty"),
    ],
    ids=["malformed-json", "nested-entity-bomb", "50kb-entity-x-20000", "html-page", "empty"],
)
def test_bad_payloads_fail_the_run_clearly(httpserver, serve, body, content_type, message):
    if content_type == "application/json":
        serve("/v0/topstories.json", body, content_type=content_type)
        source = SourceFactory(kind="hackernews", config={"base_url": httpserver.url_for("/v0")})
    else:
        source = _feed_source(serve("/feed", body, content_type=content_type))
    _stored_before(source)

    run = source_collect(source=source)

    _assert_failed_cleanly(source, run, message)


def test_truncated_xml_keeps_what_the_lenient_parser_recovers(serve):
    whole = fixture_bytes("rss2_bbc.xml")
    source = _feed_source(
        serve("/feed", whole[: whole.index(b"<item>", whole.index(b"</item>"))] + b"<item><title>Cut")
    )
    run = source_collect(source=source)
    assert run.status == "success" and run.new_count >= 1
    assert "not well-formed XML" in run.error
    assert "not well-formed XML" in PluginHealth.objects.get(source=source).last_error


def test_truncated_xml_without_any_entry_fails(serve):
    source = _feed_source(serve("/feed", b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut'))
    _stored_before(source)
    _assert_failed_cleanly(source, source_collect(source=source), "has no readable entries")


def test_non_utf8_feed_with_a_wrong_declared_charset_is_read(serve):
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Presse</title>'
        "<item><title>Élection à Paris: résultats</title><guid>e1</guid></item></channel></rss>"
    ).encode("latin-1")
    source = _feed_source(serve("/feed", feed, content_type="application/rss+xml; charset=utf-8"))
    run = source_collect(source=source)
    assert run.status == "success" and run.new_count == 1
    assert Item.objects.get(source=source).title == "Élection à Paris: résultats"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/etc/passwd"])
def test_local_paths_are_refused_as_feed_urls(url):
    from django.core.exceptions import ValidationError

    from apps.plugins.collectors import source_config_validate

    with pytest.raises(ValidationError, match="must be http\\(s\\) URLs"):
        source_config_validate(kind="rss", name="local", config={"urls": [url]})
    # A config that slipped past validation (raw SQL, old row) is still refused by the client.
    source = SourceFactory(kind="rss", config={"urls": ["http://127.0.0.1:9/x"]})
    type(source).objects.filter(pk=source.pk).update(config={"urls": [url]})
    source.refresh_from_db()
    run = source_collect(source=source)
    assert run.status == "failed" and "urls" in run.error


def test_50_megabyte_response_is_capped(httpserver):
    chunk = b"<item>" + b"x" * 65530

    def endless(request):
        return Response((chunk for _ in range(800)), content_type="application/rss+xml")

    httpserver.expect_request("/huge").respond_with_handler(endless)
    source = _feed_source(httpserver.url_for("/huge"))
    _stored_before(source)
    _assert_failed_cleanly(source, source_collect(source=source), "exceeds the 10,485,760-byte cap")


def test_server_that_never_answers_times_out(settings):
    settings.TRENDSITE_FETCH_READ_TIMEOUT = 0.3
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    held = []
    thread = threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True)
    thread.start()
    source = _feed_source(f"http://127.0.0.1:{listener.getsockname()[1]}/feed")
    _stored_before(source)
    try:
        _assert_failed_cleanly(source, source_collect(source=source), "timed out")
    finally:
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture
def ipv6_server():
    """A local HTTP server on ::1, so a guard allowing only ::1 can be shown refusing 127.0.0.1."""
    from pytest_httpserver import HTTPServer

    try:
        server = HTTPServer(host="::1", port=0)
        server.start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    yield server
    server.clear()
    server.stop()


@pytest.mark.parametrize("target", ["http://127.0.0.1/feed", "http://169.254.169.254/latest/meta-data/"])
def test_redirect_to_internal_addresses_is_refused_with_the_guard_on(ipv6_server, settings, target):
    # The guard allows the feed server's own address and nothing else: the redirect hop must be refused.
    settings.TRENDSITE_OUTBOUND_ALLOW = ["::1/128"]
    ipv6_server.expect_request("/feed").respond_with_data("", status=302, headers={"Location": target})
    source = _feed_source(f"http://[::1]:{ipv6_server.port}/feed")
    _stored_before(source)
    address = target.split("/")[2]
    _assert_failed_cleanly(source, source_collect(source=source), f"refused to connect to {address}")
    assert len(ipv6_server.log) == 1


def test_loopback_feed_is_refused_when_nothing_is_allowed(httpserver, settings):
    settings.TRENDSITE_OUTBOUND_ALLOW = []
    httpserver.expect_request("/feed").respond_with_data("secret")
    source = _feed_source(httpserver.url_for("/feed"))
    _stored_before(source)
    _assert_failed_cleanly(source, source_collect(source=source), "refused to connect")
    assert not httpserver.log


def test_429_with_retry_after_sets_next_fetch_after(serve):
    source = _feed_source(serve("/feed", b"slow down", status=429, headers={"Retry-After": "3600"}))
    _stored_before(source)
    run = source_collect(source=source)
    _assert_failed_cleanly(source, run, "HTTP 429")
    source.refresh_from_db()
    assert source.next_fetch_after >= timezone.now() + timedelta(minutes=59)
    skipped = source_collect(source=source)
    assert skipped.status == CollectionRun.Status.SKIPPED and "next fetch allowed after" in skipped.error


def test_304_costs_no_parsing_and_keeps_items(httpserver, serve):
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v7"'}).respond_with_data("", status=304)
    source = _feed_source(httpserver.url_for("/feed"), etag='"v7"')
    stored = _stored_before(source)
    run = source_collect(source=source)
    assert (run.status, run.fetched_count) == (CollectionRun.Status.NOT_MODIFIED, 0)
    assert Item.objects.filter(source=source).count() == stored
    assert PluginHealth.objects.get(source=source).consecutive_failures == 0


def test_etag_is_stored_and_sent_next_time(httpserver):
    httpserver.expect_ordered_request("/feed").respond_with_data(
        fixture_bytes("rss2_bbc.xml"), headers={"ETag": '"abc"', "Last-Modified": "Wed, 16 Oct 2024 14:02:41 GMT"}
    )
    httpserver.expect_ordered_request("/feed", headers={"If-None-Match": '"abc"'}).respond_with_data("", status=304)
    source = _feed_source(httpserver.url_for("/feed"))
    assert source_collect(source=source).status == "success"
    source.refresh_from_db()
    assert (source.etag, source.last_modified) == ('"abc"', "Wed, 16 Oct 2024 14:02:41 GMT")
    assert source_collect(source=source).status == "not_modified"


def test_collect_all_keeps_going_past_failing_sources(httpserver, serve):
    good = _feed_source(serve("/good", "rss2_bbc.xml"), name="a-good")
    bad = _feed_source(serve("/bad", b"<html>nope</html>", content_type="text/html"), name="b-bad")
    late = _feed_source(serve("/late", "atom_github.xml"), name="c-late")
    out = StringIO()

    with pytest.raises(CommandError, match="Failed: b-bad") as failed:  # exit code 1, after the others ran
        call_command("collect", "--all", stdout=out)

    assert failed.value.returncode == 1
    assert "b-bad: failed" in out.getvalue() and "Done! 3 sources: 2 ok, 1 failed, 0 skipped." in out.getvalue()
    assert Item.objects.filter(source=good).count() == 2 and Item.objects.filter(source=late).count() == 2
    assert not Item.objects.filter(source=bad).exists()


def test_utf16_entity_bomb_is_refused_too(serve):
    bomb = NESTED_BOMB.decode().replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")
    source = _feed_source(serve("/feed", bomb))
    _stored_before(source)
    _assert_failed_cleanly(source, source_collect(source=source), "possible XML bomb")
