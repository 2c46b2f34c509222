import socket
import time

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings

from trendsite import embedded

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_io(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
def staff_client(client):
    User.objects.create_user("ops", "ops@example.com", "pw", is_staff=True)
    client.login(username="ops", password="pw")
    return client


def test_readyz_is_200_when_all_services_answer(staff_client):
    response = staff_client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] and check["latency_ms"] >= 0 for check in body["checks"].values())


def test_readyz_is_503_naming_cache_when_redis_is_stopped(staff_client, settings, tmp_path):
    client = staff_client
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


def test_anonymous_readyz_shows_names_and_ok_only(client, settings, tmp_path):
    url = embedded._redis_up(tmp_path, persistent=False) + "/0"
    caches = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    with override_settings(CACHES=caches):
        embedded._redis_down(tmp_path)
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and body["failed"] == ["cache"]
    assert body["checks"] == {"database": {"ok": True}, "cache": {"ok": False}, "broker": {"ok": True}}
    assert str(tmp_path) not in response.content.decode() and "Error" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_readyz_database_check_honours_the_timeout(client, settings):
    """A database that does not answer (here: the checked table locked by another session) fails the check
    after READYZ_TIMEOUT, not after the load balancer gave up."""
    settings.READYZ_TIMEOUT = 0.5
    locker = connection.get_new_connection(connection.get_connection_params())
    try:
        with locker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE django_migrations IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            response = client.get("/readyz")
            elapsed = time.monotonic() - started
        locker.rollback()
    finally:
        locker.close()
    assert response.status_code == 503 and response.json()["failed"] == ["database"]
    assert elapsed < 2.5, elapsed


def test_broker_check_reuses_one_pooled_connection(client):
    from trendsite.celery import app

    redis = app.pool.acquire(block=True)
    try:
        redis.ensure_connection(max_retries=0)
        info = redis.default_channel.client.info
        client.get("/readyz")
        before = info("stats")["total_connections_received"]
        for _ in range(5):
            assert client.get("/readyz").status_code == 200
        after = info("stats")["total_connections_received"]
    finally:
        redis.release()
    assert after - before <= 1


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head_and_options(client, path):
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    options = client.options(path)
    assert options.status_code == 200 and options["Allow"] == "GET, HEAD, OPTIONS"
    assert client.post(path).status_code == 405


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=604800" in response["Cache-Control"]


def test_a_database_that_accepts_but_never_answers_fails_within_the_connect_timeout():
    """A connection is bounded by DATABASE_CONNECT_TIMEOUT (default 5 s), not by the operating system's
    minutes: here a listener that accepts and says nothing stands in for a wedged server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        params = {**connection.get_connection_params(), "host": "127.0.0.1", "port": listener.getsockname()[1]}
        assert params["connect_timeout"] == 5
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError, match="timeout"):
            connection.get_new_connection(params)
        assert time.monotonic() - started < 15
    finally:
        listener.close()


def test_readyz_is_503_naming_cache_when_redis_answers_ping_but_refuses_writes(staff_client, settings, full_redis):
    import redis

    assert redis.Redis.from_url(full_redis).ping()  # a ping alone would call this cache fine
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": full_redis}}
    response = staff_client.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and body["failed"] == ["cache"]
    assert "maxmemory" in body["checks"]["cache"]["error"]
