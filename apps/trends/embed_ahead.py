"""Embedding as its own stage, spread over any number of Celery workers (queue ``embed``).

Encoding is most of a pipeline run's time, and it needs nothing but an item's text, so it is done ahead:
``embed_batches_dispatch`` splits the unprocessed items without a vector into batches of
``EMBED_BATCH_SIZE`` and sends one ``embed_batch_task`` per batch; each worker that runs one claims its items,
encodes them and stores the vectors. The pipeline run then finds the vectors stored and encodes only the
stragglers, so a deployment without an ``embed`` worker works as before, only slower.

Exactly once per (item, model), under ``acks_late`` and redelivery:
* a batch first **claims** its items (``embed_claim`` = the task id) with a conditional UPDATE: rows another
  live task holds are skipped, and a redelivered task (same id) takes its own rows back;
* a claim older than ``EMBED_CLAIM_SECONDS`` is free again (a worker died and its task was lost);
* a vector is written only where none is stored and the item is still unprocessed, so a late writer never
  overwrites the pipeline's vector nor a vector another worker wrote.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.trends.embeddings import embedding_model_name, texts_embed
from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.embed import item_embedding_text
from apps.trends.pipeline.normalise import normalise
from apps.trends.vectors import vector_cursor

_CLAIM_SQL = """
UPDATE trends_item SET embed_claim = %s, embed_claimed_at = now()
WHERE id = ANY(%s) AND embedding IS NULL AND processed_at IS NULL
    AND (embed_claim = '' OR embed_claim = %s OR embed_claimed_at < now() - %s)
RETURNING id
"""
_VECTORS_SAVE_SQL = """
UPDATE trends_item AS i SET embedding = v.embedding, embedding_model = %s, embed_claim = ''
FROM unnest(%s::bigint[], %b::vector[]) AS v(id, embedding)
WHERE i.id = v.id AND i.embedding IS NULL AND i.processed_at IS NULL AND i.embed_claim = %s
"""


def items_embed_pending() -> list[int]:
    """Ids of unprocessed items without a vector that no live embed task holds, oldest first."""
    stale = timezone.now() - timedelta(seconds=settings.EMBED_CLAIM_SECONDS)
    pending = Item.objects.filter(processed_at__isnull=True, embedding__isnull=True)
    free = pending.filter(embed_claim="") | pending.filter(embed_claimed_at__lt=stale)
    return list(free.order_by("id").values_list("id", flat=True))


def embed_batches_dispatch() -> int:
    """Send one ``embed_batch_task`` per ``EMBED_BATCH_SIZE`` pending items; returns how many were sent.

    Sending a batch twice is harmless (the second finds its items claimed or done), so this runs after every
    ingest that stored new items and on a schedule, without coordination."""
    if not settings.EMBED_AHEAD:
        return 0
    from apps.trends.tasks import embed_batch_task

    ids = items_embed_pending()
    size = settings.EMBED_BATCH_SIZE
    batches = [ids[start : start + size] for start in range(0, len(ids), size)]
    for batch in batches:
        embed_batch_task.delay(batch)
    return len(batches)


def items_embed(*, item_ids: list[int], claim: str) -> dict[str, int]:
    """Claim, encode and store the vectors of these items (those still needing one); ``claim`` is the
    caller's task id. Returns how many were claimed and stored."""
    lease = timedelta(seconds=settings.EMBED_CLAIM_SECONDS)
    with transaction.atomic(), vector_cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [claim, list(item_ids), claim, lease])
        claimed = [row[0] for row in cursor.fetchall()]
    if not claimed:
        return {"claimed": 0, "stored": 0}
    items = list(Item.objects.filter(pk__in=claimed).order_by("id"))
    normalise(items, StageContext(as_of=timezone.now()))  # in memory only: the text the pipeline will embed
    vectors = texts_embed([item_embedding_text(item) for item in items])
    with transaction.atomic(), vector_cursor() as cursor:
        cursor.execute(_VECTORS_SAVE_SQL, [embedding_model_name(), [i.pk for i in items], list(vectors), claim])
        stored = cursor.rowcount
    return {"claimed": len(claimed), "stored": stored}
