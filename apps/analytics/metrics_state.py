"""Database and broker state as Prometheus gauges, read at scrape time (``trendsite_*``).

These figures are states, not events: pipeline lag, topics and trends by state, sources' failure streaks, queue
lengths. Counting them with counters from many processes would drift; one cheap query each at scrape time is
exact. The figures are kept ``METRICS_STATE_CACHE_SECONDS`` per process, so several Prometheus servers (or a
dashboard refreshing) do not multiply the queries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


@dataclass
class StateFigures:
    lag_seconds: float = 0.0
    backlog_items: int = 0
    last_success_timestamp: float | None = None
    items_per_second: float | None = None
    topics: dict[str, int] = field(default_factory=dict)
    trends: dict[str, int] = field(default_factory=dict)
    sources: list[tuple[str, str, int, bool]] = field(default_factory=list)
    queues: list[tuple[str, int, float | None]] = field(default_factory=list)
    broker_up: bool = True
    worker_heartbeat_age: float | None = None
    database_up: bool = True


def state_figures_read() -> StateFigures:
    """Read every state figure now (a handful of indexed aggregates and one broker round trip)."""
    from apps.core.liveness import worker_last_seen
    from apps.core.queues import queues_inspect
    from apps.plugins.models import PluginHealth
    from apps.trends.models import Item, PipelineRun, Topic, Trend

    figures = StateFigures()
    now = timezone.now()
    try:
        # The partial index item_unprocessed_stream_idx keeps this to the waiting rows only.
        waiting = Item.objects.filter(processed_at__isnull=True).aggregate(n=Count("id"), oldest=Min("collected_at"))
        figures.backlog_items = waiting["n"]
        figures.lag_seconds = (now - waiting["oldest"]).total_seconds() if waiting["oldest"] else 0.0
        last = (
            PipelineRun.objects.filter(status=PipelineRun.Status.SUCCESS, finished_at__isnull=False)
            .order_by("-finished_at")
            .values("started_at", "finished_at")
            .first()
        )
        if last:
            figures.last_success_timestamp = last["finished_at"].timestamp()
        busy = (
            PipelineRun.objects.filter(status=PipelineRun.Status.SUCCESS, item_count__gt=0, finished_at__isnull=False)
            .order_by("-finished_at")
            .values("started_at", "finished_at", "item_count")
            .first()
        )
        if busy:
            seconds = (busy["finished_at"] - busy["started_at"]).total_seconds()
            figures.items_per_second = busy["item_count"] / seconds if seconds > 0 else None
        topics = Topic.objects.values("is_active").annotate(n=Count("id"))
        figures.topics = {"active" if row["is_active"] else "inactive": row["n"] for row in topics}
        figures.trends = {row["state"]: row["n"] for row in Trend.objects.values("state").annotate(n=Count("id"))}
        figures.sources = [
            (row["source__name"], row["source__kind"], row["consecutive_failures"], row["is_healthy"])
            for row in PluginHealth.objects.values(
                "source__name", "source__kind", "consecutive_failures", "is_healthy"
            ).order_by("source__name")
        ]
    except Exception:
        logger.warning("metrics: database state unreadable", exc_info=True)
        figures.database_up = False
    broker = queues_inspect()
    figures.broker_up = not broker.error
    figures.queues = [
        (
            queue.name,
            queue.length,
            (now - queue.oldest.sent_at).total_seconds() if queue.oldest and queue.oldest.sent_at else None,
        )
        for queue in broker.queues
    ]
    seen = worker_last_seen()
    figures.worker_heartbeat_age = (now - seen).total_seconds() if seen else None
    return figures


class StateCollector(Collector):
    """The state figures as gauge families, cached per process for METRICS_STATE_CACHE_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read_at = 0.0
        self._figures: StateFigures | None = None

    def figures(self) -> StateFigures:
        with self._lock:
            if self._figures is None or time.monotonic() - self._read_at >= settings.METRICS_STATE_CACHE_SECONDS:
                self._figures = state_figures_read()
                self._read_at = time.monotonic()
            return self._figures

    def collect(self) -> Iterator[GaugeMetricFamily]:
        f = self.figures()
        yield GaugeMetricFamily("trendsite_database_up", "1 when the state queries answered", float(f.database_up))
        yield GaugeMetricFamily("trendsite_broker_up", "1 when the Celery broker answered", float(f.broker_up))
        yield GaugeMetricFamily(
            "trendsite_pipeline_lag_seconds", "Age of the oldest item the pipeline has not processed", f.lag_seconds
        )
        yield GaugeMetricFamily("trendsite_pipeline_backlog_items", "Items waiting for the pipeline", f.backlog_items)
        if f.last_success_timestamp is not None:
            yield GaugeMetricFamily(
                "trendsite_pipeline_last_success_timestamp_seconds",
                "When the last successful pipeline run finished (Unix time)",
                f.last_success_timestamp,
            )
        if f.items_per_second is not None:
            yield GaugeMetricFamily(
                "trendsite_pipeline_items_per_second",
                "Throughput of the last successful run that processed items",
                f.items_per_second,
            )
        topics = GaugeMetricFamily("trendsite_topics", "Topics by state (active, inactive)", labels=["state"])
        for state in ("active", "inactive"):
            topics.add_metric([state], f.topics.get(state, 0))
        yield topics
        from apps.trends.models import Trend

        trends = GaugeMetricFamily("trendsite_trends", "Trends by lifecycle state", labels=["state"])
        for state in Trend.State.values:
            trends.add_metric([state], f.trends.get(state, 0))
        yield trends
        failures = GaugeMetricFamily(
            "trendsite_source_consecutive_failures",
            "Failed collection runs in a row per source",
            labels=["source", "kind"],
        )
        healthy = GaugeMetricFamily(
            "trendsite_source_healthy", "1 when the source is healthy", labels=["source", "kind"]
        )
        for name, kind, streak, is_healthy in f.sources:
            failures.add_metric([name, kind], streak)
            healthy.add_metric([name, kind], float(is_healthy))
        yield failures
        yield healthy
        length = GaugeMetricFamily("trendsite_queue_length", "Tasks waiting in each Celery queue", labels=["queue"])
        oldest = GaugeMetricFamily(
            "trendsite_queue_oldest_task_age_seconds", "How long the oldest waiting task has waited", labels=["queue"]
        )
        for name, waiting, age in f.queues:
            length.add_metric([name], waiting)
            oldest.add_metric([name], age if age is not None else 0.0)
        yield length
        yield oldest
        if f.worker_heartbeat_age is not None:
            yield GaugeMetricFamily(
                "trendsite_worker_heartbeat_age_seconds",
                "Seconds since a worker last ran the heartbeat task (absent: no worker ever seen)",
                f.worker_heartbeat_age,
            )


STATE_COLLECTOR = StateCollector()
