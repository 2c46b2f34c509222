"""A pipeline run killed mid-way loses no trend and leaves no run "running" forever."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.advisory_lock import advisory_lock_ids
from apps.trends.models import PipelineRun, Topic, Trend
from apps.trends.pipeline.lock import PIPELINE_LOCK
from apps.trends.pipeline.runner import LOST_RUN_ERROR, pipeline_run
from apps.trends.tasks import cleanup_pipeline_runs_task

from .conftest import T0

LOCK_IDS = list(advisory_lock_ids(PIPELINE_LOCK))

pytestmark = pytest.mark.django_db

STORIES = [
    "Apple unveils new iPhone with bigger screen",
    "Wall Street closes lower as tech stocks slide",
]


def _two_stories(make_item):
    for k in range(4):
        for s, story in enumerate(STORIES):
            make_item(f"{story}, report {k}", minutes=k * 2 + s)


def test_topics_a_killed_run_left_without_a_trend_are_ranked_by_the_next_run(make_item):
    _two_stories(make_item)
    pipeline_run(workflow="process_only")
    assert Trend.objects.count() == 2
    # What a run killed between saving its last batch and ranking leaves behind: every item processed and
    # in its topic, no trend for those topics.
    Trend.objects.all().delete()

    pipeline_run(workflow="process_only")

    qualifying = Topic.objects.filter(is_active=True, item_count__gte=3)
    assert qualifying.count() == 2
    assert set(Trend.objects.values_list("topic_id", flat=True)) == set(qualifying.values_list("pk", flat=True))
    assert all(trend.title != f"Topic {trend.topic_id}" for trend in Trend.objects.all())


def test_a_refresh_also_ranks_orphaned_topics(make_item):
    _two_stories(make_item)
    pipeline_run(workflow="process_only")
    Trend.objects.all().delete()
    pipeline_run(workflow="refresh", as_of=T0 + timedelta(hours=1))
    assert Trend.objects.count() == 2


def _lost_run(minutes_ago: float) -> PipelineRun:
    return PipelineRun.objects.create(workflow="full", started_at=timezone.now() - timedelta(minutes=minutes_ago))


def test_the_next_run_fails_runs_whose_process_died(make_item):
    lost = _lost_run(30)
    make_item("One headline", minutes=0)

    run = pipeline_run(workflow="process_only")

    lost.refresh_from_db()
    assert (lost.status, lost.error) == (PipelineRun.Status.FAILED, LOST_RUN_ERROR)
    assert lost.finished_at is not None
    assert run.status == PipelineRun.Status.SUCCESS


def test_the_periodic_check_fails_lost_runs_when_no_run_holds_the_lock():
    lost = _lost_run(30)
    assert cleanup_pipeline_runs_task() == "1 lost pipeline run(s) marked failed"
    lost.refresh_from_db()
    assert lost.status == PipelineRun.Status.FAILED and lost.error == LOST_RUN_ERROR


@pytest.mark.django_db(transaction=True)
def test_the_periodic_check_leaves_runs_alone_while_a_run_holds_the_lock():
    live = _lost_run(5)
    holder = connection.get_new_connection(connection.get_connection_params())
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", LOCK_IDS)
            assert cleanup_pipeline_runs_task() == "0 lost pipeline run(s) marked failed"
    finally:
        holder.close()
    live.refresh_from_db()
    assert live.status == PipelineRun.Status.RUNNING
