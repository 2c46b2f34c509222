"""Retention: delete what is older than N days and no longer tells anything, in bounded SQL batches.

One service for ``manage.py cleanup`` and the daily beat task. Rules (``N`` = ``days``):
items published (else collected) more than N days ago, unless their topic's trend is emerging, viral or
sustained or the pipeline has not processed them yet (``processed_at`` NULL: the next run may join them to a
live trend); dead and declining trends not updated for N days (their snapshots with them); topics with no
items left; pipeline and collection runs started, processed events created, sent notifications sent and
finished task results done more than N days ago; and embeddings computed by another model than the
current one are cleared (``embedding`` NULL), for ``reembed`` to fill again.

A cleanup that changes rows holds the pipeline lock, so it never deletes under a running pipeline: while a
run holds it, ``cleanup_run`` raises ``PipelineAlreadyRunning`` at once and deletes nothing.

Other apps' models are looked up by name (``trends`` never imports ``plugins`` or ``alerts``); an app that is
not installed simply has nothing to clean.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from celery import states
from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.models import Event
from apps.core.sql_batches import rows_delete_batched, rows_update_batched
from apps.trends.embeddings import embedding_model_name
from apps.trends.models import Item, Topic, Trend
from apps.trends.pipeline.lock import pipeline_lock

ACTIVE_STATES = (Trend.State.EMERGING, Trend.State.VIRAL, Trend.State.SUSTAINED)
# What `--only` accepts, in the order a cleanup runs them: items first, so topics they empty go too.
PARTS = ("items", "trends", "topics", "runs", "embeddings", "events", "notifications", "tasks")
RESULT_KEYS = (
    "items_deleted",
    "trends_deleted",
    "topics_deleted",
    "pipeline_runs_deleted",
    "collection_runs_deleted",
    "embeddings_cleaned",
    "events_deleted",
    "notifications_deleted",
    "task_results_deleted",
)
# progress(step, rows done in this step, rows the step will touch or None when not counted)
Progress = Callable[[str, int, int | None], None]


def _model(label: str) -> type[models.Model] | None:
    """The model ``app_label.ModelName``, or None when its app is not installed (nothing to clean)."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _items_expired(cutoff) -> models.QuerySet:
    active_trend = Trend.objects.filter(topic_id=models.OuterRef("topic_id"), state__in=ACTIVE_STATES)
    return (
        Item.objects.alias(at=Coalesce("published_at", "collected_at"))
        .filter(at__lt=cutoff, processed_at__isnull=False)
        .filter(~models.Exists(active_trend))
    )


def _trends_expired(cutoff) -> models.QuerySet:
    return Trend.objects.filter(state__in=(Trend.State.DEAD, Trend.State.DECLINING), updated_at__lt=cutoff)


def _topics_empty(items_left: models.QuerySet) -> models.QuerySet:
    # A topic whose trend is still active stays even when empty: lifecycle lets that trend die first.
    active_trend = Trend.objects.filter(topic_id=models.OuterRef("pk"), state__in=ACTIVE_STATES)
    return Topic.objects.filter(
        ~models.Exists(items_left.filter(topic_id=models.OuterRef("pk"))), ~models.Exists(active_trend)
    )


def _embeddings_stale() -> models.QuerySet:
    return Item.objects.filter(embedding__isnull=False).exclude(embedding_model=embedding_model_name())


def _runs(label: str, cutoff) -> models.QuerySet | None:
    model = _model(label)
    return model.objects.filter(started_at__lt=cutoff).exclude(status="running") if model else None


def _notifications_sent(cutoff) -> models.QuerySet | None:
    model = _model("alerts.Notification")
    if model is None or not {"status", "sent_at", "created_at"} <= {f.name for f in model._meta.get_fields()}:
        return None
    return model.objects.filter(status="sent").alias(at=Coalesce("sent_at", "created_at")).filter(at__lt=cutoff)


def _task_results_done(cutoff) -> models.QuerySet:
    task_result = apps.get_model("django_celery_results.TaskResult")
    return task_result.objects.filter(status__in=states.READY_STATES, date_done__lt=cutoff)


def _plan(*, cutoff, dry_run: bool, parts: set[str]) -> list[tuple[str, str, models.QuerySet | None]]:
    """(part, result key, queryset of the rows) in the order they run.

    A dry run deletes nothing first, so it counts what the earlier steps would leave behind: topics
    emptied and embeddings of items that survive.
    """
    items = _items_expired(cutoff)
    survivors = Item.objects.exclude(pk__in=items.values("pk")) if dry_run and "items" in parts else Item.objects
    embeddings = _embeddings_stale()
    if dry_run and "items" in parts:
        embeddings = embeddings.exclude(pk__in=items.values("pk"))
    return [
        ("items", "items_deleted", items),
        ("trends", "trends_deleted", _trends_expired(cutoff)),
        ("topics", "topics_deleted", _topics_empty(survivors)),
        ("runs", "pipeline_runs_deleted", _runs("trends.PipelineRun", cutoff)),
        ("runs", "collection_runs_deleted", _runs("plugins.CollectionRun", cutoff)),
        ("embeddings", "embeddings_cleaned", embeddings),
        ("events", "events_deleted", Event.objects.filter(processed_at__isnull=False, created_at__lt=cutoff)),
        ("notifications", "notifications_deleted", _notifications_sent(cutoff)),
        ("tasks", "task_results_deleted", _task_results_done(cutoff)),
    ]


def cleanup_run(
    *,
    days: int | None = None,
    only: list[str] | None = None,
    dry_run: bool = False,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Apply the retention rules (module docstring) to everything older than ``days`` (setting
    ``CLEANUP_DAYS`` by default); with ``only``, to those parts of ``PARTS``; with ``dry_run``, count only.

    Every change commits in batches of ``batch_size`` rows (``CLEANUP_BATCH_SIZE``), so the site keeps
    answering, an interrupted cleanup keeps what it did, and running it again finishes the rest.
    Returns the counts under ``RESULT_KEYS`` plus ``cutoff_days`` and ``timestamp`` (ISO 8601). Raises
    ``PipelineAlreadyRunning`` (nothing changed) when a pipeline run holds the lock; a dry run needs no lock.
    """
    days = settings.CLEANUP_DAYS if days is None else days
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    parts = set(only or PARTS)
    unknown = parts - set(PARTS)
    if unknown:
        raise ValueError(f"unknown cleanup part(s) {', '.join(sorted(unknown))} (known: {', '.join(PARTS)})")
    batch_size = batch_size or settings.CLEANUP_BATCH_SIZE
    now = timezone.now()
    cutoff = now - timedelta(days=days)
    result: dict[str, Any] = dict.fromkeys(RESULT_KEYS, 0)
    with nullcontext() if dry_run else pipeline_lock():
        for part, key, queryset in _plan(cutoff=cutoff, dry_run=dry_run, parts=parts):
            if part not in parts or queryset is None:
                continue
            if dry_run:
                result[key] = queryset.count()
                continue
            result[key] = _run_step(key=key, queryset=queryset, batch_size=batch_size, progress=progress)
    result["cutoff_days"] = days
    result["timestamp"] = now.isoformat()
    return result


def _run_step(*, key: str, queryset: models.QuerySet, batch_size: int, progress: Progress | None) -> int:
    total = queryset.count() if progress else None
    done = 0

    def batch_done(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(key, done, total)

    if key == "embeddings_cleaned":
        return rows_update_batched(
            queryset=queryset, values={"embedding": None, "embedding_model": ""}, batch_size=batch_size, done=batch_done
        )
    return rows_delete_batched(queryset=queryset, batch_size=batch_size, done=batch_done)
