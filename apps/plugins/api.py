"""/api/v1/sources/: sources with health and recent runs; staff create, update, enable, disable, collect."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from apps.core.rest.filters import StrictBooleanFilter
from apps.core.rest.pagination import ApiCursorPagination
from apps.plugins.collect_queue import sources_collect_queue
from apps.plugins.models import CollectionRun, Source
from apps.plugins.serializers import CollectQueuedSerializer, SourceSerializer
from apps.plugins.services import source_enabled_set

LAST_RUNS = 5


class SourcePagination(ApiCursorPagination):
    ordering = "name"


class SourceFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Source.Kind.choices)
    enabled = StrictBooleanFilter()
    healthy = StrictBooleanFilter(field_name="health__is_healthy", help_text="Only (un)healthy sources.")

    class Meta:
        model = Source
        fields = ["kind", "enabled", "healthy"]


@extend_schema_view(
    list=extend_schema(summary="Sources with health and their last runs", tags=["sources"]),
    retrieve=extend_schema(summary="A source with health and its last runs", tags=["sources"]),
    create=extend_schema(summary="Create a source (staff); config validated as in the admin", tags=["sources"]),
    update=extend_schema(summary="Replace a source (staff)", tags=["sources"]),
    partial_update=extend_schema(summary="Change a source (staff)", tags=["sources"]),
)
class SourceViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    serializer_class = SourceSerializer
    filterset_class = SourceFilter
    pagination_class = SourcePagination
    ordering_fields: list[str] = []
    lookup_field = "name"
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    def get_queryset(self) -> QuerySet[Source]:
        recent = CollectionRun.objects.order_by("-started_at")[:LAST_RUNS]
        return Source.objects.select_related("health").prefetch_related(
            Prefetch("runs", queryset=recent, to_attr="recent_runs")
        )

    def _answer(self, source: Source, code: int = status.HTTP_200_OK) -> Response:
        source = self.get_queryset().get(pk=source.pk)
        return Response(self.get_serializer(source).data, status=code)

    @extend_schema(summary="Enable the source and its schedule (staff)", tags=["sources"], request=None)
    @action(detail=True, methods=["post"], filter_backends=[])
    def enable(self, request: Request, name: str | None = None) -> Response:
        return self._answer(source_enabled_set(source=self.get_object(), enabled=True))

    @extend_schema(summary="Disable the source and its schedule (staff)", tags=["sources"], request=None)
    @action(detail=True, methods=["post"], filter_backends=[])
    def disable(self, request: Request, name: str | None = None) -> Response:
        return self._answer(source_enabled_set(source=self.get_object(), enabled=False))

    @extend_schema(
        summary="Collect the source now, backoff or not (staff); the queued task's id",
        tags=["sources"],
        request=None,
        responses={202: CollectQueuedSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def collect(self, request: Request, name: str | None = None) -> Response:
        source = self.get_object()
        [task_id] = sources_collect_queue(source_ids=[source.pk], trigger="api")
        return Response({"source": source.name, "task_id": task_id}, status=status.HTTP_202_ACCEPTED)


def register(router: BaseRouter) -> None:
    router.register("sources", SourceViewSet, basename="source")
