"""The bundled demo gives a realistic mix of lifecycle states, not a wall of "viral"."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.plugins.models import Source
from apps.trends.models import Trend
from apps.trends.pipeline.runner import pipeline_run

pytestmark = pytest.mark.django_db


def _states() -> Counter:
    return Counter(Trend.objects.values_list("state", flat=True))


def test_the_demo_data_gives_a_mix_of_lifecycle_states():
    call_command("bootstrap_local", stdout=StringIO())
    at_start = _states()
    # Ten minutes on: the replay has released every story.
    replay = Source.objects.get(name="demo-replay")
    replay.config = {**replay.config, "started_at": (timezone.now() - timedelta(minutes=11)).isoformat()}
    replay.save()
    call_command("collect", "demo-replay", stdout=StringIO())
    pipeline_run(workflow="full")
    replayed = _states()
    print(f"demo lifecycle mix: at start {dict(at_start)}, after the replay {dict(replayed)}")
    for states in (at_start, replayed):
        assert len(states) >= 3  # at least three different states
        assert states["viral"] <= sum(states.values()) // 3  # viral is news, not the norm
    assert replayed["emerging"] >= 3 and replayed["dead"] >= 3
