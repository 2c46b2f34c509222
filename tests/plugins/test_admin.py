"""The sources console: list with health, filters, config validation, actions."""

import json
import re
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from apps.plugins.config_secrets import MASK
from apps.plugins.models import CollectionRun, FeedState, PluginHealth, Source
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:plugins_source_changelist"


def test_changelist_shows_health_and_filters_unhealthy(admin_client):
    healthy = SourceFactory(name="fine")
    sick = SourceFactory(name="sick")
    PluginHealth.objects.filter(source=healthy).update(total_runs=4)
    PluginHealth.objects.filter(source=sick).update(
        is_healthy=False,
        consecutive_failures=3,
        total_runs=4,
        total_failures=3,
        success_rate=0.25,
        last_error="HTTP 500 Internal Server Error from https://example.com/feed",
    )
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "unhealthy" in page and "healthy" in page and "25%" in page and "HTTP 500 Internal" in page

    filtered = admin_client.get(reverse(CHANGELIST), {"health": "unhealthy"}).content.decode()
    assert ">sick<" in filtered and ">fine<" not in filtered


def test_change_page_lists_recent_runs(admin_client, serve):
    from apps.plugins.services import source_collect

    source = SourceFactory(config={"urls": [serve("/feed", "rss2_bbc.xml")]})
    source_collect(source=source)
    page = admin_client.get(reverse("admin:plugins_source_change", args=[source.pk])).content.decode()
    assert "Last 20 runs" in page and "success" in page


def test_change_page_lists_the_last_20_runs_and_links_to_all(admin_client):
    source = SourceFactory()
    other = SourceFactory()
    start = timezone.now() - timedelta(days=30)
    CollectionRun.objects.bulk_create(
        CollectionRun(source=s, started_at=start + timedelta(minutes=k), status="success", error=f"run-{k:03d}-mark")
        for k in range(60)
        for s in (source, other)
    )
    page = admin_client.get(reverse("admin:plugins_source_change", args=[source.pk])).content.decode()
    shown = sorted(set(re.findall(r"run-(\d{3})-mark", page)))
    assert shown == [f"{k:03d}" for k in range(40, 60)]
    assert "All 60 runs" in page
    link = reverse("admin:plugins_collectionrun_changelist") + f"?source__id__exact={source.pk}"
    assert link in page.replace("&amp;", "&")
    runs = admin_client.get(link)
    assert runs.status_code == 200 and "60 collection runs" in runs.content.decode()


def test_config_is_validated_with_the_same_rules(admin_client):
    response = admin_client.post(
        reverse("admin:plugins_source_add"),
        {
            "name": "hn",
            "kind": "hackernews",
            "config": '{"max_items": 5000}',
            "enabled": "on",
            "poll_interval": 900,
            "runs-TOTAL_FORMS": 0,
            "runs-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "Source &#x27;hn&#x27; config: &#x27;max_items&#x27; must be 1–500, got 5000" in response.content.decode()
    assert not Source.objects.filter(name="hn").exists()


def test_actions_disable_enable_reset_and_collect_now(admin_client, django_capture_on_commit_callbacks):
    source = SourceFactory(name="act")
    PluginHealth.objects.filter(source=source).update(is_healthy=False, consecutive_failures=5)
    url = reverse(CHANGELIST)

    admin_client.post(url, {"action": "disable", "_selected_action": [source.pk]})
    source.refresh_from_db()
    assert not source.enabled and not source.periodic_task.enabled

    admin_client.post(url, {"action": "enable", "_selected_action": [source.pk]})
    admin_client.post(url, {"action": "reset_health", "_selected_action": [source.pk]})
    source.refresh_from_db()
    assert source.enabled and PluginHealth.objects.get(source=source).is_healthy

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    before = broker.llen("collect")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"action": "collect_now", "_selected_action": [source.pk]}, follow=True)
    assert "Queued 1 source(s)" in response.content.decode()
    assert broker.llen("collect") == before + 1
    broker.delete("collect")


def _change_form_data(source, config):
    return {
        "name": source.name,
        "kind": source.kind,
        "config": json.dumps(config),
        "enabled": "on",
        "poll_interval": source.poll_interval,
        "runs-TOTAL_FORMS": 0,
        "runs-INITIAL_FORMS": 0,
    }


