"""API shapes of /api/v1/me/…: a user's own watchlists, channels and matches (field names are a contract)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.alerts.models import WATCH_STATES, Channel, Watchlist, WatchMatch
from apps.alerts.serializers import ChannelSerializer
from apps.alerts.watchlists import channel_owner_problem, watchlist_problems


class MyChannelSerializer(ChannelSerializer):
    """A personal channel: config masked and validated as for operators' channels; email only to oneself."""

    class Meta(ChannelSerializer.Meta):
        fields = ("id", "name", "kind", "config", "batch_minutes")
        read_only_fields = ()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        kind = attrs.get("kind", self.instance.kind if self.instance else "")
        if problem := channel_owner_problem(user=self.context["request"].user, kind=kind, config=attrs["config"]):
            raise serializers.ValidationError({"config": [problem]})
        return attrs


class _OwnChannels(serializers.PrimaryKeyRelatedField):
    """Ids of the requesting user's channels; anyone else's id is "does not exist" (400), never confirmed."""

    def get_queryset(self):
        return Channel.objects.filter(user=self.context["request"].user)


class WatchlistSerializer(serializers.ModelSerializer):
    channels = _OwnChannels(many=True, required=False)
    min_state = serializers.ChoiceField(choices=WATCH_STATES, default="emerging")

    class Meta:
        model = Watchlist
        fields = ("id", *Watchlist.EDITABLE_FIELDS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if problems := watchlist_problems(values=attrs):
            raise serializers.ValidationError(problems)
        user = self.context["request"].user
        name = attrs.get("name", self.instance.name if self.instance else "")
        taken = Watchlist.objects.filter(user=user, name=name).exclude(pk=getattr(self.instance, "pk", None))
        if taken.exists():
            raise serializers.ValidationError({"name": [f"you already have a watchlist named {name!r}"]})
        return attrs


class WatchMatchSerializer(serializers.ModelSerializer):
    trend = serializers.IntegerField(source="trend_key", read_only=True)

    class Meta:
        model = WatchMatch
        fields = ("id", "watchlist", "trend", "state", "score", "title", "created_at")
        read_only_fields = fields
