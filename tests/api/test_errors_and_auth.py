"""One error shape everywhere; reads public or behind a login by setting; writes need staff; CSRF on."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_unknown_api_path_is_json_404(anon):
    response = anon.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "Not found",
        "detail": "No API endpoint at /api/v1/no-such-thing/.",
        "code": "NOT_FOUND",
    }


def test_pages_outside_the_api_keep_djangos_404(anon):
    response = anon.get("/no-such-page/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


def test_anonymous_write_is_401_with_a_challenge(anon, world):
    response = anon.post("/api/v1/pipeline-runs/1/cancel/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "NOT_AUTHENTICATED" and response.json()["error"] == "Authentication required"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/sources/"),
        ("patch", "/api/v1/sources/wire/"),
        ("post", "/api/v1/sources/wire/disable/"),
        ("post", "/api/v1/workflows/full/run/"),
        ("post", "/api/v1/cache/clear/"),
    ],
)
def test_non_staff_writes_are_403(user_client, anon, world, method, path):
    response = getattr(user_client, method)(path, {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "PERMISSION_DENIED"
    assert getattr(anon, method)(path, {}, format="json").status_code == 401


def test_reads_need_a_login_when_the_setting_says_so(anon, user_client, world, settings):
    settings.API_READ_REQUIRES_AUTH = True
    assert anon.get("/api/v1/trends/").status_code == 401
    assert user_client.get("/api/v1/trends/").status_code == 200


def test_session_writes_need_the_csrf_token(staff_user, world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    refused = browser.post("/api/v1/sources/wire/disable/")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    page = browser.get("/api/v1/sources/wire/", HTTP_ACCEPT="text/html")
    token = page.cookies["csrftoken"].value
    accepted = browser.post("/api/v1/sources/wire/disable/", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200 and accepted.json()["enabled"] is False


def test_browsable_api_renders_html(anon, world):
    response = anon.get("/api/v1/trends/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"Chip export rules" in response.content


def test_malformed_json_body_is_400(staff, world):
    response = staff.generic("POST", "/api/v1/sources/", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "PARSE_ERROR"


def test_unsupported_media_type_is_415(staff, world):
    response = staff.generic("POST", "/api/v1/sources/", "name=x", content_type="text/csv")
    assert response.status_code == 415 and response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_an_unexpected_failure_is_a_json_500_without_traceback(anon, settings):
    settings.ROOT_URLCONF = "tests.api.urls"
    anon.raise_request_exception = False
    response = anon.get("/api/v1/test-boom/")
    assert response.status_code == 500
    assert response.json()["code"] == "SERVER_ERROR" and b"secret internals" not in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/",
        "/api/v1/sources/",
        "/api/v1/sources/wire/",
        "/api/v1/workflows/",
        "/api/v1/pipeline-runs/",
        "/api/v1/items/",
        "/api/v1/cache/clear/",
    ],
)
def test_browsable_pages_render_for_staff(staff_user, world, path):
    browser = Client()
    browser.force_login(staff_user)
    response = browser.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code in (200, 405) and b"<html" in response.content


@pytest.mark.parametrize(
    ("payload", "form", "code"),
    [
        ({"name": "x", "kind": "rss", "config": {"urls": ["http://a.example/\u0000"]}}, False, "PARSE_ERROR"),
        ({"name": "x", "kind": "rss", "config": {"urls": ["http://a.example/"], "\u0000": 1}}, False, "PARSE_ERROR"),
        ({"name": "x", "kind": "rss", "config": '{"urls": ["http://a.example/\\u0000"]}'}, True, "VALIDATION_ERROR"),
    ],
)
def test_nul_characters_postgresql_refuses_are_400(staff, payload, form, code):
    response = staff.post("/api/v1/sources/", payload, **({} if form else {"format": "json"}))
    assert response.status_code == 400 and response.json()["code"] == code
    assert "Null characters" in response.json()["detail"]


def test_nul_in_a_filter_is_400(anon, world):
    response = anon.get("/api/v1/trends/", {"category": "a\u0000"})
    assert response.status_code == 400 and response.json()["fields"]["category"] == ["Null characters are not allowed."]


def test_trailing_slash_is_optional_so_a_post_is_never_redirected(staff, world):
    assert staff.post("/api/v1/sources/wire/disable").status_code == 200
    assert staff.get("/api/v1/trends").status_code == 200
    assert staff.get(f"/api/v1/trends/{world.chips.pk}").json()["url"].endswith(f"/api/v1/trends/{world.chips.pk}/")
