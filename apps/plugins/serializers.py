"""Sources in the API: health and recent runs to read; config validated exactly as in the admin."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.rest.masked_config import MaskedConfigSerializerMixin
from apps.core.rest.parsers import NUL_MESSAGE, has_nul
from apps.plugins.collectors import source_config_validate
from apps.plugins.config_secrets import config_masked, config_secrets_restore
from apps.plugins.models import CollectionRun, PluginHealth, Source


class HealthSerializer(serializers.ModelSerializer):
    class Meta:
        model = PluginHealth
        fields = [
            "is_healthy",
            "last_run_at",
            "last_success_at",
            "last_failure_at",
            "last_error",
            "consecutive_failures",
            "total_runs",
            "total_failures",
            "success_rate",
            "avg_duration_ms",
        ]


class CollectionRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectionRun
        fields = [
            "id",
            "started_at",
            "finished_at",
            "status",
            "trigger",
            "fetched_count",
            "new_count",
            "duplicate_count",
            "skipped_count",
            "error",
            "duration_ms",
        ]


class SourceSerializer(MaskedConfigSerializerMixin, serializers.ModelSerializer):
    """Credentials in the config read as a mask; sending the mask back keeps the stored value."""

    config_mask = staticmethod(config_masked)
    config_restore = staticmethod(config_secrets_restore)
    config_validate = staticmethod(source_config_validate)
    config = serializers.JSONField(
        required=False,
        help_text="A JSON object, keys per kind (staff only). Credentials, URLs' included, read as ********; "
        "send them back to keep them. Changing where a credential goes (a *_url's host) needs it entered again.",
    )
    health = HealthSerializer(read_only=True)
    last_runs = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = [
            "name",
            "kind",
            "enabled",
            "poll_interval",
            "config",
            "health",
            "last_runs",
            "next_fetch_after",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["next_fetch_after", "created_at", "updated_at"]
        extra_kwargs = {"poll_interval": {"min_value": 1}}

    def config_visible(self) -> bool:
        # A config says where and how a source is fetched: operators' business, not readers'.
        request = self.context.get("request")
        return request is not None and request.user.is_authenticated and request.user.is_staff

    @extend_schema_field(CollectionRunSerializer(many=True))
    def get_last_runs(self, source: Source) -> list:
        runs = getattr(source, "recent_runs", None)
        if runs is None:
            runs = source.runs.order_by("-started_at")[: self.context.get("last_runs", 5)]
        return CollectionRunSerializer(runs, many=True).data

    def validate_config(self, config: Any) -> Any:
        if has_nul(config):  # a form-encoded config skips the JSON parser's check
            raise serializers.ValidationError(NUL_MESSAGE)
        return config


class CollectQueuedSerializer(serializers.Serializer):
    source = serializers.CharField()
    task_id = serializers.CharField()
