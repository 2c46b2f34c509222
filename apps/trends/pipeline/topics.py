"""Stage 6: online story clustering. Join the nearest active topic (pgvector) or found a new one; then merge
topics whose centroids have converged.

A topic's ``centroid`` is the plain mean of its items' unit embeddings (not re-normalised), so
``mean * item_count`` is the sum and a join or a merge is exact arithmetic; cosine ignores the length.
Two stages because one threshold cannot do both jobs: a tight join keeps unrelated headlines apart while a
story is young, and the merge reunites the parts of a story once their means show they are one (see the
README, "Ranking and lifecycle", for the figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction

from apps.trends.models import LEXICAL_DIMENSIONS, Item, Topic, Trend
from apps.trends.pipeline.context import StageContext, item_time
from apps.trends.pipeline.lexical import idf_learn, lexical_vectors
from apps.trends.vectors import index_scan_prefer, unit, vector_cursor

_CANDIDATES = 5

_NEAREST_TOPICS_SQL = """
SELECT q.idx - 1, n.id
FROM unnest(%b::vector[], %s::timestamptz[]) WITH ORDINALITY AS q(emb, t, idx)
CROSS JOIN LATERAL (
    SELECT tp.id
    FROM trends_topic tp
    WHERE tp.is_active AND tp.centroid IS NOT NULL AND tp.last_item_at >= q.t - %s
    ORDER BY tp.centroid <=> q.emb
    LIMIT %s
) AS n
"""
_STATES_SQL = """
SELECT id, centroid, item_count, is_active, last_item_at, lexical FROM trends_topic
WHERE id = ANY(%s) AND centroid IS NOT NULL
"""
_CENTROIDS_SAVE_SQL = """
UPDATE trends_topic AS tp SET centroid = v.centroid, item_count = v.n, lexical = v.lexical
FROM unnest(%s::bigint[], %b::vector[], %s::int[], %b::vector[]) AS v(id, centroid, n, lexical)
WHERE tp.id = v.id
"""
_ITEMS_MOVE_SQL = """
UPDATE trends_item AS i SET topic_id = v.winner FROM unnest(%s::bigint[], %s::bigint[]) AS v(loser, winner)
WHERE i.topic_id = v.loser
"""
_LOSERS_SQL = """
UPDATE trends_topic AS tp SET is_active = false, merged_into_id = v.winner, item_count = 0
FROM unnest(%s::bigint[], %s::bigint[]) AS v(loser, winner) WHERE tp.id = v.loser
"""
# What a batch's joins change on its topics, in one row version per topic (every UPDATE of a topic re-inserts
# its centroid into the HNSW index): mean, size, first/last item time, and distinct sources counted over the
# stored items plus the batch's, which are not saved yet.
_ASSIGNED_SAVE_SQL = """
UPDATE trends_topic AS tp SET centroid = v.centroid, item_count = v.n, lexical = v.lexical,
    first_seen_at = LEAST(tp.first_seen_at, v.first), last_item_at = GREATEST(tp.last_item_at, v.last),
    source_count = (
        SELECT count(DISTINCT x.source_id) FROM (
            SELECT i.source_id FROM trends_item AS i WHERE i.topic_id = tp.id
            UNION ALL
            SELECT b.source_id FROM unnest(%s::bigint[], %s::bigint[]) AS b(topic_id, source_id)
            WHERE b.topic_id = tp.id
        ) AS x
    )
FROM unnest(%s::bigint[], %b::vector[], %s::int[], %s::timestamptz[], %s::timestamptz[], %b::vector[])
    AS v(id, centroid, n, first, last, lexical)
WHERE tp.id = v.id
"""
# Counts and times straight from the items, for every topic in one statement.
_STATS_REFRESH_SQL = """
UPDATE trends_topic AS tp SET item_count = s.n, source_count = s.sources, first_seen_at = s.first,
    last_item_at = s.last
