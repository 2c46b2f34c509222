"""Clear the application's cached entries by prefix, never rate-limit counters, locks or the broker."""

from __future__ import annotations

from django.core.cache import cache


def cache_clear(*, prefixes: list[str]) -> dict[str, int]:
    """Delete every cache key under ``<prefix>:`` for each prefix; how many per prefix.

    Keys go through the cache's KEY_PREFIX and version (django-redis ``delete_pattern``), so only this
    site's entries match; the broker lives in another Redis database.
    """
    return {prefix: int(cache.delete_pattern(f"{prefix}:*") or 0) for prefix in prefixes}
