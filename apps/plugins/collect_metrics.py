"""Counting finished collection runs into the ``trendsite_*`` counters (apps/core/domain_metrics.py)."""

from __future__ import annotations

from apps.core.domain_metrics import COLLECT_FAILURES, COLLECT_RUNS, ITEMS_COLLECTED
from apps.core.http import FetchError
from apps.plugins.models import CollectionRun, Source


def failure_kind(*, exc: BaseException | None = None, permanent: bool = False, retry_after: object = None) -> str:
    """What kind of failure a run's error is, as the ``failure`` label: the alert rules tell a source that
    answers 429 (rate_limited) from one that is gone (permanent) or a collector bug (crash)."""
    if exc is not None and not isinstance(exc, FetchError):
        return "crash"
    if retry_after is not None:
        return "rate_limited"
    return "permanent" if permanent else "temporary"


def collection_run_count(*, source: Source, run: CollectionRun, failure: str = "") -> None:
    """Count one finished run: its new items per source, and its failure by kind."""
    COLLECT_RUNS.labels(kind=source.kind, status=run.status).inc()
    if run.new_count:
        ITEMS_COLLECTED.labels(source=source.name, kind=source.kind).inc(run.new_count)
    if run.status == CollectionRun.Status.FAILED:
        COLLECT_FAILURES.labels(kind=source.kind, failure=failure or "temporary").inc()
