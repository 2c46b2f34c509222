"""Search over items: semantic (pgvector HNSW), keyword (PostgreSQL full text with a misspelling fallback)
and hybrid (reciprocal rank fusion of the two).

Every search returns ``SearchHit`` rows for original items (duplicates point at an original, which stands for
them), each with the trend of its topic. The view validates input; these selectors trust it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from apps.trends.embeddings import embedding_model_name, texts_embed
from apps.trends.models import Category, Item
from apps.trends.selectors import ITEM_VECTORS
from apps.trends.vectors import vector_cursor

logger = logging.getLogger(__name__)

EMBEDDING_CACHE_PREFIX = "search:embedding:"
_WHITESPACE = re.compile(r"\s+")
# The lexicon's words: runs of letters (SQL: [^[:alpha:]]+ splits). Numbers and codes are not misspelled, they
# are searched exactly; leaving them out keeps the lexicon (and the trigger's work on ingest) small.
_WORD = re.compile(r"[^\W\d_]+")


class SearchInputError(ValueError):
    """A filter names something that does not exist (the API answers 400 with the message)."""


@dataclass(frozen=True)
class SearchFilters:
    """Item filters shared by every search mode; ``None`` means "any"."""

    source_id: int | None = None
    language: str | None = None
    topic_id: int | None = None
    category_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class SearchHit:
    item_id: int
    item: Item | None = None  # loaded once the list is final (hybrid fuses ids, then loads its page only)
    similarity: float | None = None  # semantic: cosine similarity to the query
    rank: float | None = None  # keyword: ts_rank_cd of the item for the (possibly corrected) query
    snippet: str | None = None  # keyword: ts_headline with the configured markers, plain text
    match: str | None = None  # keyword: "fulltext" or "trigram" (found through a corrected spelling)
    ranks: dict[str, int | None] = field(default_factory=dict)  # hybrid: 1-based rank in each list
    score: float | None = None  # hybrid: the fused score


def search_filters_build(
    *,
    source: str | None = None,
    language: str | None = None,
    topic_id: int | None = None,
    category: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SearchFilters:
    """Filters from names as a client gives them; an unknown source or category raises SearchInputError."""
    source_id = category_id = None
    if source:
        source_model = Item._meta.get_field("source").related_model  # trends does not import plugins
        source_id = source_model.objects.filter(name=source).values_list("id", flat=True).first()
        if source_id is None:
            raise SearchInputError(f"Unknown source {source!r}.")
    if category:
        category_id = Category.objects.filter(name__iexact=category).values_list("id", flat=True).first()
        if category_id is None:
            names = ", ".join(Category.objects.values_list("name", flat=True))
            raise SearchInputError(f"Unknown category {category!r}; known: {names}.")
    return SearchFilters(
        source_id=source_id, language=language, topic_id=topic_id, category_id=category_id, since=since, until=until
    )


def _filters_sql(filters: SearchFilters, alias: str = "i") -> tuple[str, list[Any]]:
    """SQL conditions (each starting with AND) and their parameters for ``filters`` on item alias ``alias``."""
    conditions, params = [], []
    for column, value in (
        ("source_id", filters.source_id),
        ("language", filters.language),
        ("topic_id", filters.topic_id),
        ("category_id", filters.category_id),
    ):
        if value is not None:
            conditions.append(f"AND {alias}.{column} = %s")
            params.append(value)
    item_time = f"coalesce({alias}.published_at, {alias}.collected_at)"
    if filters.since is not None:
        conditions.append(f"AND {item_time} >= %s")
        params.append(filters.since)
    if filters.until is not None:
        conditions.append(f"AND {item_time} < %s")
        params.append(filters.until)
    return " ".join(conditions), params


def _hits_with_items(hits: list[SearchHit]) -> list[SearchHit]:
    """The hits with their items and what a hit shows (source name, topic's trend), in one query; a hit whose
    item was deleted meanwhile is dropped."""
    items = (
        Item.objects.filter(pk__in=[hit.item_id for hit in hits])
        .select_related("source", "topic__trend")
        .defer("text", *ITEM_VECTORS)
        .in_bulk()
    )
    for hit in hits:
        hit.item = items.get(hit.item_id)
    return [hit for hit in hits if hit.item is not None]


# ---------------------------------------------------------------- semantic


def query_normalise(text: str) -> str:
    """The form of a query that is embedded and cached: NFKC, whitespace collapsed, trimmed (case kept: the
    model may be cased)."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def query_embedding_cache_key(text: str) -> str:
    """The cache key of a query's embedding: the prefix cache/clear removes, then a hash of model and text."""
    digest = hashlib.sha256(f"{embedding_model_name()}\0{query_normalise(text)}".encode()).hexdigest()
    return f"{EMBEDDING_CACHE_PREFIX}{digest}"


def query_embed(*, text: str) -> np.ndarray:
    """The query's unit vector, from the cache when another request embedded the same text before.

    Without Redis the query is embedded every time (slower, still correct)."""
    key = query_embedding_cache_key(text)
    try:
        cached = cache.get(key)
    except (ConnectionInterrupted, RedisError):
        logger.warning("search: cache unavailable, embedding the query without it")
        cached = None
    if cached is not None:
        return np.frombuffer(cached, dtype=np.float32)
    vector = texts_embed([query_normalise(text)])[0].astype(np.float32)
    try:
        cache.set(key, vector.tobytes(), timeout=settings.SEARCH_EMBEDDING_CACHE_SECONDS)
    except (ConnectionInterrupted, RedisError):
        logger.warning("search: cache unavailable, query embedding not cached")
    return vector


def hnsw_session_configure(cursor: Any) -> None:
    """Per-transaction HNSW settings: candidate list size and pgvector 0.8's iterative index scan, which keeps
    reading the index until a filtered query has its LIMIT (or the scan budget is spent) instead of stopping
    at ``ef_search`` candidates of which the filter may keep none."""
    cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(settings.SEARCH_HNSW_EF_SEARCH)])
    cursor.execute("SELECT set_config('hnsw.iterative_scan', %s, true)", [settings.SEARCH_HNSW_ITERATIVE_SCAN])
    cursor.execute("SELECT set_config('hnsw.max_scan_tuples', %s, true)", [str(settings.SEARCH_HNSW_MAX_SCAN_TUPLES)])
    # A sequential scan plus sort reads every vector; the planner picks it on small or freshly loaded tables.
    cursor.execute("SET LOCAL enable_seqscan = off")


