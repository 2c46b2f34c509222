"""Stage 6b: re-cluster the recent window, keeping topic ids.

Online assignment sees one item at a time: once a story has been chained to another (a headline between
the two joined one and pulled the centroid towards the other), nothing pulls them apart, and parts of one
story that were founded apart meet only if their means converge. After a run's items are placed, the
window's original items (``PIPELINE_TOPIC_ACTIVE_HOURS``, at most ``PIPELINE_RECLUSTER_MAX_ITEMS``, newest
first) are clustered again with average linkage over the same pairwise evidence the online stage uses
(``evidence.pair_similarity``), cut at ``PIPELINE_RECLUSTER_THRESHOLD``. Average linkage joins two clusters
only when their items are close on average, pair by pair: a chain of look-alikes (flood, flood, flood) does not
make three floods one, which single linkage or merging means would.

New clusters take existing topic ids by overlap (largest shared item count first, each id once), so an
unchanged story keeps its id, trend, snapshots and lifecycle; a cluster that overlaps no free topic founds
one. A topic left without items is merged into the one that took most of them (its trend moves or goes, as
in the online merge). A split (a topic's items now in two topics, at least ``_EVENT_MIN_ITEMS`` on the
other side) and a merge each write an Event. Duplicates follow their originals.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
from django.conf import settings
from django.db import transaction

from apps.core.models import Event
from apps.core.services import event_emit
from apps.trends.models import Item, Topic
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.evidence import language_native, pair_similarity
from apps.trends.pipeline.lexical import idf_learn, lexical_vectors
from apps.trends.pipeline.topics import _merges_write, topic_stats_refresh
from apps.trends.vectors import vector_cursor

_EVENT_MIN_ITEMS = 2  # moving a single stray headline is a correction, not a split worth telling
# Bridging items (``_bridges_detach``). Chosen on the dev folds of both labelled sets with the held-out fold
# streaming alongside (tests/bench/bench_pipeline.py): they take out about 0.5 % of the items and cost the
# held-out news F1 0.003.
_BRIDGE_MARGIN = 0.1
_BRIDGE_APART = 0.5

_WINDOW_SQL = """
SELECT i.id, i.topic_id, i.title, i.url, i.embedding, i.language
FROM trends_item AS i JOIN trends_topic AS tp ON tp.id = i.topic_id
WHERE i.duplicate_of_id IS NULL AND i.embedding IS NOT NULL AND tp.is_active
    AND coalesce(i.published_at, i.collected_at) > %s AND coalesce(i.published_at, i.collected_at) <= %s
ORDER BY coalesce(i.published_at, i.collected_at) DESC, i.id DESC
LIMIT %s
"""
_MOVE_SQL = """
UPDATE trends_item AS i SET topic_id = v.topic_id FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, topic_id)
WHERE i.id = v.id
"""
_DUPLICATES_FOLLOW_SQL = """
UPDATE trends_item AS d SET topic_id = o.topic_id FROM trends_item AS o
WHERE d.duplicate_of_id = o.id AND o.id = ANY(%s) AND d.topic_id IS DISTINCT FROM o.topic_id
"""
# Each topic's mean embedding from all its items, in one statement.
_CENTRES_SAVE_SQL = """
UPDATE trends_topic AS tp SET centroid = m.centroid
FROM (
    SELECT topic_id, avg(embedding) AS centroid FROM trends_item
    WHERE topic_id = ANY(%s) AND embedding IS NOT NULL GROUP BY topic_id
) AS m
WHERE tp.id = m.topic_id
"""


def _clusters(vectors: np.ndarray, lexicals: np.ndarray, native: np.ndarray) -> np.ndarray:
    """Average-linkage cluster labels over the pairwise evidence, cut at the re-clustering threshold, with
    bridging items taken out (``_bridges_detach``)."""
    # Imported here: scipy costs every process that loads the app registry (web, worker, each manage.py
    # command) 0.2 s at start-up, and only the pipeline's re-clustering needs it.
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(vectors) < 2:
        return np.ones(len(vectors), dtype=int)
    evidence = pair_similarity(vectors @ vectors.T, lexicals @ lexicals.T, native[:, None], native[None, :])
    distances = np.clip(1.0 - evidence, 0.0, None).astype(np.float64)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - settings.PIPELINE_RECLUSTER_THRESHOLD, criterion="distance")
    return _bridges_detach(evidence, labels)


def _bridges_detach(evidence: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Give a topic of its own to each item that bridges two unrelated clusters.

    A roundup ("What's News: Apple results, GM recall…") is as close to each story it names as their own
    headlines are on average, so average linkage puts it in one of them. It is told apart by being close to a
    second cluster too (at the threshold, and within ``_BRIDGE_MARGIN`` of its own cluster) while the two
    clusters are far apart (average evidence under ``_BRIDGE_APART`` × the threshold): a headline of one story
    that reads like another story of the same kind is close to both, but so are the two clusters."""
    from scipy.sparse import csr_matrix

    threshold = settings.PIPELINE_RECLUSTER_THRESHOLD
    n = len(labels)
    codes, own = np.unique(labels, return_inverse=True)
    members = csr_matrix((np.ones(n), (np.arange(n), own)), shape=(n, len(codes)))
    size = np.asarray(members.sum(axis=0)).ravel()
    evidence = evidence.copy()
    np.fill_diagonal(evidence, 0.0)
    to_cluster = np.asarray((members.T @ evidence.T).T)  # item x cluster: summed evidence
    between = np.asarray(members.T @ to_cluster)  # cluster x cluster: summed evidence
    others = np.repeat(size[None, :], n, axis=0)
    others[np.arange(n), own] -= 1
    mean = to_cluster / np.maximum(others, 1)
    own_mean = mean[np.arange(n), own].copy()
    mean[np.arange(n), own] = -np.inf
    mean[:, size < 2] = -np.inf  # a single other headline is not a story to bridge to
    nearest = mean.argmax(axis=1)
    other_mean = mean[np.arange(n), nearest]
    # How close the two clusters are without the item itself, which would vouch for its own bridge.
    rest = others[np.arange(n), own]
    apart = (between[own, nearest] - to_cluster[np.arange(n), nearest]) / np.maximum(rest * size[nearest], 1)
    bridges = (
        (rest >= 1)
        & (other_mean >= threshold)
        & (other_mean >= own_mean - _BRIDGE_MARGIN)
        & (apart < _BRIDGE_APART * threshold)
    )
    result = labels.copy()
    result[bridges] = labels.max() + 1 + np.arange(int(bridges.sum()))
    return result