FROM (
    SELECT topic_id, count(*) AS n, count(DISTINCT source_id) AS sources,
        min(coalesce(published_at, collected_at)) AS first, max(coalesce(published_at, collected_at)) AS last
    FROM trends_item WHERE topic_id = ANY(%s) GROUP BY topic_id
) AS s
WHERE tp.id = s.topic_id
"""


@dataclass(eq=False)
class _TopicState:
    pk: int | None  # None until a new topic is inserted
    total: np.ndarray  # sum of member embeddings
    count: int
    is_active: bool = True
    last_item_at: datetime | None = None
    lexical_total: np.ndarray | None = None  # sum of member lexical vectors (None: none stored yet)
    direction: np.ndarray = field(init=False)  # unit(total), kept in step by add()
    lexical_direction: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        if self.lexical_total is None:
            self.lexical_total = np.zeros(LEXICAL_DIMENSIONS, dtype=np.float32)
        self.direction = unit(self.total)
        self.lexical_direction = unit(self.lexical_total)

    def add(self, vector: np.ndarray, lexical: np.ndarray, count: int = 1) -> None:
        self.total = self.total + vector
        self.lexical_total = self.lexical_total + lexical
        self.count += count
        self.direction = unit(self.total)
        self.lexical_direction = unit(self.lexical_total)


def similarity(semantic: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """What the join, merge and re-clustering thresholds compare: cosine of the embeddings plus a bonus of
    ``PIPELINE_TOPIC_LEXICAL_WEIGHT`` × cosine of the lexical vectors.

    A bonus rather than a blend: headlines of one story share rare words, headlines of two stories of the
    same kind do not, so shared words lift the first without pulling the second down, and every threshold
    keeps its meaning when the weight changes (0 is the embeddings alone)."""
    return semantic + weight * lexical


def _nearest_topics(vectors: list[np.ndarray], times: list, exclude: set[int] | None = None) -> dict[int, list[int]]:
    """Ids of the nearest active topics per query vector (by position)."""
    if not vectors:
        return {}
    params = [
        [np.asarray(v, dtype=np.float32) for v in vectors],
        list(times),
        timedelta(hours=settings.PIPELINE_TOPIC_ACTIVE_HOURS),
        _CANDIDATES,
    ]
    found: dict[int, list[int]] = {}
    with transaction.atomic(), vector_cursor() as cursor:
        index_scan_prefer(cursor)
        cursor.execute(_NEAREST_TOPICS_SQL, params)
        for idx, topic_id in cursor.fetchall():
            if not exclude or topic_id not in exclude:
                found.setdefault(idx, []).append(topic_id)
    return found


def _states_load(topic_ids: set[int]) -> dict[int, _TopicState]:
    if not topic_ids:
        return {}
    with vector_cursor() as cursor:
        cursor.execute(_STATES_SQL, [list(topic_ids)], binary=True)
        rows = cursor.fetchall()
    return {
        pk: _TopicState(pk, centroid * count, count, active, last, None if lexical is None else lexical * count)
        for pk, centroid, count, active, last, lexical in rows
    }


def _centroids_save(states: list[_TopicState]) -> None:
    """Store each topic's mean embedding and size (one statement, vectors in binary)."""
    if not states:
        return
    params = [
        [s.pk for s in states],
        [s.total / max(s.count, 1) for s in states],
        [s.count for s in states],
        [s.lexical_total / max(s.count, 1) for s in states],
    ]
    with vector_cursor() as cursor:
        cursor.execute(_CENTROIDS_SAVE_SQL, params)


def _assigned_save(states: list[_TopicState], assigned: list[tuple[Item, _TopicState]]) -> None:
    """Store the batch's topics: centroid and size from the states, times and sources with the batch's items."""
    if not states:
        return
    times: dict[int, list] = {}
    for item, state in assigned:
        times.setdefault(state.pk, []).append(item_time(item))
    params = [
        [state.pk for _, state in assigned],
        [item.source_id for item, _ in assigned],
        [s.pk for s in states],
        [s.total / max(s.count, 1) for s in states],
        [s.count for s in states],
        [min(times[s.pk]) for s in states],
        [max(times[s.pk]) for s in states],
        [s.lexical_total / max(s.count, 1) for s in states],
    ]
    with vector_cursor() as cursor:
        cursor.execute(_ASSIGNED_SAVE_SQL, params)


