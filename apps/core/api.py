"""/api/v1/cache/clear/: staff clear the application's cached entries (query embeddings, analytics)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from apps.core.cache_clear import cache_clear
from apps.core.rest.permissions import IsStaff


class CacheClearedSerializer(serializers.Serializer):
    deleted = serializers.DictField(child=serializers.IntegerField(), help_text="Keys deleted per prefix.")


class CacheViewSet(viewsets.ViewSet):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="Clear cached query embeddings and analytics (staff)",
        description="Deletes the keys under API_CACHE_CLEAR_PREFIXES (default search:, analytics:); "
        "rate-limit counters and the broker stay.",
        tags=["cache"],
        request=None,
        responses={200: CacheClearedSerializer},
    )
    def create(self, request: Request) -> Response:
        return Response({"deleted": cache_clear(prefixes=settings.API_CACHE_CLEAR_PREFIXES)})


def register(router: BaseRouter) -> None:
    router.register("cache/clear", CacheViewSet, basename="cache-clear")