def _ids_map(labels: np.ndarray, old: list[int]) -> dict[int, int | None]:
    """Each cluster label -> the existing topic it shares most items with (each topic once), else None."""
    overlap = Counter(zip(labels.tolist(), old, strict=True))
    mapping: dict[int, int | None] = {}
    taken: set[int] = set()
    for (label, topic_id), _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0][1], kv[0][0])):
        if label not in mapping and topic_id not in taken:
            mapping[label] = topic_id
            taken.add(topic_id)
    for label in set(labels.tolist()) - set(mapping):
        mapping[label] = None
    return mapping


def _centres_save(topic_ids: set[int]) -> None:
    """Mean embedding of each topic, from all its items."""
    with vector_cursor() as cursor:
        cursor.execute(_CENTRES_SAVE_SQL, [list(topic_ids)])


@transaction.atomic
def topics_recluster(ctx: StageContext) -> dict[str, int]:
    """Re-cluster the window's items onto stable topic ids; returns counts of moved items, splits, merges."""
    result = {"moved": 0, "splits": 0, "merges": 0}
    if settings.PIPELINE_RECLUSTER_THRESHOLD <= 0:
        return result
    since = ctx.as_of - timedelta(hours=settings.PIPELINE_TOPIC_ACTIVE_HOURS)
    with vector_cursor() as cursor:
        cursor.execute(_WINDOW_SQL, [since, ctx.as_of, settings.PIPELINE_RECLUSTER_MAX_ITEMS], binary=True)
        rows = cursor.fetchall()
    if len(rows) < 2:
        return result
    if ctx.idf is None:
        ctx.idf = idf_learn()
    pks = [r[0] for r in rows]
    old = [r[1] for r in rows]
    labels = _clusters(
        np.stack([r[4] for r in rows]),
        lexical_vectors([Item(title=r[2], url=r[3]) for r in rows], ctx.idf),
        np.array([language_native(r[5]) for r in rows], dtype=bool),
    )
    mapping = _ids_map(labels, old)
    unmapped = sorted({label for label, topic_id in mapping.items() if topic_id is None})
    if unmapped:
        created = Topic.objects.bulk_create([Topic(item_count=0) for _ in unmapped])
        mapping.update({label: topic.pk for label, topic in zip(unmapped, created, strict=True)})
    new = [mapping[label] for label in labels.tolist()]
    moved = [(pk, n, o) for pk, n, o in zip(pks, new, old, strict=True) if n != o]
    if not moved:
        return result
    with vector_cursor() as cursor:
        cursor.execute(_MOVE_SQL, [[pk for pk, _, _ in moved], [n for _, n, _ in moved]])
        cursor.execute(_DUPLICATES_FOLLOW_SQL, [[pk for pk, _, _ in moved]])
    flows = Counter((o, n) for _, n, o in moved)  # (from topic, to topic) -> items
    affected = {o for o, _ in flows} | {n for _, n in flows}
    remaining = set(Item.objects.filter(topic_id__in={o for o, _ in flows}).values_list("topic_id", flat=True))
    merges = []
    for source in sorted({o for o, _ in flows} - remaining):
        winner = max((n for o, n in flows if o == source), key=lambda n: (flows[(source, n)], -n))
        merges.append((SimpleNamespace(pk=winner), SimpleNamespace(pk=source)))
        event_emit(
            kind=Event.Kind.TOPIC_MERGED,
            subject=Topic(pk=winner),
            payload={"topic_id": winner, "merged_topic_id": source, "items": flows[(source, winner)]},
        )
    _merges_write(merges)
    for source in sorted(remaining):
        parts = {n: k for (o, n), k in flows.items() if o == source and k >= _EVENT_MIN_ITEMS}
        if parts:
            result["splits"] += 1
            event_emit(
                kind=Event.Kind.TOPIC_SPLIT,
                subject=Topic(pk=source),
                payload={"topic_id": source, "into": {str(n): k for n, k in sorted(parts.items())}},
            )
    live = affected - {loser.pk for _, loser in merges}
    _centres_save(live)
    topic_stats_refresh(live)
    ctx.touched_topic_ids -= {loser.pk for _, loser in merges}
    ctx.touched_topic_ids |= live
    result["moved"], result["merges"] = len(moved), len(merges)
    ctx.counts["recluster_moved"] += result["moved"]
    ctx.counts["topics_split"] += result["splits"]
    ctx.counts["topics_merged"] += result["merges"]
    return result
