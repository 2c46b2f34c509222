"""Events become notifications exactly once; sends are claimed; cooldowns and storms are recorded, not sent."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from apps.alerts.models import Notification
from apps.alerts.services import alerts_dispatch, notification_send, notifications_due, storm_summaries_write
from apps.core.models import Event
from apps.core.services import event_emit
from tests.alerts.factories import ChannelFactory, RuleFactory, TrendFactory


def _viral(trend, previous="emerging"):
    return event_emit(
        kind=Event.Kind.TREND_STATE_CHANGED, subject=trend, payload={"from": previous, "to": "viral", "score": 8.0}
    )


@pytest.mark.django_db
def test_one_notification_per_rule_and_channel_with_a_readable_dedup_key():
    email, slack = ChannelFactory(), ChannelFactory()
    rule = RuleFactory(event_kinds=["trend.state_changed"], states=["viral"], channels=[email, slack])
    trend = TrendFactory(title="Chip export ban")
    event = _viral(trend)

    result = alerts_dispatch(enqueue=False)

    rows = list(Notification.objects.order_by("channel_id"))
    assert result.events == 1 and result.created == {"pending": 2}
    assert [n.channel for n in rows] == [email, slack]
    assert rows[0].dedup_key == f"rule:{rule.pk}:trends.trend:{trend.pk}:viral:event:{event.pk}"
    assert rows[0].message["title"] == "Chip export ban"
    assert rows[0].message["link"].endswith(f"/admin/trends/trend/{trend.pk}/change/")
    assert ("Change", "emerging → viral") in [tuple(f) for f in rows[0].message["fields"]]
    assert alerts_dispatch(enqueue=False).events == 0


@pytest.mark.django_db
def test_channel_min_severity_filters_out_milder_rules():
    pager = ChannelFactory(min_severity="error")
    RuleFactory(severity="warning", channels=[pager])
    RuleFactory(severity="critical", channels=[pager])
    _viral(TrendFactory())
    alerts_dispatch(enqueue=False)
    assert list(Notification.objects.values_list("severity", flat=True)) == ["critical"]


@pytest.mark.django_db
def test_pending_notifications_are_enqueued_on_commit_on_queue_alerts(django_capture_on_commit_callbacks):
    from trendsite.celery import app

    RuleFactory(channels=[ChannelFactory()])
    _viral(TrendFactory())
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("alerts")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = alerts_dispatch(enqueue=True)
    with app.connection_for_write() as conn:
        assert conn.default_channel.client.llen("alerts") == 0  # nothing before commit
    for callback in callbacks:
        callback()
    with app.connection_for_write() as conn:
        assert conn.default_channel.client.llen("alerts") == len(result.pending_ids) == 1
        conn.default_channel.queue_purge("alerts")


@pytest.mark.django_db(transaction=True)
def test_an_event_claimed_by_two_workers_at_once_is_handled_once():
    RuleFactory(channels=[ChannelFactory(), ChannelFactory()])
    trends = [TrendFactory() for _ in range(30)]
    for trend in trends:
        _viral(trend)
    barrier, results = threading.Barrier(2), []

    def worker():
        barrier.wait()
        while (result := alerts_dispatch(limit=4, enqueue=False)).events:
            results.append(result.events)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(results) == 30
    assert Notification.objects.count() == 60
    assert Notification.objects.values("event_id").distinct().count() == 30


@pytest.mark.django_db(transaction=True)
def test_two_sends_of_one_notification_race_and_it_goes_out_once(httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    channel = ChannelFactory(kind="webhook", config={"url": httpserver.url_for("/hook"), "secret": "y" * 16})
    RuleFactory(channels=[channel])
    _viral(TrendFactory())
    [notification_id] = alerts_dispatch(enqueue=False).pending_ids
    barrier, outcomes = threading.Barrier(4), []

    def worker():
        barrier.wait()
        outcomes.append(notification_send(notification_id=notification_id).status)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert len(httpserver.log) == 1


@pytest.mark.django_db
def test_a_worker_dying_before_commit_leaves_the_event_unclaimed():
    RuleFactory(channels=[ChannelFactory()])
    _viral(TrendFactory())
    with pytest.raises(RuntimeError), transaction.atomic():
        alerts_dispatch(enqueue=False)
        raise RuntimeError("worker killed before commit")
    assert not Notification.objects.exists()
    assert Event.objects.filter(processed_at__isnull=True).count() == 1
    assert alerts_dispatch(enqueue=False).created == {"pending": 1}


@pytest.mark.django_db
def test_a_worker_killed_between_claim_and_send_loses_nothing(settings, capsys):
    channel = ChannelFactory(name="dev")
    RuleFactory(channels=[channel])
    _viral(TrendFactory(title="Lost and found"))
    [notification_id] = alerts_dispatch(enqueue=False).pending_ids  # committed; its send task never runs
    # A second one was claimed for sending by a worker that died mid-send: its lease runs out.
    _viral(TrendFactory(title="Half sent"))
    [claimed_id] = alerts_dispatch(enqueue=False).pending_ids
    from django.utils import timezone

    Notification.objects.filter(pk=claimed_id).update(
        status="sending",
        claimed_at=timezone.now() - timezone.timedelta(seconds=settings.ALERTS_SENDING_LEASE_SECONDS + 1),
    )

    assert notifications_due() == [notification_id, claimed_id]
    out = StringIO()
    call_command("deliver_alerts", stdout=out)

    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert "2 sent" in out.getvalue()
    printed = capsys.readouterr().out
    assert "Lost and found" in printed and "Half sent" in printed


@pytest.mark.django_db
def test_a_notification_already_sent_is_never_sent_again(httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    RuleFactory(channels=[channel])
    _viral(TrendFactory())
    [notification_id] = alerts_dispatch(enqueue=False).pending_ids
    assert notification_send(notification_id=notification_id).status == "sent"
    # A retry of the task that arrives after the success was written:
    assert notification_send(notification_id=notification_id).status == "skipped"
    assert len(httpserver.log) == 1


@pytest.mark.django_db
def test_cooldown_records_the_second_alert_on_a_subject_as_suppressed():
    channel = ChannelFactory()
    rule = RuleFactory(cooldown_minutes=60, channels=[channel])
    trend, other = TrendFactory(), TrendFactory()
    _viral(trend)
    alerts_dispatch(enqueue=False)
    _viral(trend, previous="sustained")  # same subject, within the hour
    _viral(other)  # another subject: not cooling down
    _viral(trend, previous="declining")  # same batch again

    result = alerts_dispatch(enqueue=False)

    assert result.created == {"pending": 1, "suppressed (cooldown)": 2}
    statuses = {(n.subject_key, n.status_display) for n in Notification.objects.filter(rule=rule, event__isnull=False)}
    assert (f"trends.trend:{trend.pk}", "suppressed (cooldown)") in statuses
    assert (f"trends.trend:{other.pk}", "pending") in statuses


@pytest.mark.django_db
def test_no_cooldown_after_the_window(settings):
    rule = RuleFactory(cooldown_minutes=5, channels=[ChannelFactory()])
    trend = TrendFactory()
    _viral(trend)
    alerts_dispatch(enqueue=False)
    from django.utils import timezone

    Notification.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=6))
    _viral(trend)
    assert alerts_dispatch(enqueue=False).created == {"pending": 1}
    assert rule.notifications.count() == 2


@pytest.mark.django_db
def test_storm_breaker_folds_the_rest_into_one_summary(settings, capsys):
    settings.ALERTS_STORM_LIMIT = 5
    channel, quiet = ChannelFactory(name="storm"), ChannelFactory(name="quiet", min_severity="critical")
    RuleFactory(channels=[channel, quiet])
    for n in range(42):
        _viral(TrendFactory(title=f"Story {n}"))

    result = alerts_dispatch(enqueue=False)
    summaries = storm_summaries_write(enqueue=False)
    assert storm_summaries_write(enqueue=False) == []  # one summary per channel per window

    assert result.created == {"pending": 5, "suppressed (storm)": 37}
    [summary] = Notification.objects.filter(pk__in=summaries)
    assert summary.message["title"] == "37 more alerts suppressed"
    assert summary.message["text"].startswith("37 more alerts suppressed: Story 5; Story 6;")
    assert summary.message["text"].endswith("and 27 more")
    assert summary.folded.count() == 37
    call_command("deliver_alerts", stdout=StringIO())
    assert Notification.objects.filter(status="sent").count() == 6  # 5 alerts and the summary
    assert "37 more alerts suppressed" in capsys.readouterr().out


@pytest.mark.django_db
def test_deliver_alerts_prints_the_counts():
    RuleFactory(channels=[ChannelFactory()])
    _viral(TrendFactory())
    out = StringIO()
    call_command("deliver_alerts", stdout=out)
    assert out.getvalue().strip() == "Done! 1 events; notifications written: 1 pending; sends: 1 sent."


@pytest.mark.django_db
def test_an_event_put_back_by_hand_does_not_duplicate_its_notifications():
    RuleFactory(channels=[ChannelFactory()])
    event = _viral(TrendFactory())
    [first] = alerts_dispatch(enqueue=False).pending_ids
    Event.objects.filter(pk=event.pk).update(processed_at=None)
    _viral(TrendFactory())

    again = alerts_dispatch(enqueue=False)

    assert again.events == 2 and Notification.objects.count() == 2
    assert first in again.pending_ids and len(again.pending_ids) == 2