SEMANTIC_OVERFETCH = 2


def semantic_sql(filters: SearchFilters) -> tuple[str, list[Any]]:
    """The nearest-neighbour query and the filter params; ``semantic_params`` orders its parameters.

    MATERIALIZED keeps the HNSW-ordered LIMIT inside; relaxed_order returns the index's order, not the exact
    one, so the inner query reads ``SEMANTIC_OVERFETCH`` times the limit and the outer one keeps the nearest
    by exact distance."""
    conditions, params = _filters_sql(filters)
    sql = f"""
        WITH nearest AS MATERIALIZED (
            SELECT i.id, i.embedding <=> %s AS distance
            FROM trends_item i
            WHERE i.embedding IS NOT NULL AND i.duplicate_of_id IS NULL {conditions}
            ORDER BY i.embedding <=> %s
            LIMIT %s
        )
        SELECT id, 1 - distance FROM nearest WHERE distance <= %s ORDER BY distance, id LIMIT %s
    """  # noqa: S608 - conditions are fixed SQL, values are parameters
    return sql, params


def semantic_params(*, vector: Any, filter_params: list[Any], limit: int, max_distance: float) -> list[Any]:
    """The parameters of ``semantic_sql``'s query, in its order."""
    return [vector, *filter_params, vector, limit * SEMANTIC_OVERFETCH, max_distance, limit]


