"""Source services: collect one source (run row, ingest, health, events, backoff), schedules, operator actions."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from apps.core.advisory_lock import advisory_lock
from apps.core.http import FetchError
from apps.core.models import Event
from apps.core.services import event_emit
from apps.core.switches import collect_switch, switch_on
from apps.plugins.collect_metrics import collection_run_count, failure_kind
from apps.plugins.collectors import collector_class
from apps.plugins.collectors.base import Collector, CollectOutcome
from apps.plugins.collectors.file import FileReport, file_drafts, file_report_details
from apps.plugins.config_secrets import secrets_scrubbed
from apps.plugins.models import CollectionRun, FeedState, PluginHealth, Source
from apps.trends.ingest import IngestResult, items_ingest

logger = logging.getLogger(__name__)

COLLECT_TASK = "apps.plugins.tasks.source_collect"
BACKOFF_CAP = timedelta(hours=24)
ERROR_MAX_CHARS = 1000
# A second delivery of the same source's task while the first still runs (acks_late, beat overlap) or a
# `collect` alongside a worker does nothing: the source's advisory lock (apps.core.advisory_lock) is held by
# the collecting process's database session, so a worker killed mid-collect frees its source at once and
# Celery's redelivery of the task collects.
COLLECT_LOCK = "collect"


# A source still failing after this many runs in a row alerts once more (plugin.failed with "repeat").
FAILURES_REMINDER = 10


@contextmanager
def source_collect_lock(*, source_id: int) -> Iterator[bool]:
    """Yield whether the caller holds the source's collection lock and may collect it now.

    Held by this process's database session: released when the block ends, or by PostgreSQL when the
    process dies, so a killed collect never keeps its source locked.
    """
    with advisory_lock(COLLECT_LOCK, source_id) as acquired:
        yield acquired


def source_backoff(*, poll_interval: int, consecutive_failures: int) -> timedelta:
    """Delay before retrying a failing source: doubling per failure from its poll interval, ±20 % jitter so
    many failing sources do not retry in step, never more than 24 h."""
    base = max(poll_interval, 60) * 2 ** min(max(consecutive_failures - 1, 0), 20)
    return min(timedelta(seconds=base * random.uniform(0.8, 1.2)), BACKOFF_CAP)


def _health_record(
    *,
    source: Source,
    run: CollectionRun,
    ok: bool,
    error: str,
    retry_after: datetime | None,
    permanent: bool = False,
) -> PluginHealth:
    """Update health for a finished run; call inside the transaction that finishes the run.

    A temporary failure (timeout, DNS, 5xx) backs off by doubling; a permanent one (404/410, refused address,
    invalid config) cannot heal by waiting: the source turns unhealthy at once (operators hear of it) and
    waits the full backoff cap unless an operator collects it by hand.
    """
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
        if permanent or health.consecutive_failures >= settings.TRENDSITE_SOURCE_FAILURE_THRESHOLD:
            health.is_healthy = False
        backoff = now + (
            BACKOFF_CAP
            if permanent
            else source_backoff(poll_interval=source.poll_interval, consecutive_failures=health.consecutive_failures)
        )
        source.next_fetch_after = max(backoff, retry_after) if retry_after else backoff
    health.success_rate = (health.total_runs - health.total_failures) / health.total_runs
    health.save()
    Source.objects.filter(pk=source.pk).update(
        next_fetch_after=source.next_fetch_after, etag=source.etag, last_modified=source.last_modified
    )
    if not health.is_healthy and (was_healthy or health.consecutive_failures == FAILURES_REMINDER):
        event_emit(
            kind=Event.Kind.PLUGIN_FAILED,
            subject=source,
            payload={
                "source": source.name,
                "failures": health.consecutive_failures,
                "error": health.last_error,
                "repeat": not was_healthy,
            },
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
    permanent: bool = False,
    failure: str = "",
) -> CollectionRun:
    run.finished_at = timezone.now()
    run.duration_ms = (time.monotonic() - started) * 1000
    run.status = status
    error = secrets_scrubbed(kind=source.kind, config=source.config, text=error)
    run.error = error[: ERROR_MAX_CHARS * 4]
    if ingest is not None:
        run.new_count, run.duplicate_count = ingest.new, ingest.updated
        run.skipped_count, run.skip_reasons = ingest.skipped, ingest.skip_reasons
        if ingest.unparsed_metrics:  # a note on the run only: the items were stored, the source is fine
            run.details = {**(run.details or {}), "metrics_kept_as_text": ingest.unparsed_metrics}
            kept = ", ".join(f"'{key}' in {count:,} item(s)" for key, count in sorted(ingest.unparsed_metrics.items()))
            run.error = "; ".join(filter(None, [run.error, f"metrics kept as text, not numbers: {kept}"]))
    run.save()
    collection_run_count(
        source=source, run=run, failure=failure or failure_kind(permanent=permanent, retry_after=retry_after)
    )
    _health_record(
        source=source,
        run=run,
        ok=status != CollectionRun.Status.FAILED,
        error=error,
        retry_after=retry_after,
        permanent=permanent,
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
            collection_run_count(source=source, run=run, failure="lost")
            _health_record(source=source, run=run, ok=False, error=error, retry_after=None)
            failed += 1
    return failed


def _feed_states_store(*, source: Source, results: list, at: datetime) -> None:
    """Upsert each feed URL's validators and last outcome; forget URLs the config no longer lists."""
    if not results:
        return
    FeedState.objects.bulk_create(
        [
            FeedState(
                source=source,
                url=result.url,
                etag=result.etag[:512],
                last_modified=result.last_modified[:128],
                last_status=result.status,
                last_error=result.error[:ERROR_MAX_CHARS],
                last_fetched_at=at,
            )
            for result in results
        ],
        update_conflicts=True,
        unique_fields=["source", "url"],
        update_fields=["etag", "last_modified", "last_status", "last_error", "last_fetched_at"],
        batch_size=1000,
    )
    FeedState.objects.filter(source=source).exclude(url__in=[result.url for result in results]).delete()


