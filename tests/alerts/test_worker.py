"""End to end on a real Celery worker through Redis: beat's deliver task -> send tasks -> the webhook receiver."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.alerts.models import BatchEntry, Notification, Watchlist
from apps.alerts.tasks import alerts_deliver_task, watch_batches_flush_task
from apps.core.models import Event
from apps.core.services import event_emit
from tests.alerts.factories import ChannelFactory, RuleFactory, TrendFactory
from trendsite.celery import app


def _wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_deliver_task_on_a_worker_sends_and_retries_a_5xx_until_it_is_delivered(httpserver, settings):
    settings.ALERTS_RETRY_BASE_SECONDS = 0.5
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook").respond_with_data("", status=204)
    channel = ChannelFactory(kind="webhook", config={"url": httpserver.url_for("/hook"), "secret": "z" * 16})
    RuleFactory(channels=[channel])
    event_emit(kind=Event.Kind.TREND_CREATED, subject=TrendFactory(title="On a worker"))
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("alerts")

    with start_worker(app, pool="solo", perform_ping_check=False, queues=["alerts"], shutdown_timeout=10):
        alerts_deliver_task.delay()
        delivered = _wait_for(lambda: Notification.objects.filter(status="sent").exists())

    notification = Notification.objects.get()
    assert delivered, f"still {notification.status}: {notification.last_error}"
    assert notification.attempts == 2 and len(httpserver.log) == 2
    assert [a.ok for a in notification.attempt_log.all()] == [False, True]


@pytest.mark.django_db(transaction=True)
def test_watchlist_batch_on_a_worker_reaches_the_webhook_once(httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=204)
    ann = get_user_model().objects.create_user("ann", "ann@example.com", "pw-123456789")
    channel = ChannelFactory(
        user=ann, kind="webhook", config={"url": httpserver.url_for("/hook"), "secret": "z" * 16}, batch_minutes=5
    )
    watchlist = Watchlist.objects.create(user=ann, name="chips", keywords=["chip"])
    watchlist.channels.set([channel])
    for n in range(3):
        event_emit(kind=Event.Kind.TREND_CREATED, subject=TrendFactory(title=f"Chip story {n}"))
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("alerts")

    with start_worker(app, pool="solo", perform_ping_check=False, queues=["alerts"], shutdown_timeout=10):
        alerts_deliver_task.delay()
        assert _wait_for(lambda: BatchEntry.objects.count() == 3)
        BatchEntry.objects.update(created_at=timezone.now() - timedelta(minutes=6))  # the window is over
        for _ in range(3):  # beat ticking on: later flushes find nothing open
            watch_batches_flush_task.delay()
        delivered = _wait_for(lambda: Notification.objects.filter(status="sent").exists())
        time.sleep(1)

    assert delivered and Notification.objects.count() == 1
    [(request, _)] = httpserver.log
    assert request.get_json()["title"] == "3 new watchlist matches"
