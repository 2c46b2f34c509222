"""Staff API of the core app: feature switches (list, toggle), Celery tasks (list, filters, retry, cancel) and
clearing the application's cached entries (query embeddings, analytics).

``register(router)`` is how the project's URLconf picks up every app's ViewSets.
"""

from __future__ import annotations

from celery import states
from django.conf import settings
from django_celery_results.models import TaskResult
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from waffle.models import Switch

from apps.core.cache_clear import cache_clear
from apps.core.rest.errors import Conflict
from apps.core.rest.filters import UtcDateTimeFilter
from apps.core.rest.pagination import ApiCursorPagination
from apps.core.rest.permissions import IsStaff
from apps.core.switches import switch_set
from apps.core.task_results import REVOCABLE_STATES, TaskResultError, task_result_retry, task_result_revoke


class SwitchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Switch
        fields = ("name", "active", "note", "modified")
        read_only_fields = fields


class SwitchToggleSerializer(serializers.Serializer):
    active = serializers.BooleanField(required=False, help_text="The state to set; without it, the switch flips.")


class SwitchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Feature switches (django-waffle): a switch that is off turns its feature off everywhere."""

    queryset = Switch.objects.order_by("name")
    serializer_class = SwitchSerializer
    permission_classes = [IsStaff]
    lookup_field = "name"
    # Names have dots (collect.rss); a NUL, which PostgreSQL cannot compare, is no name: the API's 404.
    lookup_value_regex = r"[^/\x00]+"
    pagination_class = None  # a handful of rows

    @extend_schema(request=SwitchToggleSerializer, responses=SwitchSerializer)
    @action(detail=True, methods=["post"], serializer_class=SwitchToggleSerializer)
    def toggle(self, request: Request, name: str | None = None) -> Response:
        """Set the switch to ``active``, or flip it when the body has no ``active``."""
        switch = self.get_object()
        body = SwitchToggleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        active = body.validated_data.get("active", not switch.active)
        return Response(SwitchSerializer(switch_set(name=switch.name, active=active)).data)


class TaskResultSerializer(serializers.ModelSerializer):
    state = serializers.CharField(source="status")

    class Meta:
        model = TaskResult
        fields = ("task_id", "task_name", "state", "task_args", "task_kwargs", "worker", "date_created", "date_done")
        read_only_fields = fields


class TaskResultDetailSerializer(TaskResultSerializer):
    class Meta(TaskResultSerializer.Meta):
        fields = (*TaskResultSerializer.Meta.fields, "result", "traceback")
        read_only_fields = fields


class TaskRetriedSerializer(serializers.Serializer):
    task_id = serializers.CharField(help_text="Id of the new task")
    retry_of = serializers.CharField(help_text="Id of the failed task it repeats")


_REFUSED = {
    400: OpenApiResponse(description="The task is in a state where this cannot be done (message in detail)"),
    404: OpenApiResponse(description="No task with this id"),
    409: OpenApiResponse(description="The work the task did cannot be repeated (a run that did not fail)"),
}


class TaskResultFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(
        field_name="status", choices=[(s, s) for s in sorted(states.ALL_STATES)], help_text="Celery state(s)"
    )
    task_name = filters.CharFilter(field_name="task_name", help_text="Registered task name, exact")
    since = UtcDateTimeFilter(field_name="date_done", lookup_expr="gte", help_text="Done at or after")
    until = UtcDateTimeFilter(field_name="date_done", lookup_expr="lte", help_text="Done at or before")

    class Meta:
        model = TaskResult
        fields = ("state", "task_name", "since", "until")


class NewestFirst(ApiCursorPagination):
    ordering = "-id"
    page_size_query_param = None


class TaskResultViewSet(viewsets.ReadOnlyModelViewSet):
    """Celery tasks as django-celery-results records them; retry failed ones, cancel ones not started."""

    queryset = TaskResult.objects.all()
    permission_classes = [IsStaff]
    lookup_field = "task_id"
    lookup_value_regex = r"[^/\x00]+"
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = TaskResultFilter
    pagination_class = NewestFirst

    def get_serializer_class(self):
        return TaskResultDetailSerializer if self.action == "retrieve" else TaskResultSerializer

    def _listed(self, request: Request, queryset) -> Response:
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses=TaskResultSerializer(many=True))
    @action(detail=False)
    def pending(self, request: Request) -> Response:
        """Tasks sent but not started (pending, received)."""
        return self._listed(request, self.get_queryset().filter(status__in=REVOCABLE_STATES))

    @extend_schema(responses=TaskResultSerializer(many=True))
    @action(detail=False)
    def failed(self, request: Request) -> Response:
        """Tasks that failed."""
        return self._listed(request, self.get_queryset().filter(status=states.FAILURE))

    @extend_schema(request=None, responses={202: TaskRetriedSerializer, **_REFUSED})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, task_id: str | None = None) -> Response:
        """Queue a failed task again with its original arguments, or, for a task whose work is a recorded run
        (a pipeline run), a new run repeating it; answers the new task's id, or 409 saying why it cannot."""
        try:
            new_id = task_result_retry(task_id=task_id)
        except TaskResultError as exc:
            raise _api_error(exc) from None
        return Response({"task_id": new_id, "retry_of": task_id}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: TaskResultSerializer, **_REFUSED})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, task_id: str | None = None) -> Response:
        """Revoke a task that has not started."""
        try:
            result = task_result_revoke(task_id=task_id)
        except TaskResultError as exc:
            raise _api_error(exc) from None
        return Response(TaskResultSerializer(result).data)


class TaskActionRefused(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "task_action_refused"
    default_detail = "This action cannot be done on this task."


def _api_error(exc: TaskResultError) -> Exception:
    if exc.code == "not_found":
        return NotFound(exc.message)
    if exc.code == "unavailable":
        return ServiceUnavailable(exc.message)
    if exc.code == "conflict":
        return Conflict(exc.message)
    return TaskActionRefused(exc.message)


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "broker_unavailable"
    default_detail = "The task broker cannot be reached; try again later."


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


def register(router) -> None:
    """Add the core app's ViewSets to the API router."""
    router.register("switches", SwitchViewSet, basename="switch")
    router.register("tasks", TaskResultViewSet, basename="task")
    router.register("cache/clear", CacheViewSet, basename="cache-clear")
