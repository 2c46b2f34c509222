"""Compute the analytics of a period in a few aggregate queries and keep them: a row for the history, the
cache entry for the latest."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, F, Q, Sum
from django.utils import timezone

from apps.analytics.models import AnalyticsSnapshot
from apps.plugins.models import CollectionRun
from apps.trends.models import Item, PipelineRun, Trend

PERIODS: dict[str, timedelta] = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
TOP_TRENDS = 20
PIPELINE_RUNS = 10
UNCATEGORISED = "(none)"
UNKNOWN_LANGUAGE = "(unknown)"


def analytics_cache_key(period: str) -> str:
    return f"analytics:latest:{period}"


def _totals() -> dict[str, int]:
    # One round trip; the planner counts each table once.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM trends_trend), (SELECT count(*) FROM trends_topic),"
            " (SELECT count(*) FROM trends_item)"
        )
        trends, topics, items = cursor.fetchone()
    return {"trends": trends, "topics": topics, "items": items}


def _trend_figures() -> dict[str, Any]:
    by_state = dict(Trend.objects.order_by().values_list("state").annotate(n=Count("id")))
    by_category = {
        name or UNCATEGORISED: n
        for name, n in Trend.objects.order_by().values_list("category__name").annotate(n=Count("id"))
    }
    live = Trend.objects.exclude(state=Trend.State.DEAD).aggregate(
        average_score=Avg("score"), average_velocity=Avg("velocity"), items_per_trend=Avg("topic__item_count")
    )
    return {
        "trends_by_state": {state: by_state.get(state, 0) for state in Trend.State.values},
        "trends_by_category": dict(sorted(by_category.items())),
        **{key: round(value or 0.0, 3) for key, value in live.items()},
    }


def _item_figures(*, since: datetime) -> dict[str, Any]:
    recent = Item.objects.filter(collected_at__gte=since).order_by()
    by_source = dict(recent.values_list("source__name").annotate(n=Count("id")))
    by_language = {
        language or UNKNOWN_LANGUAGE: n for language, n in recent.values_list("language").annotate(n=Count("id"))
    }
    return {
        "items_collected": sum(by_source.values()),
        "items_by_source": dict(sorted(by_source.items())),
        "items_by_language": dict(sorted(by_language.items(), key=lambda pair: (-pair[1], pair[0]))),
    }


def _top_trends() -> list[dict[str, Any]]:
    rows = (
        Trend.objects.exclude(state=Trend.State.DEAD)
        .order_by("-score", "id")
        .values("id", "title", "score", "state", "category__name")[:TOP_TRENDS]
    )
    return [
        {
            "id": row["id"],
            "title": row["title"],
            "score": round(row["score"], 3),
            "category": row["category__name"] or UNCATEGORISED,
            "state": row["state"],
        }
        for row in rows
    ]


def _source_figures(*, since: datetime) -> dict[str, dict[str, Any]]:
    finished = ~Q(status__in=[CollectionRun.Status.RUNNING, CollectionRun.Status.SKIPPED])
    ok = Q(status__in=[CollectionRun.Status.SUCCESS, CollectionRun.Status.NOT_MODIFIED])
    rows = (
        CollectionRun.objects.filter(started_at__gte=since)
        .order_by()
        .values("source__name")
        .annotate(
            runs=Count("id", filter=finished),
            succeeded=Count("id", filter=ok),
            failed=Count("id", filter=Q(status=CollectionRun.Status.FAILED)),
            items_collected=Sum("new_count", default=0),
        )
    )
    return {
        row["source__name"]: {
            "runs": row["runs"],
            "failed": row["failed"],
            # Skipped and still-running runs say nothing about success; a source with none finished has no rate.
            "success_rate": round(row["succeeded"] / row["runs"], 4) if row["runs"] else None,
            "items_collected": row["items_collected"],
        }
        for row in sorted(rows, key=lambda row: row["source__name"])
    }


def _pipeline_figures(*, since: datetime) -> dict[str, Any]:
    runs = list(
        PipelineRun.objects.filter(finished_at__isnull=False)
        .exclude(status=PipelineRun.Status.SKIPPED)
        .annotate(seconds=F("finished_at") - F("started_at"))
        .order_by("-started_at")
        .values("id", "workflow", "status", "started_at", "seconds", "item_count")[:PIPELINE_RUNS]
    )
    window = PipelineRun.objects.filter(started_at__gte=since).aggregate(
        runs=Count("id"),
        failed=Count("id", filter=Q(status=PipelineRun.Status.FAILED)),
        items=Sum("item_count", default=0),
    )
    recent = []
    for run in runs:
        seconds = run["seconds"].total_seconds()
        recent.append(
            {
                "id": run["id"],
                "workflow": run["workflow"],
                "status": run["status"],
                "started_at": run["started_at"].isoformat(),
                "seconds": round(seconds, 3),
                "items": run["item_count"],
                "items_per_second": round(run["item_count"] / seconds, 2) if seconds > 0 else None,
            }
        )
    busy = sum(run["seconds"] for run in recent)
    return {
        **{f"pipeline_{key}": value for key, value in window.items()},
        "pipeline_items_per_second": round(sum(run["items"] for run in recent) / busy, 2) if busy > 0 else None,
        "pipeline_recent_runs": recent,
    }


def analytics_compute(*, period: str, now: datetime | None = None) -> dict[str, Any]:
    """The figures of ``period`` (``24h`` or ``7d``) as of ``now``: totals, trends by state and category,
    averages over live trends, items, sources and pipeline runs within the period, the top trends."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    now = now or timezone.now()
    since = now - PERIODS[period]
    return {
        "period": period,
        "as_of": now.isoformat(),
        "since": since.isoformat(),
        "totals": _totals(),
        **_trend_figures(),
        **_item_figures(since=since),
        "top_trends": _top_trends(),
        "sources": _source_figures(since=since),
        **_pipeline_figures(since=since),
    }


def analytics_snapshot_create(*, period: str, now: datetime | None = None) -> AnalyticsSnapshot:
    """Compute ``period``, store it as a snapshot and make it the cached latest one."""
    now = now or timezone.now()
    snapshot = AnalyticsSnapshot.objects.create(
        period=period, data=analytics_compute(period=period, now=now), created_at=now
    )
    analytics_cache_store(snapshot=snapshot)
    return snapshot


def analytics_cache_store(*, snapshot: AnalyticsSnapshot) -> None:
    """Put ``snapshot`` in the cache as its period's latest."""
    cache.set(
        analytics_cache_key(snapshot.period),
        {
            "id": snapshot.pk,
            "period": snapshot.period,
            "created_at": snapshot.created_at.isoformat(),
            "data": snapshot.data,
        },
        timeout=settings.ANALYTICS_CACHE_SECONDS,
    )