def test_change_form_masks_credentials_and_keeps_them_when_the_mask_comes_back(admin_client):
    source = SourceFactory(
        name="reddit",
        kind="reddit",
        config={"subreddits": ["news"], "client_id": "cid-1", "client_secret": "s3cr3t-value"},
    )
    url = reverse("admin:plugins_source_change", args=[source.pk])

    page = admin_client.get(url).content.decode()
    assert "s3cr3t-value" not in page and MASK in page and "cid-1" in page

    form_config = {"subreddits": ["news", "worldnews"], "client_id": "cid-1", "client_secret": MASK}
    response = admin_client.post(url, _change_form_data(source, form_config))
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.config["client_secret"] == "s3cr3t-value" and source.config["subreddits"] == ["news", "worldnews"]

    admin_client.post(url, _change_form_data(source, {**form_config, "client_secret": "rotated"}))
    source.refresh_from_db()
    assert source.config["client_secret"] == "rotated"


def test_the_mask_without_a_stored_credential_is_refused(admin_client):
    source = SourceFactory(name="yt", kind="youtube", config={})
    url = reverse("admin:plugins_source_change", args=[source.pk])
    response = admin_client.post(url, _change_form_data(source, {"api_key": MASK}))
    assert response.status_code == 200
    assert "&#x27;api_key&#x27; shows the mask ******** but no value is stored" in response.content.decode()
    source.refresh_from_db()
    assert source.config == {}


def test_view_only_operators_see_credentials_masked(client, django_user_model):
    source = SourceFactory(name="x", kind="twitter", config={"queries": ["ai"], "bearer_token": "AAAA-bearer"})
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_source"))
    client.force_login(viewer)
    page = client.get(reverse("admin:plugins_source_change", args=[source.pk])).content.decode()
    assert "AAAA-bearer" not in page and MASK in page and "&quot;queries&quot;" in page


def test_credentials_in_error_messages_are_masked(httpserver):
    from apps.plugins.services import source_collect

    httpserver.expect_request("/youtube/v3/videos").respond_with_data("denied", status=403)
    source = SourceFactory(
        kind="youtube", config={"api_key": "AIza-leaky-key", "base_url": httpserver.url_for("/youtube/v3")}
    )
    run = source_collect(source=source)
    assert run.status == "failed" and "HTTP 403" in run.error
    assert "AIza-leaky-key" not in run.error and "key=********" in run.error
    assert "AIza-leaky-key" not in PluginHealth.objects.get(source=source).last_error


def _runs(source, statuses):
    start = timezone.now() - timedelta(hours=len(statuses))
    CollectionRun.objects.bulk_create(
        CollectionRun(source=source, started_at=start + timedelta(hours=i), finished_at=start, status=status)
        for i, status in enumerate(statuses)
    )


def _sources_with_runs(count):
    for n in range(count):
        source = SourceFactory(name=f"src-{n:03d}")
        _runs(source, ["success", "failed", "not_modified"] * 9)  # 27 runs, 20 drawn


def test_changelist_draws_badges_and_run_sparklines(admin_client):
    healthy, failing, sick = SourceFactory(name="a-ok"), SourceFactory(name="b-failing"), SourceFactory(name="c-sick")
    off = SourceFactory(name="d-off", enabled=False)
    PluginHealth.objects.filter(source__in=[healthy, off]).update(total_runs=3)
    PluginHealth.objects.filter(source=failing).update(total_runs=3, consecutive_failures=1)
    PluginHealth.objects.filter(source=sick).update(total_runs=3, consecutive_failures=3, is_healthy=False)
    _runs(healthy, ["success"] * 25)
    _runs(failing, ["success", "failed"])
    _runs(sick, ["failed", "failed", "failed"])

    page = admin_client.get(reverse(CHANGELIST)).content.decode()

    for colour, label in [("#15803d", "healthy"), ("#b45309", "failing (1)"), ("#b91c1c", "unhealthy")]:
        assert f'background:{colour};color:#fff;font-weight:600;white-space:nowrap">{label}</span>' in page
    assert 'background:#6b7280;color:#fff;font-weight:600;white-space:nowrap">disabled</span>' in page
    assert page.count('class="runs-sparkline"') == 3 and "no runs" in page
    assert 'aria-label="last 20 runs, 0 failed"' in page and 'aria-label="last 3 runs, 3 failed"' in page
    assert page.count('fill="#b91c1c"><title>') == 4


