"""The pipeline lock: one run at a time, and nothing that rewrites items (reembed, cleanup) alongside one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from apps.core.advisory_lock import advisory_lock

PIPELINE_LOCK = "pipeline"


class PipelineAlreadyRunning(Exception):
    """Another run holds the advisory lock."""


@contextmanager
def pipeline_lock() -> Iterator[None]:
    """Hold the pipeline's session-level advisory lock across the run's many transactions, or raise
    ``PipelineAlreadyRunning`` at once (``reembed`` and ``cleanup`` take it too, so no run mixes vectors of
    two models or loses items under its feet)."""
    with advisory_lock(PIPELINE_LOCK) as acquired:
        if not acquired:
            raise PipelineAlreadyRunning("Pipeline already running: another run holds the lock; try again later.")
        yield
