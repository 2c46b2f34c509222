"""Stage 5: near duplicates, the nearest recent item by cosine above a high threshold (pgvector)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce

from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext, item_time
from apps.trends.vectors import index_scan_prefer, vector_cursor

# The inner query is a bare ORDER BY distance LIMIT k, which the HNSW index answers without visiting the
# table; the window and the "original, processed" conditions are checked on those few neighbours only.
_NEAREST_SQL = """
SELECT q.idx, n.id, 1 - n.distance
FROM (VALUES {values}) AS q(idx, emb)
CROSS JOIN LATERAL (
    SELECT c.id, c.embedding <=> q.emb AS distance
    FROM trends_item c
    WHERE c.embedding IS NOT NULL
    ORDER BY c.embedding <=> q.emb
    LIMIT %s
) AS n
ORDER BY q.idx, n.distance
"""
_NEIGHBOURS = 5


def _nearest_stored(items: list[Item], exclude_ids: list[int]) -> dict[int, tuple[int, float]]:
    """For each item (by position): the nearest processed original in the window and its similarity."""
    if not items:
        return {}
    values = ",".join(["(%s::int, %s::vector)"] * len(items))
    params: list = []
    for idx, item in enumerate(items):
        params += [idx, np.asarray(item.embedding, dtype=np.float32)]
    params.append(_NEIGHBOURS)
    with transaction.atomic(), vector_cursor() as cursor:
        index_scan_prefer(cursor)
        cursor.execute(_NEAREST_SQL.format(values=values), params)
        neighbours = cursor.fetchall()
    eligible = {
        pk: when
        for pk, when in Item.objects.filter(
            pk__in={pk for _, pk, _ in neighbours}, duplicate_of__isnull=True, processed_at__isnull=False
        )
        .exclude(pk__in=exclude_ids)
        .annotate(when=Coalesce("published_at", "collected_at"))
        .values_list("pk", "when")
    }
    window = timedelta(hours=settings.PIPELINE_DEDUP_WINDOW_HOURS)
    nearest: dict[int, tuple[int, float]] = {}
    for idx, pk, sim in neighbours:  # nearest first per idx
        when = eligible.get(pk)
        if idx not in nearest and when is not None and item_time(items[idx]) - window <= when <= item_time(items[idx]):
            nearest[idx] = (pk, float(sim))
    return nearest


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
