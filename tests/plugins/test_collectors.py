"""Every collector end to end: recorded payloads from a local server -> source_collect -> Item rows."""

import json

import pytest

from apps.plugins.models import CollectionRun
from apps.plugins.services import source_collect
from apps.trends.models import Item
from tests.plugins.conftest import FIXTURES, fixture_bytes
from tests.plugins.factories import SourceFactory
from tests.shared_data import UCI_DEV, needs_shared_file

pytestmark = pytest.mark.django_db
REPLAY_ROWS = 25  # rows of apps/plugins/demo/news-replay.csv


def _base(httpserver) -> str:
    return httpserver.url_for("").rstrip("/")


def test_hackernews_collects_top_stories_with_points_and_comments(httpserver, serve):
    serve("/v0/topstories.json", "hn_topstories.json")
    for item_id in (41858590, 41857402, 41859213, 41855899):
        serve(f"/v0/item/{item_id}.json", f"hn_item_{item_id}.json")
    source = SourceFactory(kind="hackernews", config={"base_url": f"{_base(httpserver)}/v0", "max_items": 10})

    run = source_collect(source=source)

    assert (run.status, run.fetched_count, run.new_count) == ("success", 3, 3)
    story = Item.objects.get(source=source, external_id="41858590")
    assert story.title == "The deep sea is teeming with life & light"
    assert story.metrics == {"points": 487, "comments": 212}
    ask = Item.objects.get(source=source, external_id="41857402")
    assert ask.url == "https://news.ycombinator.com/item?id=41857402"
    assert "<" not in ask.text and "We're trying something new" in ask.text


def test_hackernews_max_items_bounds_the_fetches(httpserver, serve):
    serve("/v0/topstories.json", "hn_topstories.json")
    serve("/v0/item/41858590.json", "hn_item_41858590.json")
    source = SourceFactory(kind="hackernews", config={"base_url": f"{_base(httpserver)}/v0", "max_items": 1})
    assert source_collect(source=source).new_count == 1


def test_reddit_public_listing(httpserver, serve):
    serve("/r/worldnews/hot.json", "reddit_worldnews_hot.json")
    source = SourceFactory(kind="reddit", config={"subreddits": ["worldnews"], "base_url": _base(httpserver)})

    run = source_collect(source=source)

    assert run.new_count == 2
    post = Item.objects.get(source=source, external_id="t3_1g4z9xk")
    assert post.url == "https://www.reuters.com/technology/eu-ai-act-deal-2024-10-16/"
    assert post.metrics["points"] == 18234 and post.metrics["comments"] == 1532
    request = httpserver.log[0][0]
    assert "trendsite" in request.headers["User-Agent"] and request.args["limit"] == "50"


def test_reddit_oauth_client_credentials_token_flow(httpserver, serve):
    token = json.loads(fixture_bytes("reddit_token.json"))["access_token"]
    httpserver.expect_request(
        "/api/v1/access_token",
        method="POST",
        data="grant_type=client_credentials",
        headers={"Authorization": "Basic aWQxMjM6czNjcjN0"},  # id123:s3cr3t
    ).respond_with_data(fixture_bytes("reddit_token.json"))
    httpserver.expect_request(
        "/r/worldnews/new",
        headers={"Authorization": f"Bearer {token}"},
    ).respond_with_data(fixture_bytes("reddit_worldnews_hot.json"))
    source = SourceFactory(
        kind="reddit",
        config={
            "subreddits": ["worldnews"],
            "listing": "new",
            "client_id": "id123",
            "client_secret": "s3cr3t",
            "base_url": _base(httpserver),
            "oauth_base_url": _base(httpserver),
        },
    )

    run = source_collect(source=source)

    assert (run.status, run.new_count) == ("success", 2), run.error


