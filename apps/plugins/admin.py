"""The operators' console for sources: health at a glance, what broke, and the actions that fix it."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from apps.core.admin_forms import MaskedConfigFormMixin
from apps.core.admin_inlines import ReadOnlyModelAdmin, ReadOnlyTabularInline
from apps.core.config_spec import CONFIG_MAX_DEPTH, config_shape_problem
from apps.core.display import GREY, badge_html, json_pretty_html, text_truncated, truncated_html
from apps.core.outage import ServiceDown
from apps.core.url_mask import url_masked
from apps.plugins.collect_queue import sources_collect_queue
from apps.plugins.collectors import source_config_validate
from apps.plugins.config_secrets import config_masked, config_secrets_restore
from apps.plugins.health_display import (
    FEED_STATUS_COLOURS,
    RECENT_RUNS,
    health_badge_html,
    run_details_html,
    runs_sparkline_html,
)
from apps.plugins.models import CollectionRun, FeedState, Source
from apps.plugins.services import source_enabled_set, source_health_reset

INLINE_RUNS = 20
CONFIG_MAX_CHARS = 1_000_000


class IndentedJSONField(forms.JSONField):
    """JSON edited as indented text, one key per line, instead of one long line."""

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class SourceConfigField(IndentedJSONField):
    """The config's JSON text, refused with a form error when too large or too deeply nested to handle
    (the stock field lets ``json.loads`` raise RecursionError on 5,000 nested brackets: a 500)."""

    def _parsed(self, value: str) -> tuple[object, str]:
        if len(value) > CONFIG_MAX_CHARS:
            return None, f"Config is {len(value):,} characters; at most {CONFIG_MAX_CHARS:,}."
        try:
            parsed = json.loads(value)
        except RecursionError:
            return None, f"Config is nested deeper than {CONFIG_MAX_DEPTH} levels."
        except ValueError as exc:
            return None, f"Config is not valid JSON: {exc}."
        shape = config_shape_problem(parsed)
        return (None, f"Config {shape}.") if shape else (parsed, "")

    def to_python(self, value):
        if self.disabled or not isinstance(value, str) or value in self.empty_values:
            return super().to_python(value)
        parsed, problem = self._parsed(value)
        if problem:
            raise ValidationError(problem, code="invalid")
        return parsed

    def bound_data(self, data, initial):
        if self.disabled or not isinstance(data, str):
            return super().bound_data(data, initial)
        parsed, problem = self._parsed(data)
        # What cannot be parsed safely is shown back as the text the operator sent.
        return InvalidJSONInput(data) if problem else parsed

    def has_changed(self, initial, data):
        try:
            return super().has_changed(initial, data)
        except ValidationError:
            return True


class SourceForm(MaskedConfigFormMixin, forms.ModelForm):
    """Credentials in the config show as a mask; sending the mask back keeps the stored value."""

    config_mask = staticmethod(config_masked)
    config_restore = staticmethod(config_secrets_restore)
    config_validate = staticmethod(source_config_validate)
    config = SourceConfigField(required=False, initial=dict, widget=forms.Textarea(attrs={"rows": 10, "cols": 60}))

    class Meta:
        model = Source
        fields = ("name", "kind", "config", "enabled", "poll_interval")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "poll_interval" in self.fields:  # absent for view-only operators
            self.fields["poll_interval"].help_text = (
                "Seconds between scheduled collections. Changing it sets the schedule of the source's periodic "
                "task; an interval edited on that periodic task stays until this value changes."
            )


class HealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("unhealthy", "Unhealthy"), ("failing", "Failing (any recent failure)"), ("healthy", "Healthy")]

    def queryset(self, request, queryset):
        if self.value() == "unhealthy":
            return queryset.filter(health__is_healthy=False)
        if self.value() == "failing":
            return queryset.filter(health__consecutive_failures__gt=0)
        if self.value() == "healthy":
            return queryset.filter(health__is_healthy=True, health__consecutive_failures=0)
        return queryset


# What an operator reads first about a collection run, in the inline and in the runs list alike.
RUN_COLUMNS = (
    "started_at",
    "status",
    "trigger",
    "fetched_count",
    "new_count",
    "duplicate_count",
    "skipped_count",
    "duration",
)


class RunColumnsMixin:
    """How run figures read, in the inline and in the runs list alike."""

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, run: CollectionRun) -> str:
        return "–" if run.duration_ms is None else f"{run.duration_ms / 1000:,.2f} s"

    @admin.display(description="error")
    def error_excerpt(self, run: CollectionRun):
        return truncated_html(run.error, length=80)


class RecentRunInline(RunColumnsMixin, ReadOnlyTabularInline):
    model = CollectionRun
    verbose_name_plural = f"Last {INLINE_RUNS} runs"
    fields = (*RUN_COLUMNS, "error_excerpt")
    show_change_link = True

    def get_queryset(self, request):
        # The newest runs only, so a source collected every minute for months still opens fast: a row number
        # per source, filtered in SQL (the formset adds the source filter after this).
        newest = Window(RowNumber(), partition_by=F("source_id"), order_by=F("started_at").desc())
        return (
            super()
            .get_queryset(request)
            .defer("details")
            .annotate(newest=newest)
            .filter(newest__lte=INLINE_RUNS)
            .order_by("-started_at")
        )

    @admin.display(description="error")
    def error_excerpt(self, run: CollectionRun):
        return text_truncated(run.error, length=300)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = (
        "name",
        "kind",
        "enabled",
        "health_badge",
        "recent_runs_chart",
        # The error before the dates: at 1,400 px with the nav sidebar it must not scroll out of sight.
        "last_error_excerpt",
        "consecutive_failures",
        "success_rate",
        "last_success",
        "next_fetch_after",
    )
    list_filter = (HealthFilter, "kind", "enabled")
    list_select_related = ("health",)
    search_fields = ("name",)
    readonly_fields = (
        "health_badge",
        "last_error_full",
        "recent_runs_chart",
        "all_runs_link",
        "feed_urls_link",
        "config_masked",
        "etag",
        "last_modified",
        "next_fetch_after",
        "schedule_link",
        "created_at",
        "updated_at",
    )
    actions = ("enable", "disable", "collect_now", "reset_health")
    inlines = (RecentRunInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        # Each page's recent runs in one query (a window per source), however many sources it lists.
        recent = CollectionRun.objects.only(
            "source_id", "started_at", "status", "error", "new_count", "duplicate_count"
        ).order_by("-started_at")[:RECENT_RUNS]
        return super().get_queryset(request).prefetch_related(Prefetch("runs", queryset=recent, to_attr="recent_runs"))

    def get_fields(self, request: HttpRequest, obj: Source | None = None):
        # An operator who may only view gets the masked config; an editor gets the form's (masked) field.
        hidden = "config" if obj and not self.has_change_permission(request, obj) else "config_masked"
        return [field for field in super().get_fields(request, obj) if field != hidden]

    @admin.display(description="health", ordering="health__is_healthy")
    def health_badge(self, source: Source):
        return health_badge_html(source=source, health=getattr(source, "health", None))

    @admin.display(description=f"last {RECENT_RUNS} runs")
    def recent_runs_chart(self, source: Source):
        if not source.pk:
            return "–"
        runs = getattr(source, "recent_runs", None)
        if runs is None:
            runs = list(source.runs.order_by("-started_at")[:RECENT_RUNS])
        return runs_sparkline_html(runs)

    @admin.display(description="config")
    def config_masked(self, source: Source):
        return json_pretty_html(config_masked(kind=source.kind, config=source.config))

    @admin.display(description="last success", ordering="health__last_success_at")
    def last_success(self, source: Source):
        return getattr(getattr(source, "health", None), "last_success_at", None)

    @admin.display(description="fails in a row", ordering="health__consecutive_failures")
    def consecutive_failures(self, source: Source):
        return getattr(getattr(source, "health", None), "consecutive_failures", 0)

    @admin.display(description="success rate", ordering="health__success_rate")
    def success_rate(self, source: Source):
        health = getattr(source, "health", None)
        return f"{health.success_rate:.0%}" if health and health.total_runs else "–"

    @admin.display(description="last error")
    def last_error_full(self, source: Source):
        return getattr(getattr(source, "health", None), "last_error", "") or "–"

    @admin.display(description="last error")
    def last_error_excerpt(self, source: Source):
        return truncated_html(getattr(getattr(source, "health", None), "last_error", ""), length=60)

    @admin.display(description="runs")
    def all_runs_link(self, source: Source):
        if not source.pk:
            return "–"
        url = reverse("admin:plugins_collectionrun_changelist") + f"?source__id__exact={source.pk}"
        return format_html('<a href="{}">All {} runs</a>', url, f"{source.runs.count():,}")

    @admin.display(description="feed URLs")
    def feed_urls_link(self, source: Source):
        if not source.pk or source.kind != "rss":
            return "–"
        states = source.feed_states.all()
        url = reverse("admin:plugins_feedstate_changelist") + f"?source__id__exact={source.pk}"
        failing = states.filter(last_status="failed").count()
        return format_html(
            '<a href="{}">{} URLs</a>, <a href="{}&amp;last_status__exact=failed">{} failing</a>',
            url,
            f"{states.count():,}",
            url,
            f"{failing:,}",
        )

    @admin.display(description="schedule")
    def schedule_link(self, source: Source):
        if not source.periodic_task_id:
            return "–"
        url = reverse("admin:django_celery_beat_periodictask_change", args=[source.periodic_task_id])
        return format_html('<a href="{}">{}</a>', url, source.periodic_task)

    @admin.action(description="Enable selected sources")
    def enable(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        for source in queryset:
            source_enabled_set(source=source, enabled=True)
        self.message_user(request, f"Enabled {queryset.count()} source(s).")

    @admin.action(description="Disable selected sources")
    def disable(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        for source in queryset:
            source_enabled_set(source=source, enabled=False)
        self.message_user(request, f"Disabled {queryset.count()} source(s).")

    @admin.action(description="Collect now (queued)")
    def collect_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        try:
            queued = len(sources_collect_queue(source_ids=list(queryset.values_list("pk", flat=True)), trigger="admin"))
        except ServiceDown as exc:
            self.message_user(request, f"Nothing was queued: {exc}.", messages.ERROR)
            return
        self.message_user(request, f"Queued {queued} source(s) for collection.", messages.SUCCESS)

    @admin.action(description="Reset health (clear failures and backoff)")
    def reset_health(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        for source in queryset:
            source_health_reset(source=source)
        self.message_user(request, f"Reset health of {queryset.count()} source(s).")


@admin.register(CollectionRun)
class CollectionRunAdmin(RunColumnsMixin, ReadOnlyModelAdmin):
    # The error next to the status: at 1,400 px the counts may scroll, the reason for a failure may not.
    list_display = ("source", "started_at", "status", "error_excerpt", *RUN_COLUMNS[2:])
    list_filter = ("status", "trigger", "source__kind")
    list_select_related = ("source",)
    search_fields = ("source__name", "error")
    date_hierarchy = "started_at"

    def get_fields(self, request: HttpRequest, obj: CollectionRun | None = None):
        # The detail page shows the whole error, the per-feed details and the skip reasons readably.
        hidden = ("id", "skip_reasons", "details")
        return [f.name for f in CollectionRun._meta.fields if f.name not in hidden] + [
            "details_table",
            "skip_reasons_display",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: CollectionRun | None = None):
        return self.get_fields(request, obj)

    @admin.display(description="per feed / file")
    def details_table(self, run: CollectionRun):
        return run_details_html(run.details)

    @admin.display(description="skip reasons")
    def skip_reasons_display(self, run: CollectionRun):
        return json_pretty_html(run.skip_reasons)


@admin.register(FeedState)
class FeedStateAdmin(ReadOnlyModelAdmin):
    """Each feed URL of an rss source as its last collection left it: which of 2,000 URLs keep failing, and why.
    Written by collections only; a URL leaves when the source's config no longer lists it."""

    list_display = ("url_shown", "source", "status_badge", "error_excerpt", "last_fetched_at")
    list_filter = ("last_status", "source")
    list_select_related = ("source",)
    search_fields = ("url", "last_error")
    ordering = ("source", "url")
    exclude = ("url",)  # shown masked: a feed URL may carry a token or a password
    readonly_fields = ("url_shown",)

    @admin.display(description="URL", ordering="url")
    def url_shown(self, state: FeedState):
        return url_masked(state.url)

    @admin.display(description="last status", ordering="last_status")
    def status_badge(self, state: FeedState):
        return badge_html(colour=FEED_STATUS_COLOURS.get(state.last_status, GREY), label=state.last_status or "–")

    @admin.display(description="last error")
    def error_excerpt(self, state: FeedState):
        return truncated_html(state.last_error, length=100)
