"""The operators' console for alerts: channel status and actions, rules, the notifications log, digests, and
everyone's watchlists (staff see all; the admin is staff-only, so a non-staff user keeps theirs in the API)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from apps.alerts.channel_config import channel_config_masked, channel_config_restore, channel_config_validate
from apps.alerts.models import (
    AlertRule,
    Channel,
    DigestDelivery,
    DigestSubscription,
    MuteTerm,
    Notification,
    NotificationAttempt,
    Watchlist,
    WatchMatch,
)
from apps.alerts.services import channel_reenable, channel_test_send, notification_resend
from apps.alerts.transports import TransportError
from apps.alerts.watchlists import watchlist_problems
from apps.core.admin_forms import MaskedConfigFormMixin
from apps.core.admin_inlines import ReadOnlyModelAdmin, ReadOnlyTabularInline
from apps.core.display import AMBER, BLUE, GREEN, GREY, RED, badge_html, truncated_html

NOTIFICATION_COLOURS = {
    Notification.Status.PENDING: BLUE,
    Notification.Status.SENDING: BLUE,
    Notification.Status.SENT: GREEN,
    Notification.Status.FAILED: RED,
    Notification.Status.SUPPRESSED: GREY,
}


class ChannelForm(MaskedConfigFormMixin, forms.ModelForm):
    """Credentials in the config show as a mask; sending the mask back keeps the stored value."""

    config_mask = staticmethod(channel_config_masked)
    config_restore = staticmethod(channel_config_restore)
    config_validate = staticmethod(channel_config_validate)
    batch_minutes = forms.IntegerField(
        min_value=0, required=False, initial=0, help_text=Channel._meta.get_field("batch_minutes").help_text
    )

    class Meta:
        model = Channel
        fields = ("name", "kind", "config", "enabled", "min_severity", "user", "batch_minutes")

    def clean_batch_minutes(self) -> int:
        return self.cleaned_data.get("batch_minutes") or 0  # left empty: no batching, as before batching existed


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = (
        "name",
        "kind",
        "status",
        "user",
        "batch_minutes",
        "min_severity",
        "last_sent_at",
        "last_error_excerpt",
        "rule_count",
    )
    list_filter = ("kind", "enabled", "min_severity", ("user", admin.EmptyFieldListFilter), "batch_minutes")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    raw_id_fields = ("user",)
    readonly_fields = ("config_masked", "last_sent_at", "last_error", "disabled_reason", "created_at", "updated_at")
    actions = ("send_test", "reenable")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Channel]:
        return super().get_queryset(request).annotate(rule_total=Count("rules", distinct=True))

    def get_fields(self, request: HttpRequest, obj: Channel | None = None):
        hidden = "config" if obj and not self.has_change_permission(request, obj) else "config_masked"
        return [field for field in super().get_fields(request, obj) if field != hidden]

    @admin.display(description="status", ordering="enabled")
    def status(self, channel: Channel):
        if not channel.enabled:
            return badge_html(colour=RED if channel.disabled_reason else GREY, label="disabled")
        if channel.last_error:
            return badge_html(colour=AMBER, label="failing")
        return badge_html(colour=GREEN, label="ok" if channel.last_sent_at else "not used yet")

    @admin.display(description="last error")
    def last_error_excerpt(self, channel: Channel):
        return truncated_html(channel.disabled_reason or channel.last_error)

    @admin.display(description="rules", ordering="rule_total")
    def rule_count(self, channel: Channel):
        return getattr(channel, "rule_total", None)

    @admin.display(description="config")
    def config_masked(self, channel: Channel):
        return format_html(
            "<pre>{}</pre>", json.dumps(channel_config_masked(kind=channel.kind, config=channel.config), indent=2)
        )

    @admin.action(description="Send a test alert now")
    def send_test(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            try:
                channel_test_send(channel=channel)
            except TransportError as exc:
                self.message_user(request, f"{channel.name}: test alert failed: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{channel.name}: test alert sent.", messages.SUCCESS)

    @admin.action(description="Re-enable selected channels")
    def reenable(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            channel_reenable(channel=channel)
        self.message_user(request, f"Re-enabled {queryset.count()} channel(s).")


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "enabled", "severity", "event_kinds", "states", "min_score", "cooldown_minutes")
    list_filter = ("enabled", "severity", "channels")
    search_fields = ("name",)
    filter_horizontal = ("channels",)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        # Operators' rules send to operators' channels: a user's personal channel never receives their alerts.
        if db_field.name == "channels":
            kwargs["queryset"] = Channel.objects.filter(user__isnull=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class WatchlistForm(forms.ModelForm):
    class Meta:
        model = Watchlist
        fields = ("user", *Watchlist.EDITABLE_FIELDS, "enabled")

    def clean(self) -> dict:
        cleaned = super().clean()
        for field, problems in watchlist_problems(values=cleaned).items():
            self.add_error(field, problems)
        user, channels = cleaned.get("user"), cleaned.get("channels") or []
        foreign = [c.name for c in channels if user is None or c.user_id != user.pk]
        if foreign:
            self.add_error(
                "channels", f"A watchlist sends to its owner's channels only; not theirs: {', '.join(foreign)}"
            )
        return cleaned


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    form = WatchlistForm
    list_display = ("name", "user", "enabled", "min_state", "min_score", "keywords", "digest", "match_count")
    list_filter = ("enabled", "min_state", "digest")
    list_select_related = ("user",)
    search_fields = ("name", "user__username", "user__email")
    raw_id_fields = ("user",)
    filter_horizontal = ("channels",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Watchlist]:
        return super().get_queryset(request).annotate(match_total=Count("matches"))

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "channels":
            kwargs["queryset"] = Channel.objects.filter(user__isnull=False).select_related("user")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="matches", ordering="match_total")
    def match_count(self, watchlist: Watchlist):
        return getattr(watchlist, "match_total", None)


@admin.register(MuteTerm)
class MuteTermAdmin(admin.ModelAdmin):
    list_display = ("term", "enabled", "query", "created_at")
    list_filter = ("enabled",)
    search_fields = ("term",)
    readonly_fields = ("query",)


@admin.register(WatchMatch)
class WatchMatchAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "title", "state", "score", "watchlist", "owner")
    list_filter = ("state", "created_at")
    list_select_related = ("watchlist__user",)
    search_fields = ("title", "watchlist__name", "watchlist__user__username")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in WatchMatch._meta.fields]

    @admin.display(description="user", ordering="watchlist__user__username")
    def owner(self, match: WatchMatch):
        return match.watchlist.user


class AttemptInline(ReadOnlyTabularInline):
    model = NotificationAttempt
    fields = ("number", "started_at", "duration_ms", "ok", "error")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "event_kind", "title", "channel", "rule", "status_badge", "attempts", "error")
    list_filter = ("status", "reason", "channel", "rule", "event_kind", "created_at")
    list_select_related = ("channel", "rule")
    search_fields = ("dedup_key", "subject_key", "last_error")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Notification._meta.fields]
    inlines = (AttemptInline,)
    actions = ("resend",)

    @admin.display(description="title")
    def title(self, notification: Notification):
        return truncated_html(notification.message.get("title", ""), length=60)

    @admin.display(description="status", ordering="status")
    def status_badge(self, notification: Notification):
        return badge_html(colour=NOTIFICATION_COLOURS.get(notification.status, GREY), label=notification.status_display)

    @admin.display(description="last error")
    def error(self, notification: Notification):
        return truncated_html(notification.last_error)

    @admin.action(description="Resend selected notifications")
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        for notification in queryset:
            notification_resend(notification=notification)
        self.message_user(request, f"Queued {queryset.count()} notification(s) to be sent again.", messages.SUCCESS)


class DigestDeliveryInline(ReadOnlyTabularInline):
    model = DigestDelivery
    fields = ("period", "status", "trend_count", "error", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-id")


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("email", "frequency", "send_hour", "time_zone", "min_score", "enabled", "last_sent_at")
    list_filter = ("frequency", "enabled", "categories")
    search_fields = ("email",)
    filter_horizontal = ("categories",)
    readonly_fields = ("last_sent_at",)
    inlines = (DigestDeliveryInline,)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "subscription", "period", "status", "trend_count", "error")
    list_filter = ("status", "created_at")
    list_select_related = ("subscription",)
    search_fields = ("subscription__email", "period")