def _topics_insert(states: list[_TopicState], items: list[Item]) -> None:
    """Create the batch's new topics in one INSERT and give their states the new ids."""
    if not states:
        return
    created = Topic.objects.bulk_create(
        [Topic(item_count=0, first_seen_at=item_time(item), last_item_at=item_time(item)) for item in items]
    )
    for state, topic in zip(states, created, strict=True):
        state.pk = topic.pk


def topic_assign(items: list[Item], ctx: StageContext) -> int:
    """Give every item with an embedding a topic; duplicates follow their original. Returns new topics."""
    threshold, weight = settings.PIPELINE_TOPIC_JOIN_THRESHOLD, settings.PIPELINE_TOPIC_LEXICAL_WEIGHT
    embedded = [i for i in items if i.embedding is not None]
    for item in embedded:
        item.embedding = np.asarray(item.embedding, dtype=np.float32)
    if ctx.idf is None:
        ctx.idf = idf_learn()
    lexicals = lexical_vectors(embedded, ctx.idf)
    fresh = [i for i in embedded if i.duplicate_of is None]
    nearest = _nearest_topics([i.embedding for i in fresh], [item_time(i) for i in fresh])
    fresh_index = {id(item): idx for idx, item in enumerate(fresh)}
    wanted = {tid for ids in nearest.values() for tid in ids}
    wanted |= {i.duplicate_of.topic_id for i in embedded if i.duplicate_of is not None and i.duplicate_of.topic_id}
    states = _states_load(wanted)
    local: dict[int, _TopicState] = {}  # by id(): topics created or joined in this batch, unknown to the database
    in_batch: dict[int, _TopicState] = {}  # id(item) -> its topic, for duplicates of items in this batch
    founded: list[_TopicState] = []
    founders: list[Item] = []
    assigned: list[tuple[Item, _TopicState]] = []
    for item, lexical in zip(embedded, lexicals, strict=True):
        vector = item.embedding
        original = item.duplicate_of
        target: _TopicState | None = None
        if original is not None and id(original) in in_batch:
            target = in_batch[id(original)]
        elif original is not None and original.topic_id in states:
            target = states[original.topic_id]
        elif original is None or original.topic_id is None:
            candidates = list(
                {
                    id(s): s
                    for s in [
                        *(states[t] for t in nearest.get(fresh_index.get(id(item), -1), []) if t in states),
                        *local.values(),
                    ]
                }.values()
            )
            if candidates:
                sims = similarity(
                    np.stack([s.direction for s in candidates]) @ vector,
                    np.stack([s.lexical_direction for s in candidates]) @ lexical,
                    weight,
                )
                best = int(np.argmax(sims))
                if sims[best] >= threshold:
                    target = candidates[best]
        if target is None:
            target = _TopicState(None, np.zeros_like(vector), 0)
            founded.append(target)
            founders.append(item)
        target.add(vector, lexical)
        local[id(target)] = target
        in_batch[id(item)] = target
        assigned.append((item, target))
    _topics_insert(founded, founders)
    for item, target in assigned:
        item.topic_id = target.pk
    _assigned_save(list(local.values()), assigned)
    ctx.touched_topic_ids.update(s.pk for s in local.values())
    ctx.counts["topics_created"] += len(founded)
    return len(founded)


def topic_stats_refresh(topic_ids: set[int]) -> None:
    """Recount items and sources and the first/last item times from the items themselves."""
    if topic_ids:
        with vector_cursor() as cursor:
            cursor.execute(_STATS_REFRESH_SQL, [list(topic_ids)])


