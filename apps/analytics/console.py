"""What the console (the admin index) shows: a health strip and the figures behind its charts.

Every read is bounded (a fixed number of queries, windows of time or row limits), so the page stays fast
however much data the site holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from django_celery_results.models import TaskResult

from apps.analytics.models import AnalyticsSnapshot
from apps.core.liveness import beat_last_seen, is_fresh, worker_last_seen
from apps.core.queues import BrokerState, queues_inspect
from apps.plugins.health_display import health_state
from apps.plugins.models import Source
from apps.trends.models import PipelineRun, Topic, Trend
from apps.trends.score_history import score_history_annotate
from apps.trends.selectors import trends_live, trends_top

MAX_SOURCES = 200
RECENT_ROWS = 10
TOP_TRENDS = 10
LARGEST_TOPICS = 10
STATE_HISTORY_POINTS = 48
HOURS = 24
CHART_SOURCES = 6  # more sources than this are summed as "other", or the legend drowns the chart
OTHER = "other"


@dataclass(frozen=True)
class SourceLight:
    name: str
    colour: str
    label: str
    last_error: str
    pk: int


@dataclass(frozen=True)
class FailedTask:
    task_id: str
    name: str
    done_at: datetime | None
    error: str


@dataclass(frozen=True)
class ConsoleHealth:
    sources: list[SourceLight]
    sources_more: int
    last_run: PipelineRun | None
    worker_seen: datetime | None
    worker_alive: bool
    beat_seen: datetime | None
    beat_alive: bool
    broker: BrokerState
    failed_tasks_24h: int


def _sources() -> tuple[list[SourceLight], int]:
    rows = list(Source.objects.select_related("health").order_by("name")[: MAX_SOURCES + 1])
    lights = []
    for source in rows[:MAX_SOURCES]:
        health = getattr(source, "health", None)
        colour, label = health_state(source=source, health=health)
        lights.append(SourceLight(source.name, colour, label, health.last_error if health else "", source.pk))
    return lights, max(len(rows) - MAX_SOURCES, 0)


def console_health(*, now: datetime | None = None, runs: list[PipelineRun] | None = None) -> ConsoleHealth:
    """The strip at the top: sources' colours, the pipeline's last run, worker, beat, queues, failed tasks."""
    now = now or timezone.now()
    runs = runs if runs is not None else pipeline_runs_recent()
    sources, more = _sources()
    worker_seen = worker_last_seen()  # None when the cache is down: the console still answers
    beat_seen = beat_last_seen()
    return ConsoleHealth(
        sources=sources,
        sources_more=more,
        last_run=next((run for run in runs if run.status != PipelineRun.Status.SKIPPED), runs[0] if runs else None),
        worker_seen=worker_seen,
        worker_alive=is_fresh(worker_seen, now=now),
        beat_seen=beat_seen,
        beat_alive=is_fresh(beat_seen, now=now),
        broker=queues_inspect(timeout=1.0),
        failed_tasks_24h=TaskResult.objects.filter(status="FAILURE", date_done__gte=now - timedelta(hours=24)).count(),
    )


def pipeline_runs_recent(*, limit: int = RECENT_ROWS) -> list[PipelineRun]:
    return list(PipelineRun.objects.defer("stats").order_by("-started_at")[:limit])


def _task_error(result: str | None) -> str:
    try:
        data = json.loads(result or "")
    except ValueError:
        return result or ""
    if isinstance(data, dict) and "exc_type" in data:
        message = data.get("exc_message")
        message = " ".join(map(str, message)) if isinstance(message, list) else str(message or "")
        return f"{data['exc_type']}: {message}"
    return str(data)


def failed_tasks_recent(*, limit: int = RECENT_ROWS) -> list[FailedTask]:
    rows = TaskResult.objects.filter(status="FAILURE").order_by("-date_done")
    return [
        FailedTask(row.task_id, row.task_name or "?", row.date_done, _task_error(row.result))
        for row in rows.only("task_id", "task_name", "date_done", "result")[:limit]
    ]


def trend_states_history(*, limit: int = STATE_HISTORY_POINTS) -> tuple[list[datetime], dict[str, list[int]]]:
    """Trends per state at each hourly 24 h analytics snapshot, oldest first (only that key is read)."""
    rows = list(
        AnalyticsSnapshot.objects.filter(period="24h")
        .order_by("-created_at")
        .values_list("created_at", "data__trends_by_state")[:limit]
    )[::-1]
    series = {state: [int((counts or {}).get(state, 0)) for _, counts in rows] for state in Trend.State.values}
    return [when for when, _ in rows], series


def items_per_source_hourly(*, now: datetime | None = None, hours: int = HOURS) -> tuple[list[datetime], dict]:
    """New items per source in each of the last ``hours`` hours (from collection runs), oldest first; the
    sources beyond the busiest few are summed as "other"."""
    now = now or timezone.now()
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    buckets = [end - timedelta(hours=hours - i) for i in range(hours)]
    # Hour numbers from SQL: turning thousands of rows' hours into aware datetimes cost more than the query.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.name, floor(extract(epoch FROM r.started_at - %s) / 3600)::int, sum(r.new_count)"
            " FROM plugins_collectionrun r JOIN plugins_source s ON s.id = r.source_id"
            " WHERE r.started_at >= %s AND r.started_at < %s GROUP BY 1, 2",
            [buckets[0], buckets[0], end],
        )
        rows = cursor.fetchall()
    per_source: dict[str, list[int]] = {}
    for name, bucket, new in rows:
        per_source.setdefault(name, [0] * hours)[bucket] += new or 0
    busiest = sorted(per_source, key=lambda name: (-sum(per_source[name]), name))
    series: dict[str, list[int]] = {}
    for rank, name in enumerate(busiest):
        key = name if rank < CHART_SOURCES else OTHER
        series[key] = [a + b for a, b in zip(series.get(key, [0] * hours), per_source[name], strict=True)]
    return buckets, series


def trends_top_with_history(*, limit: int = TOP_TRENDS) -> list[Trend]:
    """The top live trends, categories balanced (``trends_top``), each with its lifetime score history and
    state changes (``score_history_annotate``) in the same query."""
    return trends_top(limit=limit, pool=score_history_annotate(trends_live()))


def topics_largest_recent(*, now: datetime | None = None, hours: int = HOURS, limit: int = LARGEST_TOPICS) -> list:
    """The largest live topics with an item in the last ``hours``: a glance at what the clustering merged."""
    since = (now or timezone.now()) - timedelta(hours=hours)
    return list(
        Topic.objects.filter(is_active=True, last_item_at__gte=since)
        .order_by("-item_count", "id")
        .only("id", "item_count", "source_count", "headlines", "keywords", "last_item_at")[:limit]
    )


def console_context(*, now: datetime | None = None) -> dict[str, Any]:
    """Everything the console template draws."""
    now = now or timezone.now()
    runs = pipeline_runs_recent()
    state_times, state_series = trend_states_history()
    hour_times, hour_series = items_per_source_hourly(now=now)
    return {
        "now": now,
        "health": console_health(now=now, runs=runs),
        "pipeline_runs": runs,
        "failed_tasks": failed_tasks_recent(),
        "state_times": state_times,
        "state_series": state_series,
        "hour_times": hour_times,
        "hour_series": hour_series,
        "top_trends": trends_top_with_history(),
        "largest_topics": topics_largest_recent(now=now),
    }
