from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Event(models.Model):
    """Outbox row: written in the same transaction as the change it tells about, handled once."""

    class Kind(models.TextChoices):
        TREND_CREATED = "trend.created"
        TREND_STATE_CHANGED = "trend.state_changed"
        PLUGIN_FAILED = "plugin.failed"
        PLUGIN_RECOVERED = "plugin.recovered"
        SYSTEM_UNHEALTHY = "system.unhealthy"
        SYSTEM_RECOVERED = "system.recovered"
        TOPIC_SPLIT = "topic.split"
        TOPIC_MERGED = "topic.merged"

    kind = models.CharField(max_length=64, choices=Kind.choices, db_index=True)
    subject_type = models.CharField(max_length=64, blank=True, help_text="Model label, e.g. trends.trend")
    subject_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(processed_at__isnull=True), name="event_unprocessed_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="event_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_type}#{self.subject_id}"
