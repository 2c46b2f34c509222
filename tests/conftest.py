import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from tests.redis_servers import full_redis, hung_redis  # noqa: F401 - fixtures for every test module


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (rate-limit counters, cached analytics)."""
    cache.clear()
    yield


@pytest.fixture
def staff_client(client, db):
    """The test client logged in as a superuser ("ops"); modules needing a narrower user define their own."""
    User.objects.create_superuser("ops", "ops@example.com", "pw")
    client.login(username="ops", password="pw")
    return client
