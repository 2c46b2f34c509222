"""Rate limits: 429 with Retry-After, X-RateLimit-* and the error body; budgets per group and caller."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    # Hour windows: a minute window could roll over between two requests and refill the budget mid-test.
    settings.API_RATE_LIMITS = {"semantic": "3/h", "keyword": "2/h", "read": "3/h", "staff": "2/h"}
    return settings


def test_headers_count_down_then_429_with_retry_after_and_body(anon, world, limits):
    remaining = []
    for _ in range(3):
        response = anon.get("/api/v1/trends/")
        assert response.status_code == 200
        assert response["X-RateLimit-Limit"] == "3"
        remaining.append(int(response["X-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    refused = anon.get("/api/v1/categories/")  # same group ("read"), other endpoint: same budget
    assert refused.status_code == 429
    assert refused.json() == {
        "error": "Rate limit exceeded",
        "detail": refused.json()["detail"],
        "code": "RATE_LIMIT_EXCEEDED",
    }
    assert "available in" in refused.json()["detail"]
    retry_after = int(refused["Retry-After"])
    reset = int(refused["X-RateLimit-Reset"])
    assert 1 <= retry_after <= 3600 and refused["X-RateLimit-Remaining"] == "0" and refused["X-RateLimit-Limit"] == "3"
    assert abs(reset - (time.time() + retry_after)) <= 2


def test_forged_forwarded_for_does_not_reset_the_budget(anon, world, limits):
    for n in range(3):
        assert anon.get("/api/v1/trends/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code == 200
    assert anon.get("/api/v1/trends/", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429
    # Another address really connecting has its own budget.
    assert anon.get("/api/v1/trends/", REMOTE_ADDR="192.0.2.7").status_code == 200


def test_behind_a_trusted_proxy_only_the_address_it_saw_counts(anon, world, limits):
    limits.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(3):
        # The client forges a first hop each time; our proxy appends the address it saw: 198.51.100.5.
        response = anon.get("/api/v1/trends/", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.5", **proxy)
        assert response.status_code == 200
    assert anon.get("/api/v1/trends/", HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.5", **proxy).status_code == 429
    assert anon.get("/api/v1/trends/", HTTP_X_FORWARDED_FOR="198.51.100.6", **proxy).status_code == 200


def test_logged_in_users_have_their_own_budget(anon, user_client, world, limits):
    for _ in range(3):
        anon.get("/api/v1/trends/")
    assert anon.get("/api/v1/trends/").status_code == 429
    assert user_client.get("/api/v1/trends/").status_code == 200


def test_staff_writes_spend_the_staff_budget(staff, world, limits):
    assert staff.post("/api/v1/sources/wire/disable/").status_code == 200
    assert staff.post("/api/v1/sources/wire/enable/").status_code == 200
    refused = staff.post("/api/v1/sources/wire/disable/")
    assert refused.status_code == 429 and refused["X-RateLimit-Limit"] == "2"
    assert staff.get("/api/v1/trends/").status_code == 200  # reads are another budget


def test_any_api_view_with_a_rate_group_is_limited_by_it(anon, limits):
    limits.ROOT_URLCONF = "tests.api.urls"
    assert [anon.get("/api/v1/test-keyword/").status_code for _ in range(3)] == [200, 200, 429]
    assert anon.get("/api/v1/test-keyword/")["X-RateLimit-Limit"] == "2"


def test_health_endpoints_are_never_limited(anon, limits):
    responses = [anon.get("/healthz") for _ in range(10)]
    assert {r.status_code for r in responses} == {200}
    assert "X-RateLimit-Limit" not in responses[-1]


def test_without_redis_requests_pass_and_a_warning_is_logged(anon, world, limits, caplog):
    limits.CACHES = {
        **limits.CACHES,
        "down": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    limits.RATELIMIT_USE_CACHE = "down"
    statuses = [anon.get("/api/v1/trends/").status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert "rate limit not applied: cache unavailable" in caplog.text


def test_with_the_whole_cache_down_reads_still_answer(anon, world, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    response = anon.get(f"/api/v1/trends/{world.chips.pk}/")
    assert response.status_code == 200 and response.json()["why"]["measures"]["item_count"] == 3
    assert "X-RateLimit-Limit" not in response
    assert "score components computed without it" in caplog.text


def test_ipv6_clients_share_the_budget_of_their_64(anon, world, limits):
    for n in range(3):
        assert anon.get("/api/v1/trends/", REMOTE_ADDR=f"2001:db8:aa:bb::{n + 1}").status_code == 200
    assert anon.get("/api/v1/trends/", REMOTE_ADDR="2001:db8:aa:bb:ffff:1:2:3").status_code == 429
    assert anon.get("/api/v1/trends/", REMOTE_ADDR="2001:db8:aa:bc::1").status_code == 200  # another /64


def test_ipv4_mapped_ipv6_counts_as_the_ipv4_address(anon, world, limits):
    for _ in range(3):
        assert anon.get("/api/v1/trends/", REMOTE_ADDR="192.0.2.44").status_code == 200
    assert anon.get("/api/v1/trends/", REMOTE_ADDR="::ffff:192.0.2.44").status_code == 429


def test_with_a_full_redis_reads_pass_and_a_warning_is_logged(anon, world, limits, caplog, full_redis):
    limits.CACHES = {
        **limits.CACHES,
        "full": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": full_redis},
    }
    limits.RATELIMIT_USE_CACHE = "full"
    assert [anon.get("/api/v1/trends/").status_code for _ in range(5)] == [200] * 5
    assert "rate limit not applied: cache unavailable" in caplog.text
