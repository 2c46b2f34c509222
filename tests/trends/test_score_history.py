"""Sparklines plot a trend's whole life and mark its state changes."""

from datetime import timedelta

import pytest

from apps.core.models import Event
from apps.trends.models import Topic, Trend, TrendSnapshot
from apps.trends.pipeline.lifecycle import trend_transition
from apps.trends.score_history import score_history_annotate, score_history_points, score_history_sparkline

from .conftest import T0


def test_a_long_life_is_thinned_evenly_keeping_first_and_last():
    times = [T0 + timedelta(minutes=15 * k) for k in range(200)]
    scores, marks = score_history_points(times, [float(k) for k in range(200)], [], points=48)
    assert len(scores) == 48 and scores[0] == 0.0 and scores[-1] == 199.0
    assert marks == []


def test_a_state_change_is_marked_at_the_first_snapshot_after_it():
    times = [T0 + timedelta(hours=k) for k in range(5)]
    changes = [{"to": "viral", "at": (T0 + timedelta(hours=2, minutes=30)).isoformat()}, {"to": "dead", "at": "x"}]
    _, marks = score_history_points(times, [1.0, 2.0, 3.0, 4.0, 5.0], changes)
    assert marks == [(3, "viral")]


@pytest.mark.django_db
def test_the_sparkline_draws_the_whole_life_with_a_ring_per_state_change():
    trend = Trend.objects.create(topic=Topic.objects.create(), title="t", score=1.0)
    for k in range(60):  # more than the old 24-point window: the early rise must stay on the line
        TrendSnapshot.objects.create(
            trend=trend,
            taken_at=T0 + timedelta(minutes=15 * k),
            score=float(k if k < 30 else 60 - k),
            item_count=k + 1,
            velocity=0,
        )
    trend_transition(trend=trend, state=Trend.State.VIRAL, as_of=T0 + timedelta(hours=2))
    trend_transition(trend=trend, state=Trend.State.DECLINING, as_of=T0 + timedelta(hours=9))
    assert Event.objects.filter(kind=Event.Kind.TREND_STATE_CHANGED).count() == 2
    annotated = score_history_annotate(Trend.objects.filter(pk=trend.pk)).get()
    assert len(annotated.history_scores) == 60 and annotated.history_scores[0] == 0.0
    svg = str(score_history_sparkline(annotated))
    assert svg.count('class="mark"') == 2
    assert "48 scores over its life, 2 state changes" in svg
