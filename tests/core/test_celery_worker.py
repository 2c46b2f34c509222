import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django_celery_results.models import TaskResult

from trendsite.celery import app, ping


@pytest.mark.django_db(transaction=True)
def test_task_runs_on_a_real_worker_through_redis_and_stores_its_result():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=10):
        result = ping.delay()
        assert result.get(timeout=30) == "pong"
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "trendsite.ping"
    assert stored.result == '"pong"'


def test_celery_is_configured_for_safe_redelivery():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.result_backend_transport_options["visibility_timeout"] > conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {
        "default",
        "collect",
        "pipeline",
        "embed",
        "alerts",
        "digest",
        "maintenance",
    }
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert conf.result_backend == "django-db"
