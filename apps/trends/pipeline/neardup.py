"""Stage 5: near duplicates, the nearest recent item by cosine above a high threshold (pgvector)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction

from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext, item_time
from apps.trends.vectors import index_scan_prefer, vector_cursor

# The inner query is a bare ORDER BY distance LIMIT k, which the HNSW index answers without visiting the
# table (MATERIALIZED keeps the planner from folding the join below into it); the window and the "original,
# processed" conditions are checked on those few neighbours only, and DISTINCT ON keeps the nearest that passes.
_NEAREST_SQL = """
WITH neighbours AS MATERIALIZED (
    SELECT q.idx, q.t, n.id, n.distance
    FROM unnest(%b::vector[], %s::timestamptz[]) WITH ORDINALITY AS q(emb, t, idx)
    CROSS JOIN LATERAL (
        SELECT c.id, c.embedding <=> q.emb AS distance
        FROM trends_item c
        WHERE c.embedding IS NOT NULL
        ORDER BY c.embedding <=> q.emb
        LIMIT %s
    ) AS n
)
SELECT DISTINCT ON (nb.idx) nb.idx - 1, nb.id, 1 - nb.distance
FROM neighbours nb
JOIN trends_item o ON o.id = nb.id
WHERE o.duplicate_of_id IS NULL AND o.processed_at IS NOT NULL AND o.id <> ALL(%s::bigint[])
    AND coalesce(o.published_at, o.collected_at) BETWEEN nb.t - %s AND nb.t
ORDER BY nb.idx, nb.distance
"""
_NEIGHBOURS = 5


def _nearest_stored(items: list[Item], exclude_ids: list[int]) -> dict[int, tuple[int, float]]:
    """For each item (by position): the nearest processed original in the window and its similarity."""
    if not items:
        return {}
    params = [
        [np.asarray(i.embedding, dtype=np.float32) for i in items],
        [item_time(i) for i in items],
        _NEIGHBOURS,
        exclude_ids,
        timedelta(hours=settings.PIPELINE_DEDUP_WINDOW_HOURS),
    ]
    with transaction.atomic(), vector_cursor() as cursor:
        index_scan_prefer(cursor)
        cursor.execute(_NEAREST_SQL, params)
        return {idx: (pk, float(sim)) for idx, pk, sim in cursor.fetchall()}


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
