"""Requests built to break the server (forged cursors, NUL ids, very deep bodies) answer a 4xx in the one
error shape, never a 500."""

from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.django_db


def _cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    ("path", "position"),
    [
        ("/api/v1/trends/", "abc"),  # ordered by a float score
        ("/api/v1/topics/", "abc"),  # ordered by the integer pk
        ("/api/v1/sources/", "%00"),  # ordered by a text name: PostgreSQL refuses NUL
        ("/api/v1/items/", "not-a-time"),  # ordered by an annotated timestamp
    ],
)
def test_a_forged_cursor_position_is_an_invalid_cursor_not_a_500(anon, world, path, position):
    response = anon.get(path, {"cursor": _cursor(f"p={position}")})
    assert response.status_code == 404
    assert response.json() == {"error": "Not found", "detail": "Invalid cursor", "code": "NOT_FOUND"}


def test_the_issue_cursors_verbatim_are_4xx(anon, world):
    for url in (
        "/api/v1/trends/?cursor=cD1hYmM=",
        "/api/v1/topics/?cursor=cD1hYmM=",
        "/api/v1/sources/?cursor=cD0lMDA=",
    ):
        assert anon.get(url).json()["code"] == "NOT_FOUND"


def test_a_valid_cursor_still_pages(anon, world):
    first = anon.get("/api/v1/trends/", {"page_size": 1}).json()
    second = anon.get(first["next"]).json()
    assert second["results"] and second["results"][0]["id"] != first["results"][0]["id"]


@pytest.mark.parametrize("path", ["/api/v1/tasks/%00/", "/api/v1/switches/%00/", "/api/v1/tasks/%00/retry/"])
def test_a_nul_in_a_lookup_is_the_api_404(staff, path):
    response = staff.get(path) if not path.endswith("retry/") else staff.post(path)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_a_config_nested_900_levels_is_a_400(staff):
    config: dict = {}
    for _ in range(900):
        config = {"a": config}
    response = staff.post("/api/v1/sources/", {"name": "deep", "kind": "rss", "config": config}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "PARSE_ERROR"


def test_a_config_nested_deeper_than_validation_allows_is_a_field_error(staff):
    config: dict = {"urls": ["https://e.example/f"]}
    for _ in range(400):  # parses, but deeper than any kind's config may be
        config = {"a": config}
    response = staff.post("/api/v1/sources/", {"name": "deep", "kind": "rss", "config": config}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert "config" in response.json()["fields"]