def _merges_write(merges: list[tuple[_TopicState, _TopicState]]) -> None:
    """Store merges done in memory (winner, loser; in order): items move to the final winner of each chain;
    a loser's trend is deleted when the winner has one, else moves to it."""
    if not merges:
        return
    final: dict[int, int] = {}
    for winner, loser in merges:
        final[loser.pk] = winner.pk
    for loser_pk in final:
        root = final[loser_pk]
        while root in final:
            root = final[root]
        final[loser_pk] = root
    with vector_cursor() as cursor:
        cursor.execute(_ITEMS_MOVE_SQL, [list(final), list(final.values())])
        cursor.execute(_LOSERS_SQL, [[lo.pk for _, lo in merges], [w.pk for w, _ in merges]])
    involved = {s.pk for pair in merges for s in pair}
    trend_of = {t.topic_id: t for t in Trend.objects.filter(topic_id__in=involved)}
    if not trend_of:
        return
    deleted: list[int] = []
    for winner, loser in merges:
        trend = trend_of.pop(loser.pk, None)
        if trend is None:
            continue
        if winner.pk in trend_of:
            deleted.append(trend.pk)
        else:
            trend.topic_id = winner.pk
            trend_of[winner.pk] = trend
    Trend.objects.filter(pk__in=deleted).delete()
    Trend.objects.bulk_update(list(trend_of.values()), ["topic"])


@transaction.atomic
def topic_merge(topic_ids: set[int], ctx: StageContext) -> int:
    """Merge converged topics among those touched and their nearest neighbours; returns merges done."""
    if not topic_ids:
        return 0
    touched = [s for s in _states_load(topic_ids).values() if s.is_active]
    nearest = _nearest_topics([s.direction for s in touched], [s.last_item_at or ctx.as_of for s in touched])
    states = {s.pk: s for s in touched}
    states |= _states_load({tid for ids in nearest.values() for tid in ids} - set(states))
    states = {tid: s for tid, s in states.items() if s.is_active and s.count > 0}
    merge_bar, small_bar = settings.PIPELINE_TOPIC_MERGE_THRESHOLD, settings.PIPELINE_TOPIC_SMALL_MERGE_THRESHOLD
    small, weight = settings.PIPELINE_TOPIC_SMALL_SIZE, settings.PIPELINE_TOPIC_LEXICAL_WEIGHT
    merges: list[tuple[_TopicState, _TopicState]] = []
    changed: set[int] = set()
    ids = list(states)
    position = {tid: k for k, tid in enumerate(ids)}
    units = np.stack([states[t].direction for t in ids]) if ids else np.zeros((0, 0), dtype=np.float32)
    words = np.stack([states[t].lexical_direction for t in ids]) if ids else np.zeros((0, 0), dtype=np.float32)
    is_small = np.array([states[t].count <= small for t in ids], dtype=bool)
    # A small topic needs only the lower bar: shift its similarities so one comparison serves both.
    shift = merge_bar - small_bar
    adjusted = similarity(units @ units.T, words @ words.T, weight)
    adjusted += np.where(is_small[:, None] | is_small[None, :], shift, 0.0)
    np.fill_diagonal(adjusted, -np.inf)
    alive = np.ones(len(ids), dtype=bool)
    while len(states) > 1:
        a, b = np.unravel_index(int(np.argmax(adjusted)), adjusted.shape)
        if adjusted[a, b] < merge_bar:
            break
        winner, loser = (states[ids[a]], states[ids[b]])
        if loser.count > winner.count or (loser.count == winner.count and loser.pk < winner.pk):
            winner, loser = loser, winner
        winner.add(loser.total, loser.lexical_total, loser.count)
        merges.append((winner, loser))
        del states[loser.pk]
        changed.discard(loser.pk)
        changed.add(winner.pk)
        ctx.touched_topic_ids.discard(loser.pk)
        # Only the winner's similarities changed; the loser drops out.
        w, lo = position[winner.pk], position[loser.pk]
        alive[lo] = False
        is_small[w] = winner.count <= small
        units[w], words[w] = winner.direction, winner.lexical_direction
        row = similarity(units @ winner.direction, words @ winner.lexical_direction, weight)
        row += np.where(is_small | is_small[w], shift, 0.0)
        row[~alive] = -np.inf
        adjusted[w, :], adjusted[:, w] = row, row
        adjusted[lo, :], adjusted[:, lo] = -np.inf, -np.inf
        adjusted[w, w] = -np.inf
    _merges_write(merges)
    _centroids_save([states[tid] for tid in changed])
    if changed:
        topic_stats_refresh(changed)
        ctx.touched_topic_ids.update(changed)
    ctx.counts["topics_merged"] += len(merges)
    return len(merges)
