"""The sources console: list with health, filters, config validation, actions."""

import pytest
import redis
from django.conf import settings
from django.urls import reverse

from apps.plugins.models import PluginHealth, Source
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
    assert "Runs of the last 3 days" in page and "success" in page


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
