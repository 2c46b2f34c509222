"""Query filters of the trends API (django-filter): a malformed value is a 400 naming the parameter."""

from __future__ import annotations

from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django_filters import rest_framework as filters

from apps.core.rest.filters import StrictBooleanFilter, UtcDateTimeFilter
from apps.trends.models import Item, PipelineRun, Topic, Trend
from apps.trends.pipeline.runner import WORKFLOWS


class IdFilter(filters.NumberFilter):
    """A whole-number id: ``1.5`` or ``abc`` is a 400, not a silent match."""

    field_class = forms.IntegerField


class TrendFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=Trend.State.choices, help_text="Repeat for several states.")
    category = filters.CharFilter(field_name="category__name", help_text="Category name, e.g. technology.")
    source = filters.CharFilter(method="_with_item", help_text="Source name: trends with an item from it.")
    language = filters.CharFilter(method="_with_item", help_text="Language code: trends with an item in it.")
    since = UtcDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Ranked at or after this time (ISO 8601)."
    )
    until = UtcDateTimeFilter(
        field_name="first_detected_at", lookup_expr="lte", help_text="First detected at or before this time."
    )
    min_score = filters.NumberFilter(field_name="score", lookup_expr="gte", help_text="Score at least this.")

    class Meta:
        model = Trend
        fields = ["state", "category", "source", "language", "since", "until", "min_score"]

    def _with_item(self, queryset: QuerySet[Trend], name: str, value: str) -> QuerySet[Trend]:
        field = "source__name" if name == "source" else "language"
        items = Item.objects.filter(topic_id=OuterRef("topic_id"), **{field: value})
        return queryset.filter(Exists(items))


class ItemFilter(filters.FilterSet):
    source = filters.CharFilter(field_name="source__name", help_text="Source name.")
    language = filters.CharFilter(field_name="language", help_text="Language code, e.g. en.")
    topic = IdFilter(field_name="topic_id", help_text="Topic id.")
    trend = IdFilter(field_name="topic__trend__id", help_text="Trend id.")
    category = filters.CharFilter(field_name="category__name", help_text="Category name.")
    since = UtcDateTimeFilter(
        field_name="time", lookup_expr="gte", help_text="Published (else collected) at or after this time."
    )
    until = UtcDateTimeFilter(
        field_name="time", lookup_expr="lte", help_text="Published (else collected) at or before this time."
    )

    class Meta:
        model = Item
        fields = ["source", "language", "topic", "trend", "category", "since", "until"]


class TopicFilter(filters.FilterSet):
    is_active = StrictBooleanFilter(help_text="Only topics still taking items (or only closed ones).")
    since = UtcDateTimeFilter(field_name="last_item_at", lookup_expr="gte", help_text="Last item at or after.")
    until = UtcDateTimeFilter(field_name="first_seen_at", lookup_expr="lte", help_text="First seen at or before.")

    class Meta:
        model = Topic
        fields = ["is_active", "since", "until"]


class PipelineRunFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=PipelineRun.Status.choices, help_text="Repeat for several.")
    workflow = filters.ChoiceFilter(choices=[(name, name) for name in WORKFLOWS])
    since = UtcDateTimeFilter(field_name="started_at", lookup_expr="gte", help_text="Started at or after.")

    class Meta:
        model = PipelineRun
        fields = ["status", "workflow", "since"]
