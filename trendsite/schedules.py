"""The default periodic tasks, declared in one place. `manage.py sync_schedules` creates the missing ones
in django-celery-beat and never overwrites an operator's edit of an existing one."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DefaultSchedule:
    name: str  # PeriodicTask.name, unique: how sync_schedules recognises a task it created before
    task: str  # registered Celery task name
    every_seconds: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    # A setting that, when present, overrides every_seconds; read when sync_schedules runs.
    every_setting: str = ""

    def interval_seconds(self) -> int:
        from django.conf import settings

        return (
            int(getattr(settings, self.every_setting, self.every_seconds)) if self.every_setting else self.every_seconds
        )


DEFAULT_SCHEDULES: list[DefaultSchedule] = []

# Pipeline (apps.trends): process new items, then re-rank every live trend. Collection is scheduled per
# Source by apps.plugins; this run only picks up what collection has stored.
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="pipeline: full",
        task="apps.trends.tasks.pipeline_run_task",
        every_seconds=900,
        every_setting="PIPELINE_SCHEDULE_SECONDS",
        kwargs={"workflow": "full", "trigger": "schedule"},
        description="Process new items into topics and trends, then re-rank and advance every live trend.",
    )
)

# Liveness (apps.core.liveness): beat sends, a worker runs and stamps the cache; the console and
# system_check read both stamps.
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="core: heartbeat",
        task="apps.core.tasks.heartbeat_task",
        every_seconds=60,
        description="Proves a worker and beat are alive (read by the console and the system check).",
    )
)

# Retention (apps.trends.cleanup): the same service as `manage.py cleanup`, once a day.
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="maintenance: cleanup",
        task="apps.trends.tasks.cleanup_run_task",
        every_seconds=24 * 60 * 60,
        description="Delete what is past retention (CLEANUP_DAYS) in small batches; clear stale embeddings.",
    )
)

# Analytics (apps.analytics): one snapshot per period, cached as the latest; the console charts the history.
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="analytics: generate",
        task="apps.analytics.tasks.analytics_generate_task",
        every_seconds=3600,
        every_setting="ANALYTICS_SCHEDULE_SECONDS",
        description="Compute the 24 h and 7 d analytics snapshots and refresh their cache.",
    )
)

# Alerts (apps.alerts): events -> notifications -> transports; system health transitions; digests.
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="alerts: deliver",
        task="apps.alerts.tasks.alerts_deliver_task",
        every_seconds=60,
        description="Turn new events into notifications, fold alert storms, re-send notifications that were lost.",
    )
)
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="alerts: system check",
        task="apps.alerts.tasks.system_check_task",
        every_seconds=60,
        description="Database, cache, broker, worker, beat and pipeline; writes system.unhealthy/recovered events.",
    )
)
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="alerts: digests",
        task="apps.alerts.tasks.digests_send_task",
        every_seconds=600,
        description="Send the daily and weekly digests that are due (each once per period).",
    )
)
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="alerts: watchlist batches",
        task="apps.alerts.tasks.watch_batches_flush_task",
        every_seconds=60,
        description="Send each batching channel's collected watchlist matches as one message once its window is over.",
    )
)

# Pipeline runs left "running" by a killed process (apps.trends.pipeline.runner.pipeline_runs_lost_check); each run
# start does the same, this covers the hours without one.
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="pipeline: lost runs",
        task="apps.trends.tasks.cleanup_pipeline_runs_task",
        every_seconds=600,
        description="Marks pipeline runs whose process died as failed (worker lost) while no run is in progress.",
    )
)

# Embedding ahead (apps.trends.embed_ahead): ingest dispatches after storing new items; this catches items
# whose batch was lost (a claim past EMBED_CLAIM_SECONDS) and items stored by bulk imports.
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="pipeline: embed ahead",
        task="apps.trends.tasks.pipeline_embed_dispatch_task",
        every_seconds=60,
        description="Splits unprocessed items without a vector into batches for the embed queue's workers.",
    )
)
