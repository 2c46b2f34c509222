"""Alerts: where to send (Channel), what to send (AlertRule, Watchlist), what was sent (Notification + attempts,
WatchMatch, BatchEntry), digests."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Now

from apps.alerts.transports import channel_kind_choices
from apps.core.models import TimeStampedModel


class Severity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


SEVERITY_RANK = {value: rank for rank, value in enumerate(Severity.values)}


def severity_at_least(severity: str, minimum: str) -> bool:
    """True when ``severity`` is ``minimum`` or worse (info < warning < error < critical)."""
    return SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK.get(minimum, 0)


class Channel(TimeStampedModel):
    """A destination: kind (apps.alerts.transports.TRANSPORTS) + config validated by the kind's transport."""

    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=channel_kind_choices)
    config = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    min_severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.INFO)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    disabled_reason = models.TextField(blank=True, help_text="Why delivery switched this channel off")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_channels",
        help_text="Owner of a personal channel (watchlists); empty: an operators' channel",
    )
    batch_minutes = models.PositiveIntegerField(
        default=0, help_text="Collect watchlist matches for this many minutes into one message; 0: send each at once"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertRule(TimeStampedModel):
    """Which events become notifications on which channels; an empty filter matches everything."""

    name = models.CharField(max_length=200, unique=True)
    event_kinds = models.JSONField(default=list, blank=True, help_text='e.g. ["trend.state_changed"]; empty: all')
    states = models.JSONField(default=list, blank=True, help_text='trend.state_changed targets, e.g. ["viral"]')
    categories = models.JSONField(default=list, blank=True, help_text="Trend category names")
    keywords = models.JSONField(default=list, blank=True, help_text="Any of these words in the trend's title")
    sources = models.JSONField(default=list, blank=True, help_text="Source names")
    min_score = models.FloatField(default=0.0)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.INFO)
    channels = models.ManyToManyField(Channel, related_name="rules", blank=True)
    cooldown_minutes = models.PositiveIntegerField(default=60, help_text="Per subject: at most one alert per window")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from apps.alerts.rule_filters import rule_filters_problems

        problems = rule_filters_problems(self)
        if problems:
            raise ValidationError(problems)


class Notification(models.Model):
    """One message for one channel; its ``dedup_key`` is unique per channel, so it exists at most once."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        SUPPRESSED = "suppressed"

    class Reason(models.TextChoices):
        COOLDOWN = "cooldown"
        STORM = "storm"
        SWITCH_OFF = "switch off"
        CHANNEL_DISABLED = "channel disabled"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")
    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications")
    event = models.ForeignKey(
        "core.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    event_kind = models.CharField(max_length=64, db_index=True)
    subject_key = models.CharField(max_length=100, blank=True, help_text="e.g. trends.trend:42")
    dedup_key = models.CharField(max_length=200)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.INFO)
    message = models.JSONField(default=dict, help_text="title, text, fields, link: what every transport renders")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    folded_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="folded", help_text="Storm summary"
    )
    created_at = models.DateTimeField(db_default=Now(), db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "dedup_key"], name="notification_channel_dedup_key_uniq")
        ]
        indexes = [
            models.Index(fields=["rule", "subject_key", "created_at"], name="notification_cooldown_idx"),
            models.Index(fields=["channel", "created_at"], name="notification_storm_idx"),
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="notification_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_kind} → {self.channel_id} ({self.status_display})"

    @property
    def status_display(self) -> str:
        return f"{self.status} ({self.reason})" if self.reason else self.status


class NotificationAttempt(models.Model):
    """One try at sending a notification: its outcome and error, kept for the log."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["notification", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of notification {self.notification_id}"


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin") from None


class DigestSubscription(TimeStampedModel):
    """A person who wants the top trends by email, daily or weekly, at an hour of their own time zone."""

    class Frequency(models.TextChoices):
        DAILY = "daily"
        WEEKLY = "weekly", "Weekly (Mondays)"

    email = models.EmailField()
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    categories = models.ManyToManyField("trends.Category", blank=True, help_text="Empty: every category")
    min_score = models.FloatField(default=0.0)
    send_hour = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(23)], help_text="0–23, in the subscriber's time zone"
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="IANA name, e.g. Europe/Berlin"
    )
    enabled = models.BooleanField(default=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["email", "frequency"], name="digest_email_frequency_uniq"),
            models.CheckConstraint(condition=models.Q(send_hour__lte=23), name="digest_send_hour_range"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.frequency})"


