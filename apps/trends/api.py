"""/api/v1/ endpoints of the trends app: trends, topics, items, categories, pipeline runs and workflows."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from apps.core.rest.errors import Conflict
from apps.core.rest.pagination import ApiCursorPagination
from apps.core.rest.permissions import IsStaff
from apps.core.rest.schema import ErrorSerializer
from apps.trends.filtersets import ItemFilter, PipelineRunFilter, TopicFilter, TrendFilter
from apps.trends.models import Category, Item, PipelineRun, Topic, Trend
from apps.trends.pipeline.runner import WORKFLOWS
from apps.trends.runs import RunFinished, pipeline_run_cancel, pipeline_run_queue
from apps.trends.selectors import (
    ITEM_VECTORS,
    TREND_VECTORS,
    trend_related,
    trend_score_explain,
    trend_timeline,
)
from apps.trends.serializers import (
    CategorySerializer,
    ItemDetailSerializer,
    ItemSerializer,
    PipelineRunDetailSerializer,
    PipelineRunSerializer,
    TopicSerializer,
    TrendDetailSerializer,
    TrendSerializer,
    WorkflowRunRequestSerializer,
    WorkflowRunSerializer,
    WorkflowSerializer,
)

RELATED_TRENDS = 5
TIMELINE_POINTS = 500


class ItemTimePagination(ApiCursorPagination):
    """Items newest first by published (else collected) time, whatever ordering the view declares."""

    ordering = ("-time",)

    def get_ordering(self, request: Request, queryset: QuerySet, view: object) -> tuple[str, ...]:
        return self.ordering


def items_with_time() -> QuerySet[Item]:
    """Items with ``time`` (published, else collected) and what their serializer reads, in one query."""
    return (
        Item.objects.annotate(time=Coalesce("published_at", "collected_at"))
        .select_related("source", "category", "topic__trend")
        .defer(*ITEM_VECTORS, "category__embedding")
    )


@extend_schema_view(
    list=extend_schema(summary="Trends, highest score first", tags=["trends"]),
    retrieve=extend_schema(
        summary="A trend with its timeline, related trends and why it ranks",
        tags=["trends"],
        responses=TrendDetailSerializer,
    ),
)
class TrendViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Trend.objects.select_related("category", "topic").defer(*TREND_VECTORS)
    serializer_class = TrendSerializer
    filterset_class = TrendFilter
    ordering_fields = ["score", "velocity", "first_detected_at"]
    ordering = ["-score"]

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        trend = self.get_object()
        context = {
            **self.get_serializer_context(),
            "timeline": trend_timeline(trend=trend, points=TIMELINE_POINTS),
            "related": trend_related(trend=trend, limit=RELATED_TRENDS),
            "why": trend_score_explain(trend=trend),
        }
        return Response(TrendDetailSerializer(trend, context=context).data)

    @extend_schema(summary="The trend's items, newest first", tags=["trends"], responses=ItemSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=ItemTimePagination)
    def items(self, request: Request, pk: str | None = None) -> Response:
        trend = self.get_object()
        page = self.paginate_queryset(items_with_time().filter(topic_id=trend.topic_id))
        return self.get_paginated_response(ItemSerializer(page, many=True, context={"request": request}).data)


@extend_schema_view(
    list=extend_schema(summary="Topics (stories), newest first", tags=["topics"]),
    retrieve=extend_schema(summary="A topic", tags=["topics"]),
)
class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Topic.objects.select_related("trend", "representative_item").defer(
        "centroid", "representative_item__embedding", "representative_item__search_vector"
    )
    serializer_class = TopicSerializer
    filterset_class = TopicFilter
    ordering_fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Items, newest first (published, else collected)", tags=["items"]),
    retrieve=extend_schema(summary="An item with its full text", tags=["items"], responses=ItemDetailSerializer),
)
class ItemViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    pagination_class = ItemTimePagination
    ordering_fields: list[str] = []

    def get_queryset(self) -> QuerySet[Item]:
        return items_with_time()

    def get_serializer_class(self) -> type[ItemSerializer]:
        return ItemDetailSerializer if self.action == "retrieve" else ItemSerializer


@extend_schema_view(
    list=extend_schema(summary="Categories", tags=["categories"]),
    retrieve=extend_schema(summary="A category", tags=["categories"]),
)
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    pagination_class = None
    filter_backends: list = []


@extend_schema_view(
    list=extend_schema(summary="Pipeline runs, newest first", tags=["pipeline"]),
    retrieve=extend_schema(summary="A pipeline run with per-stage stats", tags=["pipeline"]),
)
class PipelineRunViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = PipelineRun.objects.all()
    filterset_class = PipelineRunFilter
    ordering_fields: list[str] = []
    ordering = ["-started_at"]

    def get_serializer_class(self) -> type[PipelineRunSerializer]:
        return PipelineRunDetailSerializer if self.action in ("retrieve", "cancel") else PipelineRunSerializer

    @extend_schema(
        summary="Cancel a queued or running run (staff)",
        description="A queued run ends `cancelled` at once; a running one stops before its next batch and "
        "keeps what it committed. 409 when the run already ended.",
        tags=["pipeline"],
        request=None,
        responses={202: PipelineRunDetailSerializer, 409: OpenApiResponse(ErrorSerializer, "The run already ended")},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsStaff], filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        try:
            run = pipeline_run_cancel(run=run)
        except RunFinished as exc:
            raise Conflict(str(exc)) from None
        return Response(PipelineRunDetailSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class WorkflowViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The pipeline's workflows; staff run one with POST workflows/{name}/run/."""

    serializer_class = WorkflowSerializer
    pagination_class = None
    filter_backends: list = []
    lookup_field = "name"
    lookup_value_regex = "|".join(WORKFLOWS)

    def get_queryset(self) -> list[dict]:
        return [{"name": name, "steps": steps} for name, steps in WORKFLOWS.items()]

    @extend_schema(summary="The workflows and their steps", tags=["pipeline"])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return Response(WorkflowSerializer(self.get_queryset(), many=True).data)

    @extend_schema(
        summary="Queue a run of the workflow (staff)",
        tags=["pipeline"],
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=[*WORKFLOWS])],
        request=WorkflowRunRequestSerializer,
        responses={202: WorkflowRunSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsStaff], serializer_class=WorkflowRunRequestSerializer)
    def run(self, request: Request, name: str | None = None) -> Response:
        payload = WorkflowRunRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        queued = pipeline_run_queue(workflow=name, as_of=payload.validated_data.get("as_of"), trigger="api")
        body = {
            "run_id": queued.run.pk,
            "task_id": queued.task_id,
            "workflow": queued.run.workflow,
            "status": queued.run.status,
            "as_of": queued.run.as_of,
        }
        return Response(WorkflowRunSerializer(body).data, status=status.HTTP_202_ACCEPTED)


def register(router: BaseRouter) -> None:
    router.register("trends", TrendViewSet, basename="trend")
    router.register("topics", TopicViewSet, basename="topic")
    router.register("items", ItemViewSet, basename="item")
    router.register("categories", CategoryViewSet, basename="category")
    router.register("pipeline-runs", PipelineRunViewSet, basename="pipelinerun")
    router.register("workflows", WorkflowViewSet, basename="workflow")
