from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.core.liveness import beat_last_seen, is_fresh, worker_last_seen
from apps.core.tasks import heartbeat_task


def test_worker_unseen_until_the_heartbeat_runs():
    assert worker_last_seen() is None
    assert not is_fresh(worker_last_seen())
    heartbeat_task.apply()
    assert is_fresh(worker_last_seen())


def test_stamp_older_than_three_beats_is_stale():
    now = timezone.now()
    assert is_fresh(now - timedelta(seconds=170), now=now)
    assert not is_fresh(now - timedelta(seconds=200), now=now)


@pytest.mark.django_db
def test_beat_last_seen_is_the_latest_periodic_task_send():
    every = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    sent = timezone.now() - timedelta(minutes=5)
    PeriodicTask.objects.create(name="a", task="x", interval=every, last_run_at=sent)
    PeriodicTask.objects.create(name="b", task="x", interval=every, last_run_at=sent - timedelta(hours=1))
    assert beat_last_seen() == sent


@pytest.mark.django_db
def test_a_heartbeat_proves_beat_alive_before_the_scheduler_writes_last_run_at():
    assert beat_last_seen() is None
    heartbeat_task.apply()
    assert is_fresh(beat_last_seen())
