"""Pipeline runs: one at a time, items as a stream in batches, then the topic-level stages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from apps.trends.embeddings import dimensions, embedding_model_name, texts_embed
from apps.trends.models import Item, PipelineRun, Topic, Trend
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.dedup import dedup_exact
from apps.trends.pipeline.describe import describe, items_categorise
from apps.trends.pipeline.embed import embed, item_embedding_text
from apps.trends.pipeline.language import language
from apps.trends.pipeline.lifecycle import lifecycle
from apps.trends.pipeline.lock import PipelineAlreadyRunning, pipeline_lock
from apps.trends.pipeline.neardup import dedup_near
from apps.trends.pipeline.normalise import normalise
from apps.trends.pipeline.rank import rank
from apps.trends.pipeline.recluster import topics_recluster
from apps.trends.pipeline.topics import topic_assign
from apps.trends.reembed import embedding_dimensions_stored
from apps.trends.vectors import items_vectors_attach, vector_cursor

logger = logging.getLogger(__name__)

# Stages over a batch of items, in order. Each returns a count and mutates the items in place.
# (normalise runs when a batch is loaded, see _batch_load.)
ITEM_STAGES: list[tuple[str, Callable[[list[Item], StageContext], int]]] = [
    ("dedup_exact", dedup_exact),
    ("language", language),
    ("embed", embed),
    ("dedup_near", dedup_near),
    ("topic_assign", topic_assign),
    ("categorise", items_categorise),
]
# One UPDATE per batch, each column passed as one array and vectors in binary: Django's bulk_update builds a
# CASE per column and row, which with 384-float vectors costs more than the embedding itself.
_ITEMS_SAVE_SQL = """
UPDATE trends_item AS i SET
    title = v.title, text = v.text, canonical_url = v.canonical_url, content_hash = v.content_hash,
    duplicate_of_id = v.duplicate_of_id, language = v.language, embedding = v.embedding,
    embedding_model = CASE WHEN v.embedding IS NULL THEN '' ELSE %s END,
    topic_id = v.topic_id, category_id = v.category_id, processed_at = v.processed_at
