"""Stage 6: online story clustering. An item joins the topic of its closest stored items, or founds one.

An item is compared with items, never with a topic's mean (``evidence.py`` says why): pgvector finds its
``PIPELINE_TOPIC_NEIGHBOURS`` nearest original items of active topics, the batch's items already placed are
added, and each topic these belong to scores the mean evidence of its ``PIPELINE_TOPIC_JOIN_MEMBERS`` closest
members. A large topic therefore accepts an item only if several of its members are as close to it as the
members of a young story are to each other: its acceptance region does not widen as it grows. The item joins
the best topic at or above ``PIPELINE_TOPIC_JOIN_THRESHOLD``. There is no online merging of topics: a merge
of two means is exactly the snowball this design avoids. Parts of a story founded apart meet in the
re-clustering stage (``recluster.py``), which compares every pair of the window's items.

A topic's ``centroid`` is still kept as the plain mean of its items' unit embeddings (semantic search over
topics reads it); ``mean * item_count`` is the sum, so a join is exact arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings

from apps.trends.models import Item, Topic, Trend
from apps.trends.pipeline.context import StageContext, item_time
from apps.trends.pipeline.evidence import language_native, pair_similarity
from apps.trends.pipeline.lexical import idf_learn, lexical_vectors
from apps.trends.pipeline.placed import placed_originals_load, placed_rows
from apps.trends.vectors import vector_cursor

_WORDS_SQL = "SELECT id, title, url FROM trends_item WHERE id = ANY(%s)"
_STATES_SQL = "SELECT id, centroid, item_count FROM trends_topic WHERE id = ANY(%s) AND centroid IS NOT NULL"
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
UPDATE trends_topic AS tp SET centroid = v.centroid, item_count = v.n,
    first_seen_at = LEAST(tp.first_seen_at, v.first), last_item_at = GREATEST(tp.last_item_at, v.last),
    source_count = (
        SELECT count(DISTINCT x.source_id) FROM (
            SELECT i.source_id FROM trends_item AS i WHERE i.topic_id = tp.id
            UNION ALL
            SELECT b.source_id FROM unnest(%s::bigint[], %s::bigint[]) AS b(topic_id, source_id)
            WHERE b.topic_id = tp.id
        ) AS x
    )
FROM unnest(%s::bigint[], %b::vector[], %s::int[], %s::timestamptz[], %s::timestamptz[])
    AS v(id, centroid, n, first, last)
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
    total: np.ndarray  # sum of member embeddings (for the stored mean)
    count: int

    def add(self, vector: np.ndarray) -> None:
        self.total = self.total + vector
        self.count += 1


def _nearest_members(items: list[Item], ctx: StageContext) -> list[list[tuple[int, int, float, str]]]:
    """Per item: (item id, topic id, cosine, language) of its nearest stored original items with a topic."""
    if not items:
        return []
    window = timedelta(hours=settings.PIPELINE_TOPIC_ACTIVE_HOURS)
    since = [item_time(i) - window for i in items]
    if ctx.placed is None or min(since) < ctx.placed_since:
        # Read again (this run's committed batches included) when an item looks further back than the rows held.
        ctx.placed_since = min(since)
        ctx.placed = placed_originals_load(since=ctx.placed_since, dimensions=len(items[0].embedding))
    queries = np.stack([np.asarray(i.embedding, dtype=np.float32) for i in items])
    return ctx.placed.nearest(queries, since, settings.PIPELINE_TOPIC_NEIGHBOURS)


def _stored_words(item_ids: set[int], ctx: StageContext) -> dict[int, np.ndarray]:
    """Lexical vectors of stored items, memoised for the run: the same neighbours come back batch after batch."""
    missing = [pk for pk in item_ids if pk not in ctx.lexicals]
    if missing:
        rows = list(Item.objects.filter(pk__in=missing).values_list("pk", "title", "url"))
        vectors = lexical_vectors([Item(title=t, url=u) for _, t, u in rows], ctx.idf)
        ctx.lexicals_remember(dict(zip((pk for pk, _, _ in rows), vectors, strict=True)))
    return {pk: ctx.lexicals[pk] for pk in item_ids if pk in ctx.lexicals}


def _states_load(topic_ids: set[int]) -> dict[int, _TopicState]:
    if not topic_ids:
        return {}
    with vector_cursor() as cursor:
        cursor.execute(_STATES_SQL, [list(topic_ids)], binary=True)
        rows = cursor.fetchall()
    return {pk: _TopicState(pk, centroid * count, count) for pk, centroid, count in rows}


def _best_topic(topics: list[_TopicState], scores: np.ndarray) -> tuple[_TopicState | None, float]:
    """The topic whose closest members give the most evidence, and that evidence (mean of its top members)."""
    by_topic: dict[int, list[float]] = defaultdict(list)
    states: dict[int, _TopicState] = {}
    for state, score in zip(topics, scores.tolist(), strict=True):
        by_topic[id(state)].append(score)
        states[id(state)] = state
    top = settings.PIPELINE_TOPIC_JOIN_MEMBERS
    best, best_score = None, -np.inf
    for key, values in by_topic.items():
        values.sort(reverse=True)
        # A topic with fewer members than asked for is judged on those it has: a young story must be joinable.
        score = float(np.mean(values[: min(top, states[key].count or 1)]))
        if score > best_score:
            best, best_score = states[key], score
    return best, best_score


def _assigned_save(states: list[_TopicState], assigned: list[tuple[Item, _TopicState]]) -> None:
    """Store the batch's topics: mean and size from the states, times and sources with the batch's items."""
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
    embedded = [i for i in items if i.embedding is not None]
    for item in embedded:
        item.embedding = np.asarray(item.embedding, dtype=np.float32)
    if ctx.idf is None:
        ctx.idf = idf_learn()
    lexicals = lexical_vectors(embedded, ctx.idf)
    fresh = [k for k, i in enumerate(embedded) if i.duplicate_of is None]
    native = np.array([language_native(i.language) for i in embedded], dtype=bool)
    nearest = dict(zip(fresh, _nearest_members([embedded[k] for k in fresh], ctx), strict=True))
    wanted = {m[1] for found in nearest.values() for m in found}
    wanted |= {i.duplicate_of.topic_id for i in embedded if i.duplicate_of is not None and i.duplicate_of.topic_id}
    states = _states_load(wanted)
    words = _stored_words({m[0] for found in nearest.values() for m in found}, ctx)
    neighbour_ids = list(words)
    column = {pk: c for c, pk in enumerate(neighbour_ids)}
    stored_lexical = (
        lexicals @ np.stack([words[pk] for pk in neighbour_ids]).T if neighbour_ids else np.zeros((len(embedded), 0))
    )
    # Evidence between the batch's own items, for items placed earlier in the batch (not stored yet).
    vectors = np.stack([i.embedding for i in embedded]) if embedded else np.zeros((0, 0), dtype=np.float32)
    within = pair_similarity(vectors @ vectors.T, lexicals @ lexicals.T, native[:, None], native[None, :])
    position = {id(item): k for k, item in enumerate(embedded)}
    placed: list[int] = []  # positions of the batch's original items placed so far
    topic_of: dict[int, _TopicState] = {}  # position -> topic
    local: dict[int, _TopicState] = {}  # by id(): topics created or joined in this batch
    founded: list[_TopicState] = []
    founders: list[Item] = []
    neighbours = settings.PIPELINE_TOPIC_NEIGHBOURS
    for k, item in enumerate(embedded):
        original = item.duplicate_of
        target: _TopicState | None = None
        if original is not None and id(original) in position:
            target = topic_of.get(position[id(original)])
        elif original is not None and original.topic_id in states:
            target = states[original.topic_id]
        elif original is None or original.topic_id is None:
            stored = [m for m in nearest.get(k, []) if m[1] in states and m[0] in column]
            stored_scores = pair_similarity(
                np.array([m[2] for m in stored]),
                stored_lexical[k, [column[m[0]] for m in stored]],
                np.array([language_native(m[3]) for m in stored], dtype=bool),
                native[k],
            )
            earlier = np.array(placed, dtype=int)
            if len(earlier) > neighbours:  # the batch's closest, as pgvector gives the store's closest
                earlier = earlier[np.argpartition(-within[k, earlier], neighbours)[:neighbours]]
            candidates = [states[m[1]] for m in stored] + [topic_of[p] for p in earlier.tolist()]
            if candidates:
                best, score = _best_topic(candidates, np.concatenate([stored_scores, within[k, earlier]]))
                if score >= settings.PIPELINE_TOPIC_JOIN_THRESHOLD:
                    target = best
        if target is None:
            target = _TopicState(None, np.zeros_like(item.embedding), 0)
            founded.append(target)
            founders.append(item)
        target.add(item.embedding)
        if original is None:
            placed.append(k)
        topic_of[k] = target
        local[id(target)] = target
    _topics_insert(founded, founders)
    assigned = [(item, topic_of[k]) for k, item in enumerate(embedded)]
    for item, target in assigned:
        item.topic_id = target.pk
    _assigned_save(list(local.values()), assigned)
    ctx.lexicals_remember({item.pk: vector for item, vector in zip(embedded, lexicals, strict=True) if item.pk})
    if ctx.placed is not None:
        ctx.placed.add(placed_rows(embedded))
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
