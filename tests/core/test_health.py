import pytest
from django.test import override_settings

from trendsite import embedded

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_io(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_all_services_answer(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] and check["latency_ms"] >= 0 for check in body["checks"].values())


def test_readyz_is_503_naming_cache_when_redis_is_stopped(client, settings, tmp_path):
    data_dir = tmp_path
    url = embedded._redis_up(data_dir, persistent=False) + "/0"
    caches = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    with override_settings(CACHES=caches):
        assert client.get("/readyz").status_code == 200
        embedded._redis_down(data_dir)
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["failed"] == ["cache"]
    assert body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32
