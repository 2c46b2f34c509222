"""The bundled demo as a newcomer meets it: real stories from three sources, a mix of states, history."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from apps.analytics.console import trend_states_history
from apps.plugins.management.commands.seed_demo_sources import DEMO_LANES
from apps.plugins.models import Source
from apps.trends.models import Item, Trend
from apps.trends.pipeline.runner import pipeline_run

pytestmark = pytest.mark.django_db


def _states() -> Counter:
    return Counter(Trend.objects.values_list("state", flat=True))


def _later(minutes: int) -> None:
    """The demo as it stands ``minutes`` after ``make run``: the replays started that long ago."""
    for source in Source.objects.filter(name__in=[name for name, _ in DEMO_LANES]):
        source.config = {**source.config, "started_at": (timezone.now() - timedelta(minutes=minutes)).isoformat()}
        source.save()
    call_command("collect", *[name for name, _ in DEMO_LANES], stdout=StringIO())
    pipeline_run(workflow="full")


def test_the_demo_bootstrap_gives_trends_from_several_sources_a_mix_of_states_and_history():
    call_command("bootstrap_local", stdout=StringIO())
    times, _ = trend_states_history()
    assert len(times) >= 12  # the console's state chart draws from the first page load
    longest = Trend.objects.annotate(n=Count("snapshots")).order_by("-n").first()
    assert longest.n >= 12  # and so does the score history of a story that began hours ago
    _later(5)
    states = _states()
    trends = Trend.objects.select_related("topic")
    print(f"demo after 5 minutes: {trends.count()} trends, states {dict(states)}")
    assert trends.count() >= 15
    assert Item.objects.filter(topic__trend__isnull=False).values("source").distinct().count() >= 3
    assert trends.filter(topic__source_count__gte=2).count() >= 3
    assert states["viral"] >= 1 and states["declining"] + states["dead"] >= 1
    assert all(t.summary.endswith((".", "!", "?")) and t.summary.count(",") < 3 for t in trends)
    assert Item.objects.filter(source__name="demo-hn-front", metrics__points__gt=0).exists()


def test_the_replay_loops_and_collecting_again_never_duplicates():
    call_command("seed_demo_sources", stdout=StringIO())
    _later(0)
    first = Item.objects.count()
    _later(0)
    assert Item.objects.count() == first  # `make run` on an existing .data/ carries on
    _later(8 * 60)  # past the end of the timeline: the next cycle has started
    per_id = Item.objects.values("source", "external_id").annotate(n=Count("id")).filter(n__gt=1)
    assert not per_id.exists()
    assert Item.objects.filter(external_id__endswith="~1").exists()
