from django.db import models


class AnalyticsSnapshot(models.Model):
    """The figures of one period as they stood at ``created_at`` (apps.analytics.services computes them)."""

    class Period(models.TextChoices):
        DAY = "24h", "last 24 hours"
        WEEK = "7d", "last 7 days"

    period = models.CharField(max_length=8, choices=Period.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["period", "-created_at"], name="analytics_period_recent_idx")]

    def __str__(self) -> str:
        return f"{self.period} @ {self.created_at:%Y-%m-%d %H:%M}"