def test_reddit_credentials_come_from_the_environment(httpserver, serve, monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", "id123")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "s3cr3t")
    httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_json({"access_token": "T"})
    httpserver.expect_request("/r/worldnews/hot", headers={"Authorization": "Bearer T"}).respond_with_data(
        fixture_bytes("reddit_worldnews_hot.json")
    )
    config = {"subreddits": ["worldnews"], "base_url": _base(httpserver), "oauth_base_url": _base(httpserver)}
    assert source_collect(source=SourceFactory(kind="reddit", config=config)).new_count == 2


@pytest.mark.parametrize(
    ("fixture", "count", "external_id", "title"),
    [
        (
            "rss2_bbc.xml",
            2,
            "https://www.bbc.co.uk/news/articles/c0k8x2x1x1xo#0",
            "Storm Ashley: Thousands without power as gusts hit 80mph",
        ),
        ("atom_github.xml", 2, "tag:github.com,2008:Repository/4164482/5.1.2", "5.1.2"),
        (
            "google_news.xml",
            1,
            "CBMiXkFVX3lxTE1abc",
            "Hurricane Milton recovery continues across Florida - The Associated Press",
        ),
    ],
)
def test_rss_and_atom_feeds(serve, fixture, count, external_id, title):
    source = SourceFactory(kind="rss", config={"urls": [serve("/feed", fixture)]})

    run = source_collect(source=source)

    assert (run.status, run.new_count) == ("success", count)
    item = Item.objects.get(source=source, external_id=external_id)
    assert item.title == title and item.published_at is not None
    assert "<" not in item.text and "&amp;" not in item.text


def test_rss_skips_entries_without_title_and_counts_them(serve):
    source = SourceFactory(kind="rss", config={"urls": [serve("/feed", "rss2_bbc.xml")]})
    run = source_collect(source=source)
    assert (run.skipped_count, run.skip_reasons) == (1, {"no title": 1})
    item = Item.objects.get(source=source, title__startswith="Storm Ashley")
    assert item.text == "Power cuts & travel disruption across Ireland and the UK."
    assert item.language_hint == "en"


def test_google_trends_keeps_approx_traffic(serve):
    source = SourceFactory(kind="rss", config={"urls": [serve("/trends", "google_trends_daily.xml")]})
    source_collect(source=source)
    traffic = dict(Item.objects.filter(source=source).values_list("title", "metrics__approx_traffic"))
    assert traffic == {"world series": 500_000, "northern lights": 2_000_000}


def test_rss_one_bad_feed_does_not_stop_the_others(serve):
    good = serve("/good", "rss2_bbc.xml")
    bad = serve("/bad", b"<html><body>Not a feed</body></html>", content_type="text/html")
    source = SourceFactory(kind="rss", config={"urls": [bad, good]})

    run = source_collect(source=source)

    assert (run.status, run.new_count) == ("success", 2)
    assert "/bad is not an RSS or Atom feed" in run.error
    assert "/bad is not an RSS or Atom feed" in source.health.__class__.objects.get(source=source).last_error


def test_youtube_most_popular(httpserver, serve):
    serve("/youtube/v3/videos", "youtube_most_popular.json")
    source = SourceFactory(
        kind="youtube", config={"api_key": "AIza-test", "base_url": f"{_base(httpserver)}/youtube/v3"}
    )

    run = source_collect(source=source)

    assert run.new_count == 2
    video = Item.objects.get(source=source, external_id="dQw4w9WgXcQ")
    assert video.metrics["views"] == 4821345 and video.language_hint == "en"
    args = httpserver.log[0][0].args
    assert (args["chart"], args["key"], args["regionCode"]) == ("mostPopular", "AIza-test", "US")


def test_youtube_without_a_key_fails_clearly():
    source = SourceFactory(kind="youtube", config={})
    run = source_collect(source=source)
    assert run.status == "failed" and "no YouTube API key" in run.error


def test_twitter_recent_search(httpserver, serve):
    httpserver.expect_request(
        "/2/tweets/search/recent", headers={"Authorization": "Bearer AAAA-token"}
    ).respond_with_data(fixture_bytes("twitter_recent_search.json"))
    source = SourceFactory(
        kind="twitter",
        config={"queries": ["openai"], "bearer_token": "AAAA-token", "base_url": f"{_base(httpserver)}/2"},
    )

    run = source_collect(source=source)

    assert run.new_count == 2, run.error
    tweet = Item.objects.get(source=source, external_id="1846530001234567890")
    assert tweet.author == "XDevelopers" and tweet.metrics["likes"] == 981
    assert tweet.url == "https://x.com/XDevelopers/status/1846530001234567890"


@needs_shared_file(UCI_DEV.name)
def test_file_uci_preset_imports_the_uci_csv(settings):
    settings.TRENDSITE_IMPORT_DIRS = [str(UCI_DEV.parent)]
    source = SourceFactory(kind="file", config={"path": str(UCI_DEV), "preset": "uci"})

    run = source_collect(source=source)

    assert (run.status, run.new_count, run.skipped_count) == ("success", 2844, 0)
    item = Item.objects.get(source=source, external_id="10")
    assert item.title == "ECB unlikely to end sterilisation of SMP purchases - traders"
    assert item.published_at.isoformat() == "2014-03-10T16:55:01.265000+00:00"
    assert item.metrics["story"] == "dPhGU51DcrolUIMxbRm0InaHGA2XM" and item.author == "Interactive Investor"


def test_file_custom_mapping_csv(settings):
    fixtures = FIXTURES
    settings.TRENDSITE_IMPORT_DIRS = [str(fixtures)]
    mapping = {"external_id": "id", "title": "headline", "url": "link", "text": "body", "published_at": "when"}
    source = SourceFactory(kind="file", config={"path": str(fixtures / "custom.csv"), "mapping": mapping})

    run = source_collect(source=source)

    assert (run.new_count, run.skip_reasons) == (1, {"no title": 1})
    assert Item.objects.get(source=source).text == "Count & recount"


def test_file_jsonl_with_a_malformed_line(settings):
    fixtures = FIXTURES
    settings.TRENDSITE_IMPORT_DIRS = [str(fixtures)]
    config = {
        "path": str(fixtures / "items.jsonl"),
        "format": "jsonl",
        "mapping": {"external_id": "id", "title": "headline", "published_at": "when"},
    }
    run = source_collect(source=SourceFactory(kind="file", config=config))
    assert (run.status, run.new_count, run.skipped_count) == ("success", 2, 1)


def test_file_source_refuses_paths_outside_the_import_dirs():
    source = SourceFactory(kind="file", config={"path": "/etc/passwd", "mapping": {"external_id": "a", "title": "b"}})
    run = source_collect(source=source)
    assert run.status == "failed" and "outside TRENDSITE_IMPORT_DIRS" in run.error


def test_replay_releases_items_over_time_with_current_timestamps():
    from datetime import timedelta

    from django.utils import timezone

    started = (timezone.now() - timedelta(minutes=5)).isoformat()
    config = {"path": "apps/plugins/demo/news-replay.csv", "duration_minutes": 10, "started_at": started}
    source = SourceFactory(kind="replay", config=config)

    first = source_collect(source=source)

    assert 0 < first.new_count < REPLAY_ROWS
    newest = Item.objects.filter(source=source).order_by("-published_at").first()
    assert timezone.now() - timedelta(minutes=1) < newest.published_at <= timezone.now()
    source.config["started_at"] = (timezone.now() - timedelta(minutes=11)).isoformat()
    source.save()
    assert source_collect(source=source).new_count == REPLAY_ROWS - first.new_count
    assert CollectionRun.objects.filter(source=source, status="success").count() == 2


def test_twitter_without_a_token_fails_saying_where_to_put_it(monkeypatch):
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    source = SourceFactory(kind="twitter", config={"queries": ["news"]})
    run = source_collect(source=source)
    assert run.status == "failed"
    assert "no X bearer token (config 'bearer_token' or TWITTER_BEARER_TOKEN)" in run.error
    assert "permanent" in run.error
