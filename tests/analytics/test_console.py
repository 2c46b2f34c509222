from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django_celery_results.models import TaskResult

from apps.analytics.console import items_per_source_hourly, trend_states_history
from apps.analytics.services import analytics_snapshot_create
from apps.plugins.models import CollectionRun, PluginHealth
from apps.trends.models import PipelineRun, Trend, TrendSnapshot

XSS = "<script>alert(1)</script>"


@pytest.fixture
def busy(world):
    """The known world plus recent activity: runs this hour, snapshots, failures with hostile text."""
    now = timezone.now()
    for hours_ago, new in [(0, 4), (1, 6), (1, 1)]:
        CollectionRun.objects.create(
            source=world.hn, started_at=now - timedelta(hours=hours_ago), status="success", new_count=new
        )
    PluginHealth.objects.filter(source=world.rss).update(is_healthy=False, last_error=f"feed said {XSS}", total_runs=5)
    alpha = world.trends[0]
    Trend.objects.filter(pk=alpha.pk).update(title=f"Alpha {XSS}")
    for minutes, score in [(60, 1.0), (30, 4.0), (0, 9.0)]:
        TrendSnapshot.objects.create(
            trend=alpha, taken_at=now - timedelta(minutes=minutes), score=score, item_count=6, velocity=1
        )
    PipelineRun.objects.create(workflow="full", status="failed", started_at=now, finished_at=now, error=f"bad {XSS}")
    TaskResult.objects.create(
        task_id="t1",
        task_name="apps.plugins.tasks.source_collect",
        status="FAILURE",
        date_done=now,
        result=json.dumps({"exc_type": "ValueError", "exc_message": [f"oops {XSS}"], "exc_module": "builtins"}),
    )
    analytics_snapshot_create(period="24h", now=now - timedelta(hours=1))
    analytics_snapshot_create(period="24h", now=now)
    return world


def test_console_is_for_staff_only(client, db):
    User.objects.create_user("reader", password="pw")
    client.login(username="reader", password="pw")
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_console_shows_health_charts_and_keeps_the_model_list(staff_client, busy, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = staff_client.get("/admin/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'aria-label="Health"' in body
    assert "worker down" in body and "never seen" in body
    assert "Failed tasks (24 h)" in body and ">1</a>" in body
    # Each chart has a title, a description and a table.
    for chart in ("chart-states", "chart-hourly"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in body
        assert f'<title id="{chart}-title">' in body and f'<desc id="{chart}-desc">' in body
    assert body.count('<details class="chart-data">') == 2
    assert "hn 11" in body  # 4 + 6 + 1 new items this day, summed in the description
    assert "/admin/trends/trend/" in body and "/admin/plugins/source/" in body  # the model list stays
    assert "ValueError: oops" in body


def test_every_title_and_error_is_escaped(staff_client, busy):
    body = staff_client.get("/admin/").content.decode()
    assert "<script>alert" not in body
    assert body.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # source error, trend, run error, task error


def test_query_count_does_not_grow_with_rows(staff_client, busy, django_assert_max_num_queries):
    for index in range(30):
        source = type(busy.hn).objects.create(name=f"more-{index}", kind="rss", config={"urls": ["http://x/"]})
        CollectionRun.objects.create(source=source, started_at=timezone.now(), status="success", new_count=1)
    with django_assert_max_num_queries(12):
        assert staff_client.get("/admin/").status_code == 200


def test_auto_refresh_is_a_toggle(staff_client, db):
    assert 'http-equiv="refresh"' not in staff_client.get("/admin/").content.decode()
    assert '<meta http-equiv="refresh" content="60">' in staff_client.get("/admin/?refresh=1").content.decode()


def test_empty_site_says_what_is_missing(staff_client):
    body = staff_client.get("/admin/").content.decode()
    assert "Not enough history yet (0 snapshots)" in body
    assert "No collection runs in the last 24 hours." in body
    assert "No sources yet." in body


def test_hourly_series_sums_busiest_sources_and_folds_the_rest(world):
    now = timezone.now()
    sources = [
        type(world.hn).objects.create(name=f"s{i}", kind="rss", config={"urls": ["http://x/"]}) for i in range(8)
    ]
    for rank, source in enumerate(sources):
        CollectionRun.objects.create(source=source, started_at=now, status="success", new_count=10 + rank)
    hours, series = items_per_source_hourly(now=now)
    assert len(hours) == 24 and hours[-1] <= now < hours[-1] + timedelta(hours=1)
    assert list(series)[:6] == ["s7", "s6", "s5", "s4", "s3", "s2"]
    assert series["other"][-1] == 10 + 11


def test_state_history_reads_the_day_snapshots_oldest_first(world):
    now = timezone.now()
    analytics_snapshot_create(period="24h", now=now - timedelta(hours=1))
    Trend.objects.filter(title="Beta").update(state="viral")
    analytics_snapshot_create(period="24h", now=now)
    analytics_snapshot_create(period="7d", now=now)
    times, series = trend_states_history()
    assert len(times) == 2 and times[0] < times[1]
    assert series["viral"] == [1, 2] and series["emerging"] == [1, 0]


def test_broker_down_and_live_worker_read_clearly(staff_client, monkeypatch):
    from apps.core.tasks import heartbeat_task

    heartbeat_task.apply()
    # Celery reads the broker address from this variable before its settings (the suite sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    body = staff_client.get("/admin/").content.decode()
    assert "Broker unreachable" in body
    # Only beat sends the heartbeat, so its stamp vouches for beat too (the scheduler writes last_run_at late).
    assert "worker alive" in body and "beat alive" in body


@pytest.mark.django_db
def test_console_top_trends_balance_categories_with_their_sparklines():
    from apps.analytics.console import trends_top_with_history
    from apps.trends.models import Category, Topic

    tech = Category.objects.get_or_create(name="Technology")[0]
    sport = Category.objects.get_or_create(name="Sports")[0]
    for title, score, category in [("t1", 10, tech), ("t2", 9, tech), ("t3", 8, tech), ("s1", 7, sport)]:
        trend = Trend.objects.create(topic=Topic.objects.create(), title=title, score=score, category=category)
        TrendSnapshot.objects.create(trend=trend, taken_at=timezone.now(), score=score, item_count=3, velocity=0)
    top = trends_top_with_history(limit=4)
    assert [trend.title for trend in top] == ["t1", "s1", "t2", "t3"]
    assert [trend.history_scores for trend in top] == [[10.0], [7.0], [9.0], [8.0]]


def test_console_lists_the_largest_topics_of_the_last_24_hours_with_their_size(staff_client, db):
    from apps.trends.models import Topic

    now = timezone.now()
    Topic.objects.create(item_count=40, source_count=3, last_item_at=now, headlines=["Big story lands"])
    Topic.objects.create(item_count=7, source_count=1, last_item_at=now, headlines=["Small story"])
    Topic.objects.create(item_count=900, source_count=2, last_item_at=now - timedelta(hours=30), headlines=["Old"])
    body = staff_client.get("/admin/").content.decode()
    section = body[body.index("Largest topics, last 24 h") :]
    assert section.index("Big story lands") < section.index("Small story")
    assert '<td class="num">40</td><td class="num">3</td>' in section
    assert "Old</a>" not in section