def source_collector(*, source: Source) -> Collector:
    """The source's collector; an invalid stored config is a permanent FetchError (waiting cannot fix it)."""
    try:
        return collector_class(source.kind)(source)
    except ValidationError as exc:
        raise FetchError("invalid config: " + "; ".join(exc.messages), permanent=True) from None


def source_collect(*, source: Source, trigger: str = "schedule", force: bool = False) -> CollectionRun:
    """Collect one source now: fetch, parse, upsert, and record the run and the source's health.

    Never raises for a source's failure: the error lands in the CollectionRun and PluginHealth, the source
    backs off, and the caller moves on to the next source. Unless ``force`` (an operator asked), a source
    whose ``next_fetch_after`` is in the future is skipped with a SKIPPED run that leaves health alone, and
    so is every source of a kind whose ``collect.<kind>`` feature switch is off (forced or not).
    Runs of this source lost with their worker are failed first (``source_lost_runs_fail``).
    """
    now = timezone.now()
    # Decided before lost runs are failed: their backoff must not skip the collection that found them.
    backed_off = not force and source.next_fetch_after is not None and source.next_fetch_after > now
    source_lost_runs_fail(source=source)
    switch = collect_switch(source.kind)
    reason = ""
    if not switch_on(switch):
        # An operator's kill switch for a whole kind: forced (command, admin) collections obey it too.
        reason = f"switched off: feature switch {switch!r} is off"
    elif backed_off:
        reason = f"next fetch allowed after {source.next_fetch_after:%Y-%m-%d %H:%M:%S} UTC"
    if reason:
        return CollectionRun.objects.create(
            source=source,
            started_at=now,
            finished_at=now,
            duration_ms=0,
            status=CollectionRun.Status.SKIPPED,
            trigger=trigger,
            error=reason,
        )
    run = CollectionRun.objects.create(source=source, started_at=now, trigger=trigger)
    started = time.monotonic()
    try:
        outcome: CollectOutcome = source_collector(source=source).collect()
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
                permanent=getattr(exc, "permanent", False),
                failure=failure_kind(
                    exc=exc, permanent=getattr(exc, "permanent", False), retry_after=getattr(exc, "retry_after", None)
                ),
            )
    with transaction.atomic():
        run.details = outcome.details
        _feed_states_store(source=source, results=outcome.feed_states, at=run.started_at)
        if outcome.not_modified:
            return _run_finish(source=source, run=run, started=started, status=CollectionRun.Status.NOT_MODIFIED)
        run.fetched_count = len(outcome.drafts)
        ingest = items_ingest(source_id=source.pk, drafts=outcome.drafts)
        _unreadable_count(ingest, outcome.unreadable)
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


