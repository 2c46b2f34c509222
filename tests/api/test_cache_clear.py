"""cache/clear: the application's cached entries go; rate-limit counters and other keys stay."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def test_clear_deletes_search_and_analytics_entries_only(staff, world):
    cache.set("search:q:abc", [0.1, 0.2])
    cache.set("search:q:def", [0.3])
    cache.set("analytics:latest", {"trends": 4})
    cache.set("plugins:collect:7", 1)
    before = int(staff.get("/api/v1/trends/")["X-RateLimit-Remaining"])

    response = staff.post("/api/v1/cache/clear/")
    assert response.status_code == 200
    assert response.json() == {"deleted": {"search": 2, "analytics": 1}}
    assert cache.get("search:q:abc") is None and cache.get("analytics:latest") is None
    assert cache.get("plugins:collect:7") == 1
    # The read budget kept counting: the counter was not cleared.
    assert int(staff.get("/api/v1/trends/")["X-RateLimit-Remaining"]) == before - 1


def test_clear_leaves_the_broker_alone(staff, broker_queue):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker_queue("maintenance")  # emptied now and after the test
    broker.rpush("maintenance", b'{"body": "", "headers": {}}')
    staff.post("/api/v1/cache/clear/")
    assert broker.llen("maintenance") == 1
    broker.close()


def test_clear_is_staff_only(user_client, anon):
    assert user_client.post("/api/v1/cache/clear/").status_code == 403
    assert anon.post("/api/v1/cache/clear/").status_code == 401
