"""/api/v1/alerts/…: rules and channels (staff, channel secrets masked) and the notifications log (read-only)."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework import viewsets
from rest_framework.routers import BaseRouter

from apps.alerts.models import AlertRule, Channel, Notification
from apps.alerts.serializers import AlertRuleSerializer, ChannelSerializer, NotificationSerializer
from apps.core.rest.filters import UtcDateTimeFilter
from apps.core.rest.permissions import IsStaff


class NotificationFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Notification.Status.choices)
    reason = filters.ChoiceFilter(choices=Notification.Reason.choices)
    channel = filters.CharFilter(field_name="channel__name", help_text="Channel name")
    rule = filters.NumberFilter(field_name="rule_id", help_text="Rule id")
    event_kind = filters.CharFilter()
    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Notification
        fields = ["status", "reason", "channel", "rule", "event_kind", "since", "until"]


class ChannelViewSet(viewsets.ModelViewSet):
    serializer_class = ChannelSerializer
    permission_classes = [IsStaff]
    queryset = Channel.objects.order_by("name")
    lookup_field = "name"
    lookup_value_regex = "[-a-zA-Z0-9_]+"


class AlertRuleViewSet(viewsets.ModelViewSet):
    serializer_class = AlertRuleSerializer
    permission_classes = [IsStaff]
    queryset = AlertRule.objects.prefetch_related("channels").order_by("name")


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = NotificationSerializer
    permission_classes = [IsStaff]
    filterset_class = NotificationFilter
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.select_related("channel", "rule").prefetch_related("attempt_log").order_by("-id")


def register(router: BaseRouter) -> None:
    """Add the alerts ViewSets to the project's one router (discovered by trendsite/urls.py)."""
    router.register("alerts/rules", AlertRuleViewSet, basename="alert-rule")
    router.register("alerts/channels", ChannelViewSet, basename="alert-channel")
    router.register("alerts/notifications", NotificationViewSet, basename="alert-notification")
