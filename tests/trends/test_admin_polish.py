"""The admin as a new operator meets it: readable numbers and JSON, pipeline fields left alone, a trend's
and a topic's items on their pages, long errors kept short with the whole text on hover."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.plugins.models import CollectionRun, Source
from apps.trends.models import Item, PipelineRun, Topic, Trend

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


@pytest.fixture
def trend():
    source = Source.objects.create(name="wire", kind="file")
    topic = Topic.objects.create(item_count=2, source_count=1, keywords=["mars", "rover"])
    now = timezone.now()
    Item.objects.create(
        source=source,
        external_id="a",
        title="Rover lands",
        topic=topic,
        published_at=now,
        metrics={"points": 12, "note": XSS},
    )
    Item.objects.create(
        source=source, external_id="b", title=f"Rover {XSS}", topic=topic, published_at=now - timedelta(hours=1)
    )
    return Trend.objects.create(
        topic=topic,
        title="Mars rover",
        state="viral",
        score=145.00000000000003,
        velocity=0.30000000000000004,
        key_points=["first", XSS],
    )


def test_trend_page_formats_numbers_lists_items_and_escapes(staff_client, trend):
    body = staff_client.get(f"/admin/trends/trend/{trend.pk}/change/").content.decode()
    assert "145.00000000000003" not in body and "145.00" in body
    assert "0.30000000000000004" not in body and "+0.30" in body
    assert "Rover lands" in body and "2 items" in body
    assert body.index("Rover lands") < body.index("Rover &lt;script&gt;")  # newest first
    assert "<script>alert" not in body
    assert "<li>first</li><li>&lt;script&gt;alert(1)&lt;/script&gt;</li>" in body  # key points as an escaped list


def test_topic_page_lists_its_most_central_headlines_and_terms(staff_client, trend):
    Topic.objects.filter(pk=trend.topic_id).update(headlines=["Rover lands on Mars", f"Mars {XSS}"])
    body = staff_client.get(f"/admin/trends/topic/{trend.topic_id}/change/").content.decode()
    assert "<li>Rover lands on Mars</li><li>Mars &lt;script&gt;" in body
    assert "mars, rover" in body


def test_pipeline_owned_trend_fields_do_not_change_on_save(staff_client, trend):
    response = staff_client.post(
        f"/admin/trends/trend/{trend.pk}/change/",
        {
            "title": "Mars rover lands",
            "summary": "",
            "category": "",
            "state": "dead",
            "score": "0",
            "snapshots-TOTAL_FORMS": 0,
            "snapshots-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    trend.refresh_from_db()
    assert (trend.title, trend.state, trend.score) == ("Mars rover lands", "viral", 145.00000000000003)


def test_topic_page_lists_its_items_and_is_read_only(staff_client, trend):
    body = staff_client.get(f"/admin/trends/topic/{trend.topic_id}/change/").content.decode()
    assert "Rover lands" in body and "mars, rover" in body
    assert 'name="item_count"' not in body and 'name="centroid"' not in body


def test_item_metrics_are_pretty_escaped_json(staff_client, trend):
    item = Item.objects.get(external_id="a")
    body = staff_client.get(f"/admin/trends/item/{item.pk}/change/").content.decode()
    assert "&quot;points&quot;: 12" in body and "&lt;script&gt;" in body and "<script>alert" not in body


def test_long_errors_are_cut_with_the_whole_text_on_hover(staff_client):
    error = "Traceback: " + "x" * 400
    PipelineRun.objects.create(workflow="full", status="failed", error=error, finished_at=timezone.now())
    source = Source.objects.create(name="feed", kind="rss", config={"urls": ["http://127.0.0.1:9/"]})
    CollectionRun.objects.create(
        source=source, started_at=timezone.now(), status="failed", error=error, duration_ms=1234.5678
    )
    for path in ("/admin/trends/pipelinerun/", "/admin/plugins/collectionrun/"):
        body = staff_client.get(path).content.decode()
        assert f'title="{error}"' in body and error not in body.replace(f'title="{error}"', "")
    assert "1.23 s" in staff_client.get("/admin/plugins/collectionrun/").content.decode()
