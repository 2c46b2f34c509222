from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.analytics import api
from apps.analytics.models import AnalyticsSnapshot
from apps.analytics.selectors import analytics_history, analytics_latest
from apps.analytics.services import analytics_cache_key, analytics_compute, analytics_snapshot_create
from apps.analytics.tasks import analytics_generate_task
from tests.analytics.conftest import NOW
from trendsite.schedules import DEFAULT_SCHEDULES

_router = DefaultRouter()
api.register(_router)
urlpatterns = [path("api/v1/", include(_router.urls))]


def test_day_figures_of_a_known_world(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        data = analytics_compute(period="24h", now=NOW)
    assert data["totals"] == {"trends": 3, "topics": 3, "items": 5}
    assert data["trends_by_state"] == {"emerging": 1, "viral": 1, "sustained": 0, "declining": 0, "dead": 1}
    assert data["trends_by_category"] == {"(none)": 1, "Technology": 2}
    # Averages over live trends only (Alpha and Beta): the dead one no longer counts.
    assert data["average_score"] == 6.0
    assert data["average_velocity"] == 2.5
    assert data["items_per_trend"] == 4.5
    assert data["items_collected"] == 4
    assert data["items_by_source"] == {"hn": 3, "news": 1}
    assert data["items_by_language"] == {"en": 2, "(unknown)": 1, "de": 1}
    assert [(t["title"], t["state"], t["category"]) for t in data["top_trends"]] == [
        ("Alpha", "viral", "Technology"),
        ("Beta", "emerging", "(none)"),
    ]
    assert data["sources"] == {
        "hn": {"runs": 3, "failed": 1, "success_rate": 0.6667, "items_collected": 7},
        "news": {"runs": 1, "failed": 0, "success_rate": 1.0, "items_collected": 0},
    }
    assert data["pipeline_runs"] == 2
    assert data["pipeline_failed"] == 1
    assert data["pipeline_items"] == 150
    assert [run["items_per_second"] for run in data["pipeline_recent_runs"]] == [10.0, 1.67, 100.0]
    assert data["pipeline_items_per_second"] == round(1150 / 50, 2)


def test_week_counts_what_the_day_leaves_out(world):
    data = analytics_compute(period="7d", now=NOW)
    assert data["items_collected"] == 5
    assert data["sources"]["hn"]["items_collected"] == 107
    assert data["pipeline_runs"] == 3


def test_unknown_period_is_refused(db):
    with pytest.raises(ValueError, match="24h, 7d"):
        analytics_compute(period="1y")


def test_latest_is_read_from_the_cache_without_touching_the_database(world, django_assert_num_queries):
    snapshot = analytics_snapshot_create(period="24h", now=NOW)
    with django_assert_num_queries(0):
        latest = analytics_latest(period="24h")
    assert latest["id"] == snapshot.pk
    assert latest["data"]["totals"]["items"] == 5


def test_latest_falls_back_to_the_database_and_caches_again(world, django_assert_num_queries):
    analytics_snapshot_create(period="24h", now=NOW)
    newest = analytics_snapshot_create(period="24h")
    cache.clear()
    with django_assert_num_queries(1):
        assert analytics_latest(period="24h")["id"] == newest.pk
    assert cache.get(analytics_cache_key("24h"))["id"] == newest.pk


def test_latest_is_none_before_any_snapshot(db):
    assert analytics_latest(period="7d") is None


def test_task_and_command_store_one_snapshot_per_period(world):
    result = analytics_generate_task.apply().get()
    assert set(result) == {"24h", "7d"}
    out = io.StringIO()
    call_command("generate_analytics", "--period", "7d", stdout=out)
    assert "7d: 3 trends, 3 topics, 5 items" in out.getvalue()
    assert AnalyticsSnapshot.objects.filter(period="24h").count() == 1
    assert AnalyticsSnapshot.objects.filter(period="7d").count() == 2
    assert [s.pk for s in analytics_history(period="7d")] == sorted(
        AnalyticsSnapshot.objects.filter(period="7d").values_list("pk", flat=True), reverse=True
    )


def test_hourly_schedule_is_declared():
    schedule = next(s for s in DEFAULT_SCHEDULES if s.task == "apps.analytics.tasks.analytics_generate_task")
    assert schedule.interval_seconds() == 3600


@pytest.mark.urls("tests.analytics.test_analytics")
def test_api_latest_and_history(world, client):
    assert client.get("/api/v1/analytics/latest/").status_code == 404
    analytics_snapshot_create(period="24h", now=NOW)
    analytics_snapshot_create(period="24h")
    latest = client.get("/api/v1/analytics/latest/?period=24h")
    assert latest.status_code == 200
    assert latest.json()["data"]["totals"]["trends"] == 3
    history = client.get("/api/v1/analytics/history/?limit=1")
    assert history.status_code == 200
    assert len(history.json()) == 1


@pytest.mark.urls("tests.analytics.test_analytics")
@pytest.mark.parametrize("query", ["period=1y", "limit=0", "limit=abc", "limit=100000"])
def test_api_bad_parameters_are_clear_400s(db, client, query):
    response = client.get(f"/api/v1/analytics/history/?{query}")
    assert response.status_code == 400
    assert "must be" in response.content.decode()


DEAD_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


def test_latest_reads_the_database_when_the_cache_is_down(world, settings):
    snapshot = analytics_snapshot_create(period="24h", now=NOW)
    settings.CACHES = DEAD_CACHE
    assert analytics_latest(period="24h")["id"] == snapshot.pk


def test_console_answers_when_the_cache_is_down(world, admin_client, settings):
    analytics_snapshot_create(period="24h", now=NOW)
    settings.CACHES = DEAD_CACHE
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    response = admin_client.get("/admin/")
    assert response.status_code == 200 and "worker down" in response.content.decode()


def test_openapi_schema_describes_the_analytics_endpoints(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(patterns=urlpatterns).get_schema(request=None, public=True)
    latest = schema["paths"]["/api/v1/analytics/latest/"]["get"]
    assert [p["name"] for p in latest["parameters"]] == ["period"]
    history = schema["paths"]["/api/v1/analytics/history/"]["get"]
    assert {p["name"] for p in history["parameters"]} == {"period", "limit"}
