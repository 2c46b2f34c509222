"""Rebuild every vector with the configured embedding model (``manage.py reembed``).

Items whose ``embedding_model`` is not the configured model's name are re-embedded in batches, each batch
committed on its own, so an interrupted run simply continues where it stopped. When the model's dimensions
differ from the columns' (a migration cannot know the configured model, so the migrations give the default
model's), the vector columns are resized first: their vectors cannot be converted, so they are emptied and
the HNSW indexes rebuilt. Topic centroids are then the mean of their items' new vectors and category
prototypes are embedded again on next use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from django.db import connection, transaction

from apps.trends.embeddings import dimensions, embedding_model_name, texts_embed
from apps.trends.models import Category, Item
from apps.trends.pipeline.embed import item_embedding_text
from apps.trends.vectors import vector_cursor

# (table, column, HNSW index or None): every vector column that holds embeddings of the configured model.
VECTOR_COLUMNS = [
    ("trends_item", "embedding", "item_embedding_hnsw"),
    ("trends_topic", "centroid", "topic_centroid_hnsw"),
    ("trends_category", "embedding", None),
]
_ITEMS_SAVE_SQL = """
UPDATE trends_item AS i SET embedding = v.embedding, embedding_model = %s
FROM unnest(%s::bigint[], %b::vector[]) AS v(id, embedding) WHERE i.id = v.id
"""
_CENTROIDS_SQL = """
UPDATE trends_topic AS tp SET centroid = s.centroid
FROM (SELECT topic_id, avg(embedding) AS centroid FROM trends_item
      WHERE topic_id IS NOT NULL AND embedding IS NOT NULL GROUP BY topic_id) AS s
WHERE tp.id = s.topic_id
"""


def embedding_dimensions_stored() -> int:
    """The dimensions of the item vector column as the database has it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'trends_item'::regclass AND attname = 'embedding'"
        )
        return int(cursor.fetchone()[0])


@transaction.atomic
def embedding_columns_resize(*, dimensions: int) -> None:
    """Give every vector column ``dimensions``: vectors are emptied (they cannot be converted) and the
    items marked as embedded by no model, so re-embedding rebuilds them all."""
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of rows written earlier in the transaction would block ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, column, index in VECTOR_COLUMNS:
            if index:
                cursor.execute(f"DROP INDEX IF EXISTS {index}")
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE vector({int(dimensions)}) USING NULL")
        cursor.execute("UPDATE trends_item SET embedding_model = '' WHERE embedding_model <> ''")
        for table, column, index in VECTOR_COLUMNS:
            if index:
                cursor.execute(
                    f"CREATE INDEX {index} ON {table} USING hnsw ({column} vector_cosine_ops) "
                    "WITH (m = 16, ef_construction = 64)"
                )


def items_stale_count() -> int:
    """Processed items without a vector of the configured model."""
    return Item.objects.filter(processed_at__isnull=False).exclude(embedding_model=embedding_model_name()).count()


def items_reembed(*, batch_size: int = 256, progress: Callable[[int, int], None] | None = None) -> int:
    """Re-embed processed items whose vector is not the configured model's, then rebuild centroids and
    prototypes. Returns how many items got a new vector. Safe to interrupt and run again."""
    if embedding_dimensions_stored() != dimensions():
        embedding_columns_resize(dimensions=dimensions())
    name = embedding_model_name()
    total = items_stale_count()
    done = 0
    while True:
        batch = list(
            Item.objects.filter(processed_at__isnull=False)
            .exclude(embedding_model=name)
            .order_by("pk")
            .only("pk", "title", "text")[:batch_size]
        )
        if not batch:
            break
        vectors = texts_embed([item_embedding_text(i) for i in batch])
        with transaction.atomic(), vector_cursor() as cursor:
            cursor.execute(_ITEMS_SAVE_SQL, [name, [i.pk for i in batch], [np.asarray(v) for v in vectors]])
        done += len(batch)
        if progress is not None:
            progress(done, max(total, done))
    if done:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CENTROIDS_SQL)
            Category.objects.update(embedding=None)
    return done