@transaction.atomic
def source_enabled_set(*, source: Source, enabled: bool) -> Source:
    """Enable or disable a source; its periodic task follows at once.

    Only the ``enabled`` columns are written, by UPDATE: a full save from a copy read before beat's own save
    of the same task row (``last_run_at``, run count) could write back what either side just changed. Beat
    is told the schedule changed; should its stale save re-enable the row anyway, the next scheduled task
    finds the source disabled and switches the row off again (``tasks.source_collect``).
    """
    source.enabled = enabled
    Source.objects.filter(pk=source.pk).update(enabled=enabled, updated_at=timezone.now())
    if source.periodic_task_id:
        periodic_task_enabled_set(task_id=source.periodic_task_id, enabled=enabled)
    else:
        source_schedule_sync(source=source)
    return source


def periodic_task_enabled_set(*, task_id: int, enabled: bool) -> None:
    """Switch one periodic task on or off in a way beat notices at its next tick."""
    changes: dict[str, Any] = {"enabled": enabled}
    if not enabled:
        changes["last_run_at"] = None  # as PeriodicTask.save does for a disabled task
    PeriodicTask.objects.filter(pk=task_id).update(**changes)
    PeriodicTasks.update_changed()


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


def source_schedule_sync(*, source: Source, previous_name: str | None = None, reschedule: bool = True) -> PeriodicTask:
    """Create or update the source's own periodic task: every ``poll_interval`` seconds, enabled with it.

    Called on every save of the source. Only enabled and the task's arguments are set here, the schedule
    when ``reschedule`` (the source's interval changed) or the task is new, and on a rename
    (``previous_name``) the default name and description, so what an operator changes on the periodic task
    itself (its interval, queue, expiry, a name of their own ...) stays until they change the source's.
    """
    # Read the task fresh: the copy cached on ``source`` may predate an operator's edit.
    task = PeriodicTask.objects.filter(pk=source.periodic_task_id).first() if source.periodic_task_id else None
    task = task or PeriodicTask.objects.filter(name=_task_name(source.name)).first()
    fields = ["task", "args", "enabled", "last_run_at"]
    if task is None:
        task, fields = PeriodicTask(name=_task_name(source.name), description=_task_description(source.name)), None
    elif previous_name and previous_name != source.name:
        fields += _task_rename(task=task, previous_name=previous_name, name=source.name)
    task.task = COLLECT_TASK
    if reschedule or fields is None:
        # The floor holds here too, for sources saved without validation (the ORM, fixtures, older rows).
        every = max(source.poll_interval, settings.TRENDSITE_POLL_INTERVAL_MIN)
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=IntervalSchedule.SECONDS)
        task.interval, task.crontab, task.solar, task.clocked = interval, None, None, None
        if fields is not None:
            fields += ["interval", "crontab", "solar", "clocked"]
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


def _unreadable_count(ingest: IngestResult, unreadable: int) -> None:
    if unreadable:
        ingest.add(IngestResult(skipped=unreadable, skip_reasons={"unreadable line": unreadable}))


def source_file_import(
    *,
    source: Source,
    path: Path,
    config: dict[str, Any],
    chunk_size: int = 2000,
    progress: Callable[[int, IngestResult], None] | None = None,
) -> tuple[CollectionRun, IngestResult, FileReport]:
    """Import a CSV/JSONL file into ``source`` in chunks, recorded as a CollectionRun like a collection.

    Unreadable lines are counted and quoted by file, line and column (``FileReport``) while the good ones are
    stored; the run fails when the file is empty, binary, lacks the mapped columns or yields no record.
    ``progress`` is called after each chunk with the bytes read so far and the running totals.
    """
    run = CollectionRun.objects.create(source=source, started_at=timezone.now(), trigger="import")
    started = time.monotonic()
    report, total = FileReport(name=path.name), IngestResult()
    error = ""
    try:
        with path.open("rb") as stream:
            drafts = file_drafts(stream, config=config, report=report)
            while chunk := list(islice(drafts, chunk_size)):
                total.add(items_ingest(source_id=source.pk, drafts=chunk))
                run.fetched_count += len(chunk)
                if progress is not None:
                    progress(stream.tell() if not stream.closed else path.stat().st_size, total)
    except FetchError as exc:
        error = exc.message
    except OSError as exc:
        error = f"cannot read {path}: {exc.strerror}"
    if not error and not report.records:
        error = f"no readable record in {path.name}"
    status = CollectionRun.Status.FAILED if error else CollectionRun.Status.SUCCESS
    _unreadable_count(total, report.bad)
    with transaction.atomic():
        run.details = file_report_details(report)
        _run_finish(
            source=source,
            run=run,
            started=started,
            status=status,
            error="; ".join(([error] if error else []) + report.summary()),
            ingest=total,
            permanent=bool(error),
        )
    return run, total, report
