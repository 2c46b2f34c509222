"""Stage 6: online story clustering. Join the nearest active topic (pgvector) or found a new one; then merge
topics whose centroids have converged.

A topic's ``centroid`` is the plain mean of its items' unit embeddings (not re-normalised), so
``mean * item_count`` is the sum and a join or a merge is exact arithmetic; cosine ignores the length.
Two stages because one threshold cannot do both jobs: a tight join keeps unrelated headlines apart while a
story is young, and the merge reunites the parts of a story once their means show they are one (see the
README, "Ranking and lifecycle", for the figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import Coalesce

from apps.trends.models import Item, Topic, Trend
from apps.trends.pipeline.context import StageContext, item_time
from apps.trends.vectors import index_scan_prefer, unit, vector_literal

_CANDIDATES = 5

_NEAREST_TOPICS_SQL = """
SELECT q.idx, n.id
FROM (VALUES {values}) AS q(idx, emb, t)
CROSS JOIN LATERAL (
    SELECT tp.id
    FROM trends_topic tp
    WHERE tp.is_active AND tp.centroid IS NOT NULL AND tp.last_item_at >= q.t - %s
    ORDER BY tp.centroid <=> q.emb
    LIMIT %s
) AS n
"""


@dataclass
class _TopicState:
    topic: Topic
    total: np.ndarray  # sum of member embeddings
    count: int
    direction: np.ndarray | None = None  # unit(total), kept in step by add()

    def __post_init__(self) -> None:
        self.direction = unit(self.total)

    def add(self, vector: np.ndarray, count: int = 1) -> None:
        self.total = self.total + vector
        self.count += count
        self.direction = unit(self.total)


def _nearest_topics(vectors: list[np.ndarray], times: list, exclude: set[int] | None = None) -> dict[int, list[int]]:
    """Ids of the nearest active topics per query vector (by position)."""
    if not vectors:
        return {}
    values = ",".join(["(%s, %s::vector, %s::timestamptz)"] * len(vectors))
    params: list = []
    for idx, (vector, when) in enumerate(zip(vectors, times, strict=True)):
        params += [idx, vector_literal(vector), when]
    params += [timedelta(hours=settings.PIPELINE_TOPIC_ACTIVE_HOURS), _CANDIDATES]
    found: dict[int, list[int]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        index_scan_prefer(cursor)
        cursor.execute(_NEAREST_TOPICS_SQL.format(values=values), params)
        for idx, topic_id in cursor.fetchall():
            if not exclude or topic_id not in exclude:
                found.setdefault(idx, []).append(topic_id)
    return found


def _states_load(topic_ids: set[int]) -> dict[int, _TopicState]:
    return {
        t.pk: _TopicState(t, np.asarray(t.centroid, dtype=np.float32) * t.item_count, t.item_count)
        for t in Topic.objects.filter(pk__in=topic_ids)
    }


def topic_assign(items: list[Item], ctx: StageContext) -> int:
    """Give every item with an embedding a topic; duplicates follow their original. Returns new topics."""
    threshold = settings.PIPELINE_TOPIC_JOIN_THRESHOLD
    embedded = [i for i in items if i.embedding is not None]
    fresh = [i for i in embedded if i.duplicate_of is None]
    nearest = _nearest_topics([np.asarray(i.embedding) for i in fresh], [item_time(i) for i in fresh])
    fresh_index = {id(item): idx for idx, item in enumerate(fresh)}
    wanted = {tid for ids in nearest.values() for tid in ids}
    wanted |= {i.duplicate_of.topic_id for i in embedded if i.duplicate_of is not None and i.duplicate_of.topic_id}
    states = _states_load(wanted)
    local: list[int] = []  # topics created or joined in this batch: the database does not know them yet
    created = 0
    for item in embedded:
        vector = np.asarray(item.embedding, dtype=np.float32)
        original = item.duplicate_of
        target: _TopicState | None = None
        if original is not None and original.topic_id in states:
            target = states[original.topic_id]
        elif original is None or original.topic_id is None:
            candidates = list({*nearest.get(fresh_index.get(id(item), -1), []), *local})
            if candidates:
                sims = np.stack([states[tid].direction for tid in candidates]) @ vector
                best = int(np.argmax(sims))
                if sims[best] >= threshold:
                    target = states[candidates[best]]
        if target is None:
            when = item_time(item)
            topic = Topic.objects.create(centroid=vector, item_count=0, first_seen_at=when, last_item_at=when)
            target = states[topic.pk] = _TopicState(topic, np.zeros_like(vector), 0)
            created += 1
        target.add(vector)
        item.topic = target.topic
        if target.topic.pk not in local:
            local.append(target.topic.pk)
    for tid in local:
        state = states[tid]
        state.topic.centroid = state.total / max(state.count, 1)
        state.topic.item_count = state.count
    Topic.objects.bulk_update([states[tid].topic for tid in local], ["centroid", "item_count"])
    ctx.touched_topic_ids.update(local)
    ctx.counts["topics_created"] += created
    return created


def topic_stats_refresh(topic_ids: set[int]) -> None:
    """Recount items and sources and the first/last item times from the items themselves."""
    rows = (
        Item.objects.filter(topic_id__in=topic_ids)
        .values("topic_id")
        .annotate(
            n=Count("id"),
            sources=Count("source_id", distinct=True),
            first=Min(Coalesce("published_at", "collected_at")),
            last=Max(Coalesce("published_at", "collected_at")),
        )
    )
    topics = {t.pk: t for t in Topic.objects.filter(pk__in=topic_ids)}
    for row in rows:
        topic = topics[row["topic_id"]]
        topic.item_count, topic.source_count = row["n"], row["sources"]
        topic.first_seen_at, topic.last_item_at = row["first"], row["last"]
    Topic.objects.bulk_update(topics.values(), ["item_count", "source_count", "first_seen_at", "last_item_at"])


def _merge_into(winner: _TopicState, loser: _TopicState) -> None:
    """Move the loser's items (and its trend, if the winner has none) to the winner."""
    Item.objects.filter(topic_id=loser.topic.pk).update(topic_id=winner.topic.pk)
    loser_trend = Trend.objects.filter(topic_id=loser.topic.pk).first()
    if loser_trend is not None:
        if Trend.objects.filter(topic_id=winner.topic.pk).exists():
            loser_trend.delete()
        else:
            loser_trend.topic_id = winner.topic.pk
            loser_trend.save(update_fields=["topic"])
    winner.add(loser.total, loser.count)
    loser.topic.is_active = False
    loser.topic.merged_into_id = winner.topic.pk
    loser.topic.item_count = 0
    loser.topic.save(update_fields=["is_active", "merged_into", "item_count"])


