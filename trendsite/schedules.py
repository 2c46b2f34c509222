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

# Pipeline runs left "running" by a killed process (apps.trends.services.pipeline_runs_lost_check); each run
# start does the same, this covers the hours without one.
DEFAULT_SCHEDULES.append(
    DefaultSchedule(
        name="pipeline: lost runs",
        task="apps.trends.tasks.cleanup_pipeline_runs_task",
        every_seconds=600,
        description="Marks pipeline runs whose process died as failed (worker lost) while no run is in progress.",
    )
)
