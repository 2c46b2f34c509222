"""Stage 2: exact duplicates, the same canonical URL or content hash inside the window."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q

from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext, item_time
from apps.trends.vectors import items_vectors_attach


def dedup_exact(items: list[Item], ctx: StageContext) -> int:
    """Point each exact duplicate at the earliest original (never at another duplicate); returns the count.

    Earlier items are those already processed (in the database) and those before it in this batch, so the
    result is the same whichever batch boundary an item falls on.
    """
    window = timedelta(hours=settings.PIPELINE_DEDUP_WINDOW_HOURS)
    urls = {i.canonical_url for i in items if i.canonical_url}
    hashes = {i.content_hash for i in items if i.content_hash}
    originals_by_url: dict[str, Item] = {}
    originals_by_hash: dict[str, Item] = {}
    if urls or hashes:
        earliest = min(item_time(i) for i in items) - window
        known = (
            Item.objects.filter(Q(canonical_url__in=urls) | Q(content_hash__in=hashes))
            .filter(processed_at__isnull=False, duplicate_of__isnull=True)
            .filter(Q(published_at__gte=earliest) | Q(published_at__isnull=True, collected_at__gte=earliest))
            .exclude(pk__in=[i.pk for i in items])
            .only("id", "canonical_url", "content_hash", "published_at", "collected_at", "topic_id")
            .order_by("published_at", "id")
        )
        for original in known:
            if original.canonical_url:
                originals_by_url.setdefault(original.canonical_url, original)
            if original.content_hash:
                originals_by_hash.setdefault(original.content_hash, original)
    found = 0
    batch_ids = {i.pk for i in items}
    for item in items:
        original = originals_by_url.get(item.canonical_url) if item.canonical_url else None
        if original is None and item.content_hash:
            original = originals_by_hash.get(item.content_hash)
        if original is not None and original.pk != item.pk and item_time(item) - item_time(original) <= window:
            item.duplicate_of = original
            found += 1
            continue
        item.duplicate_of = None
        if item.canonical_url:
            originals_by_url.setdefault(item.canonical_url, item)
        if item.content_hash:
            originals_by_hash.setdefault(item.content_hash, item)
    # The embed stage reuses a stored original's vector for its duplicate: read those vectors only, in binary.
    stored = {i.duplicate_of.pk: i.duplicate_of for i in items if i.duplicate_of and i.duplicate_of.pk not in batch_ids}
    items_vectors_attach(list(stored.values()))
    ctx.counts["exact_duplicates"] += found
    return found
