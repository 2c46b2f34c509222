"""Celery tasks of the plugins app (queue ``collect``): thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from apps.plugins.models import Source
from apps.plugins.services import source_collect as source_collect_service

# A second delivery of the same source's task while the first still runs (acks_late, beat overlap) waits
# for nothing and does nothing; the lock expires on its own if a worker dies.
_LOCK_SECONDS = 30 * 60


@shared_task(name="apps.plugins.tasks.source_collect", ignore_result=False)
def source_collect(source_id: int, trigger: str = "schedule", force: bool = False) -> str:
    """Collect one source by id; a summary line for the task result."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return f"source {source_id} no longer exists"
    if trigger == "schedule" and not source.enabled:
        return f"{source.name}: disabled"
    lock = f"plugins:collect:{source_id}"
    if not cache.add(lock, 1, timeout=_LOCK_SECONDS):
        return f"{source.name}: already collecting"
    try:
        run = source_collect_service(source=source, trigger=trigger, force=force)
    finally:
        cache.delete(lock)
    return f"{source.name}: {run.status} new={run.new_count} updated={run.duplicate_count} skipped={run.skipped_count}"
