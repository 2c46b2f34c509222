"""Batching channels: a window of matches leaves as one message, exactly once per match, whatever dies."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.alerts.batching import batches_flush
from apps.alerts.models import BatchEntry, Notification, Watchlist
from apps.alerts.services import alerts_dispatch, notification_send, notifications_due
from apps.alerts.tasks import notification_send_task
from apps.core.models import Event
from apps.core.services import event_emit
from tests.alerts.conftest import parts
from tests.alerts.factories import ChannelFactory, TrendFactory

pytestmark = pytest.mark.django_db
LATER = timedelta(minutes=6)


@pytest.fixture
def ann():
    return get_user_model().objects.create_user("ann", "ann@example.com", "pw-123456789")


def _matching_trends(user, channel, count):
    watchlist = Watchlist.objects.create(user=user, name="chips", keywords=["chip"])
    watchlist.channels.set([channel])
    for n in range(count):
        trend = TrendFactory(title=f"Chip story {n}", score=6.0)
        event_emit(kind=Event.Kind.TREND_STATE_CHANGED, subject=trend, payload={"from": "emerging", "to": "viral"})
    while alerts_dispatch(enqueue=False).events:
        pass


def _send_all(ids):
    for notification_id in ids:
        notification_send(notification_id=notification_id)


def test_200_matches_in_one_window_arrive_as_one_email_and_three_more_passes_add_nothing(ann, smtp_server):
    channel = ChannelFactory(user=ann, kind="email", config={"to": ["ann@example.com"]}, batch_minutes=5)
    _matching_trends(ann, channel, 200)
    assert not Notification.objects.filter(channel=channel).exists()  # batched: nothing on its own
    assert batches_flush(enqueue=False).notification_ids == []  # the window is still open

    flushed = batches_flush(now=timezone.now() + LATER, enqueue=False)
    _send_all(flushed.notification_ids)
    for _ in range(3):
        again = batches_flush(now=timezone.now() + LATER, enqueue=False)
        _send_all(again.notification_ids + notifications_due(now=timezone.now() + LATER))

    [received] = smtp_server
    text = parts(received)["text/plain"]
    assert flushed.entries == 200 and len(flushed.notification_ids) == 1
    assert received["Subject"] == "[trendsite] 200 new watchlist matches"
    assert all(f"• Chip story {n} (viral, 6.00) — chips" in text for n in range(200))


def test_batch_to_slack_is_one_post_listing_the_matches(ann, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    channel = ChannelFactory(
        user=ann, kind="slack", config={"webhook_url": httpserver.url_for("/hook")}, batch_minutes=5
    )
    _matching_trends(ann, channel, 3)
    _send_all(batches_flush(now=timezone.now() + LATER, enqueue=False).notification_ids)
    [(request, _)] = httpserver.log
    body = request.get_json()
    assert body["text"] == "[INFO] 3 new watchlist matches"
    assert "Chip story 2 (viral, 6.00)" in str(body["attachments"])


def test_worker_dying_inside_the_flush_leaves_the_entries_for_the_next_one(ann, smtp_server):
    channel = ChannelFactory(user=ann, kind="email", config={"to": ["ann@example.com"]}, batch_minutes=5)
    _matching_trends(ann, channel, 4)

    class Killed(Exception):
        pass

    with pytest.raises(Killed), transaction.atomic():
        batches_flush(now=timezone.now() + LATER, enqueue=False)
        raise Killed  # the process dies before the flush commits
    assert BatchEntry.objects.filter(notification__isnull=True).count() == 4

    _send_all(batches_flush(now=timezone.now() + LATER, enqueue=False).notification_ids)
    [received] = smtp_server
    assert received["Subject"] == "[trendsite] 4 new watchlist matches"


def test_crash_between_claim_and_send_is_sent_once_by_rerunning_the_task(ann, smtp_server):
    channel = ChannelFactory(user=ann, kind="email", config={"to": ["ann@example.com"]}, batch_minutes=5)
    _matching_trends(ann, channel, 5)
    [batch_id] = batches_flush(now=timezone.now() + LATER, enqueue=False).notification_ids  # claimed, not sent

    # The worker claimed the send and died before the transport ran: the row stays "sending" with its lease.
    Notification.objects.filter(pk=batch_id).update(
        status=Notification.Status.SENDING, claimed_at=timezone.now() - timedelta(hours=1), attempts=1
    )
    assert notifications_due() == [batch_id]  # the lease expired: the deliver beat re-queues it
    notification_send_task.apply(args=[batch_id])
    notification_send_task.apply(args=[batch_id])  # the task again (a duplicate message): nothing more
    assert batches_flush(now=timezone.now() + LATER, enqueue=False).notification_ids == []

    [received] = smtp_server
    assert received["Subject"] == "[trendsite] 5 new watchlist matches"
    assert Notification.objects.get(pk=batch_id).status == Notification.Status.SENT
    assert BatchEntry.objects.filter(notification_id=batch_id).count() == 5
