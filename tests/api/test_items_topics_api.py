"""items/, topics/ and categories/: filters, cursor pages, details."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_items_newest_first_with_excerpt_and_trend(anon, world):
    body = anon.get("/api/v1/items/").json()
    titles = [row["title"] for row in body["results"]]
    assert titles[0] == "Bond yields climb #2" and titles[-1] == "Old story #0" and len(titles) == 12
    row = body["results"][0]
    assert row["trend"] == world.bonds.pk and row["source"] == "blog" and row["category"] == "markets"
    assert len(row["excerpt"]) <= 300 and "text" not in row


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ({"source": "blog"}, 4),
        ({"language": "de"}, 3),
        ({"category": "technology"}, 6),
        ({"since": "2026-03-10T09:00:00Z"}, 3),
        ({"until": "2026-03-10T08:01:00Z"}, 5),
        ({"source": "nope"}, 0),
    ],
)
def test_item_filters(anon, world, query, count):
    assert len(_ids(anon.get("/api/v1/items/", query))) == count


def test_item_filters_by_topic_and_trend(anon, world):
    by_topic = anon.get("/api/v1/items/", {"topic": world.makers.topic_id}).json()["results"]
    assert {row["topic"] for row in by_topic} == {world.makers.topic_id} and len(by_topic) == 3
    assert _ids(anon.get("/api/v1/items/", {"trend": world.makers.pk})) == [row["id"] for row in by_topic]


@pytest.mark.parametrize("query", [{"topic": "1.5"}, {"topic": "x"}, {"since": "2026-13-01"}, {"ordering": "title"}])
def test_item_filters_reject_malformed_values(anon, world, query):
    response = anon.get("/api/v1/items/", query)
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


def test_item_pages_and_detail_with_full_text(anon, world):
    first = anon.get("/api/v1/items/", {"page_size": 5}).json()
    second = anon.get(first["next"]).json()
    assert len(first["results"]) == 5 and not set(_ids_of(first)) & set(_ids_of(second))
    item_id = first["results"][0]["id"]
    detail = anon.get(f"/api/v1/items/{item_id}/").json()
    assert detail["text"].startswith("Body of Bond yields climb")


def _ids_of(body) -> list[int]:
    return [row["id"] for row in body["results"]]


def test_topics_list_filter_and_detail(anon, world):
    body = anon.get("/api/v1/topics/").json()
    assert len(body["results"]) == 4 and body["results"][0]["id"] == world.old.topic_id  # newest id first
    assert anon.get("/api/v1/topics/", {"since": "2026-03-10T09:00:00Z"}).json()["results"][0]["trend"] == (
        world.bonds.pk
    )
    detail = anon.get(f"/api/v1/topics/{world.chips.topic_id}/").json()
    assert detail["keywords"] == ["chip", "export", "rules"] and detail["item_count"] == 3
    assert anon.get("/api/v1/topics/", {"is_active": "maybe"}).status_code == 400


def test_categories_list_and_detail(anon, world):
    names = [row["name"] for row in anon.get("/api/v1/categories/").json()]
    assert "markets" in names and "technology" in names and names == sorted(names)
    assert anon.get(f"/api/v1/categories/{world.tech.pk}/").json()["name"] == "technology"
