"""The lifecycle on a small generated stream replayed with --as-of, and the pure state machine."""

import zlib
from datetime import timedelta

import numpy as np
import pytest

from apps.core.models import Event
from apps.trends.models import Trend
from apps.trends.pipeline import embed as embed_stage
from apps.trends.pipeline import runner as services
from apps.trends.pipeline.lifecycle import state_next
from apps.trends.pipeline.rank import TopicMetrics
from apps.trends.pipeline.runner import pipeline_run

from .conftest import T0, unit_vector

S = Trend.State


def _metrics(velocity=1.0, recent=0, score=1.0, last_item_hours_ago=0.0):
    return TopicMetrics(
        topic_id=1,
        item_count=10,
        recent_count=recent,
        source_count=1,
        volume=score,
        velocity=velocity,
        acceleration=0.0,
        engagement=0.0,
        score=score,
        last_item_at=T0 - timedelta(hours=last_item_hours_ago),
    )


@pytest.mark.parametrize(
    ("state", "metrics", "peak", "expected"),
    [
        (S.EMERGING, _metrics(velocity=5, recent=6), 1, S.VIRAL),
        (S.EMERGING, _metrics(velocity=5, recent=2), 1, S.EMERGING),  # fast but too few items
        (S.VIRAL, _metrics(velocity=2, score=1), 1, S.VIRAL),  # hysteresis: 2 < 3 to enter, >= 1.5 to stay
        (S.VIRAL, _metrics(velocity=1, score=0.8), 1, S.SUSTAINED),
        (S.VIRAL, _metrics(velocity=1, score=0.3), 1, S.DECLINING),
        (S.SUSTAINED, _metrics(velocity=1, score=0.3), 1, S.DECLINING),
        (S.DECLINING, _metrics(velocity=1, score=0.9), 1, S.DECLINING),  # recovering score alone is no wave
        (S.DECLINING, _metrics(last_item_hours_ago=30), 1, S.DEAD),
        (S.DEAD, _metrics(velocity=9, recent=8), 1, S.VIRAL),  # second wave
        (S.DECLINING, _metrics(velocity=9, recent=8, score=0.2), 1, S.VIRAL),
    ],
)
def test_state_machine(state, metrics, peak, expected):
    assert state_next(state=state, metrics=metrics, peak_score=peak, as_of=T0) == expected


@pytest.fixture
def fake_embeddings(monkeypatch):
    """Headlines starting with the same word get vectors close together: fast and deterministic."""
    axes = {"Steady": 0, "Burst": 1}

    def texts_embed(texts):
        return np.stack(
            [unit_vector(axes[t.split()[0]], noise=0.02, seed=zlib.crc32(t.encode())) for t in texts]
        ).astype(np.float32)

    monkeypatch.setattr(embed_stage, "texts_embed", texts_embed)
    monkeypatch.setattr(services, "texts_embed", texts_embed)  # the runner embeds the next batch ahead


@pytest.mark.django_db
def test_replayed_stream_goes_viral_fades_dies_and_comes_back(make_item, fake_embeddings):
    for hour in range(48):
        make_item(f"Steady background story update {hour}", minutes=hour * 60 + 7)
    for wave_start in (20 * 60, 46 * 60):
        for k in range(12):
            make_item(f"Burst event report {wave_start} {k}", minutes=wave_start + k * 5)
    history: dict[int, list[str]] = {}
    as_of = T0 + timedelta(hours=18)
    while as_of <= T0 + timedelta(hours=48):
        pipeline_run(workflow="full", as_of=as_of)
        for trend in Trend.objects.all():
            states = history.setdefault(trend.topic_id, [])
            if not states or states[-1] != trend.state:
                states.append(trend.state)
        as_of += timedelta(minutes=30)
    burst = Trend.objects.get(title__startswith="Burst")
    steady = Trend.objects.get(title__startswith="Steady")
    phases = [state for state in history[burst.topic_id] if state != S.SUSTAINED]
    assert phases == [S.VIRAL, S.DECLINING, S.DEAD, S.VIRAL, S.DECLINING]
    assert S.VIRAL not in history[steady.topic_id]
    changes = Event.objects.filter(kind=Event.Kind.TREND_STATE_CHANGED, subject_id=burst.pk)
    # one event per change, none for the runs in between: no flapping
    assert changes.count() == len(history[burst.topic_id]) - (history[burst.topic_id][0] == S.EMERGING)
    first_viral = changes.filter(payload__to=S.VIRAL).order_by("id").first()
    assert first_viral.payload["at"] <= (T0 + timedelta(hours=21)).isoformat()
