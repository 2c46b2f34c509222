"""Celery signal handlers for metrics: task outcomes by name, the multiprocess files, a worker's own endpoint.

A worker host has no web process to scrape, so with CELERY_METRICS_PORT set the worker's main process serves its
pool's counters (added up from PROMETHEUS_MULTIPROC_DIR) on that port, for Prometheus inside the cluster only.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.signals import task_postrun, task_revoked, worker_init, worker_process_shutdown, worker_ready

from apps.core.domain_metrics import TASKS
from trendsite.prometheus_dir import multiproc_dir_clean, process_dead_mark

logger = logging.getLogger(__name__)


def _task_name(sender: object) -> str:
    return str(getattr(sender, "name", None) or sender or "unknown")


@task_postrun.connect
def _count_outcome(sender: object = None, state: str | None = None, **kwargs) -> None:
    TASKS.labels(task=_task_name(sender), outcome=(state or "unknown").lower()).inc()


@task_revoked.connect
def _count_revoked(sender: object = None, **kwargs) -> None:
    TASKS.labels(task=_task_name(sender), outcome="revoked").inc()


@worker_init.connect
def _clean_multiproc_dir(**kwargs) -> None:
    removed = multiproc_dir_clean()
    if removed:
        logger.info("metrics: removed %d file(s) of exited processes", removed)


def worker_metrics_serve(*, port: int, address: str) -> tuple[Any, Any]:
    """Serve this host's multiprocess metrics over HTTP from a daemon thread; the server and its thread."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return start_http_server(port, addr=address, registry=registry)


@worker_ready.connect
def _serve_worker_metrics(**kwargs) -> None:
    from django.conf import settings

    if not settings.CELERY_METRICS_PORT:
        return
    worker_metrics_serve(port=settings.CELERY_METRICS_PORT, address=settings.CELERY_METRICS_ADDRESS)
    logger.info("metrics: worker serving on %s:%s", settings.CELERY_METRICS_ADDRESS, settings.CELERY_METRICS_PORT)


@worker_process_shutdown.connect
def _mark_dead(**kwargs) -> None:
    process_dead_mark(os.getpid())
