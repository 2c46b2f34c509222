"""The trends side of the operators' console: trends with state badges and score sparklines, topics, items,
categories and pipeline runs. Read-mostly: the pipeline owns these rows."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.core.admin_inlines import ReadOnlyTabularInline
from apps.core.display import (
    AMBER,
    BLUE,
    GREEN,
    GREY,
    RED,
    badge_html,
    json_pretty_html,
    number_display,
    text_list_html,
    truncated_html,
)
from apps.trends.models import Category, Item, PipelineRun, Topic, Trend, TrendSnapshot
from apps.trends.score_history import STATE_COLOURS, score_history_annotate, score_history_sparkline

ITEMS_LISTED = 50
CATEGORY_DESCRIPTIONS_MAX = 20
CATEGORY_DESCRIPTION_MAX_CHARS = 500
RUN_COLOURS = {
    PipelineRun.Status.SUCCESS: GREEN,
    PipelineRun.Status.RUNNING: BLUE,
    PipelineRun.Status.FAILED: RED,
    PipelineRun.Status.SKIPPED: GREY,
    PipelineRun.Status.QUEUED: GREY,
    PipelineRun.Status.CANCELLED: AMBER,
}


def topic_items_html(topic: Topic | None) -> SafeString:
    """The newest items of a topic as a table (one bounded query): what the trend or topic is made of."""
    if topic is None or not topic.pk:
        return format_html("{}", "–")
    items = list(
        topic.items.select_related("source")
        .only("id", "title", "url", "published_at", "collected_at", "duplicate_of_id", "source__name")
        .order_by(Coalesce("published_at", "collected_at").desc(), "-id")[:ITEMS_LISTED]
    )
    if not items:
        return format_html("{}", "No items.")
    rows = format_html_join(
        "",
        '<tr><td class="nowrap">{}</td><td><a href="{}" title="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
        (
            (
                f"{item.published_at or item.collected_at:%Y-%m-%d %H:%M}",
                reverse("admin:trends_item_change", args=[item.pk]),
                item.title,
                item.title[:120],
                item.source.name,
                "duplicate" if item.duplicate_of_id else "",
            )
            for item in items
        ),
    )
    shown = f"newest {len(items)} of {topic.item_count:,}" if topic.item_count > len(items) else f"{len(items)}"
    return format_html(
        '<table class="topic-items"><caption>{} items</caption><thead><tr><th>published</th><th>title</th>'
        "<th>source</th><th></th></tr></thead><tbody>{}</tbody></table>",
        shown,
        rows,
    )


class SnapshotInline(ReadOnlyTabularInline):
    model = TrendSnapshot
    fields = ("taken_at", "score_display", "velocity_display", "item_count")
    ordering = ("-taken_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-taken_at")

    @admin.display(description="score")
    def score_display(self, snapshot: TrendSnapshot) -> str:
        return number_display(snapshot.score)

    @admin.display(description="velocity")
    def velocity_display(self, snapshot: TrendSnapshot) -> str:
        return number_display(snapshot.velocity)


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
    # Title, summary and category are the operator's to correct; the rest is the pipeline's.
    fields = (
        "title",
        "summary",
        "category",
        "state_badge",
        "score_display",
        "peak_score_display",
        "velocity_display",
        "acceleration_display",
        "score_history",
        "key_points_display",
        "topic",
        "first_detected_at",
        "state_changed_at",
        "updated_at",
        "items",
    )
    readonly_fields = tuple(field for field in fields if field not in ("title", "summary", "category"))
    inlines = [SnapshotInline]

    def get_queryset(self, request):
        # The lifetime scores and state changes in one subquery each per page, not one query per row.
        return score_history_annotate(super().get_queryset(request))

    @admin.display(description="state", ordering="state")
    def state_badge(self, trend: Trend):
        return badge_html(colour=STATE_COLOURS.get(trend.state, GREY), label=trend.get_state_display())

    @admin.display(description="score", ordering="score")
    def score_display(self, trend: Trend) -> str:
        return number_display(trend.score)

    @admin.display(description="peak score")
    def peak_score_display(self, trend: Trend) -> str:
        return number_display(trend.peak_score)

    @admin.display(description="velocity", ordering="velocity")
    def velocity_display(self, trend: Trend) -> str:
        return f"{trend.velocity:+,.2f}"

    @admin.display(description="acceleration")
    def acceleration_display(self, trend: Trend) -> str:
        return f"{trend.acceleration:+,.2f}"

    @admin.display(description="key points")
    def key_points_display(self, trend: Trend):
        return text_list_html(trend.key_points)

    @admin.display(description="items")
    def items(self, trend: Trend):
        return topic_items_html(trend.topic if trend.topic_id else None)

    @admin.display(description="score history")
    def score_history(self, trend: Trend):
        return score_history_sparkline(trend)

    @admin.display(description="items", ordering="topic__item_count")
    def item_count(self, trend: Trend) -> str:
        return number_display(trend.topic.item_count)


@admin.register(Topic)
class TopicAdmin(PipelineOwnedAdmin):
    list_display = ("id", "representative", "item_count", "source_count", "is_active", "first_seen_at", "last_item_at")
    list_filter = ("is_active",)
    search_fields = ("keywords",)
    list_select_related = ("representative_item",)
    # Everything here is the pipeline's: the page is for reading a story and the items it holds.
    fields = (
        "representative_item",
        "is_active",
        "merged_into",
        "item_count",
        "source_count",
        "first_seen_at",
        "last_item_at",
        "headlines_display",
        "keywords_display",
        "items",
    )
    readonly_fields = fields

    @admin.display(description="most central headlines")
    def headlines_display(self, topic: Topic):
        return text_list_html(topic.headlines)

    @admin.display(description="keywords")
    def keywords_display(self, topic: Topic):
        return ", ".join(map(str, topic.keywords)) or "–"

    @admin.display(description="items")
    def items(self, topic: Topic):
        return topic_items_html(topic)

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
        "url",
        "content_hash",
        "canonical_url",
        "collected_at",
        "updated_at",
        "processed_at",
        "metrics_display",
        "language",
        "category",
        "embedding_model",
    )
    exclude = ("embedding", "metrics")
    show_full_result_count = False  # COUNT(*) over millions of items on every page is not worth it

    @admin.display(description="topic", ordering="topic")
    def topic_link(self, item: Item):
        if item.topic_id is None:
            return "—"
        return format_html('<a href="../topic/{}/change/">#{}</a>', item.topic_id, item.topic_id)

    @admin.display(description="metrics")
    def metrics_display(self, item: Item):
        return json_pretty_html(item.metrics)

    @admin.display(description="duplicate", boolean=True)
    def is_duplicate(self, item: Item) -> bool:
        return item.duplicate_of_id is not None


class CategoryForm(forms.ModelForm):
    """Further descriptions as one line each; blank lines are dropped."""

    descriptions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 100}),
        help_text=(
            f"One description per line (at most {CATEGORY_DESCRIPTIONS_MAX}, {CATEGORY_DESCRIPTION_MAX_CHARS} "
            "characters each): headline words of this category. The prototype is the mean of all descriptions."
        ),
    )

    class Meta:
        model = Category
        fields = ("name", "description", "descriptions")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["descriptions"] = "\n".join(self.instance.descriptions)

    def clean_descriptions(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["descriptions"].splitlines() if line.strip()]
        if len(lines) > CATEGORY_DESCRIPTIONS_MAX:
            raise forms.ValidationError(f"At most {CATEGORY_DESCRIPTIONS_MAX} descriptions, got {len(lines)}.")
        for number, line in enumerate(lines, start=1):
            if len(line) > CATEGORY_DESCRIPTION_MAX_CHARS:
                raise forms.ValidationError(
                    f"Line {number} has {len(line)} characters; at most {CATEGORY_DESCRIPTION_MAX_CHARS}."
                )
        return lines


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ("name", "description", "description_count")
    search_fields = ("name",)

    @admin.display(description="descriptions")
    def description_count(self, obj: Category) -> int:
        return 1 + len(obj.descriptions)

    def save_model(self, request, obj: Category, form, change: bool) -> None:
        if {"name", "description", "descriptions"} & set(form.changed_data):
            obj.embedding = None  # the prototype is embedded again from the new wording on next use
        super().save_model(request, obj, form, change)


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
    fields = [f.name for f in PipelineRun._meta.fields if f.name not in ("id", "stats")] + ["stats_display"]
    readonly_fields = fields

    @admin.display(description="stats")
    def stats_display(self, run: PipelineRun):
        return json_pretty_html(run.stats)

    @admin.display(description="status", ordering="status")
    def status_badge(self, run: PipelineRun):
        return badge_html(colour=RUN_COLOURS.get(run.status, GREY), label=run.status)

    @admin.display(description="duration")
    def duration(self, run: PipelineRun) -> str:
        if not run.finished_at:
            return "—"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f} s"

    @admin.display(description="error")
    def error_excerpt(self, run: PipelineRun):
        return truncated_html(run.error, length=120)
