"""Task tracking: pending rows at publish, retry of failed tasks with their arguments, revoke of pending ones,
in the staff API and the admin, against a real Redis broker and a real worker."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis
from celery import states
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone
from django_celery_results.models import TaskResult
from rest_framework.test import APIClient

from apps.core.task_results import TaskResultError, task_result_retry, task_result_revoke
from trendsite.celery import app

QUEUE = "default"


@app.task(name="tests.core.flaky_add")
def flaky_add(a: int, b: int, *, c: int = 0, key: str = "") -> int:
    """Fails on its first run for ``key``, adds on every later one."""
    if key and cache.add(f"flaky:{key}", 1):
        raise RuntimeError("first run fails")
    return a + b + c


def _broker() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@pytest.fixture
def empty_queue():
    _broker().delete(QUEUE)
    yield
    _broker().delete(QUEUE)


@pytest.fixture
def staff_client(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user("ops", is_staff=True))
    return client


def _failed(task_id: str = "f1", name: str = "tests.core.flaky_add", args='"(2, 3)"', kwargs="\"{'c': 4}\""):
    return TaskResult.objects.create(
        task_id=task_id, task_name=name, status=states.FAILURE, task_args=args, task_kwargs=kwargs
    )


@pytest.mark.django_db(transaction=True)
def test_a_failed_task_is_retried_with_its_original_arguments_on_a_real_worker(empty_queue):
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[QUEUE], shutdown_timeout=10):
        first = flaky_add.delay(2, 3, c=4, key="retry-test")
        first.get(timeout=30, propagate=False)
        stored = TaskResult.objects.get(task_id=first.id)
        assert stored.status == states.FAILURE
        new_id = task_result_retry(task_id=first.id)
        assert new_id != first.id
        assert app.AsyncResult(new_id).get(timeout=30) == 9
    assert TaskResult.objects.get(task_id=new_id).task_name == "tests.core.flaky_add"


@pytest.mark.django_db(transaction=True)
def test_retry_queues_a_message_on_the_broker(empty_queue):
    _failed()
    task_result_retry(task_id="f1")
    assert _broker().llen(QUEUE) == 1
    assert TaskResult.objects.get(task_id="f1").status == states.FAILURE  # the old row stays as it was


@pytest.mark.django_db(transaction=True)
def test_a_sent_task_shows_as_pending_and_a_revoked_one_never_runs(empty_queue):
    sent = flaky_add.delay(1, 1)
    row = TaskResult.objects.get(task_id=sent.id)
    assert (row.status, row.task_name) == (states.PENDING, "tests.core.flaky_add")
    assert json.loads(row.task_args) == "(1, 1)"
    assert _broker().llen(QUEUE) == 1
    task_result_revoke(task_id=sent.id)
    assert TaskResult.objects.get(task_id=sent.id).status == states.REVOKED
    # A worker started after the revoke learns it from the database and drops the message.
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[QUEUE], shutdown_timeout=10):
        after = flaky_add.delay(5, 5)
        assert after.get(timeout=30) == 10
    assert _broker().llen(QUEUE) == 0
    assert TaskResult.objects.get(task_id=sent.id).status == states.REVOKED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ("\"(1, __import__('os'))\"", '"{}"'),
        ('"(1, 2, ...)"', '"{}"'),
        ('"{1: 2}"', '"{}"'),
        ('"()"', '"[1]"'),
        ("{", ""),
    ],
)
def test_retry_refuses_arguments_it_cannot_read_safely(args, kwargs):
    _failed(args=args, kwargs=kwargs)
    with pytest.raises(TaskResultError) as refused:
        task_result_retry(task_id="f1")
    assert refused.value.code == "invalid" and ("cannot" in refused.value.message or "not a" in refused.value.message)


@pytest.mark.django_db
def test_retry_and_revoke_refuse_the_wrong_states_and_unknown_ids():
    TaskResult.objects.create(task_id="ok", task_name="tests.core.flaky_add", status=states.SUCCESS)
    _failed(name="no.such.task")
    with pytest.raises(TaskResultError, match="only failed tasks"):
        task_result_retry(task_id="ok")
    with pytest.raises(TaskResultError, match="no registered task"):
        task_result_retry(task_id="f1")
    with pytest.raises(TaskResultError, match="have not started"):
        task_result_revoke(task_id="ok")
    with pytest.raises(TaskResultError) as missing:
        task_result_revoke(task_id="nope")
    assert missing.value.code == "not_found"


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.core.api_urls")
def test_tasks_api_lists_filters_and_shortcuts(staff_client):
    old = timezone.now() - timedelta(days=3)
    _failed(task_id="f1")
    TaskResult.objects.create(task_id="p1", task_name="apps.trends.tasks.pipeline_run_task", status=states.PENDING)
    TaskResult.objects.create(task_id="s1", task_name="apps.trends.tasks.pipeline_run_task", status=states.SUCCESS)
    TaskResult.objects.filter(task_id="s1").update(date_done=old)

    def ids(url):
        response = staff_client.get(url)
        assert response.status_code == 200, response.content
        return {row["task_id"] for row in response.json()["results"]}

    assert ids("/api/v1/tasks/") == {"f1", "p1", "s1"}
    assert ids("/api/v1/tasks/?state=FAILURE&state=SUCCESS") == {"f1", "s1"}
    assert ids("/api/v1/tasks/?task_name=apps.trends.tasks.pipeline_run_task") == {"p1", "s1"}
    since = (old + timedelta(days=1)).isoformat()
    assert ids(f"/api/v1/tasks/?since={since.replace('+', '%2B')}") == {"f1", "p1"}
    assert ids(f"/api/v1/tasks/?until={since.replace('+', '%2B')}") == {"s1"}
    assert ids("/api/v1/tasks/pending/") == {"p1"}
    assert ids("/api/v1/tasks/failed/") == {"f1"}
    detail = staff_client.get("/api/v1/tasks/f1/").json()
    assert detail["state"] == "FAILURE" and "traceback" in detail
    assert staff_client.get("/api/v1/tasks/?state=BOGUS").status_code == 400
    assert staff_client.get("/api/v1/tasks/?since=yesterday").status_code == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.core.api_urls")
def test_tasks_api_retry_and_cancel(staff_client, empty_queue):
    _failed(task_id="f1")
    TaskResult.objects.create(task_id="p1", task_name="tests.core.flaky_add", status=states.PENDING)
    retried = staff_client.post("/api/v1/tasks/f1/retry/")
    assert retried.status_code == 202 and retried.json()["retry_of"] == "f1"
    assert _broker().llen(QUEUE) == 1
    cancelled = staff_client.post("/api/v1/tasks/p1/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == states.REVOKED
    assert staff_client.post("/api/v1/tasks/p1/cancel/").status_code == 400  # revoked already
    assert staff_client.post("/api/v1/tasks/p1/retry/").status_code == 400
    assert staff_client.post("/api/v1/tasks/missing/retry/").status_code == 404
    assert staff_client.post("/api/v1/tasks/missing/cancel/").status_code == 404
    reader = APIClient()
    reader.force_authenticate(get_user_model().objects.create_user("reader"))
    assert reader.get("/api/v1/tasks/").status_code == 403
    assert reader.post("/api/v1/tasks/f1/retry/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_admin_filters_and_actions(client, empty_queue):
    client.force_login(get_user_model().objects.create_superuser("admin", "a@example.com", "pw"))
    failed = _failed(task_id="task-failed-0001")
    pending = TaskResult.objects.create(
        task_id="task-pending-0001", task_name="tests.core.flaky_add", status=states.PENDING
    )
    url = "/admin/django_celery_results/taskresult/"
    page = client.get(url, {"status__exact": "FAILURE"})
    assert page.status_code == 200 and "task-failed-0001" in page.text and "task-pending-0001" not in page.text
    assert "By task name" in page.text or "task name" in page.text.lower()
    client.post(url, {"action": "revoke_pending", "_selected_action": [pending.pk]})
    assert TaskResult.objects.get(pk=pending.pk).status == states.REVOKED
    client.post(url, {"action": "retry_failed", "_selected_action": [failed.pk, pending.pk]}, follow=True)
    assert _broker().llen(QUEUE) == 1  # the failed one; the revoked one is refused with a message
