"""The trends side of the operators' console: trends with state badges and score sparklines, topics, items,
categories and pipeline runs. Read-mostly: the pipeline owns these rows."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.utils.html import format_html

from apps.core.display import AMBER, BLUE, GREEN, GREY, PURPLE, RED, badge_html, line_sparkline_html
from apps.trends.models import Category, Item, PipelineRun, Topic, Trend, TrendSnapshot

SPARKLINE_POINTS = 24
STATE_COLOURS = {
    Trend.State.EMERGING: BLUE,
    Trend.State.VIRAL: PURPLE,
    Trend.State.SUSTAINED: GREEN,
    Trend.State.DECLINING: AMBER,
    Trend.State.DEAD: GREY,
}
RUN_COLOURS = {
    PipelineRun.Status.SUCCESS: GREEN,
    PipelineRun.Status.RUNNING: BLUE,
    PipelineRun.Status.FAILED: RED,
    PipelineRun.Status.SKIPPED: GREY,
    PipelineRun.Status.QUEUED: GREY,
    PipelineRun.Status.CANCELLED: AMBER,
}


class SnapshotInline(admin.TabularInline):
    model = TrendSnapshot
    fields = ("taken_at", "score", "velocity", "item_count")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-taken_at",)
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-taken_at")


class PipelineOwnedAdmin(admin.ModelAdmin):
    """Rows the pipeline creates: operators read and correct them, but never add them by hand."""

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Trend)
class TrendAdmin(PipelineOwnedAdmin):
    list_display = (
        "title",
        "state_badge",
        "score_display",
        "velocity_display",
        "score_history",
        "category",
        "item_count",
        "state_changed_at",
    )
    list_filter = ("state", "category")
    search_fields = ("title", "summary")
    ordering = ("-score",)
    list_select_related = ("category", "topic")
    readonly_fields = (
        "topic",
        "first_detected_at",
        "state_changed_at",
        "updated_at",
        "peak_score",
        "score",
        "velocity",
        "acceleration",
        "score_history",
    )
    inlines = [SnapshotInline]

    def get_queryset(self, request):
        # The last scores in one subquery per page, not one query per row.
        recent = (
            TrendSnapshot.objects.filter(trend=OuterRef("pk")).order_by("-taken_at").values("score")[:SPARKLINE_POINTS]
        )
        return super().get_queryset(request).annotate(recent_scores=ArraySubquery(recent))

    @admin.display(description="state", ordering="state")
    def state_badge(self, trend: Trend):
        return badge_html(colour=STATE_COLOURS.get(trend.state, GREY), label=trend.get_state_display())

    @admin.display(description="score", ordering="score")
    def score_display(self, trend: Trend) -> str:
        return f"{trend.score:.2f}"

    @admin.display(description="velocity", ordering="velocity")
    def velocity_display(self, trend: Trend) -> str:
        return f"{trend.velocity:+.2f}"

    @admin.display(description="score history")
    def score_history(self, trend: Trend):
        scores = list(reversed(getattr(trend, "recent_scores", None) or []))
        return line_sparkline_html(
            scores, colour=STATE_COLOURS.get(trend.state, GREY), label=f"last {len(scores)} scores"
        )

    @admin.display(description="items", ordering="topic__item_count")
    def item_count(self, trend: Trend) -> int:
        return trend.topic.item_count


@admin.register(Topic)
class TopicAdmin(PipelineOwnedAdmin):
    list_display = ("id", "representative", "item_count", "source_count", "is_active", "first_seen_at", "last_item_at")
    list_filter = ("is_active",)
    search_fields = ("keywords",)
    list_select_related = ("representative_item",)
    readonly_fields = (
        "representative_item",
        "merged_into",
        "item_count",
        "source_count",
        "first_seen_at",
        "last_item_at",
        "keywords",
    )
    exclude = ("centroid",)

    @admin.display(description="representative item")
    def representative(self, topic: Topic) -> str:
        return str(topic.representative_item) if topic.representative_item else "—"


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("title", "source", "language", "topic_link", "is_duplicate", "published_at", "collected_at")
    list_filter = ("source", "language", ("duplicate_of", admin.EmptyFieldListFilter), "category")
    search_fields = ("title", "external_id", "url")
    date_hierarchy = "published_at"
    list_select_related = ("source",)
    raw_id_fields = ("topic", "duplicate_of")
    readonly_fields = (
        "source",
        "external_id",
        "content_hash",
        "canonical_url",
        "collected_at",
        "updated_at",
        "processed_at",
        "metrics",
    )
    exclude = ("embedding",)
    show_full_result_count = False  # COUNT(*) over millions of items on every page is not worth it

    @admin.display(description="topic", ordering="topic")
    def topic_link(self, item: Item):
        if item.topic_id is None:
            return "—"
        return format_html('<a href="../topic/{}/change/">#{}</a>', item.topic_id, item.topic_id)

    @admin.display(description="duplicate", boolean=True)
    def is_duplicate(self, item: Item) -> bool:
        return item.duplicate_of_id is not None


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "description")
    search_fields = ("name",)
    exclude = ("embedding",)


@admin.register(PipelineRun)
class PipelineRunAdmin(PipelineOwnedAdmin):
    list_display = (
        "started_at",
        "workflow",
        "status_badge",
        "trigger",
        "item_count",
        "duration",
        "as_of",
        "error_excerpt",
    )
    list_filter = ("status", "workflow", "trigger")
    readonly_fields = [f.name for f in PipelineRun._meta.fields]

    @admin.display(description="status", ordering="status")
    def status_badge(self, run: PipelineRun):
        return badge_html(colour=RUN_COLOURS.get(run.status, GREY), label=run.status)

    @admin.display(description="duration")
    def duration(self, run: PipelineRun) -> str:
        if not run.finished_at:
            return "—"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f} s"

    @admin.display(description="error")
    def error_excerpt(self, run: PipelineRun) -> str:
        return run.error[:120]
