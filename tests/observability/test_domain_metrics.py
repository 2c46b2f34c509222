"""The trendsite_* figures on /metrics say what happened: counters from collections, deliveries, pipeline runs
and tasks; gauges read from the database at scrape time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts.models import Notification
from apps.alerts.services import alerts_dispatch, notification_send
from apps.core.models import Event
from apps.core.services import event_emit
from apps.plugins.services import source_collect
from apps.trends.models import Item, PipelineRun, Topic, Trend
from tests.alerts.factories import ChannelFactory, RuleFactory, TrendFactory
from tests.observability.scrape import value
from tests.plugins.conftest import fixture_bytes
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db


def test_items_collected_count_new_items_per_source_and_kind(httpserver, metrics_text):
    httpserver.expect_request("/feed").respond_with_data(fixture_bytes("rss2_bbc.xml"))
    source = SourceFactory(name="bbc", kind="rss", config={"urls": [httpserver.url_for("/feed")]})
    before = value(metrics_text(), "trendsite_items_collected_total", source="bbc", kind="rss")

    run = source_collect(source=source)

    assert run.new_count > 0
    after = metrics_text()
    assert value(after, "trendsite_items_collected_total", source="bbc", kind="rss") - before == run.new_count
    assert value(after, "trendsite_source_consecutive_failures", source="bbc", kind="rss") == 0
    assert value(after, "trendsite_source_healthy", source="bbc", kind="rss") == 1


def test_collect_failures_by_kind_of_failure_and_the_streak_gauge(httpserver, metrics_text):
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    flaky = SourceFactory(name="flaky", config={"urls": [httpserver.url_for("/down")]})
    gone = SourceFactory(name="gone", config={"urls": [httpserver.url_for("/gone")]})
    text = metrics_text()
    temporary = value(text, "trendsite_collect_failures_total", kind="rss", failure="temporary")
    permanent = value(text, "trendsite_collect_failures_total", kind="rss", failure="permanent")

    source_collect(source=flaky, force=True)
    source_collect(source=flaky, force=True)
    source_collect(source=gone, force=True)

    text = metrics_text()
    assert value(text, "trendsite_collect_failures_total", kind="rss", failure="temporary") - temporary == 2
    assert value(text, "trendsite_collect_failures_total", kind="rss", failure="permanent") - permanent == 1
    assert value(text, "trendsite_source_consecutive_failures", source="flaky", kind="rss") == 2
    assert value(text, "trendsite_source_healthy", source="gone", kind="rss") == 0


def test_alerts_sent_failed_and_suppressed_per_channel_kind(httpserver, metrics_text):
    httpserver.expect_request("/hook").respond_with_data("no", status=400)
    console = ChannelFactory(kind="console")
    hook = ChannelFactory(kind="webhook", config={"url": httpserver.url_for("/hook"), "secret": "s" * 20})
    RuleFactory(channels=[console, hook], cooldown_minutes=60)
    trend = TrendFactory()
    text = metrics_text()
    counts = {
        "sent": value(text, "trendsite_alerts_sent_total", kind="console"),
        "failed": value(text, "trendsite_alerts_failed_total", kind="webhook"),
        "suppressed": value(text, "trendsite_alerts_suppressed_total", kind="console", reason="cooldown"),
    }

    for previous in ("emerging", "sustained"):  # the second event falls in the rule's cooldown
        event_emit(kind=Event.Kind.TREND_STATE_CHANGED, subject=trend, payload={"from": previous, "to": "viral"})
        result = alerts_dispatch(enqueue=False)
        for notification_id in result.pending_ids:
            notification_send(notification_id=notification_id)

    assert Notification.objects.filter(status="sent").count() == 1
    text = metrics_text()
    assert value(text, "trendsite_alerts_sent_total", kind="console") - counts["sent"] == 1
    assert value(text, "trendsite_alerts_failed_total", kind="webhook") - counts["failed"] == 1
    suppressed = value(text, "trendsite_alerts_suppressed_total", kind="console", reason="cooldown")
    assert suppressed - counts["suppressed"] == 1


def test_pipeline_run_duration_observed_once_when_the_run_finishes(metrics_text):
    name = "trendsite_pipeline_run_duration_seconds_count"
    before = value(metrics_text(), name, workflow="full", status="success")
    items_before = value(metrics_text(), "trendsite_pipeline_items_processed_total", workflow="full")
    started = timezone.now() - timedelta(seconds=40)
    run = PipelineRun.objects.create(workflow="full", started_at=started)
    run.status, run.finished_at, run.item_count = PipelineRun.Status.SUCCESS, started + timedelta(seconds=20), 100
    run.save(update_fields=["status", "finished_at", "item_count"])
    run.save()  # a later save (the admin) is not a second finish

    text = metrics_text()
    assert value(text, name, workflow="full", status="success") - before == 1
    assert value(text, "trendsite_pipeline_items_processed_total", workflow="full") - items_before == 100
    assert value(text, "trendsite_pipeline_items_per_second") == pytest.approx(5.0)
    assert value(text, "trendsite_pipeline_last_success_timestamp_seconds") == pytest.approx(
        run.finished_at.timestamp()
    )


def test_pipeline_lag_is_the_age_of_the_oldest_unprocessed_item(metrics_text):
    source = SourceFactory()
    now = timezone.now()
    Item.objects.create(source=source, external_id="old", title="Old", collected_at=now - timedelta(minutes=10))
    Item.objects.create(source=source, external_id="new", title="New", collected_at=now)
    Item.objects.create(
        source=source, external_id="done", title="Done", collected_at=now - timedelta(hours=5), processed_at=now
    )

    text = metrics_text()
    assert 600 <= value(text, "trendsite_pipeline_lag_seconds") < 660
    assert value(text, "trendsite_pipeline_backlog_items") == 2


def test_topics_and_trends_by_state(metrics_text):
    for state in ("viral", "viral", "declining"):
        Trend.objects.create(topic=Topic.objects.create(), title=state, state=state)
    Topic.objects.create(is_active=False)

    text = metrics_text()
    assert value(text, "trendsite_trends", state="viral") == 2
    assert value(text, "trendsite_trends", state="declining") == 1
    assert value(text, "trendsite_trends", state="dead") == 0
    assert value(text, "trendsite_topics", state="active") == 3
    assert value(text, "trendsite_topics", state="inactive") == 1


def test_queue_length_and_oldest_waiting_task(metrics_text):
    from trendsite.celery import app, ping

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("maintenance")
    ping.apply_async(queue="maintenance")
    ping.apply_async(queue="maintenance")

    text = metrics_text()
    assert value(text, "trendsite_queue_length", queue="maintenance") == 2
    assert 0 <= value(text, "trendsite_queue_oldest_task_age_seconds", queue="maintenance") < 60
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("maintenance")


def test_task_outcomes_by_name(metrics_text):
    from trendsite.celery import ping

    before = value(metrics_text(), "trendsite_tasks_total", task="trendsite.ping", outcome="success")
    ping.apply()
    ping.apply()
    assert value(metrics_text(), "trendsite_tasks_total", task="trendsite.ping", outcome="success") - before == 2


def test_state_figures_are_reused_within_the_cache_window(client, settings):
    settings.METRICS_TOKEN = "t"
    settings.METRICS_STATE_CACHE_SECONDS = 0
    client.get("/metrics", HTTP_AUTHORIZATION="Bearer t")  # starts a fresh window
    settings.METRICS_STATE_CACHE_SECONDS = 60
    first = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    Trend.objects.create(topic=Topic.objects.create(), title="late", state="viral")
    second = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    assert value(second, "trendsite_trends", state="viral") == value(first, "trendsite_trends", state="viral")
    settings.METRICS_STATE_CACHE_SECONDS = 0
    third = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    assert value(third, "trendsite_trends", state="viral") == value(first, "trendsite_trends", state="viral") + 1
