from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

from apps.core.models import TimeStampedModel

EMBEDDING_DIMENSIONS = 384  # the default model's (apps.trends.embeddings); `reembed` resizes for another
LEXICAL_DIMENSIONS = 2048  # hashed TF-IDF of title and URL words (apps.trends.pipeline.lexical)


class Category(models.Model):
    """A zero-shot category: the embedding of its description is the prototype items are compared with."""

    name = models.CharField(max_length=64, unique=True)
    description = models.TextField()
    descriptions = models.JSONField(
        default=list, blank=True, help_text="More ways to say what belongs here; the prototype is their mean"
    )
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def prototype_texts(self) -> list[str]:
        """What the prototype is the mean embedding of: the description, then each further description."""
        return [f"{self.name}: {self.description}", *(f"{self.name}: {d}" for d in self.descriptions)]


class Item(models.Model):
    """One collected thing (story, post, video, feed entry); unique per (source, external_id)."""

    source = models.ForeignKey("plugins.Source", on_delete=models.PROTECT, related_name="items")
    external_id = models.CharField(max_length=512)
    url = models.URLField(max_length=2048, blank=True)
    canonical_url = models.URLField(max_length=2048, blank=True, db_index=True)
    title = models.CharField(max_length=1000)
    text = models.TextField(blank=True)
    author = models.CharField(max_length=255, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    collected_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    language = models.CharField(max_length=16, blank=True, db_index=True)
    language_hint = models.CharField(max_length=16, blank=True, help_text="Language the source declared")
    metrics = models.JSONField(default=dict, blank=True, help_text="points, comments, views ... as the source gives")
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_model = models.CharField(
        max_length=200, blank=True, default="", help_text="Model that computed the embedding (cleanup clears others)"
    )
    # Which embed task holds the item (its Celery task id) and since when: apps/trends/embed_ahead.py.
    embed_claim = models.CharField(max_length=64, blank=True, default="")
    embed_claimed_at = models.DateTimeField(null=True, blank=True)
    topic = models.ForeignKey("Topic", null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    processed_at = models.DateTimeField(null=True, blank=True, help_text="When the pipeline last processed it")
    search_vector = models.GeneratedField(
        expression=SearchVector("title", weight="A", config="english")
        + SearchVector("text", weight="B", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="item_source_external_id_uniq"),
        ]
        indexes = [
            HnswIndex(
                name="item_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="item_search_gin"),
            models.Index(
                fields=["published_at", "id"],
                condition=models.Q(processed_at__isnull=True),
                name="item_unprocessed_stream_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title[:80]


class Topic(TimeStampedModel):
    """A story: items about the same event, grouped online by their embeddings."""

    centroid = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    item_count = models.PositiveIntegerField(default=0)
    source_count = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_item_at = models.DateTimeField(null=True, blank=True, db_index=True)
    keywords = models.JSONField(default=list, blank=True)
    headlines = models.JSONField(default=list, blank=True, help_text="Its most central headlines, cleaned")
    representative_item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True, db_index=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-last_item_at"]
        indexes = [
            HnswIndex(
                name="topic_centroid_hnsw",
                fields=["centroid"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"Topic {self.pk} ({self.item_count} items)"


class Trend(models.Model):
    """A topic that qualifies as a trend, ranked and moving through its lifecycle."""

    class State(models.TextChoices):
        EMERGING = "emerging"
        VIRAL = "viral"
        SUSTAINED = "sustained"
        DECLINING = "declining"
        DEAD = "dead"

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="trend")
    title = models.CharField(max_length=1000)
    summary = models.TextField(blank=True)
    key_points = models.JSONField(default=list, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="trends")
    state = models.CharField(max_length=16, choices=State.choices, default=State.EMERGING, db_index=True)
    score = models.FloatField(default=0.0, db_index=True)
    velocity = models.FloatField(default=0.0)
    acceleration = models.FloatField(default=0.0)
    peak_score = models.FloatField(default=0.0)
    first_detected_at = models.DateTimeField(default=timezone.now)
    state_changed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-score"]

    def __str__(self) -> str:
        return self.title[:80]


class TrendSnapshot(models.Model):
    trend = models.ForeignKey(Trend, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField()
    score = models.FloatField()
    item_count = models.PositiveIntegerField()
    velocity = models.FloatField()

    class Meta:
        ordering = ["trend", "taken_at"]
        constraints = [models.UniqueConstraint(fields=["trend", "taken_at"], name="snapshot_trend_time_uniq")]

    def __str__(self) -> str:
        return f"{self.trend_id} @ {self.taken_at:%Y-%m-%d %H:%M}"


class PipelineRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"
        SKIPPED = "skipped"
        CANCELLED = "cancelled"

    workflow = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    trigger = models.CharField(max_length=32, blank=True)
    as_of = models.DateTimeField(null=True, blank=True, help_text="Replay time; empty for live runs")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    item_count = models.PositiveIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True, help_text="Per stage: counts and timings")
    error = models.TextField(blank=True)
    cancel_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="Set by a cancel request; the run stops at its next batch boundary"
    )
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
        help_text="The failed run this one repeats (an operator's retry of its task)",
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.workflow} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
