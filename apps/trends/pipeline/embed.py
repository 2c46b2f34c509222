"""Stage 4: an embedding per item (title first, then the start of the text), through ``embeddings``."""

from __future__ import annotations

import numpy as np

from apps.trends.embeddings import texts_embed
from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.evidence import clustering_text

_TEXT_CHARS = 300  # headlines carry the story; a long body would drown the title in the mean pooling


def item_embedding_text(item: Item) -> str:
    """What the model reads for an item: the title, then the start of the text, without social noise."""
    title = clustering_text(item.title)
    return f"{title}. {clustering_text(item.text[:_TEXT_CHARS])}" if item.text else title


def embed(items: list[Item], ctx: StageContext) -> int:
    """Embed the items that need it; an exact duplicate with the same content reuses its original's vector,
    vectors the runner computed ahead (``ctx.vectors``) and those embed workers stored are taken as they are.
    Returns how many items got a vector of their own."""
    todo = []
    ahead = 0
    for item in items:
        original = item.duplicate_of
        if original is not None and original.content_hash == item.content_hash and original.embedding is not None:
            item.embedding = np.asarray(original.embedding, dtype=np.float32)
        elif item.pk in ctx.vectors:
            item.embedding = ctx.vectors.pop(item.pk)
            ahead += 1
        elif item.embedding is not None:  # an embed worker's vector of the configured model (the runner checked)
            ahead += 1
        else:
            todo.append(item)
    vectors = texts_embed([item_embedding_text(i) for i in todo]) if todo else []
    for item, vector in zip(todo, vectors, strict=True):
        item.embedding = vector
    ctx.counts["embedded"] += len(todo) + ahead
    return len(todo) + ahead
