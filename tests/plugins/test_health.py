"""Health with hysteresis, plugin.failed / plugin.recovered events, backoff that resumes by itself."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import Event
from apps.plugins.models import CollectionRun, PluginHealth
from apps.plugins.services import source_backoff, source_collect, source_health_reset
from apps.trends.models import Item
from tests.plugins.conftest import fixture_bytes
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db


def _collect_now(source):
    """Collect as the schedule would once the backoff has passed."""
    source.refresh_from_db()
    source.next_fetch_after = None
    return source_collect(source=source)


def test_unhealthy_after_three_failures_then_recovered_on_first_success(httpserver):
    for _ in range(3):
        httpserver.expect_ordered_request("/feed").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/feed").respond_with_data(fixture_bytes("rss2_bbc.xml"))
    source = SourceFactory(kind="rss", config={"urls": [httpserver.url_for("/feed")]})

    states = []
    for _ in range(4):
        run = _collect_now(source)
        health = PluginHealth.objects.get(source=source)
        states.append((run.status, health.is_healthy, health.consecutive_failures))

    assert states == [
        ("failed", True, 1),
        ("failed", True, 2),
        ("failed", False, 3),
        ("success", True, 0),
    ]
    assert list(Event.objects.filter(subject_id=source.pk).values_list("kind", flat=True)) == [
        "plugin.failed",
        "plugin.recovered",
    ]
    failed = Event.objects.get(kind="plugin.failed")
    assert failed.subject_type == "plugins.source" and "HTTP 500" in failed.payload["error"]
    health = PluginHealth.objects.get(source=source)
    assert (health.total_runs, health.total_failures, health.success_rate) == (4, 3, 0.25)
    assert health.last_error == "" and health.avg_duration_ms > 0
    assert Item.objects.filter(source=source).count() == 2


def test_500s_back_off_exponentially_and_resume_by_themselves(httpserver):
    httpserver.expect_request("/feed").respond_with_data("boom", status=500)
    source = SourceFactory(kind="rss", poll_interval=600, config={"urls": [httpserver.url_for("/feed")]})
    delays = []
    for _ in range(4):
        started = timezone.now()
        _collect_now(source)
        source.refresh_from_db()
        delays.append((source.next_fetch_after - started).total_seconds())
    # 600 s doubling, ±20 % jitter.
    for failures, delay in enumerate(delays, start=1):
        expected = 600 * 2 ** (failures - 1)
        assert 0.79 * expected <= delay <= 1.21 * expected
    assert source_collect(source=source).status == CollectionRun.Status.SKIPPED
    httpserver.clear()
    httpserver.expect_request("/feed").respond_with_data(fixture_bytes("atom_github.xml"))
    source.next_fetch_after = timezone.now() - timedelta(seconds=1)  # the backoff has passed
    assert source_collect(source=source).status == "success"
    source.refresh_from_db()
    assert source.next_fetch_after is None


def test_backoff_is_capped_at_24_hours():
    assert source_backoff(poll_interval=3600, consecutive_failures=30) <= timedelta(hours=24)


def test_threshold_comes_from_settings(httpserver, settings):
    settings.TRENDSITE_SOURCE_FAILURE_THRESHOLD = 1
    httpserver.expect_request("/feed").respond_with_data("", status=503)
    source = SourceFactory(kind="rss", config={"urls": [httpserver.url_for("/feed")]})
    _collect_now(source)
    assert not PluginHealth.objects.get(source=source).is_healthy
    assert Event.objects.filter(kind="plugin.failed").count() == 1


def test_reset_health_makes_the_source_fetchable_and_tells(httpserver, settings):
    settings.TRENDSITE_SOURCE_FAILURE_THRESHOLD = 1
    httpserver.expect_request("/feed").respond_with_data("", status=500)
    source = SourceFactory(kind="rss", config={"urls": [httpserver.url_for("/feed")]})
    _collect_now(source)
    source.refresh_from_db()
    source_health_reset(source=source)
    source.refresh_from_db()
    health = PluginHealth.objects.get(source=source)
    assert health.is_healthy and health.consecutive_failures == 0 and source.next_fetch_after is None
    assert Event.objects.filter(kind="plugin.recovered").count() == 1


def test_a_crashing_collector_fails_its_run_not_the_caller(httpserver):
    # A config dict where a list belongs, written past validation: the collector raises a TypeError.
    source = SourceFactory(kind="file", config={"path": "x.csv", "preset": "uci"})
    type(source).objects.filter(pk=source.pk).update(kind="nonexistent")
    source.refresh_from_db()
    run = source_collect(source=source)
    assert run.status == "failed" and "unknown source kind" in run.error


def test_run_lost_with_its_worker_is_failed_when_the_next_collection_starts(httpserver, settings):
    settings.CELERY_TASK_TIME_LIMIT = 600
    httpserver.expect_request("/feed").respond_with_data(fixture_bytes("rss2_bbc.xml"))
    source = SourceFactory(kind="rss", config={"urls": [httpserver.url_for("/feed")]})
    now = timezone.now()
    lost = CollectionRun.objects.create(source=source, started_at=now - timedelta(seconds=601), trigger="schedule")
    alive = CollectionRun.objects.create(source=source, started_at=now - timedelta(seconds=30), trigger="schedule")

    run = source_collect(source=source)

    lost.refresh_from_db()
    alive.refresh_from_db()
    assert (lost.status, lost.error) == ("failed", "worker lost: run did not finish within 600 s")
    assert lost.finished_at is not None and alive.status == "running"
    assert run.status == "success"  # the lost run's backoff does not skip the collection that found it
    health = PluginHealth.objects.get(source=source)
    assert (health.total_runs, health.total_failures, health.consecutive_failures) == (2, 1, 0)
    assert health.success_rate == 0.5


def test_lost_runs_count_towards_unhealthy(settings):
    settings.CELERY_TASK_TIME_LIMIT = 600
    source = SourceFactory(next_fetch_after=timezone.now() + timedelta(hours=1))
    started = timezone.now() - timedelta(hours=2)
    for minutes in range(3):
        CollectionRun.objects.create(source=source, started_at=started + timedelta(minutes=minutes))

    assert source_collect(source=source).status == "skipped"  # still backed off, but the lost runs are failed

    health = PluginHealth.objects.get(source=source)
    assert (health.is_healthy, health.consecutive_failures, health.total_failures) == (False, 3, 3)
    assert "worker lost" in health.last_error and health.avg_duration_ms == 0
    assert Event.objects.filter(kind="plugin.failed", subject_id=source.pk).count() == 1
    assert not CollectionRun.objects.filter(source=source, status="running").exists()
    assert source_collect(source=source).status == "skipped"
    assert PluginHealth.objects.get(source=source).total_failures == 3  # failed once, not again
