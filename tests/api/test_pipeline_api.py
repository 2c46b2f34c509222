"""pipeline-runs/ and workflows/: list and detail, staff queue a run, cancel one queued or running."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from apps.plugins.models import Source
from apps.trends.models import Item, PipelineRun
from apps.trends.pipeline.runner import pipeline_run
from apps.trends.runs import pipeline_run_queue
from apps.trends.tasks import pipeline_run_task

from .conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(db) -> list[PipelineRun]:
    return [
        PipelineRun.objects.create(
            workflow="full",
            status="success",
            started_at=T0,
            item_count=12,
            stats={"stages": {"embed": {"count": 12, "seconds": 0.5}}, "counts": {"trends_created": 1}},
        ),
        PipelineRun.objects.create(
            workflow="refresh", status="failed", started_at=T0 + timedelta(hours=1), error="boom"
        ),
    ]


def test_runs_list_newest_first_and_filters(anon, runs):
    body = anon.get("/api/v1/pipeline-runs/").json()
    assert [r["workflow"] for r in body["results"]] == ["refresh", "full"]
    assert "stats" not in body["results"][0]
    assert [r["id"] for r in anon.get("/api/v1/pipeline-runs/", {"status": "success"}).json()["results"]] == [
        runs[0].pk
    ]
    assert anon.get("/api/v1/pipeline-runs/", {"workflow": "nightly"}).status_code == 400


def test_run_detail_has_per_stage_stats(anon, runs):
    body = anon.get(f"/api/v1/pipeline-runs/{runs[0].pk}/").json()
    assert body["stats"]["stages"]["embed"] == {"count": 12, "seconds": 0.5} and body["item_count"] == 12


def test_workflows_list(anon):
    body = anon.get("/api/v1/workflows/").json()
    assert {w["name"]: w["steps"] for w in body}["process_only"] == ["process"]


def test_staff_queue_a_workflow_run_with_as_of(staff, broker_queue, django_capture_on_commit_callbacks):
    waiting = broker_queue("pipeline")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/api/v1/workflows/refresh/run/", {"as_of": "2026-03-10T12:00:00Z"}, format="json")
    assert response.status_code == 202
    body = response.json()
    run = PipelineRun.objects.get(pk=body["run_id"])
    assert run.status == "queued" and run.workflow == "refresh" and run.trigger == "api"
    assert body["as_of"] == "2026-03-10T12:00:00Z" and body["status"] == "queued"
    [(task, task_id, args, kwargs)] = waiting()
    assert args == []
    assert task == "apps.trends.tasks.pipeline_run_task" and task_id == body["task_id"]
    assert kwargs == {"workflow": "refresh", "as_of": "2026-03-10T12:00:00+00:00", "trigger": "api", "run_id": run.pk}


def test_queued_run_executes_once_when_its_task_runs(staff):
    queued = pipeline_run_queue(workflow="refresh")
    assert "refresh" in pipeline_run_task(workflow="refresh", run_id=queued.run.pk)
    queued.run.refresh_from_db()
    assert queued.run.status == "success"
    finished_at = queued.run.finished_at
    pipeline_run_task(workflow="refresh", run_id=queued.run.pk)  # a re-delivered task does nothing
    queued.run.refresh_from_db()
    assert queued.run.finished_at == finished_at and PipelineRun.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "payload", "status", "code"),
    [
        ("/api/v1/workflows/nightly/run/", {}, 404, "NOT_FOUND"),
        ("/api/v1/workflows/full/run/", {"as_of": "not a time"}, 400, "VALIDATION_ERROR"),
    ],
)
def test_bad_workflow_or_as_of(staff, path, payload, status, code):
    response = staff.post(path, payload, format="json")
    assert response.status_code == status and response.json()["code"] == code
    assert PipelineRun.objects.count() == 0


def test_cancel_a_queued_run_and_its_task_then_does_nothing(staff):
    queued = pipeline_run_queue(workflow="full")
    response = staff.post(f"/api/v1/pipeline-runs/{queued.run.pk}/cancel/")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    pipeline_run_task(workflow="full", run_id=queued.run.pk)
    queued.run.refresh_from_db()
    assert queued.run.status == "cancelled"


def test_cancel_a_finished_run_is_409(staff, runs):
    response = staff.post(f"/api/v1/pipeline-runs/{runs[0].pk}/cancel/")
    assert response.status_code == 409
    assert response.json() == {
        "error": "Conflict",
        "detail": f"Run {runs[0].pk} already ended (success); there is nothing to cancel.",
        "code": "CONFLICT",
    }


def test_cancel_stops_a_real_run_between_batches_and_keeps_what_it_committed(staff):
    source = Source.objects.create(name="wire", kind="file")
    titles = [
        "Central bank raises interest rates again",
        "Football club wins the league title",
        "New phone model launched with larger screen",
        "Storm floods coastal towns overnight",
        "Election results announced in the capital",
        "Scientists publish a study on sleep",
    ]
    for n, title in enumerate(titles):
        Item.objects.create(source=source, external_id=str(n), title=title, published_at=T0 + timedelta(minutes=n))
    queued = pipeline_run_queue(workflow="full")
    answers = []

    def after_batch(done: int, total: int) -> None:
        if not answers:  # an operator cancels while the first batch has just been committed
            answers.append(staff.post(f"/api/v1/pipeline-runs/{queued.run.pk}/cancel/"))

    run = pipeline_run(workflow="full", run_id=queued.run.pk, batch_size=2, progress=after_batch)
    assert answers[0].status_code == 202 and answers[0].json()["status"] == "running"
    assert answers[0].json()["cancel_requested_at"] is not None
    run.refresh_from_db()
    assert run.status == "cancelled" and run.finished_at is not None
    assert run.item_count == 2 and run.error == "cancelled after 2 of 6 items"
    processed = Item.objects.filter(processed_at__isnull=False)
    assert processed.count() == 2 and all(item.embedding is not None for item in processed)
    assert Item.objects.filter(processed_at__isnull=True).count() == 4
    assert run.stats["stages"]["embed"]["count"] == 2
    # The next run picks up where the cancelled one stopped.
    assert pipeline_run(workflow="process_only", batch_size=2).item_count == 4


def _failed_task(task_id: str, run: PipelineRun):
    from celery import states
    from django_celery_results.models import TaskResult

    kwargs = {"workflow": run.workflow, "as_of": None, "trigger": "api", "run_id": run.pk}
    return TaskResult.objects.create(
        task_id=task_id,
        task_name="apps.trends.tasks.pipeline_run_task",
        status=states.FAILURE,
        task_args=json.dumps("()"),
        task_kwargs=json.dumps(repr(kwargs)),  # as django-celery-results stores Celery's repr
    )


def test_retrying_a_failed_run_task_runs_the_work_again_as_a_new_linked_run(
    staff, broker_queue, django_capture_on_commit_callbacks
):
    failed = PipelineRun.objects.create(workflow="refresh", status="failed", error="RuntimeError('db went away')")
    _failed_task("t-failed", failed)
    waiting = broker_queue("pipeline")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/api/v1/tasks/t-failed/retry/")
    assert response.status_code == 202
    [(task, task_id, _, kwargs)] = waiting()
    assert task == "apps.trends.tasks.pipeline_run_task"
    assert task_id == response.json()["task_id"]
    retry = PipelineRun.objects.get(retry_of=failed)
    assert retry.status == "queued" and retry.trigger == "retry" and kwargs["run_id"] == retry.pk

    pipeline_run_task(**kwargs)  # what the worker does with the message

    retry.refresh_from_db()
    failed.refresh_from_db()
    assert retry.status == "success" and failed.status == "failed"
    assert staff.get(f"/api/v1/pipeline-runs/{retry.pk}/").json()["retry_of"] == failed.pk


def test_a_run_task_retry_that_cannot_rerun_the_work_is_409_saying_why(staff, django_capture_on_commit_callbacks):
    done = PipelineRun.objects.create(workflow="refresh", status="success")
    _failed_task("t-done", done)
    response = staff.post("/api/v1/tasks/t-done/retry/")
    assert response.status_code == 409
    assert response.json() == {
        "error": "Conflict",
        "detail": f"Run {done.pk} is success; only a failed run can be retried.",
        "code": "CONFLICT",
    }

    failed = PipelineRun.objects.create(workflow="refresh", status="failed")
    _failed_task("t-failed", failed)
    with django_capture_on_commit_callbacks(execute=False):
        assert staff.post("/api/v1/tasks/t-failed/retry/").status_code == 202
        again = staff.post("/api/v1/tasks/t-failed/retry/")
    assert again.status_code == 409 and "already retried as run" in again.json()["detail"]
    assert PipelineRun.objects.filter(retry_of=failed).count() == 1
