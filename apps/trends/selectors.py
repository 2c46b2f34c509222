"""Reads over trends for lists, the API and exports."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from pgvector.django import CosineDistance

from apps.trends.models import Trend, TrendSnapshot
from apps.trends.pipeline.rank import score_factors, topic_metrics

# The k-th trend of a category in a "top" list counts score × CATEGORY_BALANCE_DECAY^k, so one busy category
# (markets on a volatile day) cannot fill the whole list while others have strong stories.
CATEGORY_BALANCE_DECAY = 0.7
EXPLAIN_CACHE_SECONDS = 6 * 3600
# Vectors no list or search result shows: parsing 50 rows of them cost more than the rest of a page.
TOPIC_VECTORS = ("topic__centroid",)
ITEM_VECTORS = ("embedding", "search_vector", *TOPIC_VECTORS)
TREND_VECTORS = ("category__embedding", *TOPIC_VECTORS)

logger = logging.getLogger(__name__)


def trends_live() -> QuerySet[Trend]:
    """Trends that are not dead, highest score first."""
    return Trend.objects.exclude(state=Trend.State.DEAD).select_related("category", "topic").order_by("-score", "id")


def trends_top(
    *, limit: int = 20, balanced: bool = True, candidates: int = 200, pool: QuerySet[Trend] | None = None
) -> list[Trend]:
    """The top live trends; with ``balanced`` the score of each further trend of one category is damped.

    ``pool``: the trends to choose from, best first (a caller's filters and annotations); the live ones by
    default. Every "top" list (the console's, the digests') is this one ranking."""
    pool = list((trends_live() if pool is None else pool)[:candidates])
    if not balanced:
        return pool[:limit]
    seen: dict[int | None, int] = {}
    weighted = []
    for trend in pool:  # already by score, so the k-th of a category is the k-th seen
        rank_in_category = seen.get(trend.category_id, 0)
        seen[trend.category_id] = rank_in_category + 1
        weighted.append((trend.score * CATEGORY_BALANCE_DECAY**rank_in_category, trend))
    weighted.sort(key=lambda pair: (-pair[0], pair[1].pk))
    return [trend for _, trend in weighted[:limit]]


def trend_related(*, trend: Trend, limit: int = 5) -> list[Trend]:
    """The trends whose topic centroids are closest to this one's (cosine), each with ``similarity``."""
    from apps.trends.search import SEMANTIC_OVERFETCH, hnsw_session_configure  # search imports the selectors

    centroid = trend.topic.centroid
    if centroid is None:
        return []
    related = (
        Trend.objects.exclude(pk=trend.pk)
        .filter(topic__centroid__isnull=False)
        .select_related("category")
        .annotate(distance=CosineDistance("topic__centroid", centroid))
        .order_by("distance", "pk")[: limit * SEMANTIC_OVERFETCH]
    )
    # The topic index answers; iterative scanning keeps a filtered HNSW scan from stopping short, and its
    # relaxed order is put right by the exact distances.
    with transaction.atomic(), connection.cursor() as cursor:
        hnsw_session_configure(cursor)
        result = sorted(related, key=lambda other: (other.distance, other.pk))[:limit]
    for other in result:
        other.similarity = 1.0 - other.distance
    return result


def trend_timeline(*, trend: Trend, points: int = 500) -> list[TrendSnapshot]:
    """The trend's latest ``points`` snapshots, oldest first."""
    latest = list(TrendSnapshot.objects.filter(trend=trend).order_by("-taken_at")[:points])
    return latest[::-1]


def trend_score_explain(*, trend: Trend) -> dict[str, Any]:
    """Why the trend ranks where it does: the ranker's measures and factors for its topic as of the trend's
    last ranking (``updated_at``), computed by the ranker's own functions.

    Cached per trend and ranking time (the key changes when the ranker runs again); computed directly when
    the cache does not answer; the sources' engagement baselines are the ones the ranker published."""
    key = f"trends:why:{trend.pk}:{trend.updated_at.timestamp()}"
    try:
        cached = cache.get(key)
    except Exception:  # a cache outage must not fail the read
        logger.warning("cache unavailable; score components computed without it", exc_info=True)
        return _trend_score_explain(trend)
    if cached is None:
        cached = _trend_score_explain(trend)
        try:
            cache.set(key, cached, timeout=EXPLAIN_CACHE_SECONDS)
        except Exception:
            logger.warning("cache unavailable; score components not cached", exc_info=True)
    return cached


def _trend_score_explain(trend: Trend) -> dict[str, Any]:
    as_of = trend.updated_at
    metrics = topic_metrics({trend.topic_id}, as_of, cached_baselines=True).get(trend.topic_id)
    if metrics is None:
        return {"as_of": as_of, "stored_score": trend.score, "measures": None, "factors": None, "score": 0.0}
    factors = score_factors(
        volume=metrics.volume, velocity=metrics.velocity, engagement=metrics.engagement, sources=metrics.source_count
    )
    return {
        "as_of": as_of,
        "stored_score": trend.score,
        "score": factors.score,
        "measures": {
            "item_count": metrics.item_count,
            "recent_count": metrics.recent_count,
            "source_count": metrics.source_count,
            "volume": metrics.volume,
            "velocity": metrics.velocity,
            "acceleration": metrics.acceleration,
            "engagement": metrics.engagement,
        },
        "factors": {
            "volume": factors.volume,
            "velocity": factors.velocity_factor,
            "engagement": factors.engagement_factor,
            "sources": factors.diversity_factor,
        },
    }
