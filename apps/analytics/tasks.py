"""Celery tasks of the analytics app (queue ``maintenance``)."""

from __future__ import annotations

from celery import shared_task

from apps.analytics.services import PERIODS, analytics_snapshot_create


@shared_task(name="apps.analytics.tasks.analytics_generate_task", acks_late=True)
def analytics_generate_task() -> dict[str, int]:
    """Beat sends this hourly: one snapshot per period. Running it twice only adds a newer snapshot."""
    return {period: analytics_snapshot_create(period=period).pk for period in PERIODS}
