"""Source services: collect one source (run row, ingest, health, events, backoff), schedules, operator actions."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.core.http import FetchError
from apps.core.models import Event
from apps.core.services import event_emit
from apps.plugins.collectors import collector_class
from apps.plugins.collectors.base import CollectOutcome
from apps.plugins.config_secrets import secrets_scrubbed
from apps.plugins.models import CollectionRun, PluginHealth, Source
from apps.trends.ingest import IngestResult, items_ingest

logger = logging.getLogger(__name__)

COLLECT_TASK = "apps.plugins.tasks.source_collect"
BACKOFF_CAP = timedelta(hours=24)
ERROR_MAX_CHARS = 1000
# A second delivery of the same source's task while the first still runs (acks_late, beat overlap) or a
# `collect` alongside a worker does nothing. The lock is a PostgreSQL session advisory lock (two-int form,
# this namespace, the source id): PostgreSQL drops it when the holder's connection ends, so a worker killed
# mid-collect frees its source at once and Celery's redelivery of the task collects.
_COLLECT_LOCK_SPACE = zlib.crc32(b"trendsite.collect") - 2**31
_held_here: set[int] = set()  # session locks are re-entrant; one process must not collect a source twice either
_held_here_guard = threading.Lock()


def _collect_lock_try(key: int) -> bool:
    with _held_here_guard:
        if key in _held_here:
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_COLLECT_LOCK_SPACE, key])
            acquired = bool(cursor.fetchone()[0])
        if acquired:
            _held_here.add(key)
        return acquired


def _collect_lock_release(key: int) -> None:
    with _held_here_guard:
        _held_here.discard(key)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_COLLECT_LOCK_SPACE, key])
        except DatabaseError:
            logger.warning("collection lock %s: session lost, and the lock with it", key, exc_info=True)


@contextmanager
def source_collect_lock(*, source_id: int) -> Iterator[bool]:
    """Yield whether the caller holds the source's collection lock and may collect it now.

    Held by this process's database session: released when the block ends, or by PostgreSQL when the
    process dies, so a killed collect never keeps its source locked.
    """
    key = source_id % 2**31  # the two-int form takes int4; ids past that share a lock, which only serialises
    acquired = _collect_lock_try(key)
    try:
        yield acquired
    finally:
        if acquired:
            _collect_lock_release(key)


def source_backoff(*, poll_interval: int, consecutive_failures: int) -> timedelta:
    """Delay before retrying a failing source: doubling per failure from its poll interval, ±20 % jitter so
    many failing sources do not retry in step, never more than 24 h."""
    base = max(poll_interval, 60) * 2 ** min(max(consecutive_failures - 1, 0), 20)
    return min(timedelta(seconds=base * random.uniform(0.8, 1.2)), BACKOFF_CAP)


def _health_record(
    *, source: Source, run: CollectionRun, ok: bool, error: str, retry_after: datetime | None
) -> PluginHealth:
    """Update health for a finished run; call inside the transaction that finishes the run."""
    health, _ = PluginHealth.objects.select_for_update().get_or_create(source=source)
    was_healthy = health.is_healthy
    now = run.finished_at
    health.total_runs += 1
    health.last_run_at = now
    if run.duration_ms is not None:  # a lost run's duration is unknown: leave the average alone
        health.avg_duration_ms += (run.duration_ms - health.avg_duration_ms) / health.total_runs
    health.last_error = error[:ERROR_MAX_CHARS]
    if ok:
        health.consecutive_failures = 0
        health.last_success_at = now
        health.is_healthy = True
        source.next_fetch_after = retry_after
    else:
        health.total_failures += 1
        health.consecutive_failures += 1
        health.last_failure_at = now
        if health.consecutive_failures >= settings.TRENDSITE_SOURCE_FAILURE_THRESHOLD:
            health.is_healthy = False
        backoff = now + source_backoff(
            poll_interval=source.poll_interval, consecutive_failures=health.consecutive_failures
        )
        source.next_fetch_after = max(backoff, retry_after) if retry_after else backoff
    health.success_rate = (health.total_runs - health.total_failures) / health.total_runs
    health.save()
    Source.objects.filter(pk=source.pk).update(
        next_fetch_after=source.next_fetch_after, etag=source.etag, last_modified=source.last_modified
    )
    if was_healthy and not health.is_healthy:
        event_emit(
            kind=Event.Kind.PLUGIN_FAILED,
            subject=source,
            payload={"source": source.name, "failures": health.consecutive_failures, "error": health.last_error},
        )
    elif not was_healthy and health.is_healthy:
        event_emit(kind=Event.Kind.PLUGIN_RECOVERED, subject=source, payload={"source": source.name})
    return health


def _run_finish(
    *,
    source: Source,
    run: CollectionRun,
    started: float,
    status: str,
    error: str = "",
    ingest: IngestResult | None = None,
    retry_after: datetime | None = None,
) -> CollectionRun:
    run.finished_at = timezone.now()
    run.duration_ms = (time.monotonic() - started) * 1000
    run.status = status
    error = secrets_scrubbed(kind=source.kind, config=source.config, text=error)
    run.error = error[: ERROR_MAX_CHARS * 4]
    if ingest is not None:
        run.new_count, run.duplicate_count = ingest.new, ingest.updated
        run.skipped_count, run.skip_reasons = ingest.skipped, ingest.skip_reasons
    run.save()
    _health_record(
        source=source, run=run, ok=status != CollectionRun.Status.FAILED, error=error, retry_after=retry_after
    )
    return run


def source_lost_runs_fail(*, source: Source) -> int:
    """Fail the source's runs left ``running`` for longer than Celery's hard time limit; how many.

    Such a run's worker died (or was killed at the limit) and, with ``acks_late``, the task was delivered
    again; nothing will ever finish the old row. Each counts as one failure in the source's health. The
    conditional UPDATE claims a row exactly once, so two collections starting together fail it once.
    """
    limit = settings.CELERY_TASK_TIME_LIMIT
    now = timezone.now()
    error = f"worker lost: run did not finish within {limit} s"
    lost = CollectionRun.objects.filter(
        source=source, status=CollectionRun.Status.RUNNING, started_at__lt=now - timedelta(seconds=limit)
    ).order_by("started_at")
    failed = 0
    for run in lost:
        with transaction.atomic():
            claimed = CollectionRun.objects.filter(pk=run.pk, status=CollectionRun.Status.RUNNING).update(
                status=CollectionRun.Status.FAILED, finished_at=now, error=error
            )
            if claimed != 1:
                continue
            run.status, run.finished_at, run.error = CollectionRun.Status.FAILED, now, error
            _health_record(source=source, run=run, ok=False, error=error, retry_after=None)
            failed += 1
    return failed


def source_collect(*, source: Source, trigger: str = "schedule", force: bool = False) -> CollectionRun:
    """Collect one source now: fetch, parse, upsert, and record the run and the source's health.

    Never raises for a source's failure: the error lands in the CollectionRun and PluginHealth, the source
    backs off, and the caller moves on to the next source. Unless ``force`` (an operator asked), a source
    whose ``next_fetch_after`` is in the future is skipped with a SKIPPED run that leaves health alone.
    Runs of this source lost with their worker are failed first (``source_lost_runs_fail``).
    """
    now = timezone.now()
    # Decided before lost runs are failed: their backoff must not skip the collection that found them.
    backed_off = not force and source.next_fetch_after is not None and source.next_fetch_after > now
    source_lost_runs_fail(source=source)
    if backed_off:
        return CollectionRun.objects.create(
            source=source,
            started_at=now,
            finished_at=now,
            duration_ms=0,
            status=CollectionRun.Status.SKIPPED,
            trigger=trigger,
            error=f"next fetch allowed after {source.next_fetch_after:%Y-%m-%d %H:%M:%S} UTC",
        )
    run = CollectionRun.objects.create(source=source, started_at=now, trigger=trigger)
    started = time.monotonic()
    try:
        outcome: CollectOutcome = collector_class(source.kind)(source).collect()
    except Exception as exc:  # a collector bug must fail its run too, not the whole `collect --all`
        if isinstance(exc, FetchError):
            error = f"{exc.message} ({'permanent' if exc.permanent else 'temporary'})"
        else:
            logger.exception("collector for source %s crashed", source.name)
            error = f"{type(exc).__name__}: {exc}"
        with transaction.atomic():
            return _run_finish(
                source=source,
                run=run,
                started=started,
                status=CollectionRun.Status.FAILED,
                error=error,
                retry_after=getattr(exc, "retry_after", None),
            )
    with transaction.atomic():
        if outcome.not_modified:
            return _run_finish(source=source, run=run, started=started, status=CollectionRun.Status.NOT_MODIFIED)
        run.fetched_count = len(outcome.drafts)
        ingest = items_ingest(source_id=source.pk, drafts=outcome.drafts)
        if outcome.etag is not None:
            source.etag = outcome.etag[:512]
        if outcome.last_modified is not None:
            source.last_modified = outcome.last_modified[:128]
        return _run_finish(
            source=source,
            run=run,
            started=started,
            status=CollectionRun.Status.SUCCESS,
            error="; ".join(outcome.errors),
            ingest=ingest,
        )


@transaction.atomic
def source_health_reset(*, source: Source) -> PluginHealth:
    """Forget past failures and backoff: the source is healthy and may be fetched at once."""
    health, _ = PluginHealth.objects.select_for_update().get_or_create(source=source)
    was_healthy = health.is_healthy
    health.is_healthy, health.consecutive_failures, health.last_error = True, 0, ""
    health.save()
    Source.objects.filter(pk=source.pk).update(next_fetch_after=None)
    source.next_fetch_after = None
    if not was_healthy:
        event_emit(kind=Event.Kind.PLUGIN_RECOVERED, subject=source, payload={"source": source.name, "reset": True})
    return health


def source_enabled_set(*, source: Source, enabled: bool) -> Source:
    """Enable or disable a source; its periodic task follows."""
    source.enabled = enabled
    source.save(update_fields=["enabled", "updated_at"])
    return source


def _task_name(source_name: str) -> str:
    return f"collect {source_name}"


def _task_description(source_name: str) -> str:
    return f"Collect source '{source_name}'"


def _task_rename(*, task: PeriodicTask, previous_name: str, name: str) -> list[str]:
    """Follow a source's rename on its task; the fields to save. A name or description the operator chose
    (anything but the defaults for the previous name) stays, and so does the old name when the new one is
    taken by another task."""
    fields = []
    if task.name == _task_name(previous_name):
        if PeriodicTask.objects.filter(name=_task_name(name)).exclude(pk=task.pk).exists():
            logger.warning("periodic task %r exists already; %r keeps its name", _task_name(name), task.name)
        else:
            task.name, fields = _task_name(name), ["name"]
    if task.description == _task_description(previous_name):
        task.description = _task_description(name)
        fields.append("description")
    return fields


def source_schedule_sync(*, source: Source, previous_name: str | None = None) -> PeriodicTask:
    """Create or update the source's own periodic task: every ``poll_interval`` seconds, enabled with it.

    Called on every save of the source. Only interval, enabled and the task's arguments are set here, and
    on a rename (``previous_name``) the default name and description, so what an operator changes on the
    periodic task itself (queue, expiry, a name of their own ...) stays.
    """
    interval, _ = IntervalSchedule.objects.get_or_create(every=source.poll_interval, period=IntervalSchedule.SECONDS)
    # Read the task fresh: the copy cached on ``source`` may predate an operator's edit.
    task = PeriodicTask.objects.filter(pk=source.periodic_task_id).first() if source.periodic_task_id else None
    task = task or PeriodicTask.objects.filter(name=_task_name(source.name)).first()
    fields = ["task", "interval", "crontab", "solar", "clocked", "args", "enabled", "last_run_at"]
    if task is None:
        task, fields = PeriodicTask(name=_task_name(source.name), description=_task_description(source.name)), None
    elif previous_name and previous_name != source.name:
        fields += _task_rename(task=task, previous_name=previous_name, name=source.name)
    task.task = COLLECT_TASK
    task.interval, task.crontab, task.solar, task.clocked = interval, None, None, None
    task.args = json.dumps([source.pk])
    task.enabled = source.enabled
    task.save(update_fields=fields)
    if source.periodic_task_id != task.pk:
        # update(), not save(): saving the source again would call this function again.
        Source.objects.filter(pk=source.pk).update(periodic_task=task)
        source.periodic_task = task
    return task


def sources_due(*, names: list[str] | None = None) -> list[Source]:
    """Enabled sources (or the named ones, enabled or not) in name order."""
    queryset = Source.objects.select_related("health")
    return list(queryset.filter(name__in=names) if names else queryset.filter(enabled=True))