FROM unnest(
    %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::text[], {vectors}::vector[],
    %s::bigint[], %s::bigint[], %s::timestamptz[]
) AS v(
    id, title, text, canonical_url, content_hash, duplicate_of_id, language, embedding, topic_id, category_id,
    processed_at
)
WHERE i.id = v.id
"""


def items_save(items: list[Item]) -> None:
    """Write what the item stages computed, for the whole batch in one statement."""
    if not items:
        return
    vectors = [None if i.embedding is None else np.asarray(i.embedding, dtype=np.float32) for i in items]
    columns = [
        embedding_model_name(),
        [i.pk for i in items],
        [i.title for i in items],
        [i.text for i in items],
        [i.canonical_url for i in items],
        [i.content_hash for i in items],
        [i.duplicate_of_id for i in items],
        [i.language for i in items],
        vectors,
        [i.topic_id for i in items],
        [i.category_id for i in items],
        [i.processed_at for i in items],
    ]
    # %b sends the vectors in binary; a column of only NULLs has no element to take the type from.
    placeholder = "%b" if any(v is not None for v in vectors) else "%s"
    with vector_cursor() as cursor:
        cursor.execute(_ITEMS_SAVE_SQL.format(vectors=placeholder), columns)


# Steps per workflow. Collection is not a step the pipeline runs: each Source is collected by its own
# periodic task (apps.plugins, django-celery-beat), and trends never imports apps.plugins. "collect" is
# kept as a named step so the four workflows share one shape and collect_only is a valid, empty run.
WORKFLOWS: dict[str, list[str]] = {
    "full": ["collect", "process", "refresh"],
    "collect_only": ["collect"],
    "process_only": ["process"],
    "refresh": ["refresh"],
}

ProgressCallback = Callable[[int, int], None]
_Prepared = tuple[list[Item], "Future[dict[int, np.ndarray]]"]


class PipelineCancelled(Exception):
    """The run was asked to stop (``PipelineRun.cancel_requested_at``); batches committed so far stay."""


def _cancel_requested(run_id: int) -> bool:
    return PipelineRun.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists()


LOST_RUN_ERROR = "worker lost: the process running it died before it finished"


def pipeline_runs_lost_fail(*, started_before: datetime | None = None) -> int:
    """Mark every run still ``running`` (started before ``started_before``) as failed, worker lost.

    Only correct while holding the pipeline lock: then no other process is running, so a ``running`` row
    belongs to a process that was killed (kill -9, OOM, a worker lost by Celery) before it could say so.
    """
    runs = PipelineRun.objects.filter(status=PipelineRun.Status.RUNNING)
    if started_before is not None:
        runs = runs.filter(started_at__lt=started_before)
    failed = runs.update(status=PipelineRun.Status.FAILED, error=LOST_RUN_ERROR, finished_at=timezone.now())
    if failed:
        logger.warning("Marked %d pipeline run(s) failed: %s", failed, LOST_RUN_ERROR)
    return failed


def pipeline_runs_lost_check() -> int:
    """The periodic check: when no run holds the lock, fail every run left ``running``; returns how many."""
    try:
        with pipeline_lock():
            return pipeline_runs_lost_fail()
    except PipelineAlreadyRunning:
        return 0  # a run is in progress; the next run start or the next check settles any older row


def topics_without_trend() -> set[int]:
    """Active topics with enough items for a trend but none: left so by a run that died before ranking."""
    return set(
        Topic.objects.filter(is_active=True, item_count__gte=settings.TREND_MIN_ITEMS, trend__isnull=True).values_list(
            "pk", flat=True
        )
    )


class _Timer:
    """Per-stage counts and seconds, as stored in PipelineRun.stats."""

    def __init__(self) -> None:
        self.stats: dict[str, dict[str, float]] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, float]]:
        entry = self.stats.setdefault(name, {"count": 0, "seconds": 0.0})
        started = time.perf_counter()
        try:
            yield entry
        finally:
            entry["seconds"] = round(entry["seconds"] + time.perf_counter() - started, 4)


def items_unprocessed(*, as_of: datetime | None) -> QuerySet[Item]:
    """Unprocessed items in stream order, (published_at, id).

    Items without a timestamp come last in a live run and never in a replay (they have no "when").
    """
    queryset = Item.objects.filter(processed_at__isnull=True)
    if as_of is not None:
        queryset = queryset.filter(published_at__lte=as_of)
    return queryset.order_by(F("published_at").asc(nulls_last=True), "id")


def _batch_load(ids: list[int], ctx: StageContext, timer: _Timer, pool: ThreadPoolExecutor) -> _Prepared:
    """Load and normalise a batch, and start embedding it in the background.

    The model computes the next batch's vectors while this thread does the current batch's database work
    (near-dup, topics, save, merge): on two cores that overlap is most of the pipeline's speed. Embedding
    needs only the normalised text, so nothing it reads can change before the batch's turn.
    """
    batch = list(
        Item.objects.filter(pk__in=ids).defer("embedding").order_by(F("published_at").asc(nulls_last=True), "id")
    )
    items_vectors_attach(batch)
    with timer.stage("normalise") as entry:
        entry["count"] += normalise(batch, ctx)
    # Items an embed worker already did (apps/trends/embed_ahead.py) keep their vectors; the rest are embedded here.
    model = embedding_model_name()
    todo = [item for item in batch if item.embedding is None or item.embedding_model != model]
    for item in todo:
        item.embedding = None
    ctx.counts["embedded_ahead"] += len(batch) - len(todo)
    return batch, pool.submit(_vectors_by_id, todo)


def _vectors_by_id(items: list[Item]) -> dict[int, np.ndarray]:
    vectors = texts_embed([item_embedding_text(item) for item in items]) if items else []
    return dict(zip((item.pk for item in items), vectors, strict=True))


def _process(ctx: StageContext, timer: _Timer, progress: ProgressCallback | None, batch_size: int, run_id: int) -> int:
    as_of = ctx.as_of if ctx.replay else None
    # Batches are fixed up front (ids in stream order), so the next one can be read before this one is saved.
    ids = list(items_unprocessed(as_of=as_of).values_list("pk", flat=True))
    chunks = [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
        upcoming = _batch_load(chunks[0], ctx, timer, pool) if chunks else None
        for index in range(len(chunks)):
            if _cancel_requested(run_id):
                ctx.counts["items_processed_before_cancel"] = done
                raise PipelineCancelled(f"cancelled after {done} of {len(ids)} items")
            batch, vectors = upcoming
            upcoming = _batch_load(chunks[index + 1], ctx, timer, pool) if index + 1 < len(chunks) else None
            with transaction.atomic():
                before = set(ctx.touched_topic_ids)
                ctx.touched_topic_ids = set()
                for name, stage in ITEM_STAGES:
                    with timer.stage(name) as entry:
                        if name == "embed":
                            ctx.vectors = vectors.result()
                        entry["count"] += stage(batch, ctx)
                now = timezone.now()
                for item in batch:
                    item.processed_at = now
                with timer.stage("save") as entry:
                    items_save(batch)
                    entry["count"] += len(batch)
                ctx.touched_topic_ids |= before
            done += len(batch)
            if progress is not None:
                progress(done, max(len(ids), done))
    return done


def _topics_rank_and_describe(topic_ids: set[int], describe_ids: set[int], ctx: StageContext, timer: _Timer) -> None:
    with timer.stage("rank") as entry:
        metrics = rank(topic_ids, ctx)
        entry["count"] += len(metrics)
    with timer.stage("lifecycle") as entry:
        entry["count"] += lifecycle(metrics, ctx)
    with timer.stage("describe") as entry:
        entry["count"] += describe(describe_ids, ctx)


def _dimensions_check() -> None:
    stored, wanted = embedding_dimensions_stored(), dimensions()
    if stored != wanted:
        raise ImproperlyConfigured(
            f"EMBEDDING_MODEL {embedding_model_name()} makes {wanted}-dimension vectors but the database holds "
            f"{stored}: run `manage.py reembed` before the pipeline."
        )


def pipeline_run(
    *,
    workflow: str = "full",
    as_of: datetime | None = None,
    trigger: str = "",
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    run_id: int | None = None,
) -> PipelineRun:
    """Run a workflow once and return its PipelineRun.

    With ``as_of`` the run is a replay: only items published up to then are processed, and scores,
    snapshots and the lifecycle are computed as of then. Raises PipelineAlreadyRunning (after recording a
    skipped run) when another run holds the lock. Running twice on the same items changes nothing.

    ``run_id`` names a run queued beforehand (``apps.trends.runs.pipeline_run_queue``): it is claimed and
    run once; a run already claimed or cancelled is returned as it is (a re-delivered task does nothing).
    A cancel request stops the run before its next batch; it ends ``cancelled`` with its batches kept.
    """
    if workflow not in WORKFLOWS:
        raise ValueError(f"Unknown workflow {workflow!r}: choose one of {', '.join(WORKFLOWS)}.")
    ctx = StageContext(as_of=as_of or timezone.now(), replay=as_of is not None)
    if run_id is None:
        run = PipelineRun.objects.create(workflow=workflow, trigger=trigger, as_of=as_of)
    else:
        claimed = PipelineRun.objects.filter(pk=run_id, status=PipelineRun.Status.QUEUED).update(
            status=PipelineRun.Status.RUNNING, started_at=timezone.now()
        )
        run = PipelineRun.objects.get(pk=run_id)
        if not claimed:
            return run
    timer = _Timer()
    try:
        with pipeline_lock():
            pipeline_runs_lost_fail(started_before=run.started_at)
            steps = WORKFLOWS[workflow]
            processed = 0
            if "process" in steps:
                _dimensions_check()
                processed = _process(ctx, timer, progress, batch_size or settings.PIPELINE_BATCH_SIZE, run.pk)
                if processed:
                    with timer.stage("recluster") as entry:
                        entry["count"] += topics_recluster(ctx)["moved"]
            describe_ids = set(ctx.touched_topic_ids)
            if "process" in steps or "refresh" in steps:
                describe_ids |= topics_without_trend()
            rank_ids = set(describe_ids)
            if "refresh" in steps:
                # Time passes without new items too: every live trend decays and may change state.
                rank_ids |= set(Trend.objects.exclude(state=Trend.State.DEAD).values_list("topic_id", flat=True))
            if rank_ids:
                _topics_rank_and_describe(rank_ids, describe_ids, ctx, timer)
    except PipelineAlreadyRunning as exc:
        run.status, run.error, run.finished_at = PipelineRun.Status.SKIPPED, str(exc), timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    except PipelineCancelled as exc:
        run.status, run.error, run.finished_at = PipelineRun.Status.CANCELLED, str(exc), timezone.now()
        run.item_count = ctx.counts["items_processed_before_cancel"]
        run.stats = {"stages": timer.stats, "counts": dict(ctx.counts)}
        run.save(update_fields=["status", "error", "finished_at", "item_count", "stats"])
        return run
    except Exception as exc:
        run.status, run.error, run.finished_at = PipelineRun.Status.FAILED, repr(exc)[:2000], timezone.now()
        run.stats = {"stages": timer.stats, "counts": dict(ctx.counts)}
        run.save(update_fields=["status", "error", "finished_at", "stats"])
        logger.exception("Pipeline run %s failed", run.pk)
        raise
    run.status, run.finished_at, run.item_count = PipelineRun.Status.SUCCESS, timezone.now(), processed
    run.stats = {"stages": timer.stats, "counts": dict(ctx.counts)}
    run.save(update_fields=["status", "finished_at", "item_count", "stats"])
    return run
