"""End to end on a real Celery worker through Redis: beat's deliver task -> send tasks -> the webhook receiver."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from apps.alerts.models import Notification
from apps.alerts.tasks import alerts_deliver_task
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
