"""Celery tasks of the pipeline: thin wrappers over the services (queue ``pipeline``, see celery routes)."""

from __future__ import annotations

from celery import shared_task
from django.utils.dateparse import parse_datetime

from apps.trends.cleanup import cleanup_run
from apps.trends.services import PipelineAlreadyRunning, pipeline_run


@shared_task(name="apps.trends.tasks.pipeline_run_task", acks_late=True)
def pipeline_run_task(
    workflow: str = "full", as_of: str | None = None, trigger: str = "schedule", run_id: int | None = None
) -> str:
    """Run one workflow (``run_id``: the run queued for it); a run that finds the lock taken is a normal
    outcome, not a failure."""
    try:
        run = pipeline_run(
            workflow=workflow, as_of=parse_datetime(as_of) if as_of else None, trigger=trigger, run_id=run_id
        )
    except PipelineAlreadyRunning:
        return f"{workflow}: already running"
    return f"{workflow}: {run.item_count} items, run {run.pk} {run.status}"


@shared_task(name="apps.trends.tasks.cleanup_run_task", acks_late=True)
def cleanup_run_task(days: int | None = None) -> dict:
    """The daily retention run (queue ``maintenance``): the same service and summary as ``manage.py cleanup``.

    Idempotent: a second delivery finds nothing more to delete.
    """
    return cleanup_run(days=days)
