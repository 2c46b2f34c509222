from datetime import timedelta

import pytest

from apps.core.models import Event
from apps.trends.models import Item, Topic, Trend
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.recluster import topics_recluster

from .conftest import T0, unit_vector

VOLCANO = ["Volcano erupts in Iceland", "Iceland volcano ash grounds flights", "Iceland volcano eruption grows"]
VOLCANO += ["Flights cancelled as Iceland volcano erupts"]
MERGER = ["Airline merger approved by regulators", "Regulators approve airline merger", "Airline merger cleared"]


def _story(make_item, topic: Topic, titles: list[str], axis: int, start: int = 0) -> list[Item]:
    return [
        make_item(title, minutes=start + k, topic=topic, processed_at=T0, embedding=unit_vector(axis, 0.03, seed=k))
        for k, title in enumerate(titles)
    ]


def _topic(count: int) -> Topic:
    return Topic.objects.create(centroid=unit_vector(0), item_count=count, first_seen_at=T0, last_item_at=T0)


def _recluster() -> dict[str, int]:
    return topics_recluster(StageContext(as_of=T0 + timedelta(hours=1)))


def _topic_of(items: list[Item]) -> set[int]:
    return set(Item.objects.filter(pk__in=[i.pk for i in items]).values_list("topic_id", flat=True))


@pytest.mark.django_db
def test_reclustering_keeps_the_ids_of_unchanged_stories(make_item):
    volcano, merger = _topic(4), _topic(3)
    volcano_items = _story(make_item, volcano, VOLCANO, axis=0)
    merger_items = _story(make_item, merger, MERGER, axis=9, start=10)
    trend = Trend.objects.create(topic=volcano, title="Volcano")
    assert _recluster()["moved"] == 0
    assert _topic_of(volcano_items) == {volcano.pk} and _topic_of(merger_items) == {merger.pk}
    assert Trend.objects.get(pk=trend.pk).topic_id == volcano.pk
    assert not Event.objects.filter(kind__startswith="topic.").exists()


@pytest.mark.django_db
def test_a_chained_pair_of_stories_is_split_and_the_larger_keeps_the_id(make_item):
    chained = _topic(7)
    volcano_items = _story(make_item, chained, VOLCANO, axis=0)
    merger_items = _story(make_item, chained, MERGER, axis=9, start=10)
    trend = Trend.objects.create(topic=chained, title="Volcano")
    result = _recluster()
    assert (result["moved"], result["splits"]) == (3, 1)
    assert _topic_of(volcano_items) == {chained.pk}
    (split_off,) = _topic_of(merger_items)
    assert split_off != chained.pk
    assert Topic.objects.get(pk=split_off).item_count == 3
    assert Topic.objects.get(pk=chained.pk).item_count == 4
    assert Trend.objects.get(pk=trend.pk).topic_id == chained.pk  # the trend keeps its id and history
    event = Event.objects.get(kind=Event.Kind.TOPIC_SPLIT)
    assert (event.subject_id, event.payload["into"]) == (chained.pk, {str(split_off): 3})


@pytest.mark.django_db
def test_two_parts_of_one_story_merge_into_the_larger(make_item):
    big, small = _topic(3), _topic(2)
    big_items = _story(make_item, big, VOLCANO[:3], axis=0)
    small_items = _story(
        make_item, small, ["Iceland volcano erupts again", "Volcano in Iceland erupts"], axis=0, start=5
    )
    Trend.objects.create(topic=small, title="Small")
    result = _recluster()
    assert result["merges"] == 1
    assert _topic_of(big_items + small_items) == {big.pk}
    small.refresh_from_db()
    assert (small.is_active, small.merged_into_id) == (False, big.pk)
    assert Trend.objects.get(title="Small").topic_id == big.pk  # the only trend moves to the survivor
    event = Event.objects.get(kind=Event.Kind.TOPIC_MERGED)
    assert (event.subject_id, event.payload["merged_topic_id"]) == (big.pk, small.pk)


@pytest.mark.django_db
def test_duplicates_follow_their_original_when_it_moves(make_item):
    chained = _topic(7)
    _story(make_item, chained, VOLCANO, axis=0)
    merger_items = _story(make_item, chained, MERGER, axis=9, start=10)
    copy = make_item("Airline merger approved", minutes=20, topic=chained, duplicate_of=merger_items[0])
    _recluster()
    assert Item.objects.get(pk=copy.pk).topic_id == _topic_of(merger_items).pop()
