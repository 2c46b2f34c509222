"""Pipeline runs asked for by an operator: queue one (its row exists at once) and cancel one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.trends.models import PipelineRun
from apps.trends.pipeline.runner import WORKFLOWS
from apps.trends.tasks import pipeline_run_task

# A run in one of these states has not finished: it may still be cancelled.
UNFINISHED = (PipelineRun.Status.QUEUED, PipelineRun.Status.RUNNING)


class RunFinished(Exception):
    """The run already ended; there is nothing left to cancel."""


class RunNotRetryable(Exception):
    """The run cannot be retried (it did not fail, is gone, or was retried already); the message says why."""


@dataclass(frozen=True)
class QueuedRun:
    run: PipelineRun
    task_id: str


@transaction.atomic
def pipeline_run_queue(
    *, workflow: str, as_of: datetime | None = None, trigger: str = "api", retry_of: PipelineRun | None = None
) -> QueuedRun:
    """Record a ``queued`` run and send the pipeline task for it after commit; the run and task ids."""
    if workflow not in WORKFLOWS:
        raise ValueError(f"Unknown workflow {workflow!r}: choose one of {', '.join(WORKFLOWS)}.")
    run = PipelineRun.objects.create(
        workflow=workflow, trigger=trigger, as_of=as_of, status=PipelineRun.Status.QUEUED, retry_of=retry_of
    )
    task_id = str(uuid.uuid4())
    kwargs = {
        "workflow": workflow,
        "as_of": as_of.isoformat() if as_of else None,
        "trigger": trigger,
        "run_id": run.pk,
    }
    transaction.on_commit(lambda: pipeline_run_task.apply_async(kwargs=kwargs, task_id=task_id))
    return QueuedRun(run=run, task_id=task_id)


def pipeline_run_cancel(*, run: PipelineRun) -> PipelineRun:
    """Cancel a run: a queued one ends ``cancelled`` at once (its task then does nothing); a running one is
    asked to stop and ends ``cancelled`` before its next batch, keeping the batches it committed.

    Raises RunFinished for a run that already ended. Asking twice is harmless.
    """
    now = timezone.now()
    stopped = PipelineRun.objects.filter(pk=run.pk, status=PipelineRun.Status.QUEUED).update(
        status=PipelineRun.Status.CANCELLED, cancel_requested_at=now, finished_at=now, error="cancelled before start"
    )
    if not stopped:
        asked = PipelineRun.objects.filter(
            pk=run.pk, status=PipelineRun.Status.RUNNING, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=now)
        run.refresh_from_db()
        if not asked and run.status not in UNFINISHED:
            raise RunFinished(f"Run {run.pk} already ended ({run.status}); there is nothing to cancel.")
    run.refresh_from_db()
    return run


@transaction.atomic
def pipeline_run_retry(*, run_id: int) -> QueuedRun:
    """Queue a new run repeating failed run ``run_id`` (same workflow and replay time), linked by ``retry_of``.

    A failed run's row stays as it ended, so the history shows both. Raises RunNotRetryable for a run that
    did not fail (re-running a finished or running one would do its work twice), is gone, or was retried
    already (retry the newer run instead).
    """
    run = PipelineRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        raise RunNotRetryable(f"Run {run_id} no longer exists; queue a new run of its workflow instead.")
    if run.status != PipelineRun.Status.FAILED:
        raise RunNotRetryable(f"Run {run_id} is {run.status}; only a failed run can be retried.")
    retry = run.retries.order_by("-pk").first()
    if retry is not None:
        raise RunNotRetryable(f"Run {run_id} was already retried as run {retry.pk} ({retry.status}); retry that one.")
    return pipeline_run_queue(workflow=run.workflow, as_of=run.as_of, trigger="retry", retry_of=run)


def pipeline_run_task_retry(*, args: list, kwargs: dict) -> str | None:
    """The pipeline task's ``retry_service``: a task that ran a queued run retries that run (a new run, see
    ``pipeline_run_retry``) and answers the new task's id; a scheduled one (no run id) is sent again as is,
    which records a new run by itself (None)."""
    run_id = kwargs.get("run_id")
    if run_id is None:
        return None
    from apps.core.task_results import TaskResultError

    try:
        return pipeline_run_retry(run_id=int(run_id)).task_id
    except RunNotRetryable as exc:
        raise TaskResultError(str(exc), code="conflict") from None