def items_semantic_search(*, query: str, filters: SearchFilters, limit: int) -> list[SearchHit]:
    """Items nearest to the query's meaning (cosine over the HNSW index), most similar first; items less
    similar than SEARCH_SEMANTIC_MIN_SIMILARITY are noise, not answers, and are left out."""
    return _hits_with_items(_semantic_hits(query=query, filters=filters, limit=limit))


def _semantic_hits(*, query: str, filters: SearchFilters, limit: int) -> list[SearchHit]:
    vector = query_embed(text=query)
    sql, params = semantic_sql(filters)
    with transaction.atomic(), vector_cursor() as cursor:
        hnsw_session_configure(cursor)
        max_distance = 1.0 - settings.SEARCH_SEMANTIC_MIN_SIMILARITY
        cursor.execute(
            sql, semantic_params(vector=vector, filter_params=params, limit=limit, max_distance=max_distance)
        )
        rows = cursor.fetchall()
    return [SearchHit(item_id=pk, similarity=round(float(sim), 4)) for pk, sim in rows]


# ---------------------------------------------------------------- keyword

_KEYWORD_SQL = """
WITH q AS (SELECT {tsquery} AS query),
ranked AS MATERIALIZED (
    SELECT i.id, ts_rank_cd(i.search_vector, q.query, 32) AS rank
    FROM trends_item i, q
    WHERE i.search_vector @@ q.query AND i.duplicate_of_id IS NULL {conditions}
    ORDER BY rank DESC, i.id
    LIMIT %s
)
SELECT r.id, r.rank, ts_headline('english', i.title || ' — ' || left(i.text, 2000), q.query, %s)
FROM ranked r JOIN trends_item i ON i.id = r.id, q
ORDER BY r.rank DESC, r.id
"""


def _headline_options() -> str:
    """ts_headline's options; the markers are validated at start-up (no quotes or commas) and quoted here."""
    start, stop = settings.SEARCH_HIGHLIGHT_START, settings.SEARCH_HIGHLIGHT_STOP
    return f'StartSel="{start}", StopSel="{stop}", MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "'


def _keyword_rows(tsquery_sql: str, tsquery_params: list[Any], filters: SearchFilters, limit: int) -> list[tuple]:
    conditions, params = _filters_sql(filters)
    sql = _KEYWORD_SQL.format(tsquery=tsquery_sql, conditions=conditions)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*tsquery_params, *params, limit, _headline_options()])
        return cursor.fetchall()


def query_spelling_alternatives(*, query: str) -> dict[str, list[str]]:
    """For each query word that no title contains: title words that look alike (trigram similarity, as
    pg_trgm defines it, at least SEARCH_TRIGRAM_THRESHOLD), best first. Words titles contain map to themselves.
    """
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query) if 3 <= len(w) <= 40))
    if not words:
        return {}
    sql = """
        SELECT q.word, c.word
        FROM unnest(%s::text[]) AS q(word)
        CROSS JOIN LATERAL (
            SELECT w.word, similarity
            FROM trends_search_word w,
                LATERAL (SELECT trends_trigrams(q.word) AS wanted) t,
                LATERAL (
                    SELECT cardinality(ARRAY(SELECT unnest(w.trigrams) INTERSECT SELECT unnest(t.wanted)))::float
                        / cardinality(ARRAY(SELECT unnest(w.trigrams) UNION SELECT unnest(t.wanted))) AS similarity
                ) s
            WHERE w.trigrams && t.wanted AND similarity >= %s
            ORDER BY similarity DESC, w.word
            LIMIT 3
        ) c
    """
    alternatives: dict[str, list[str]] = {w: [] for w in words}
    with connection.cursor() as cursor:
        cursor.execute(sql, [words, settings.SEARCH_TRIGRAM_THRESHOLD])
        for word, candidate in cursor.fetchall():
            alternatives[word].append(candidate)
    return {w: [w] if w in found else found for w, found in alternatives.items()}


