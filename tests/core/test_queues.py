import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.core.queues import queues_inspect
from trendsite.celery import app

DOWN = "redis://127.0.0.1:1/0"


@pytest.fixture
def empty_queues():
    """No worker runs in these tests: whatever is sent stays queued, so start and end with empty lists."""

    def purge():
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            for name in settings.CELERY_QUEUES:
                channel.client.delete(*[channel._q_for_pri(name, step) for step in channel.priority_steps])

    purge()
    yield
    purge()


def test_lengths_count_every_priority_and_the_oldest_task_is_first_sent(empty_queues):
    before = timezone.now()
    first = app.send_task("apps.core.tasks.heartbeat_task", queue="maintenance")
    app.send_task("apps.core.tasks.heartbeat_task", queue="maintenance", priority=5)
    app.send_task("apps.core.tasks.heartbeat_task", queue="maintenance", countdown=600)
    app.send_task("trendsite.ping", queue="default")
    state = queues_inspect()
    lengths = {queue.name: queue.length for queue in state.queues}
    assert lengths == {name: 0 for name in settings.CELERY_QUEUES} | {"default": 1, "maintenance": 3}
    maintenance = next(queue for queue in state.queues if queue.name == "maintenance")
    assert maintenance.oldest.task_id == first.id
    assert maintenance.oldest.name == "apps.core.tasks.heartbeat_task"
    assert before <= maintenance.oldest.sent_at <= timezone.now()
    assert state.total == 4 and not state.error


def test_command_prints_lengths_and_oldest(empty_queues):
    sent = app.send_task("trendsite.ping", queue="collect", eta=timezone.now() + timedelta(hours=1))
    out = io.StringIO()
    call_command("queues", stdout=out)
    text = out.getvalue()
    assert f"oldest: trendsite.ping {sent.id} (waiting 0\xa0minutes, eta " in text
    assert f"Done! 1 tasks waiting in {len(settings.CELERY_QUEUES)} queues." in text


def test_broker_down_is_a_clear_state_and_command_error():
    state = queues_inspect(broker_url=DOWN, timeout=0.5)
    assert state.queues == [] and "Error" in state.error
    with pytest.raises(CommandError, match="broker is unreachable"):
        call_command("queues", "--broker-url", DOWN)
