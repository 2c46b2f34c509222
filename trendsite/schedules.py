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


DEFAULT_SCHEDULES: list[DefaultSchedule] = []
