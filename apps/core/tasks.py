"""Celery tasks of the core app."""

from __future__ import annotations

from celery import shared_task

from apps.core.liveness import worker_heartbeat_record


@shared_task(name="apps.core.tasks.heartbeat_task", acks_late=True, ignore_result=True)
def heartbeat_task() -> None:
    """Beat sends this every minute; the worker that runs it proves it is alive (apps.core.liveness)."""
    worker_heartbeat_record()