class DigestDelivery(models.Model):
    """One digest per subscription and period (``2026-11-23`` or ``2026-W48``): the unique row is the claim."""

    class Status(models.TextChoices):
        SENDING = "sending"
        SENT = "sent"
        EMPTY = "empty", "Nothing new"
        FAILED = "failed"

    subscription = models.ForeignKey(DigestSubscription, on_delete=models.CASCADE, related_name="deliveries")
    period = models.CharField(max_length=16)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENDING)
    trend_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "period"], name="digest_delivery_period_uniq")]

    def __str__(self) -> str:
        return f"{self.subscription} {self.period}: {self.status}"


# The states a watchlist's ``min_state`` orders: declining and dead trends never count as news.
WATCH_STATES = ("emerging", "viral", "sustained")


class Watchlist(TimeStampedModel):
    """A user's standing question over the shared collection; its matches go to the user's own channels."""

    # What a user edits, in the API's order (scripts rely on these names); the admin adds owner and switch.
    EDITABLE_FIELDS = (
        "name",
        "keywords",
        "categories",
        "sources",
        "languages",
        "min_state",
        "min_score",
        "mute",
        "channels",
        "digest",
    )

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists")
    name = models.CharField(max_length=200)
    keywords = models.JSONField(
        default=list, blank=True, help_text="Keyword search syntax (quotes, -term); any one matching counts"
    )
    keyword_queries = models.JSONField(
        default=list, blank=True, editable=False, help_text="websearch_to_tsquery text of each keyword (on save)"
    )
    categories = models.JSONField(default=list, blank=True, help_text="Trend category names; empty: any")
    sources = models.JSONField(default=list, blank=True, help_text="Source names; empty: any")
    languages = models.JSONField(default=list, blank=True, help_text='Item languages, e.g. ["en", "de"]; empty: any')
    min_state = models.CharField(
        max_length=16, choices=[(s, s) for s in WATCH_STATES], default="emerging", help_text="Lowest state that counts"
    )
    min_score = models.FloatField(default=0.0)
    mute = models.JSONField(default=list, blank=True, help_text="Terms (keyword syntax) that silence a trend")
    mute_queries = models.JSONField(default=list, blank=True, editable=False)
    channels = models.ManyToManyField(Channel, related_name="watchlists", blank=True)
    digest = models.BooleanField(default=False, help_text="Also collect matches into a daily email to the user")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["user_id", "name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="watchlist_user_name_uniq")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        from apps.alerts.watch_query import keywords_tsqueries

        # Parsed by PostgreSQL once here, so matching thousands of watchlists runs no query per watchlist.
        self.keyword_queries = keywords_tsqueries(self.keywords)
        self.mute_queries = keywords_tsqueries(self.mute)
        super().save(*args, **kwargs)


class MuteTerm(TimeStampedModel):
    """An operators' mute term (keyword syntax): a trend it matches reaches no watchlist of anyone."""

    term = models.CharField(max_length=200, unique=True)
    query = models.TextField(blank=True, editable=False, help_text="websearch_to_tsquery text (on save)")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term

    def save(self, *args, **kwargs) -> None:
        from apps.alerts.watch_query import keywords_tsqueries

        self.query = keywords_tsqueries([self.term])[0]
        super().save(*args, **kwargs)


class WatchMatch(models.Model):
    """A trend reached a state a watchlist watches: once per (watchlist, trend, state), whatever re-runs."""

    # No index of its own: the unique (watchlist, trend_key, state) index serves lookups by watchlist, and
    # every index is one more write per match (tens of thousands per pass at 10,000 watchlists).
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="matches", db_index=False)
    trend = models.ForeignKey("trends.Trend", null=True, on_delete=models.SET_NULL, related_name="watch_matches")
    trend_key = models.BigIntegerField(help_text="The trend's id, kept when the trend is deleted")
    state = models.CharField(max_length=16)
    score = models.FloatField(default=0.0)
    title = models.CharField(max_length=500)
    event = models.ForeignKey("core.Event", null=True, on_delete=models.SET_NULL, related_name="watch_matches")
    created_at = models.DateTimeField(db_default=Now(), db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["watchlist", "trend_key", "state"], name="watch_match_once_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.watchlist} ← {self.title} ({self.state})"


class BatchEntry(models.Model):
    """One match waiting for a batching channel; ``notification`` is set (claimed) when its batch is written."""

    # Lookups by channel use the unique (channel, match) index; a separate one would only slow the writes.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="batch_entries", db_index=False)
    match = models.ForeignKey(WatchMatch, on_delete=models.CASCADE, related_name="batch_entries")
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="batch_entries"
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["channel", "match"], name="batch_entry_channel_match_uniq")]
        indexes = [
            models.Index(
                fields=["channel", "created_at"], condition=models.Q(notification__isnull=True), name="batch_open_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.match} → {self.channel}"
