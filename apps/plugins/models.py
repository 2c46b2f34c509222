from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django_celery_beat.models import PeriodicTask

from apps.core.models import TimeStampedModel
from apps.core.url_mask import url_masked


def poll_interval_validate(value: int) -> None:
    """No source polls more often than TRENDSITE_POLL_INTERVAL_MIN seconds (60 unless set)."""
    floor = settings.TRENDSITE_POLL_INTERVAL_MIN
    if value is not None and value < floor:
        raise ValidationError(
            f"Poll interval must be at least {floor} seconds (TRENDSITE_POLL_INTERVAL_MIN), got {value}",
            code="min_value",
        )


class Source(TimeStampedModel):
    """One configured feed of items: a collector kind plus its validated config and fetch state."""

    class Kind(models.TextChoices):
        HACKERNEWS = "hackernews", "Hacker News"
        REDDIT = "reddit", "Reddit"
        RSS = "rss", "RSS / Atom"
        YOUTUBE = "youtube", "YouTube"
        TWITTER = "twitter", "Twitter / X"
        FILE = "file", "File import (CSV / JSONL)"
        REPLAY = "replay", "Replay (offline demo)"

    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    config = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    poll_interval = models.PositiveIntegerField(
        default=900,
        validators=[poll_interval_validate],
        help_text="Seconds between scheduled collections (at least TRENDSITE_POLL_INTERVAL_MIN, 60 by default)",
    )
    periodic_task = models.OneToOneField(
        PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="source"
    )
    # Fetch state: conditional GET validators and the earliest time the next fetch may run.
    etag = models.CharField(max_length=512, blank=True)
    last_modified = models.CharField(max_length=128, blank=True)
    next_fetch_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PluginHealth(models.Model):
    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="health")
    is_healthy = models.BooleanField(default=True, db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    total_runs = models.PositiveIntegerField(default=0)
    total_failures = models.PositiveIntegerField(default=0)
    success_rate = models.FloatField(default=1.0, help_text="Share of runs that succeeded, 0–1")
    avg_duration_ms = models.FloatField(default=0.0)

    class Meta:
        verbose_name_plural = "plugin health"

    def __str__(self) -> str:
        return f"{self.source} ({'healthy' if self.is_healthy else 'unhealthy'})"


class CollectionRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCESS = "success"
        NOT_MODIFIED = "not_modified"
        FAILED = "failed"
        SKIPPED = "skipped"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    fetched_count = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0, help_text="Already stored: metrics refreshed")
    skipped_count = models.PositiveIntegerField(default=0)
    skip_reasons = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    trigger = models.CharField(max_length=32, blank=True, help_text="schedule, admin, api, command ...")
    details = models.JSONField(
        default=dict, blank=True, help_text="Per feed URL (rss) or per file (import): status, counts, error"
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "-started_at"], name="run_source_recent_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class FeedState(models.Model):
    """Conditional-GET validators and the last outcome of one feed URL of a source (rss sources hold many)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="feed_states")
    url = models.TextField()
    etag = models.CharField(max_length=512, blank=True)
    last_modified = models.CharField(max_length=128, blank=True)
    last_status = models.CharField(max_length=16, blank=True)
    last_error = models.TextField(blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "url"], name="feedstate_source_url_unique")]

    def __str__(self) -> str:
        return f"{self.source_id} {url_masked(self.url)[:80]}"  # titles, breadcrumbs: never a credential
