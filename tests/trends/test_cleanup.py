"""Retention: `manage.py cleanup`, the daily task and the service behind both (apps/trends/cleanup.py)."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_celery_results.models import TaskResult

from apps.core.advisory_lock import advisory_lock_ids
from apps.core.models import Event
from apps.plugins.models import CollectionRun
from apps.trends.cleanup import RESULT_KEYS, cleanup_run
from apps.trends.embeddings import embedding_model_name
from apps.trends.models import Item, PipelineRun, Topic, Trend, TrendSnapshot
from apps.trends.pipeline.lock import PIPELINE_LOCK, PipelineAlreadyRunning
from apps.trends.tasks import cleanup_run_task

pytestmark = pytest.mark.django_db(transaction=True)
NOW = timezone.now()
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=2)


def vector() -> list[float]:
    return list(np.full(384, 1 / np.sqrt(384), dtype=np.float32))


@pytest.fixture
def world(source):
    """Topics with a viral, a dead and no trend; old and recent items; an old duplicate chain."""
    viral, dead, loose = Topic.objects.create(), Topic.objects.create(), Topic.objects.create()
    Trend.objects.create(topic=viral, title="viral", state=Trend.State.VIRAL, updated_at=OLD)
    dead_trend = Trend.objects.create(topic=dead, title="dead", state=Trend.State.DEAD, updated_at=OLD)
    TrendSnapshot.objects.create(trend=dead_trend, taken_at=OLD, score=1, item_count=3, velocity=1)
    n = iter(range(1000))

    def item(topic, published, **fields):
        fields.setdefault("processed_at", NOW)  # the pipeline has seen it; unprocessed items have their own test
        return Item.objects.create(
            source=source, external_id=f"i{next(n)}", title="t", topic=topic, published_at=published, **fields
        )

    kept_viral = [item(viral, OLD) for _ in range(3)]
    old_dead = [item(dead, OLD) for _ in range(3)]
    old_loose = [item(loose, OLD) for _ in range(2)]
    recent = item(loose, RECENT, duplicate_of=old_loose[0])
    # No published time: the collection time decides.
    undated_old = item(None, None, collected_at=OLD)
    undated_recent = item(None, None)
    dead.representative_item = old_dead[0]
    dead.save()
    loose.representative_item = old_loose[1]
    loose.save()
    return {
        "kept": [*kept_viral, recent, undated_recent],
        "deleted": [*old_dead, *old_loose, undated_old],
        "topics": {"viral": viral, "dead": dead, "loose": loose},
    }


def test_cleanup_keeps_items_of_active_trends_and_deletes_the_rest(world):
    result = cleanup_run(days=30)
    assert set(Item.objects.values_list("pk", flat=True)) == {i.pk for i in world["kept"]}
    assert result["items_deleted"] == len(world["deleted"]) == 6
    assert list(Trend.objects.values_list("title", flat=True)) == ["viral"]
    assert result["trends_deleted"] == 1 and not TrendSnapshot.objects.exists()
    # The dead trend's topic lost every item; the loose topic keeps its recent one.
    assert result["topics_deleted"] == 1
    assert set(Topic.objects.values_list("pk", flat=True)) == {world["topics"]["viral"].pk, world["topics"]["loose"].pk}
    recent = Item.objects.get(pk=world["kept"][3].pk)
    assert recent.duplicate_of_id is None  # its original went: SET_NULL applied in SQL
    assert Topic.objects.get(pk=world["topics"]["loose"].pk).representative_item_id is None
    assert set(result) == {*RESULT_KEYS, "cutoff_days", "timestamp"} and result["cutoff_days"] == 30


def test_cleanup_twice_changes_nothing_the_second_time(world):
    cleanup_run(days=30)
    left = sorted(Item.objects.values_list("pk", flat=True))
    again = cleanup_run(days=30)
    assert all(again[key] == 0 for key in RESULT_KEYS)
    assert sorted(Item.objects.values_list("pk", flat=True)) == left


def test_dry_run_counts_what_a_real_run_deletes_and_deletes_nothing(world):
    before = Item.objects.count(), Trend.objects.count(), Topic.objects.count()
    counted = cleanup_run(days=30, dry_run=True)
    assert (Item.objects.count(), Trend.objects.count(), Topic.objects.count()) == before
    done = cleanup_run(days=30)
    assert {k: counted[k] for k in RESULT_KEYS} == {k: done[k] for k in RESULT_KEYS}


def test_an_interrupted_cleanup_keeps_its_batches_and_a_rerun_finishes(world):
    class Stop(Exception):
        pass

    def stop_after_first_batch(step, done, total):
        raise Stop

    with pytest.raises(Stop):
        cleanup_run(days=30, batch_size=2, progress=stop_after_first_batch)
    assert Item.objects.count() == len(world["kept"]) + len(world["deleted"]) - 2  # one batch committed
    result = cleanup_run(days=30, batch_size=2)
    assert result["items_deleted"] == len(world["deleted"]) - 2
    assert set(Item.objects.values_list("pk", flat=True)) == {i.pk for i in world["kept"]}


def test_old_items_the_pipeline_has_not_processed_survive(world, source):
    waiting = [Item.objects.create(source=source, external_id=f"w{i}", title="t", published_at=OLD) for i in range(3)]
    result = cleanup_run(days=30)
    assert result["items_deleted"] == len(world["deleted"])
    assert set(Item.objects.filter(pk__in=[i.pk for i in waiting]).values_list("pk", flat=True)) == {
        i.pk for i in waiting
    }
    assert cleanup_run(days=30, dry_run=True)["items_deleted"] == 0


def test_cleanup_never_runs_while_a_pipeline_holds_the_lock(world):
    holder = connection.get_new_connection(connection.get_connection_params())  # a worker mid-run
    before = Item.objects.count()
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", list(advisory_lock_ids(PIPELINE_LOCK)))
        with pytest.raises(PipelineAlreadyRunning):
            cleanup_run(days=30)
        with pytest.raises(CommandError, match="Pipeline running: cleanup skipped"):
            call_command("cleanup", "--days", "30", stdout=io.StringIO())
        assert cleanup_run_task.apply(kwargs={"days": 30}).get() == {
            "skipped": "pipeline running: cleanup skipped, nothing deleted"
        }
        assert Item.objects.count() == before
        assert cleanup_run(days=30, dry_run=True)["items_deleted"] == 6  # counting needs no lock
        with holder.cursor() as cursor:  # the run ends (closing alone frees the lock a moment later)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(advisory_lock_ids(PIPELINE_LOCK)))
    finally:
        holder.close()
    assert cleanup_run(days=30)["items_deleted"] == 6


def test_embeddings_of_another_model_are_cleared(source):
    ours = Item.objects.create(
        source=source, external_id="a", title="a", embedding=vector(), embedding_model=embedding_model_name()
    )
    theirs = Item.objects.create(
        source=source, external_id="b", title="b", embedding=vector(), embedding_model="old-model-v1"
    )
    result = cleanup_run(days=30, only=["embeddings"])
    assert result["embeddings_cleaned"] == 1
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert theirs.embedding is None and theirs.embedding_model == ""
    assert ours.embedding is not None
    assert cleanup_run(days=30, only=["embeddings"])["embeddings_cleaned"] == 0


def test_runs_events_and_task_results_past_retention_go(source):
    PipelineRun.objects.create(workflow="full", status="success", started_at=OLD)
    PipelineRun.objects.create(workflow="full", status="running", started_at=OLD)  # still running: stays
    PipelineRun.objects.create(workflow="full", status="success", started_at=RECENT)
    CollectionRun.objects.create(source=source, status="success", started_at=OLD)
    CollectionRun.objects.create(source=source, status="success", started_at=RECENT)
    processed = Event.objects.create(kind="trend.created", processed_at=OLD)
    unprocessed = Event.objects.create(kind="trend.created")
    Event.objects.filter(pk__in=[processed.pk, unprocessed.pk]).update(created_at=OLD)
    TaskResult.objects.create(task_id="done", status="SUCCESS")
    TaskResult.objects.create(task_id="waiting", status="PENDING")
    TaskResult.objects.filter(task_id__in=["done", "waiting"]).update(date_done=OLD)
    result = cleanup_run(days=30, only=["runs", "events", "tasks"])
    assert (result["pipeline_runs_deleted"], result["collection_runs_deleted"]) == (1, 1)
    assert (result["events_deleted"], result["task_results_deleted"]) == (1, 1)
    assert PipelineRun.objects.count() == 2 and CollectionRun.objects.count() == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [unprocessed.pk]
    assert list(TaskResult.objects.values_list("task_id", flat=True)) == ["waiting"]


def test_only_limits_the_parts(world):
    result = cleanup_run(days=30, only=["trends"])
    assert result["trends_deleted"] == 1 and result["items_deleted"] == 0
    assert Item.objects.count() == len(world["kept"]) + len(world["deleted"])


def test_command_prints_the_summary_keys_and_dry_run_deletes_nothing(world):
    out = io.StringIO()
    call_command("cleanup", "--days", "30", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "items_deleted: 6" in text and "Dry run:" in text
    for key in (*RESULT_KEYS, "cutoff_days", "timestamp"):
        assert f"{key}: " in text
    assert Item.objects.count() == len(world["kept"]) + len(world["deleted"])
    out = io.StringIO()
    call_command("cleanup", "--days", "30", "--only", "items", stdout=out)
    assert "items_deleted: 6" in out.getvalue() and "Done!" in out.getvalue()
    assert Trend.objects.filter(title="dead").exists()


@pytest.mark.parametrize("args", [["--only", "items,bogus"], ["--only", ""], ["--days", "0"], ["--batch-size", "0"]])
def test_command_refuses_bad_options_with_a_message(args):
    with pytest.raises(CommandError):
        call_command("cleanup", *args, stdout=io.StringIO())


def test_daily_task_runs_the_same_service_and_returns_the_summary(world):
    result = cleanup_run_task.apply(kwargs={"days": 30}).get()
    assert set(result) == {*RESULT_KEYS, "cutoff_days", "timestamp"}
    assert result["items_deleted"] == 6


def test_default_schedules_include_the_daily_cleanup():
    from trendsite.schedules import DEFAULT_SCHEDULES

    (cleanup,) = [s for s in DEFAULT_SCHEDULES if s.task == "apps.trends.tasks.cleanup_run_task"]
    assert cleanup.interval_seconds() == 86400