def _corrected_tsquery(alternatives: dict[str, list[str]]) -> tuple[str, list[str]] | None:
    """(tsquery SQL, params): every word's alternatives OR-ed, the words AND-ed; None if a word has none."""
    groups, params = [], []
    for found in alternatives.values():
        if not found:
            return None
        groups.append("(" + " || ".join(["plainto_tsquery('english', %s)"] * len(found)) + ")")
        params.extend(found)
    return " && ".join(groups), params


def items_keyword_search(*, query: str, filters: SearchFilters, limit: int) -> list[SearchHit]:
    """Items matching the query's words (web-search syntax: "phrases", OR, -excluded), best ranked first,
    with highlighted snippets. When that finds fewer than SEARCH_TRIGRAM_FALLBACK_BELOW items, misspelled
    words are replaced by look-alike title words and the items found that way follow (``match="trigram"``)."""
    return _hits_with_items(_keyword_hits(query=query, filters=filters, limit=limit))


def _keyword_hits(*, query: str, filters: SearchFilters, limit: int) -> list[SearchHit]:
    rows = _keyword_rows("websearch_to_tsquery('english', %s)", [query], filters, limit)
    hits = [(pk, rank, snippet, "fulltext") for pk, rank, snippet in rows]
    if len(hits) < min(limit, settings.SEARCH_TRIGRAM_FALLBACK_BELOW):
        alternatives = query_spelling_alternatives(query=query)
        corrected = _corrected_tsquery(alternatives) if any(alternatives[w] != [w] for w in alternatives) else None
        if corrected is not None:
            seen = {pk for pk, *_ in hits}
            more = _keyword_rows(corrected[0], corrected[1], filters, limit)
            hits += [(pk, rank, snippet, "trigram") for pk, rank, snippet in more if pk not in seen]
    return [
        SearchHit(item_id=pk, rank=round(float(rank), 6), snippet=snippet, match=match)
        for pk, rank, snippet, match in hits[:limit]
    ]


# ---------------------------------------------------------------- hybrid


def search_results_fuse(*, lists: dict[str, list[SearchHit]], limit: int) -> list[SearchHit]:
    """Reciprocal rank fusion: score = Σ 1 / (SEARCH_RRF_K + rank) over the lists an item appears in; each
    hit keeps its rank in every list (None where absent) and the fields the lists gave it."""
    k = settings.SEARCH_RRF_K
    fused: dict[int, SearchHit] = {}
    for name, hits in lists.items():
        for position, hit in enumerate(hits, start=1):
            merged = fused.setdefault(
                hit.item_id, SearchHit(item_id=hit.item_id, item=hit.item, ranks=dict.fromkeys(lists), score=0.0)
            )
            merged.ranks[name] = position
            merged.score += 1.0 / (k + position)
            for attribute in ("similarity", "rank", "snippet", "match"):
                if getattr(hit, attribute) is not None:
                    setattr(merged, attribute, getattr(hit, attribute))
    ordered = sorted(
        fused.values(), key=lambda h: (-h.score, min(r for r in h.ranks.values() if r is not None), h.item_id)
    )
    for hit in ordered:
        hit.score = round(hit.score, 6)
    return ordered[:limit]


def items_hybrid_search(*, query: str, filters: SearchFilters, limit: int, semantic: bool = True) -> list[SearchHit]:
    """Keyword and (unless ``semantic`` is False) semantic results fused by reciprocal rank; each list is read
    SEARCH_HYBRID_DEPTH deep (at least ``limit``) so an item ranked well in one list can still surface; only
    the fused page's items are loaded."""
    depth = max(limit, settings.SEARCH_HYBRID_DEPTH)
    lists = {"keyword": _keyword_hits(query=query, filters=filters, limit=depth)}
    if semantic:
        lists = {"semantic": _semantic_hits(query=query, filters=filters, limit=depth), **lists}
    return _hits_with_items(search_results_fuse(lists=lists, limit=limit))