def test_change_page_draws_the_run_sparkline(admin_client):
    source = SourceFactory(name="one")
    _runs(source, ["success", "failed"])
    page = admin_client.get(reverse("admin:plugins_source_change", args=[source.pk])).content.decode()
    assert 'aria-label="last 2 runs, 1 failed"' in page


@pytest.mark.parametrize("sources", [3, 40])
def test_changelist_queries_do_not_grow_with_sources(admin_client, django_assert_max_num_queries, sources):
    _sources_with_runs(sources)
    admin_client.get(reverse(CHANGELIST))  # warm the session and content types
    with django_assert_max_num_queries(8):
        page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert page.count('class="runs-sparkline"') == sources


def test_credentials_from_the_environment_are_masked_in_errors_too(httpserver, monkeypatch):
    from apps.plugins.services import source_collect

    monkeypatch.setenv("YOUTUBE_API_KEY", "AIza-env-key")
    httpserver.expect_request("/youtube/v3/videos").respond_with_data("denied", status=403)
    source = SourceFactory(kind="youtube", config={"base_url": httpserver.url_for("/youtube/v3")})
    run = source_collect(source=source)
    assert run.status == "failed" and "AIza-env-key" not in run.error and "key=********" in run.error


def test_feed_urls_of_an_rss_source_show_which_fail_and_why(admin_client):
    source = SourceFactory(kind="rss", config={"urls": ["https://a.example/feed", "https://b.example/feed"]})
    now = timezone.now()
    FeedState.objects.create(source=source, url="https://a.example/feed", last_status="ok", last_fetched_at=now)
    FeedState.objects.create(
        source=source,
        url="https://b.example/feed",
        last_status="failed",
        last_error="HTTP 404 from https://b.example/feed <script>alert(1)</script>",
        last_fetched_at=now,
    )
    page = admin_client.get(reverse("admin:plugins_source_change", args=[source.pk])).content.decode()
    assert "2 URLs" in page and "1 failing" in page
    feeds = reverse("admin:plugins_feedstate_changelist")
    failing = f"{feeds}?source__id__exact={source.pk}&last_status__exact=failed"
    assert failing in page.replace("&amp;", "&")
    listed = admin_client.get(failing).content.decode()
    assert "https://b.example/feed" in listed and "https://a.example/feed" not in listed
    assert "HTTP 404" in listed and "<script>alert(1)" not in listed
    assert admin_client.get(reverse("admin:plugins_feedstate_add")).status_code == 403


def test_the_form_refuses_a_new_base_url_while_the_key_shows_the_mask(admin_client):
    source = SourceFactory(name="yt", kind="youtube", config={"api_key": "AIza-very-secret"})
    url = reverse("admin:plugins_source_change", args=[source.pk])
    form = {"name": "yt", "kind": "youtube", "enabled": "on", "poll_interval": 900}
    form |= {"runs-TOTAL_FORMS": 0, "runs-INITIAL_FORMS": 0}
    moved = json.dumps({"api_key": MASK, "base_url": "https://evil.example/youtube/v3"})
    page = admin_client.post(url, {**form, "config": moved}).content.decode()
    assert "re-enter api_key: the destination changed" in page
    source.refresh_from_db()
    assert source.config == {"api_key": "AIza-very-secret"}


def test_feed_urls_and_their_errors_show_masked_in_the_console(admin_client, httpserver, serve):
    from apps.plugins.services import source_collect

    good = serve("/good", "rss2_bbc.xml")
    httpserver.expect_request("/private.xml").respond_with_data("", status=500)
    secret_url = httpserver.url_for("/private.xml").replace("http://", "http://reader:hunter2@") + "?token=tok-123456"
    source = SourceFactory(name="priv", config={"urls": [good, secret_url]})

    run = source_collect(source=source)
    source.health.refresh_from_db()
    failing = FeedState.objects.get(last_status="failed")
    for text in (run.error, source.health.last_error, json.dumps(run.details), failing.last_error):
        assert "hunter2" not in text and "tok-123456" not in text
    assert f"token={MASK}" in run.error
    assert failing.url == secret_url  # kept as configured: conditional GETs match on it
    pages = [
        admin_client.get(reverse("admin:plugins_feedstate_changelist")),
        admin_client.get(reverse("admin:plugins_feedstate_change", args=[failing.pk])),
        admin_client.get(reverse("admin:plugins_collectionrun_change", args=[run.pk])),
        admin_client.get(reverse("admin:plugins_source_change", args=[source.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        assert b"hunter2" not in page.content and b"tok-123456" not in page.content
