"""OpenAPI: a valid schema listing every endpoint and its errors; docs pages served from our own files."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/trends/",
    "/api/v1/trends/{id}/",
    "/api/v1/trends/{id}/items/",
    "/api/v1/topics/",
    "/api/v1/items/",
    "/api/v1/categories/",
    "/api/v1/sources/",
    "/api/v1/sources/{name}/collect/",
    "/api/v1/pipeline-runs/{id}/cancel/",
    "/api/v1/workflows/{name}/run/",
    "/api/v1/cache/clear/",
]


@pytest.fixture
def schema(anon) -> dict:
    response = anon.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_lists_every_endpoint_with_the_error_shape(schema):
    for path in ENDPOINTS:
        assert path in schema["paths"], path
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"error", "detail", "code"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code in ("400", "401", "403", "404", "429"):
                assert code in operation["responses"], (method, path, code)
    assert "X-RateLimit-Remaining" in schema["paths"]["/api/v1/trends/"]["get"]["responses"]["200"]["headers"]
    throttled = schema["paths"]["/api/v1/trends/"]["get"]["responses"]["429"]
    assert {"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
        throttled["headers"]
    )
    params = {p["name"] for p in schema["paths"]["/api/v1/trends/"]["get"]["parameters"]}
    assert {"state", "category", "source", "language", "since", "until", "min_score", "ordering", "cursor"} <= params
    assert "409" in schema["paths"]["/api/v1/pipeline-runs/{id}/cancel/"]["post"]["responses"]


def test_security_schemes_name_token_and_session(schema):
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_reference_no_external_host(anon, page):
    response = anon.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page loads something from another host"
    assert not re.search(
        r"https?://(?!localhost|testserver)", html.split("<body", 1)[-1].replace("http://www.w3.org", "")
    )
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", html)
    assert assets, "the page loads its scripts from our static files"
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/").split("?")[0]), asset
