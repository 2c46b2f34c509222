"""A trend's score over its whole life, with its state changes marked: the sparkline the admin and the console
draw. Annotated onto a queryset (one subquery per column, not one query per row) and thinned to
``HISTORY_POINTS`` evenly spaced snapshots, first and last kept."""

from __future__ import annotations

from datetime import datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString

from apps.core.display import AMBER, BLUE, GREEN, GREY, PURPLE, line_sparkline_html
from apps.core.models import Event
from apps.trends.models import Trend, TrendSnapshot

HISTORY_POINTS = 48
STATE_COLOURS = {
    Trend.State.EMERGING: BLUE,
    Trend.State.VIRAL: PURPLE,
    Trend.State.SUSTAINED: GREEN,
    Trend.State.DECLINING: AMBER,
    Trend.State.DEAD: GREY,
}


def score_history_annotate(queryset: QuerySet[Trend]) -> QuerySet[Trend]:
    """Add ``history_times``, ``history_scores`` (oldest first) and ``state_changes`` (event payloads)."""
    snapshots = TrendSnapshot.objects.filter(trend=OuterRef("pk")).order_by("taken_at")
    changes = Event.objects.filter(
        kind=Event.Kind.TREND_STATE_CHANGED, subject_type="trends.trend", subject_id=OuterRef("pk")
    ).order_by("id")
    return queryset.annotate(
        history_times=ArraySubquery(snapshots.values("taken_at")),
        history_scores=ArraySubquery(snapshots.values("score")),
        state_changes=ArraySubquery(changes.values("payload")),
    )


def score_history_points(
    times: list[datetime], scores: list[float], changes: list[dict], *, points: int = HISTORY_POINTS
) -> tuple[list[float], list[tuple[int, str]]]:
    """The thinned scores and, per state change, (index of the first kept snapshot at or after it, new state)."""
    if len(scores) > points:
        keep = sorted({round(k * (len(scores) - 1) / (points - 1)) for k in range(points)})
        times, scores = [times[k] for k in keep], [scores[k] for k in keep]
    marks = []
    for change in changes:
        at = parse_datetime(str(change.get("at", "")))
        if at is None or not times or at > times[-1]:
            continue
        index = next(k for k, t in enumerate(times) if t >= at)
        marks.append((index, str(change.get("to", ""))))
    return scores, marks


def score_history_sparkline(trend: Trend, *, label: str = "") -> SafeString:
    """The lifetime sparkline of an annotated trend, a dot in the new state's colour at each state change."""
    scores, marks = score_history_points(
        list(getattr(trend, "history_times", None) or []),
        list(getattr(trend, "history_scores", None) or []),
        list(getattr(trend, "state_changes", None) or []),
    )
    return line_sparkline_html(
        scores,
        colour=STATE_COLOURS.get(trend.state, GREY),
        label=label or f"{len(scores)} scores over its life, {len(marks)} state changes",
        marks=[(index, STATE_COLOURS.get(state, GREY)) for index, state in marks],
    )
