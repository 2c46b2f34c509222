"""Celery signal handlers that keep django-celery-results' rows useful to operators (see task_results)."""

from __future__ import annotations

import logging

from celery import current_app
from celery.signals import after_task_publish, worker_init
from django.db import DatabaseError

from apps.core.task_results import task_result_record_published, task_results_revoked_recent

logger = logging.getLogger(__name__)


@after_task_publish.connect
def _record_pending(sender: str | None = None, headers: dict | None = None, **kwargs) -> None:
    """A sent task shows as PENDING at once (tasks that ignore their result never get a row)."""
    headers = headers or {}
    name, task_id = headers.get("task") or sender, headers.get("id")
    task = current_app.tasks.get(name or "")
    if not task_id or not name or (task is not None and task.ignore_result):
        return
    try:
        task_result_record_published(
            task_id=task_id, task_name=name, args_repr=headers.get("argsrepr"), kwargs_repr=headers.get("kwargsrepr")
        )
    except Exception:
        # Bookkeeping only: the task is queued already and must not fail its sender (whatever went wrong).
        logger.warning("could not record task %s as pending", task_id, exc_info=True)


@worker_init.connect
def _learn_revoked(**kwargs) -> None:
    """Revokes are broadcast to the workers listening then; one starting later reads them from the database
    before it consumes anything."""
    from celery.worker import state

    try:
        for task_id in task_results_revoked_recent():
            state.revoked.add(task_id)
    except DatabaseError:
        logger.warning("could not read revoked tasks", exc_info=True)
