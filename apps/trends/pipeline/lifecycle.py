"""Stage 8: the trend lifecycle, emerging → viral → sustained → declining → dead, and back to viral on a
second wave. Every transition writes a ``trend.state_changed`` event in the same transaction.

Hysteresis keeps a trend from flapping between runs: entering viral needs a higher velocity than staying
viral does, and a trend keeps any state but emerging for at least ``LIFECYCLE_MIN_DWELL_MINUTES``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from apps.core.models import Event
from apps.core.services import event_emit
from apps.trends.models import Trend
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.rank import TopicMetrics

State = Trend.State


def state_next(*, state: str, metrics: TopicMetrics, peak_score: float, as_of: datetime) -> str:
    """The state a trend moves to given its metrics now (pure: no dwell time, no database)."""
    quiet = metrics.last_item_at is None or as_of - metrics.last_item_at >= timedelta(
        hours=settings.LIFECYCLE_DEAD_HOURS
    )
    surging = (
        metrics.velocity >= settings.LIFECYCLE_VIRAL_VELOCITY
        and metrics.recent_count >= settings.LIFECYCLE_VIRAL_MIN_RECENT
    )
    fading = metrics.score < settings.LIFECYCLE_DECLINE_RATIO * peak_score
    if state == State.DEAD:
        return State.VIRAL if surging else State.DEAD
    if quiet:
        return State.DEAD
    if state == State.EMERGING:
        return State.VIRAL if surging else State.DECLINING if fading else State.EMERGING
    if state == State.VIRAL:
        if metrics.velocity >= settings.LIFECYCLE_SUSTAINED_VELOCITY:
            return State.VIRAL
        return State.DECLINING if fading else State.SUSTAINED
    if state == State.SUSTAINED:
        return State.VIRAL if surging else State.DECLINING if fading else State.SUSTAINED
    return State.VIRAL if surging else State.DECLINING  # declining: only a second wave lifts it


def trend_transition(*, trend: Trend, state: str, as_of: datetime) -> None:
    """Move a trend to ``state`` and record the event, both or neither."""
    previous = trend.state
    with transaction.atomic():
        trend.state = state
        trend.state_changed_at = as_of
        trend.save(update_fields=["state", "state_changed_at"])
        event_emit(
            kind=Event.Kind.TREND_STATE_CHANGED,
            subject=trend,
            payload={"from": previous, "to": state, "at": as_of.isoformat(), "score": trend.score},
        )


def lifecycle(metrics: dict[int, TopicMetrics], ctx: StageContext) -> int:
    """Advance the trends of the given topics; returns how many changed state."""
    dwell = timedelta(minutes=settings.LIFECYCLE_MIN_DWELL_MINUTES)
    changed = 0
    for trend in Trend.objects.filter(topic_id__in=metrics).order_by("pk"):
        # An emerging trend may leave at once: detection delay matters most at the start of a burst.
        if trend.state != State.EMERGING and ctx.as_of - trend.state_changed_at < dwell:
            continue
        state = state_next(
            state=trend.state, metrics=metrics[trend.topic_id], peak_score=trend.peak_score, as_of=ctx.as_of
        )
        if state != trend.state:
            trend_transition(trend=trend, state=state, as_of=ctx.as_of)
            changed += 1
    ctx.counts["state_changes"] += changed
    return changed
