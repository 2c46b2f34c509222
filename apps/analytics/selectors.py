"""Reads of analytics: the latest snapshot of a period cache-first, the history from the database."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet

from apps.analytics.models import AnalyticsSnapshot
from apps.analytics.services import analytics_cache_key, analytics_cache_store

logger = logging.getLogger(__name__)


def analytics_latest(*, period: str) -> dict[str, Any] | None:
    """The newest snapshot of ``period`` as ``{id, period, created_at, data}``: from the cache, else from the
    database (and then cached again), else None when none was ever computed."""
    try:
        cached = cache.get(analytics_cache_key(period))
    except Exception as exc:  # noqa: BLE001 - a cache outage must not take the figures down: the database has them
        logger.warning("analytics cache unreadable, reading the database: %s", exc)
        cached, cache_up = None, False
    else:
        cache_up = True
    if cached is not None:
        return cached
    snapshot = AnalyticsSnapshot.objects.filter(period=period).order_by("-created_at").first()
    if snapshot is None:
        return None
    if cache_up:
        analytics_cache_store(snapshot=snapshot)
    return {
        "id": snapshot.pk,
        "period": snapshot.period,
        "created_at": snapshot.created_at.isoformat(),
        "data": snapshot.data,
    }


def analytics_history(*, period: str, limit: int = 168) -> QuerySet[AnalyticsSnapshot]:
    """The newest ``limit`` snapshots of ``period``, newest first (168 = a week of hourly snapshots)."""
    return AnalyticsSnapshot.objects.filter(period=period).order_by("-created_at")[:limit]
