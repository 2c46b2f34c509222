"""Operators' actions on Celery tasks as django-celery-results records them: retry a failed one, revoke one
that has not started. The admin and the staff API call these.

A queued task has no result row until a worker starts it, so ``task_result_record_published`` writes a
PENDING row when a task is sent (it then shows as pending and can be revoked), and workers starting up
learn the ids revoked while none of them listened (``task_results_revoked_recent``).
"""

from __future__ import annotations

import ast
import json
import logging
from datetime import timedelta
from typing import Any

from celery import current_app, states
from celery.utils import uuid
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_celery_results.models import TaskResult
from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)
REVOCABLE_STATES = (states.PENDING, states.RECEIVED)


class TaskResultError(Exception):
    """An action an operator asked for that cannot be done; ``code`` says why (``not_found``, ``invalid``,
    ``conflict``: the work's state forbids it, ``unavailable``: the broker is down)."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message, self.code = message, code


def _task_result(task_id: str) -> TaskResult:
    result = TaskResult.objects.filter(task_id=task_id).first()
    if result is None:
        raise TaskResultError(f"No task with id {task_id!r}.", code="not_found")
    return result


def _stored_value(raw: str | None, kind: type, what: str, task_id: str) -> Any:
    """Arguments as django-celery-results stores them: JSON of Celery's ``repr`` of the arguments (or of
    the arguments themselves). Read with ``ast.literal_eval`` only, which evaluates literals, nothing else."""
    if raw in (None, ""):
        return kind()
    try:
        value = json.loads(raw)
        if isinstance(value, str):
            value = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise TaskResultError(
            f"Task {task_id}: its stored {what} cannot be read back ({raw[:80]!r}), so it cannot be retried."
        ) from None
    if _truncated(value):
        raise TaskResultError(f"Task {task_id}: its stored {what} were shortened when stored, so it cannot be retried.")
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, kind):
        raise TaskResultError(f"Task {task_id}: its stored {what} are not a {kind.__name__}, so it cannot be retried.")
    return value


def _truncated(value: Any) -> bool:
    """Celery's ``saferepr`` cuts long arguments with ``...``, which reads back as Ellipsis."""
    if value is Ellipsis:
        return True
    if isinstance(value, dict):
        return any(_truncated(k) or _truncated(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_truncated(v) for v in value)
    return False


def task_result_retry(*, task_id: str) -> str:
    """Send a FAILURE task again with its original name, args and kwargs; the new task's id.

    Raises TaskResultError with code ``unavailable`` when the broker cannot be reached.
    """
    result = _task_result(task_id)
    if result.status != states.FAILURE:
        raise TaskResultError(f"Task {task_id} is {result.status}; only failed tasks can be retried.")
    # A web process has imported only the task modules its own code uses; load every app's tasks first.
    current_app.loader.import_default_modules()
    task = current_app.tasks.get(result.task_name or "")
    if task is None:
        raise TaskResultError(f"Task {task_id}: no registered task named {result.task_name!r}.")
    args = _stored_value(result.task_args, list, "args", task_id)
    kwargs = _stored_value(result.task_kwargs, dict, "kwargs", task_id)
    if not all(isinstance(key, str) for key in kwargs):
        raise TaskResultError(f"Task {task_id}: its stored kwargs have non-text names.")
    try:
        # A task whose arguments name a row it already settled (a pipeline run) would do nothing when sent
        # again: such a task names a service (``retry_service``) that re-runs the work or says why not.
        if service := getattr(task, "retry_service", None):
            new_id = import_string(service)(args=args, kwargs=kwargs)
            if new_id is not None:
                return new_id
        return task.apply_async(args=args, kwargs=kwargs, task_id=uuid()).id
    except (KombuOperationalError, OSError) as exc:
        raise TaskResultError(f"The broker cannot be reached ({exc}); try again later.", code="unavailable") from None


def task_result_revoke(*, task_id: str) -> TaskResult:
    """Revoke a task that has not started (PENDING or RECEIVED): workers drop it when it reaches them.

    The row turns REVOKED at once, so the change shows even before a worker acknowledges it.
    """
    result = _task_result(task_id)
    if result.status not in REVOCABLE_STATES:
        raise TaskResultError(
            f"Task {task_id} is {result.status}; only tasks that have not started (pending, received) can be revoked."
        )
    claimed = TaskResult.objects.filter(pk=result.pk, status__in=REVOCABLE_STATES).update(
        status=states.REVOKED, date_done=timezone.now()
    )
    if not claimed:
        raise TaskResultError(f"Task {task_id} started meanwhile; it can no longer be revoked.")
    transaction.on_commit(lambda: _revoke_broadcast(task_id))
    result.refresh_from_db()
    return result


def _revoke_broadcast(task_id: str) -> None:
    try:
        current_app.control.revoke(task_id)
    except (KombuOperationalError, OSError):
        # The REVOKED row stands: workers read it when they start; running ones missed this broadcast.
        logger.warning("could not broadcast the revoke of task %s", task_id, exc_info=True)


def task_result_record_published(
    *, task_id: str, task_name: str, args_repr: str | None, kwargs_repr: str | None
) -> None:
    """Write the PENDING row of a task just sent, unless a worker already wrote one."""
    try:
        with transaction.atomic():
            TaskResult.objects.get_or_create(
                task_id=task_id,
                defaults={
                    "status": states.PENDING,
                    "task_name": task_name,
                    "task_args": json.dumps(args_repr) if args_repr is not None else None,
                    "task_kwargs": json.dumps(kwargs_repr) if kwargs_repr is not None else None,
                },
            )
    except IntegrityError:
        pass  # a worker stored its row between our read and write: that row is newer


def task_results_revoked_recent() -> list[str]:
    """Ids revoked within the broker's visibility timeout: a message older than that was redelivered or gone."""
    since = timezone.now() - timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT)
    return list(
        TaskResult.objects.filter(status=states.REVOKED, date_done__gte=since).values_list("task_id", flat=True)
    )
