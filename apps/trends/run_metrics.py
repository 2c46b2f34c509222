"""Pipeline runs into ``trendsite_pipeline_run_duration_seconds`` and ``..._items_processed_total``.

Hooked on PipelineRun's post_save rather than inside the runner, so however the runner changes, the one save
that writes ``finished_at`` is what gets counted (a run is finished exactly once).
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.core.domain_metrics import PIPELINE_ITEMS, PIPELINE_RUN_DURATION
from apps.trends.models import PipelineRun

FINISHED = frozenset({PipelineRun.Status.SUCCESS, PipelineRun.Status.FAILED, PipelineRun.Status.CANCELLED})


@receiver(post_save, sender=PipelineRun, dispatch_uid="trends.pipeline_run_metrics")
def pipeline_run_observe(sender: type, instance: PipelineRun, created: bool, update_fields=None, **kwargs) -> None:
    """Observe a run's duration and items when the save that finishes it lands (skipped runs did no work)."""
    if instance.status not in FINISHED or instance.finished_at is None or instance.started_at is None:
        return
    if not created and (update_fields is None or "finished_at" not in update_fields):
        return
    seconds = max((instance.finished_at - instance.started_at).total_seconds(), 0.0)
    PIPELINE_RUN_DURATION.labels(workflow=instance.workflow, status=instance.status).observe(seconds)
    if instance.item_count:
        PIPELINE_ITEMS.labels(workflow=instance.workflow).inc(instance.item_count)
