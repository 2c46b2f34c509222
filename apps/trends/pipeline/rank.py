"""Stage 7: score each topic as of the run's time; topics with enough items become trends.

score = volume × (1 + 0.5·ln(1 + velocity)) × (1 + 0.3·min(engagement, 3)) × (1 + 0.25·ln(sources))
(the README section "Ranking and lifecycle" explains each factor and its constants).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from apps.core.models import Event
from apps.core.services import event_emit
from apps.trends.models import Item, Topic, Trend, TrendSnapshot
from apps.trends.pipeline.context import StageContext

logger = logging.getLogger(__name__)

VELOCITY_WEIGHT = 0.5
ENGAGEMENT_WEIGHT = 0.3
ENGAGEMENT_CAP = 3.0
DIVERSITY_WEIGHT = 0.25
VELOCITY_CAP = 1000.0
ENGAGEMENT_BASELINE_DAYS = 7
BASELINE_CACHE_SECONDS = 6 * 3600
# Metrics that count as engagement, with weights: a comment costs the reader more than an upvote.
ENGAGEMENT_KEYS = {"points": 1.0, "score": 1.0, "likes": 1.0, "comments": 2.0, "num_comments": 2.0, "views": 0.01}


@dataclass
class TopicMetrics:
    topic_id: int
    item_count: int
    recent_count: int
    source_count: int
    volume: float
    velocity: float
    acceleration: float
    engagement: float
    score: float
    last_item_at: datetime | None


@dataclass(frozen=True)
class ScoreFactors:
    """The four multipliers of a topic's score; ``score`` is their product."""

    volume: float
    velocity_factor: float
    engagement_factor: float
    diversity_factor: float

    @property
    def score(self) -> float:
        return self.volume * self.velocity_factor * self.engagement_factor * self.diversity_factor


def score_factors(*, volume: float, velocity: float, engagement: float, sources: int) -> ScoreFactors:
    """What each measure contributes to the score (the formula in the module docstring)."""
    return ScoreFactors(
        volume=volume,
        velocity_factor=1 + VELOCITY_WEIGHT * math.log1p(velocity),
        engagement_factor=1 + ENGAGEMENT_WEIGHT * min(engagement, ENGAGEMENT_CAP),
        diversity_factor=1 + DIVERSITY_WEIGHT * math.log(max(sources, 1)),
    )


