"""Stage 5: near duplicates, the nearest recent item by cosine above a high threshold (pgvector)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import connection

from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext, item_time
from apps.trends.vectors import vector_literal

# The HNSW index answers ORDER BY embedding <=> q LIMIT 1; the window keeps old items out.
_NEAREST_SQL = """
SELECT q.idx, n.id, 1 - n.distance
FROM (VALUES {values}) AS q(idx, emb, t)
CROSS JOIN LATERAL (
    SELECT i.id, i.embedding <=> q.emb AS distance
    FROM trends_item i
    WHERE i.embedding IS NOT NULL AND i.duplicate_of_id IS NULL AND i.processed_at IS NOT NULL
      AND COALESCE(i.published_at, i.collected_at) BETWEEN q.t - %s AND q.t
      AND NOT (i.id = ANY(%s))
    ORDER BY i.embedding <=> q.emb
    LIMIT 1
) AS n
"""


def _nearest_stored(items: list[Item], exclude_ids: list[int]) -> dict[int, tuple[int, float]]:
    """For each item (by position): the nearest processed original in the window and its similarity."""
    if not items:
        return {}
    values = ",".join(["(%s, %s::vector, %s::timestamptz)"] * len(items))
    params: list = []
    for idx, item in enumerate(items):
        params += [idx, vector_literal(item.embedding), item_time(item)]
    params += [timedelta(hours=settings.PIPELINE_DEDUP_WINDOW_HOURS), exclude_ids]
    with connection.cursor() as cursor:
        cursor.execute(_NEAREST_SQL.format(values=values), params)
        return {idx: (item_id, float(sim)) for idx, item_id, sim in cursor.fetchall()}


def dedup_near(items: list[Item], ctx: StageContext) -> int:
    """Point near duplicates at the most similar earlier original; returns how many were found."""
    threshold = settings.PIPELINE_NEAR_DUP_THRESHOLD
    window = timedelta(hours=settings.PIPELINE_DEDUP_WINDOW_HOURS)
    candidates = [i for i in items if i.duplicate_of is None and i.embedding is not None]
    stored = _nearest_stored(candidates, [i.pk for i in items])
    originals_by_id = {
        o.pk: o
        for o in Item.objects.filter(pk__in=[pk for pk, sim in stored.values() if sim >= threshold]).only(
            "id", "topic_id", "content_hash", "published_at", "collected_at"
        )
    }
    found = 0
    matrix = np.stack([np.asarray(i.embedding, dtype=np.float32) for i in candidates]) if candidates else None
    similarities = matrix @ matrix.T if matrix is not None else None
    originals: list[int] = []  # positions of earlier non-duplicates in this batch
    for idx, item in enumerate(candidates):
        best: Item | None = None
        best_sim = threshold
        if idx in stored and stored[idx][1] >= best_sim:
            best, best_sim = originals_by_id.get(stored[idx][0]), stored[idx][1]
        if originals:
            row = similarities[idx, originals]
            j = int(np.argmax(row))
            earlier = candidates[originals[j]]
            if row[j] >= best_sim and item_time(item) - item_time(earlier) <= window:
                best = earlier
        if best is not None:
            item.duplicate_of = best
            found += 1
        else:
            originals.append(idx)
    ctx.counts["near_duplicates"] += found
    return found
