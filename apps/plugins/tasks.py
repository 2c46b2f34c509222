"""Celery tasks of the plugins app (queue ``collect``): thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task

from apps.plugins.models import Source
from apps.plugins.services import periodic_task_enabled_set, source_collect_lock
from apps.plugins.services import source_collect as source_collect_service


@shared_task(name="apps.plugins.tasks.source_collect", ignore_result=False)
def source_collect(source_id: int, trigger: str = "schedule", force: bool = False) -> str:
    """Collect one source by id; a summary line for the task result."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return f"source {source_id} no longer exists"
    if trigger == "schedule" and not source.enabled:
        if source.periodic_task_id:  # beat still sends it: its row was re-enabled by a stale save; switch off
            periodic_task_enabled_set(task_id=source.periodic_task_id, enabled=False)
        return f"{source.name}: disabled"
    with source_collect_lock(source_id=source.pk) as acquired:
        if not acquired:
            return f"{source.name}: already collecting"
        run = source_collect_service(source=source, trigger=trigger, force=force)
    return f"{source.name}: {run.status} new={run.new_count} updated={run.duplicate_count} skipped={run.skipped_count}"
