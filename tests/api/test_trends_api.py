"""trends/: list with filters, ordering and cursor pages; detail with timeline, related, why; its items."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from apps.trends.pipeline.rank import topic_metrics

pytestmark = pytest.mark.django_db


def _titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_list_is_public_highest_score_first(anon, world):
    response = anon.get("/api/v1/trends/")
    assert response.status_code == 200
    assert _titles(response) == ["Chip export rules", "Bond yields climb", "Chip makers respond", "Old story"]
    first = response.json()["results"][0]
    assert first["category"] == "technology" and first["item_count"] == 3 and first["source_count"] == 2
    assert first["url"].endswith(f"/api/v1/trends/{world.chips.pk}/")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "viral"}, ["Chip export rules"]),
        ({"state": ["viral", "sustained"]}, ["Chip export rules", "Bond yields climb"]),
        ({"category": "markets"}, ["Bond yields climb"]),
        ({"source": "blog"}, ["Chip export rules", "Bond yields climb"]),
        ({"language": "de"}, ["Bond yields climb"]),
        ({"min_score": "26"}, ["Chip export rules", "Bond yields climb"]),
        ({"since": "2026-03-10T09:15:00Z"}, ["Bond yields climb", "Chip makers respond"]),
        ({"until": "2026-03-10T08:00:00Z"}, ["Chip export rules", "Old story"]),
    ],
)
def test_list_filters(anon, world, query, expected):
    response = anon.get("/api/v1/trends/", query)
    assert response.status_code == 200, response.json()
    assert _titles(response) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("velocity", ["Old story", "Bond yields climb", "Chip makers respond", "Chip export rules"]),
        ("-first_detected_at", ["Bond yields climb", "Chip makers respond", "Chip export rules", "Old story"]),
        ("score", ["Old story", "Chip makers respond", "Bond yields climb", "Chip export rules"]),
    ],
)
def test_list_ordering(anon, world, ordering, expected):
    assert _titles(anon.get("/api/v1/trends/", {"ordering": ordering})) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"state": "bogus"}, "state"),
        ({"min_score": "lots"}, "min_score"),
        ({"since": "yesterday"}, "since"),
        ({"ordering": "title"}, "ordering"),
    ],
)
def test_invalid_parameters_are_400_naming_the_field(anon, world, query, field):
    response = anon.get("/api/v1/trends/", query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR" and body["error"] == "Invalid request"
    assert field in body["fields"] and body["detail"].startswith(f"{field}: ")


def test_cursor_pages_walk_every_trend_once(anon, world):
    seen, url = [], "/api/v1/trends/?page_size=1"
    while url:
        body = anon.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == [world.chips.pk, world.bonds.pk, world.makers.pk, world.old.pk]
    assert anon.get("/api/v1/trends/", {"cursor": "not-a-cursor"}).json()["code"] == "NOT_FOUND"


def test_list_has_the_keywords_apart_from_the_summary(anon, world):
    rows = {row["id"]: row for row in anon.get("/api/v1/trends/").json()["results"]}
    assert rows[world.chips.pk]["keywords"] == ["chip", "export", "rules"]


def test_detail_has_timeline_related_and_the_rankers_components(anon, world):
    body = anon.get(f"/api/v1/trends/{world.chips.pk}/").json()
    assert body["key_points"] == [] and body["keywords"] == ["chip", "export", "rules"]
    assert [point["item_count"] for point in body["timeline"]] == [1, 2, 3]
    assert body["related"][0]["id"] == world.makers.pk  # same direction, the nearest centroid
    assert body["related"][0]["similarity"] > 0.99 and len(body["related"]) == 3
    why = body["why"]
    metrics = topic_metrics({world.chips.topic_id}, world.chips.updated_at)[world.chips.topic_id]
    assert why["score"] == pytest.approx(metrics.score)
    assert why["measures"]["source_count"] == 2 and why["measures"]["velocity"] == pytest.approx(metrics.velocity)
    factors = why["factors"]
    assert factors["sources"] == pytest.approx(1 + 0.25 * math.log(2))
    assert factors["volume"] * factors["velocity"] * factors["engagement"] * factors["sources"] == pytest.approx(
        why["score"]
    )
    assert body["items_url"].endswith(f"/api/v1/trends/{world.chips.pk}/items/")


def test_trend_items_are_paginated_newest_first(anon, world):
    body = anon.get(f"/api/v1/trends/{world.chips.pk}/items/", {"page_size": 2}).json()
    assert [row["title"] for row in body["results"]] == ["Chip export rules #2", "Chip export rules #1"]
    rest = anon.get(body["next"]).json()
    assert [row["title"] for row in rest["results"]] == ["Chip export rules #0"] and rest["next"] is None
    assert body["results"][0]["trend"] == world.chips.pk and body["results"][0]["source"] == "wire"


@pytest.mark.parametrize(
    "path", ["/api/v1/trends/999999/", "/api/v1/trends/abc/", "/api/v1/trends/99999999999999999999/"]
)
def test_unknown_trend_is_404_in_the_error_shape(anon, world, path):
    response = anon.get(path)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error", "detail", "code"} and body["code"] == "NOT_FOUND" and body["error"] == "Not found"


def test_trends_are_read_only(staff, world):
    response = staff.delete(f"/api/v1/trends/{world.chips.pk}/")
    assert response.status_code == 405 and response.json()["code"] == "METHOD_NOT_ALLOWED"


def test_why_is_cached_until_the_trend_is_ranked_again(anon, world):
    from django.core.cache import cache

    first = anon.get(f"/api/v1/trends/{world.chips.pk}/").json()["why"]
    assert cache.get(f"trends:why:{world.chips.pk}:{world.chips.updated_at.timestamp()}")["score"] == first["score"]
    world.chips.updated_at += timedelta(hours=2)  # a later ranking: more decay, another key
    world.chips.save(update_fields=["updated_at"])
    later = anon.get(f"/api/v1/trends/{world.chips.pk}/").json()["why"]
    assert later["measures"]["volume"] < first["measures"]["volume"]


@pytest.mark.parametrize("path", ["/api/v1/trends/", "/api/v1/items/", "/api/v1/topics/"])
def test_lists_read_no_vectors(anon, world, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert anon.get(path).status_code == 200
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert '"trends_topic"."id"' in sql or '"trends_item"."id"' in sql
    for column in ('"centroid"', '"lexical"', '"embedding"', '"search_vector"'):
        assert column not in sql, f"{path} loads {column}"
