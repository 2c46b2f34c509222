"""Read-only analytics endpoints: the latest snapshot of a period and its history."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.analytics.models import AnalyticsSnapshot
from apps.analytics.selectors import analytics_history, analytics_latest
from apps.analytics.services import PERIODS

HISTORY_MAX = 500


class AnalyticsSnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnalyticsSnapshot
        fields = ("id", "period", "created_at", "data")


PERIOD_PARAMETER = OpenApiParameter("period", str, enum=list(PERIODS), default="24h")
LIMIT_PARAMETER = OpenApiParameter("limit", int, description=f"Snapshots, newest first (1–{HISTORY_MAX}, 48)")


def _period(request: Request) -> str:
    period = request.query_params.get("period", "24h")
    if period not in PERIODS:
        raise ValidationError({"period": f"must be one of {', '.join(PERIODS)}, got {period!r}"})
    return period


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "48")
    if not raw.isdigit() or not 1 <= int(raw) <= HISTORY_MAX:
        raise ValidationError({"limit": f"must be a whole number 1–{HISTORY_MAX}, got {raw!r}"})
    return int(raw)


class AnalyticsViewSet(viewsets.GenericViewSet):
    """Analytics snapshots (computed hourly): ``latest`` (cached) and ``history`` (for charts)."""

    serializer_class = AnalyticsSnapshotSerializer
    queryset = AnalyticsSnapshot.objects.none()
    pagination_class = None
    filter_backends = []  # its own period and limit parameters, no ordering

    @extend_schema(parameters=[PERIOD_PARAMETER], responses=AnalyticsSnapshotSerializer)
    @action(detail=False, methods=["get"])
    def latest(self, request: Request) -> Response:
        period = _period(request)
        latest = analytics_latest(period=period)
        if latest is None:
            raise NotFound(f"No {period} analytics yet: run `manage.py generate_analytics` or wait for the hour.")
        return Response(latest)

    @extend_schema(parameters=[PERIOD_PARAMETER, LIMIT_PARAMETER], responses=AnalyticsSnapshotSerializer(many=True))
    @action(detail=False, methods=["get"])
    def history(self, request: Request) -> Response:
        snapshots = analytics_history(period=_period(request), limit=_limit(request))
        return Response(self.get_serializer(snapshots, many=True).data)


def register(router) -> None:
    """Called by trendsite.urls for every apps.<app>.api module."""
    router.register("analytics", AnalyticsViewSet, basename="analytics")
