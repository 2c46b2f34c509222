"""Each source owns a periodic task that follows it; sync_schedules fills gaps and keeps operator edits."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.plugins.models import Source
from apps.plugins.services import source_enabled_set
from apps.plugins.tasks import source_collect
from tests.plugins.conftest import fixture_bytes
from tests.plugins.factories import SourceFactory
from trendsite import schedules
from trendsite.schedules import DefaultSchedule

pytestmark = pytest.mark.django_db


def test_periodic_task_follows_enabled_and_interval():
    source = SourceFactory(poll_interval=300)
    task = source.periodic_task
    assert (task.task, json.loads(task.args), task.interval.every, task.enabled) == (
        "apps.plugins.tasks.source_collect",
        [source.pk],
        300,
        True,
    )
    source.poll_interval = 1200
    source.save()
    source_enabled_set(source=source, enabled=False)
    task.refresh_from_db()
    assert (task.interval.every, task.interval.period, task.enabled) == (1200, IntervalSchedule.SECONDS, False)
    assert PeriodicTask.objects.filter(task="apps.plugins.tasks.source_collect").count() == 1


def test_operator_edits_on_the_periodic_task_survive_a_source_save():
    source = SourceFactory()
    PeriodicTask.objects.filter(pk=source.periodic_task_id).update(queue="collect-slow", description="mine")
    source.poll_interval = 60
    source.save()
    task = PeriodicTask.objects.get(pk=source.periodic_task_id)
    assert (task.queue, task.description, task.interval.every) == ("collect-slow", "mine", 60)


def test_an_interval_edited_on_the_periodic_task_survives_saves_that_keep_the_source_interval(admin_client):
    source = SourceFactory(poll_interval=900)
    operator_interval = IntervalSchedule.objects.create(every=120, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(pk=source.periodic_task_id).update(interval=operator_interval)
    source.config = {"urls": ["http://127.0.0.1:9/other.xml"]}
    source.save()
    source_enabled_set(source=source, enabled=False)
    response = admin_client.post(
        f"/admin/plugins/source/{source.pk}/change/",
        {
            "name": source.name,
            "kind": "rss",
            "config": json.dumps(source.config),
            "poll_interval": 900,
            "runs-TOTAL_FORMS": 0,
            "runs-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    assert PeriodicTask.objects.get(pk=source.periodic_task_id).interval.every == 120
    # Changing the source's own interval is an explicit choice: it wins.
    source.refresh_from_db()
    source.poll_interval = 1800
    source.save()
    assert PeriodicTask.objects.get(pk=source.periodic_task_id).interval.every == 1800


def test_source_form_says_which_interval_wins(admin_client):
    source = SourceFactory()
    body = admin_client.get(f"/admin/plugins/source/{source.pk}/change/").content.decode()
    assert "an interval edited on that periodic task stays until this value changes" in body


def test_deleting_a_source_deletes_its_periodic_task():
    source = SourceFactory()
    task_id = source.periodic_task_id
    source.delete()
    assert not PeriodicTask.objects.filter(pk=task_id).exists()


def test_sync_schedules_creates_missing_defaults_and_keeps_operator_edits(monkeypatch):
    monkeypatch.setattr(
        schedules,
        "DEFAULT_SCHEDULES",
        [
            DefaultSchedule(name="cleanup", task="apps.trends.tasks.cleanup_items", every_seconds=3600),
            DefaultSchedule(name="analytics", task="apps.analytics.tasks.generate", every_seconds=900),
        ],
    )
    call_command("sync_schedules", stdout=StringIO())
    cleanup = PeriodicTask.objects.get(name="cleanup")
    cleanup.interval = IntervalSchedule.objects.create(every=7200, period=IntervalSchedule.SECONDS)
    cleanup.enabled = False
    cleanup.save()
    PeriodicTask.objects.get(name="analytics").delete()
    out = StringIO()

    call_command("sync_schedules", stdout=out)

    cleanup.refresh_from_db()
    assert (cleanup.interval.every, cleanup.enabled) == (7200, False)
    assert PeriodicTask.objects.get(name="analytics").interval.every == 900
    assert "Created 1 periodic task(s)" in out.getvalue()


def test_sync_schedules_gives_sources_without_a_task_their_own():
    source = SourceFactory()
    PeriodicTask.objects.filter(pk=source.periodic_task_id).delete()
    call_command("sync_schedules", stdout=StringIO())
    assert Source.objects.get(pk=source.pk).periodic_task.interval.every == source.poll_interval


def test_task_collects_once_and_is_idempotent(httpserver):
    httpserver.expect_request("/feed").respond_with_data(fixture_bytes("rss2_bbc.xml"))
    source = SourceFactory(config={"urls": [httpserver.url_for("/feed")]})
    first = source_collect.apply(args=[source.pk]).get()
    second = source_collect.apply(args=[source.pk]).get()
    assert "success new=2 updated=0" in first and "success new=0 updated=2" in second
    assert source.items.count() == 2


def test_task_skips_disabled_and_backed_off_sources():
    from datetime import timedelta

    from django.utils import timezone

    disabled = SourceFactory(enabled=False)
    assert source_collect.apply(args=[disabled.pk]).get().endswith("disabled")
    later = SourceFactory(next_fetch_after=timezone.now() + timedelta(hours=1))
    assert "skipped" in source_collect.apply(args=[later.pk]).get()
    assert "no longer exists" in source_collect.apply(args=[999999]).get()


def test_task_routes_to_the_collect_queue():
    from trendsite.celery import app

    route = app.amqp.router.route({}, "apps.plugins.tasks.source_collect")
    assert route["queue"].name == "collect"


def test_renaming_a_source_renames_its_periodic_task_and_keeps_operator_edits():
    source = SourceFactory(name="old-name")
    PeriodicTask.objects.filter(pk=source.periodic_task_id).update(queue="collect-slow", expires=None, priority=3)

    source.name = "new-name"
    source.save()

    task = PeriodicTask.objects.get(pk=source.periodic_task_id)
    assert (task.name, task.description) == ("collect new-name", "Collect source 'new-name'")
    assert (task.queue, task.priority, json.loads(task.args)) == ("collect-slow", 3, [source.pk])
    assert PeriodicTask.objects.filter(task="apps.plugins.tasks.source_collect").count() == 1


def test_a_periodic_task_name_chosen_by_the_operator_survives_a_rename():
    source = SourceFactory(name="old-name")
    PeriodicTask.objects.filter(pk=source.periodic_task_id).update(name="hn every 5 min", description="mine")

    source.name = "new-name"
    source.save()

    task = PeriodicTask.objects.get(pk=source.periodic_task_id)
    assert (task.name, task.description) == ("hn every 5 min", "mine")


def test_rename_onto_a_taken_task_name_keeps_the_old_one():
    PeriodicTask.objects.create(name="collect new-name", task="other.task", interval=_every(60))
    source = SourceFactory(name="old-name")

    source.name = "new-name"
    source.save()

    assert PeriodicTask.objects.get(pk=source.periodic_task_id).name == "collect old-name"


def _every(seconds):
    return IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)[0]
