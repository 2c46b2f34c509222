"""Celery tasks of the pipeline: thin wrappers over the services (queue ``pipeline``, see celery routes)."""

from __future__ import annotations

from celery import shared_task
from django.utils.dateparse import parse_datetime

from apps.trends.cleanup import cleanup_run
from apps.trends.embed_ahead import embed_batches_dispatch, items_embed
from apps.trends.pipeline.runner import PipelineAlreadyRunning, pipeline_run, pipeline_runs_lost_check


# ``retry_service``: how an operator's retry of a failed task re-runs the work (apps.core.task_results).
@shared_task(
    name="apps.trends.tasks.pipeline_run_task",
    acks_late=True,
    retry_service="apps.trends.runs.pipeline_run_task_retry",
)
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

    Idempotent: a second delivery finds nothing more to delete. While a pipeline run holds the lock it
    deletes nothing and says so; tomorrow's run catches up.
    """
    try:
        return cleanup_run(days=days)
    except PipelineAlreadyRunning:
        return {"skipped": "pipeline running: cleanup skipped, nothing deleted"}


@shared_task(name="apps.trends.tasks.cleanup_pipeline_runs_task")
def cleanup_pipeline_runs_task() -> str:
    """Fail pipeline runs left ``running`` by a process that died, when no run is in progress."""
    return f"{pipeline_runs_lost_check()} lost pipeline run(s) marked failed"


@shared_task(name="apps.trends.tasks.embed_batch_task", bind=True, acks_late=True, reject_on_worker_lost=True)
def embed_batch_task(self, item_ids: list[int]) -> str:
    """Embed one batch (queue ``embed``): claimed by this task's id, so a redelivery takes its own rows back."""
    result = items_embed(item_ids=item_ids, claim=self.request.id or "eager")
    return f"{result['stored']} of {len(item_ids)} items embedded ({result['claimed']} claimed)"


@shared_task(name="apps.trends.tasks.pipeline_embed_dispatch_task")
def pipeline_embed_dispatch_task() -> str:
    """Send the pending items to the embed queue in batches (queue ``pipeline``)."""
    return f"{embed_batches_dispatch()} embed batch(es) sent"
