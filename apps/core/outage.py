"""Say plainly which shared service is down (the Redis cache, the Celery broker) before work that needs it,
so commands and admin actions answer "the broker at redis://host:6379/1 is down" instead of a traceback."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from apps.core.url_mask import url_masked

CHECK_TIMEOUT = 2.0


class ServiceDown(Exception):
    """A shared service (cache or broker) cannot be reached; the message names it and its address."""


def cache_require() -> None:
    """Raise ServiceDown unless the Redis cache (collection locks, rate limits) answers a ping."""
    try:
        cache.client.get_client(write=True).ping()  # django-redis: the raw redis-py client
    except Exception as exc:  # noqa: BLE001 - whatever the client raises, the cache is unusable
        location = str(settings.CACHES["default"].get("LOCATION", ""))
        raise ServiceDown(f"the Redis cache at {url_masked(location)} is down ({_reason(exc)})") from None


def broker_require(*, timeout: float = CHECK_TIMEOUT) -> None:
    """Raise ServiceDown unless the Celery broker accepts a connection within ``timeout`` seconds."""
    from trendsite.celery import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - kombu raises transport-specific errors
        raise ServiceDown(f"the Celery broker at {url_masked(app.conf.broker_url)} is down ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]
