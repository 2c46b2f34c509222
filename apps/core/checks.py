"""Deploy checks (``manage.py check --deploy``) for what settings alone cannot refuse."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


def _redis_server(url: str) -> tuple[str, int | None] | None:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return None
    return parts.hostname or "", parts.port or 6379


@register(Tags.caches, deploy=True)
def cache_and_broker_apart(app_configs, **kwargs) -> list[CheckMessage]:
    """The cache (bounded, evicting) and the broker (never evicting) need two Redis instances: maxmemory
    and the eviction policy are per instance, so on one either the cache can fill the broker's memory or
    eviction can drop queued tasks."""
    location = settings.CACHES["default"]["LOCATION"]
    cache_server = _redis_server(location[0] if isinstance(location, list | tuple) else location)
    broker_server = _redis_server(settings.CELERY_BROKER_URL)
    if cache_server is None or cache_server != broker_server:
        return []
    return [
        Warning(
            "REDIS_URL (cache) and CELERY_BROKER_URL (broker) name the same Redis server.",
            hint="Run the cache on its own Redis with maxmemory and allkeys-lru, the broker on one with "
            "noeviction (README 'Operations: the two Redis roles').",
            id="trendsite.W001",
        )
    ]
