"""How trends, topics, items, categories and pipeline runs read in the API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.trends.models import Category, Item, PipelineRun, Topic, Trend, TrendSnapshot
from apps.trends.pipeline.runner import WORKFLOWS

EXCERPT_CHARS = 300


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "description"]


class TrendSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name", default=None, allow_null=True)
    item_count = serializers.IntegerField(source="topic.item_count")
    source_count = serializers.IntegerField(source="topic.source_count")
    keywords = serializers.ListField(
        child=serializers.CharField(), source="topic.keywords", help_text="The story's distinctive terms"
    )
    url = serializers.HyperlinkedIdentityField(view_name="trend-detail")

    class Meta:
        model = Trend
        fields = [
            "id",
            "url",
            "title",
            "summary",
            "keywords",
            "state",
            "category",
            "score",
            "peak_score",
            "velocity",
            "acceleration",
            "item_count",
            "source_count",
            "topic",
            "first_detected_at",
            "state_changed_at",
            "updated_at",
        ]


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrendSnapshot
        fields = ["taken_at", "score", "item_count", "velocity"]


class RelatedTrendSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name", default=None, allow_null=True)
    similarity = serializers.FloatField(help_text="Cosine similarity of the topics' centroids (1 = same).")

    class Meta:
        model = Trend
        fields = ["id", "title", "state", "category", "score", "similarity"]


class ScoreMeasuresSerializer(serializers.Serializer):
    item_count = serializers.IntegerField()
    recent_count = serializers.IntegerField(help_text="Items in the recent window (RANK_RECENT_HOURS).")
    source_count = serializers.IntegerField()
    volume = serializers.FloatField(help_text="Σ 0.5^(age / half-life) over the items.")
    velocity = serializers.FloatField(help_text="Recent rate against the topic's own baseline (1 = usual pace).")
    acceleration = serializers.FloatField()
    engagement = serializers.FloatField(help_text="Mean engagement, normalised per source.")


class ScoreFactorsSerializer(serializers.Serializer):
    volume = serializers.FloatField()
    velocity = serializers.FloatField(help_text="1 + 0.5·ln(1 + velocity)")
    engagement = serializers.FloatField(help_text="1 + 0.3·min(engagement, 3)")
    sources = serializers.FloatField(help_text="1 + 0.25·ln(sources)")


class ScoreExplainSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="The trend's last ranking, when the measures are taken.")
    score = serializers.FloatField(help_text="The product of the factors, as the ranker computes it.")
    stored_score = serializers.FloatField(help_text="The score stored at the last ranking.")
    measures = ScoreMeasuresSerializer(allow_null=True)
    factors = ScoreFactorsSerializer(allow_null=True)


class TrendDetailSerializer(TrendSerializer):
    key_points = serializers.ListField(child=serializers.CharField())
    items_url = serializers.HyperlinkedIdentityField(view_name="trend-items")
    timeline = serializers.SerializerMethodField()
    related = serializers.SerializerMethodField()
    why = serializers.SerializerMethodField()

    class Meta(TrendSerializer.Meta):
        fields = [*TrendSerializer.Meta.fields, "key_points", "items_url", "timeline", "related", "why"]

    @extend_schema_field(SnapshotSerializer(many=True))
    def get_timeline(self, trend: Trend) -> list:
        return SnapshotSerializer(self.context["timeline"], many=True).data

    @extend_schema_field(RelatedTrendSerializer(many=True))
    def get_related(self, trend: Trend) -> list:
        return RelatedTrendSerializer(self.context["related"], many=True).data

    @extend_schema_field(ScoreExplainSerializer)
    def get_why(self, trend: Trend) -> dict:
        return ScoreExplainSerializer(self.context["why"]).data


class ItemSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.name")
    category = serializers.CharField(source="category.name", default=None, allow_null=True)
    trend = serializers.SerializerMethodField()
    excerpt = serializers.SerializerMethodField()
    time = serializers.DateTimeField(help_text="Published, else collected: what filters and ordering use.")

    class Meta:
        model = Item
        fields = [
            "id",
            "source",
            "external_id",
            "url",
            "title",
            "excerpt",
            "author",
            "time",
            "published_at",
            "collected_at",
            "language",
            "metrics",
            "topic",
            "trend",
            "category",
            "duplicate_of",
        ]

    def get_trend(self, item: Item) -> int | None:
        trend = getattr(item.topic, "trend", None) if item.topic_id else None
        return trend.pk if trend else None

    def get_excerpt(self, item: Item) -> str:
        return item.text[:EXCERPT_CHARS]


class ItemDetailSerializer(ItemSerializer):
    class Meta(ItemSerializer.Meta):
        fields = [*ItemSerializer.Meta.fields, "text"]


class TopicSerializer(serializers.ModelSerializer):
    trend = serializers.SerializerMethodField()
    representative_title = serializers.CharField(source="representative_item.title", default=None, allow_null=True)

    class Meta:
        model = Topic
        fields = [
            "id",
            "item_count",
            "source_count",
            "first_seen_at",
            "last_item_at",
            "keywords",
            "headlines",
            "representative_item",
            "representative_title",
            "is_active",
            "merged_into",
            "trend",
        ]

    def get_trend(self, topic: Topic) -> int | None:
        trend = getattr(topic, "trend", None)
        return trend.pk if trend else None


class PipelineRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = PipelineRun
        fields = [
            "id",
            "workflow",
            "status",
            "trigger",
            "as_of",
            "started_at",
            "finished_at",
            "item_count",
            "error",
            "cancel_requested_at",
            "retry_of",
        ]


class PipelineRunDetailSerializer(PipelineRunSerializer):
    stats = serializers.JSONField(help_text="Per stage: {stages: {name: {count, seconds}}, counts: {...}}")

    class Meta(PipelineRunSerializer.Meta):
        fields = [*PipelineRunSerializer.Meta.fields, "stats"]


class WorkflowSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(WORKFLOWS))
    steps = serializers.ListField(child=serializers.CharField())


class WorkflowRunRequestSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Replay time (ISO 8601); empty for a live run."
    )


class WorkflowRunSerializer(serializers.Serializer):
    run_id = serializers.IntegerField()
    task_id = serializers.CharField()
    workflow = serializers.CharField()
    status = serializers.CharField()
    as_of = serializers.DateTimeField(allow_null=True)
