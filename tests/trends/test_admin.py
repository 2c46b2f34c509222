from datetime import timedelta

import pytest
from django.utils import timezone

from apps.plugins.models import Source
from apps.trends.models import Item, PipelineRun, Topic, Trend, TrendSnapshot

pytestmark = pytest.mark.django_db


def _trend(title: str, state: str, scores: list[float]) -> Trend:
    topic = Topic.objects.create(item_count=len(scores))
    trend = Trend.objects.create(topic=topic, title=title, state=state, score=scores[-1])
    start = timezone.now() - timedelta(hours=len(scores))
    TrendSnapshot.objects.bulk_create(
        TrendSnapshot(trend=trend, taken_at=start + timedelta(hours=i), score=s, item_count=i + 1, velocity=0.0)
        for i, s in enumerate(scores)
    )
    return trend


def test_trend_list_shows_state_badges_and_score_sparklines(staff_client, django_assert_max_num_queries):
    for n in range(12):
        _trend(f"Story {n}", Trend.State.VIRAL if n % 2 else Trend.State.DECLINING, [1.0, 2.0 + n, 3.0, 2.5])
    _trend("Brand new", Trend.State.EMERGING, [1.0])
    with django_assert_max_num_queries(12):  # bounded whatever the number of trends
        response = staff_client.get("/admin/trends/trend/")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<polyline") == 12
    assert ">viral<" in body.lower() and ">declining<" in body.lower()
    assert "not enough history" in body


def test_trend_sparkline_runs_oldest_to_newest(staff_client):
    trend = _trend("Rising", Trend.State.VIRAL, [1.0, 2.0, 3.0, 10.0])
    body = staff_client.get(f"/admin/trends/trend/{trend.pk}/change/").content.decode()
    points = body.split('<polyline points="')[1].split('"')[0].split()
    ys = [float(p.split(",")[1]) for p in points]
    assert ys == sorted(ys, reverse=True)  # higher score = smaller y: a rising line


def test_item_topic_category_and_pipeline_run_pages_render(staff_client):
    source = Source.objects.create(name="demo", kind=Source.Kind.FILE)
    Item.objects.create(source=source, external_id="1", title="Hello")
    PipelineRun.objects.create(workflow="full", status=PipelineRun.Status.FAILED, error="boom")
    for page in ("item", "topic", "category", "pipelinerun"):
        response = staff_client.get(f"/admin/trends/{page}/")
        assert response.status_code == 200, page
    assert "boom" in staff_client.get("/admin/trends/pipelinerun/").content.decode()


def test_pipeline_owned_rows_cannot_be_added_by_hand(staff_client):
    for page in ("trend", "topic", "pipelinerun"):
        assert staff_client.get(f"/admin/trends/{page}/add/").status_code == 403, page
