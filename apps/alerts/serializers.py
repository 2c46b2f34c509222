"""API shapes of alerts: channel configs masked on the way out and validated (mask = keep) on the way in."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.alerts.channel_config import channel_config_masked, channel_config_restore, channel_config_validate
from apps.alerts.models import AlertRule, Channel, Notification
from apps.alerts.rule_filters import rule_filters_problems
from apps.core.rest.masked_config import MaskedConfigSerializerMixin


class ChannelSerializer(MaskedConfigSerializerMixin, serializers.ModelSerializer):
    """Credentials in the config read as a mask; sending the mask back keeps the stored value."""

    config_mask = staticmethod(channel_config_masked)
    config_restore = staticmethod(channel_config_restore)
    config_validate = staticmethod(channel_config_validate)

    class Meta:
        model = Channel
        fields = (
            "id",
            "name",
            "kind",
            "config",
            "enabled",
            "min_severity",
            "last_sent_at",
            "last_error",
            "disabled_reason",
            "created_at",
        )
        read_only_fields = ("last_sent_at", "last_error", "disabled_reason", "created_at")


class AlertRuleSerializer(serializers.ModelSerializer):
    channels = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Channel.objects.filter(user__isnull=True), required=False
    )

    class Meta:
        model = AlertRule
        fields = (
            "id",
            "name",
            "event_kinds",
            "states",
            "categories",
            "keywords",
            "sources",
            "min_score",
            "severity",
            "channels",
            "cooldown_minutes",
            "enabled",
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        filters = ("event_kinds", "states", "categories", "keywords", "sources", "min_score")
        current = {field: getattr(self.instance, field) for field in filters} if self.instance else {}
        probe = AlertRule(**{**current, **{key: value for key, value in attrs.items() if key in filters}})
        if problems := rule_filters_problems(probe):
            raise serializers.ValidationError(problems)
        return attrs


class NotificationSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="name", read_only=True)
    rule = serializers.SlugRelatedField(slug_field="name", read_only=True)
    attempt_log = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = (
            "id",
            "channel",
            "rule",
            "event",
            "event_kind",
            "subject_key",
            "dedup_key",
            "severity",
            "status",
            "reason",
            "message",
            "attempts",
            "attempt_log",
            "next_attempt_at",
            "sent_at",
            "last_error",
            "created_at",
        )
        read_only_fields = fields

    def get_attempt_log(self, notification: Notification) -> list[dict[str, Any]]:
        return [
            {"number": a.number, "started_at": a.started_at, "ok": a.ok, "error": a.error, "duration_ms": a.duration_ms}
            for a in notification.attempt_log.all()
        ]
