"""Counting notification outcomes per channel kind into the ``trendsite_alerts_*`` counters."""

from __future__ import annotations

from apps.alerts.models import Notification
from apps.core.domain_metrics import ALERTS_FAILED, ALERTS_SENT, ALERTS_SUPPRESSED

Status = Notification.Status


def notification_outcome_count(*, kind: str, status: str, reason: str = "") -> None:
    """Count a final outcome (sent, failed, suppressed); a retry (back to pending) is not one."""
    if status == Status.SENT:
        ALERTS_SENT.labels(kind=kind).inc()
    elif status == Status.FAILED:
        ALERTS_FAILED.labels(kind=kind).inc()
    elif status == Status.SUPPRESSED:
        ALERTS_SUPPRESSED.labels(kind=kind, reason=reason or "unknown").inc()
