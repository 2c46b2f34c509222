from datetime import timedelta

import pytest

from apps.core.models import Event
from apps.plugins.models import Source
from apps.trends.models import Topic, Trend, TrendSnapshot
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.rank import engagement_raw, rank, topic_metrics

from .conftest import T0


def _topic_with(make_item, minutes_list, **fields):
    topic = Topic.objects.create(item_count=len(minutes_list), last_item_at=T0)
    for minutes in minutes_list:
        make_item("x", minutes=minutes, topic=topic, **fields)
    return topic


@pytest.mark.django_db
def test_a_burst_has_higher_velocity_and_score_than_a_steady_topic(make_item):
    as_of = T0 + timedelta(hours=24)
    steady = _topic_with(make_item, [k * 120 for k in range(12)])  # one item every two hours
    burst = _topic_with(make_item, [24 * 60 - k * 5 for k in range(1, 7)])  # six in the last half hour
    metrics = topic_metrics({steady.pk, burst.pk}, as_of)
    assert metrics[burst.pk].velocity > 10 * metrics[steady.pk].velocity
    assert metrics[burst.pk].score > metrics[steady.pk].score
    assert metrics[burst.pk].recent_count == 6 and metrics[burst.pk].acceleration == 6


@pytest.mark.django_db
def test_volume_decays_with_the_half_life(make_item, settings):
    settings.RANK_HALF_LIFE_HOURS = 6
    topic = _topic_with(make_item, [0])
    later = topic_metrics({topic.pk}, T0 + timedelta(hours=6))[topic.pk]
    assert later.volume == pytest.approx(0.5)


@pytest.mark.django_db
def test_items_after_as_of_do_not_count(make_item):
    topic = _topic_with(make_item, [0, 10, 600])
    assert topic_metrics({topic.pk}, T0 + timedelta(minutes=30))[topic.pk].item_count == 2


@pytest.mark.django_db
def test_engagement_is_normalised_per_source(make_item):
    reddit = Source.objects.create(name="reddit-x", kind="reddit")
    hn = Source.objects.create(name="hn-x", kind="hackernews")
    for k in range(5):  # what is normal on each source
        make_item("r", minutes=k, source=reddit, metrics={"score": 1000})
        make_item("h", minutes=k, source=hn, metrics={"points": 10})
    on_reddit = _topic_with(make_item, [10], source=reddit, metrics={"score": 1000})
    on_hn = _topic_with(make_item, [10], source=hn, metrics={"points": 10})
    metrics = topic_metrics({on_reddit.pk, on_hn.pk}, T0 + timedelta(hours=1))
    assert metrics[on_reddit.pk].engagement == pytest.approx(metrics[on_hn.pk].engagement, rel=0.05)


def test_engagement_ignores_what_is_not_a_number():
    assert engagement_raw({"points": "many", "comments": 3, "views": True}) == 6.0


@pytest.mark.django_db
def test_a_qualifying_topic_becomes_a_trend_with_an_event_and_a_snapshot(make_item, settings):
    settings.TREND_MIN_ITEMS = 3
    small = _topic_with(make_item, [0, 1])
    big = _topic_with(make_item, [0, 1, 2])
    ctx = StageContext(as_of=T0 + timedelta(hours=1))
    rank({small.pk, big.pk}, ctx)
    trend = Trend.objects.get()
    assert trend.topic_id == big.pk and trend.score > 0 and trend.peak_score == trend.score
    assert Event.objects.filter(kind=Event.Kind.TREND_CREATED, subject_id=trend.pk).count() == 1
    rank({big.pk}, ctx)  # the same time again: same snapshot, no second event
    assert TrendSnapshot.objects.filter(trend=trend).count() == 1
    assert Event.objects.filter(kind=Event.Kind.TREND_CREATED).count() == 1


@pytest.mark.django_db
def test_a_detail_view_reads_the_baselines_the_ranker_published(make_item, django_assert_num_queries, settings):
    settings.TREND_MIN_ITEMS = 1
    source = Source.objects.create(name="wire-x", kind="rss")
    topic = _topic_with(make_item, [0, 5], source=source, metrics={"points": 50})
    as_of = T0 + timedelta(hours=1)
    ranked = rank({topic.pk}, StageContext(as_of=as_of))[topic.pk]
    # A late item inside the ranked week would move a recomputed baseline; the published one stays.
    make_item("late", minutes=1, source=source, metrics={"points": 100000})
    with django_assert_num_queries(1):  # the topic's items; no week-long baseline scan
        explained = topic_metrics({topic.pk}, as_of, cached_baselines=True)[topic.pk]
    assert explained.engagement == pytest.approx(ranked.engagement)
    assert topic_metrics({topic.pk}, as_of)[topic.pk].engagement != pytest.approx(ranked.engagement)