@transaction.atomic
def topic_merge(topic_ids: set[int], ctx: StageContext) -> int:
    """Merge converged topics among those touched and their nearest neighbours; returns merges done."""
    if not topic_ids:
        return 0
    touched = list(Topic.objects.filter(pk__in=topic_ids, is_active=True).exclude(centroid=None))
    nearest = _nearest_topics([np.asarray(t.centroid) for t in touched], [t.last_item_at or ctx.as_of for t in touched])
    states = _states_load({t.pk for t in touched} | {tid for ids in nearest.values() for tid in ids})
    states = {tid: s for tid, s in states.items() if s.topic.is_active and s.count > 0}
    merge_bar, small_bar = settings.PIPELINE_TOPIC_MERGE_THRESHOLD, settings.PIPELINE_TOPIC_SMALL_MERGE_THRESHOLD
    small = settings.PIPELINE_TOPIC_SMALL_SIZE
    merges = 0
    changed: set[int] = set()
    while len(states) > 1:
        ids = list(states)
        units = np.stack([unit(states[t].total) for t in ids])
        sims = units @ units.T
        np.fill_diagonal(sims, -np.inf)
        counts = np.array([states[t].count for t in ids])
        is_small = counts <= small
        # A small topic needs only the lower bar: shift its similarities so one comparison serves both.
        adjusted = np.where(is_small[:, None] | is_small[None, :], sims + (merge_bar - small_bar), sims)
        a, b = np.unravel_index(int(np.argmax(adjusted)), adjusted.shape)
        if adjusted[a, b] < merge_bar:
            break
        winner, loser = (states[ids[a]], states[ids[b]])
        if loser.count > winner.count or (loser.count == winner.count and loser.topic.pk < winner.topic.pk):
            winner, loser = loser, winner
        _merge_into(winner, loser)
        del states[loser.topic.pk]
        changed.discard(loser.topic.pk)
        changed.add(winner.topic.pk)
        ctx.touched_topic_ids.discard(loser.topic.pk)
        merges += 1
    for tid in changed:
        states[tid].topic.centroid = states[tid].total / states[tid].count
    Topic.objects.bulk_update([states[tid].topic for tid in changed], ["centroid"])
    if changed:
        topic_stats_refresh(changed)
        ctx.touched_topic_ids.update(changed)
    ctx.counts["topics_merged"] += merges
    return merges
