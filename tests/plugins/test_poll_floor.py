"""A poll interval has a floor, and disabling a source stops its periodic task at once."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from apps.plugins.models import Source
from apps.plugins.services import source_enabled_set
from apps.plugins.tasks import source_collect
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db


def _form(poll_interval):
    return {
        "name": "fast",
        "kind": "hackernews",
        "config": "{}",
        "enabled": "on",
        "poll_interval": poll_interval,
        "runs-TOTAL_FORMS": 0,
        "runs-INITIAL_FORMS": 0,
    }


@pytest.mark.parametrize("interval", [0, 1, 59])
def test_admin_refuses_a_poll_interval_under_the_floor(admin_client, interval):
    response = admin_client.post(reverse("admin:plugins_source_add"), _form(interval))
    assert response.status_code == 200
    assert f"Poll interval must be at least 60 seconds (TRENDSITE_POLL_INTERVAL_MIN), got {interval}" in (
        response.content.decode()
    )
    assert not Source.objects.filter(name="fast").exists()


def test_the_floor_comes_from_settings_and_full_clean_enforces_it(settings):
    settings.TRENDSITE_POLL_INTERVAL_MIN = 300
    source = Source(name="slow", kind="hackernews", config={}, poll_interval=120)
    with pytest.raises(ValidationError, match="at least 300 seconds"):
        source.full_clean()
    source.poll_interval = 300
    source.full_clean()


def test_a_source_saved_behind_validation_is_still_scheduled_no_faster_than_the_floor():
    source = SourceFactory(poll_interval=0)
    assert PeriodicTask.objects.get(pk=source.periodic_task_id).interval.every == 60


def test_disabling_updates_only_the_enabled_columns_and_tells_beat():
    source = SourceFactory()
    stale = Source.objects.get(pk=source.pk)
    PeriodicTask.objects.filter(pk=source.periodic_task_id).update(total_run_count=41)  # beat's own save
    before = PeriodicTasks.last_change()
    source_enabled_set(source=stale, enabled=False)
    task = PeriodicTask.objects.get(pk=source.periodic_task_id)
    assert not task.enabled and task.total_run_count == 41
    assert PeriodicTasks.last_change() > (before or timezone.now().replace(year=2000))
    assert not Source.objects.get(pk=source.pk).enabled


def test_a_scheduled_task_of_a_disabled_source_switches_its_row_off_again():
    source = SourceFactory()
    source_enabled_set(source=source, enabled=False)
    PeriodicTask.objects.filter(pk=source.periodic_task_id).update(enabled=True)  # a stale save re-enabled it
    assert source_collect(source.pk) == f"{source.name}: disabled"
    assert not PeriodicTask.objects.get(pk=source.periodic_task_id).enabled