def engagement_raw(metrics: dict) -> float:
    """One number from whatever metrics a source gives; non-numeric values are ignored."""
    total = 0.0
    for key, weight in ENGAGEMENT_KEYS.items():
        value = metrics.get(key) if isinstance(metrics, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            total += weight * value
    return total


def _source_baselines_query(source_ids: set[int], as_of: datetime) -> dict[int, float]:
    """Mean ln(1 + engagement) per source over the week before ``as_of``: what "normal" looks like there."""
    parts = " + ".join(
        f"{w} * CASE WHEN jsonb_typeof(metrics->'{k}') = 'number' THEN GREATEST((metrics->>'{k}')::float, 0) ELSE 0 END"
        for k, w in ENGAGEMENT_KEYS.items()
    )
    sql = f"""
        SELECT source_id, AVG(LN(1 + ({parts})))
        FROM trends_item
        WHERE source_id = ANY(%s) AND COALESCE(published_at, collected_at) BETWEEN %s AND %s
        GROUP BY source_id
    """  # noqa: S608 - the expression is built from constants above, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(source_ids), as_of - timedelta(days=ENGAGEMENT_BASELINE_DAYS), as_of])
        found = {source_id: float(mean or 0.0) for source_id, mean in cursor.fetchall()}
    return {source_id: found.get(source_id, 0.0) for source_id in source_ids}


def _baseline_cache_key(source_id: int, as_of: datetime) -> str:
    return f"trends:baseline:{source_id}:{as_of.timestamp()}"


def _source_baselines(source_ids: set[int], as_of: datetime, *, from_cache: bool) -> dict[int, float]:
    """Each source's engagement baseline as of ``as_of``. The ranker computes them and publishes them in the
    cache; with ``from_cache`` (the trend detail's "why it ranks", whose ``as_of`` is the ranking's) they are
    read from there, so a detail view does not scan a week of items again. A cache outage only costs the scan.
    """
    if not source_ids:
        return {}
    keys = {source_id: _baseline_cache_key(source_id, as_of) for source_id in source_ids}
    found: dict[int, float] = {}
    if from_cache:
        try:
            cached = cache.get_many(list(keys.values()))
        except Exception:
            logger.warning("cache unavailable; engagement baselines computed without it", exc_info=True)
            return _source_baselines_query(source_ids, as_of)
        found = {source_id: cached[key] for source_id, key in keys.items() if key in cached}
    missing = source_ids - found.keys()
    if missing:
        computed = _source_baselines_query(missing, as_of)
        try:
            cache.set_many({keys[s]: v for s, v in computed.items()}, timeout=BASELINE_CACHE_SECONDS)
        except Exception:
            logger.warning("cache unavailable; engagement baselines not published", exc_info=True)
        found.update(computed)
    return found


def topic_metrics(topic_ids: set[int], as_of: datetime, *, cached_baselines: bool = False) -> dict[int, TopicMetrics]:
    """Volume, velocity, acceleration, engagement and diversity of each topic, counting items up to ``as_of``.
    ``cached_baselines`` reads the sources' engagement baselines the ranker published for ``as_of``."""
    half_life = settings.RANK_HALF_LIFE_HOURS
    recent_h, baseline_h = settings.RANK_RECENT_HOURS, settings.RANK_BASELINE_HOURS
    rows = Item.objects.filter(topic_id__in=topic_ids).values_list(
        "topic_id", "source_id", "published_at", "collected_at", "metrics"
    )
    by_topic: dict[int, list[tuple[int, datetime, dict]]] = defaultdict(list)
    for topic_id, source_id, published_at, collected_at, metrics in rows:
        when = published_at or collected_at
        if when <= as_of:
            by_topic[topic_id].append((source_id, when, metrics))
    source_ids = {s for items in by_topic.values() for s, _, _ in items}
    baselines = _source_baselines(source_ids, as_of, from_cache=cached_baselines)
    floor = 1.0 / baseline_h  # one item per baseline window: a brand-new topic is measured against that
    result = {}
    for topic_id, items in by_topic.items():
        ages = [(as_of - when).total_seconds() / 3600 for _, when, _ in items]
        volume = sum(0.5 ** (age / half_life) for age in ages)
        recent = sum(1 for age in ages if age < recent_h)
        previous = sum(1 for age in ages if recent_h <= age < 2 * recent_h)
        # The baseline window is the topic's own history before the recent window, at most baseline_h long:
        # a young topic is compared with its short past, not with 24 hours it did not exist.
        history_h = min(baseline_h, max(ages) - recent_h) if ages else 0.0
        earlier = sum(1 for age in ages if recent_h <= age < recent_h + baseline_h)
        baseline = earlier / max(history_h, recent_h) if earlier else 0.0
        velocity = min((recent / recent_h + floor) / (baseline + floor), VELOCITY_CAP)
        acceleration = (recent - previous) / recent_h
        engagement = sum(math.log1p(engagement_raw(m)) / max(baselines.get(s, 0.0), 1.0) for s, _, m in items) / len(
            items
        )
        sources = len({s for s, _, _ in items})
        score = score_factors(volume=volume, velocity=velocity, engagement=engagement, sources=sources).score
        result[topic_id] = TopicMetrics(
            topic_id=topic_id,
            item_count=len(items),
            recent_count=recent,
            source_count=sources,
            volume=volume,
            velocity=velocity,
            acceleration=acceleration,
            engagement=engagement,
            score=score,
            last_item_at=max(when for _, when, _ in items),
        )
    return result


@transaction.atomic
def rank(topic_ids: set[int], ctx: StageContext) -> dict[int, TopicMetrics]:
    """Score the topics; create the trends that now qualify (with a ``trend.created`` event) and write a
    snapshot per trend at ``as_of``. Returns the metrics by topic id, for the lifecycle stage.

    One transaction and a few set-based writes for all topics: new trends and their events commit together."""
    metrics = topic_metrics(topic_ids, ctx.as_of)
    active = sorted(Topic.objects.filter(pk__in=metrics, is_active=True).values_list("pk", flat=True))
    trends = {t.topic_id: t for t in Trend.objects.filter(topic_id__in=active)}
    qualifying = [tid for tid in active if tid not in trends and metrics[tid].item_count >= settings.TREND_MIN_ITEMS]
    titles = dict(
        Topic.objects.filter(pk__in=qualifying, representative_item__isnull=False).values_list(
            "pk", "representative_item__title"
        )
    )
    created = Trend.objects.bulk_create(
        [
            Trend(
                topic_id=tid,
                title=titles.get(tid) or f"Topic {tid}",
                first_detected_at=ctx.as_of,
                state_changed_at=ctx.as_of,
                updated_at=ctx.as_of,
            )
            for tid in qualifying
        ]
    )
    for trend in created:
        event_emit(kind=Event.Kind.TREND_CREATED, subject=trend, payload={"topic_id": trend.topic_id})
        trends[trend.topic_id] = trend
    ctx.counts["trends_created"] += len(created)
    ranked = [trends[tid] for tid in active if tid in trends]
    for trend in ranked:
        m = metrics[trend.topic_id]
        trend.score, trend.velocity, trend.acceleration = m.score, m.velocity, m.acceleration
        trend.peak_score = max(trend.peak_score, m.score)
        trend.updated_at = ctx.as_of
    Trend.objects.bulk_update(ranked, ["score", "velocity", "acceleration", "peak_score", "updated_at"])
    TrendSnapshot.objects.bulk_create(
        [
            TrendSnapshot(
                trend=trend,
                taken_at=ctx.as_of,
                score=metrics[trend.topic_id].score,
                item_count=metrics[trend.topic_id].item_count,
                velocity=metrics[trend.topic_id].velocity,
            )
            for trend in ranked
        ],
        update_conflicts=True,
        unique_fields=["trend", "taken_at"],
        update_fields=["score", "item_count", "velocity"],
    )
    ctx.counts["trends_ranked"] += len(ranked)
    return metrics
