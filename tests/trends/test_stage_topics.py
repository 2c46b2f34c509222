import pytest
from django.utils import timezone

from apps.trends.models import Item, Topic, Trend
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.topics import topic_assign, topic_merge, topic_stats_refresh

from .conftest import T0, unit_vector


def _assign(items):
    ctx = StageContext(as_of=T0)
    topic_assign(items, ctx)
    for item in items:
        item.processed_at = timezone.now()
        item.save()
    topic_stats_refresh(ctx.touched_topic_ids)
    return ctx


@pytest.mark.django_db
def test_similar_items_join_one_topic_and_others_found_new_ones(make_item):
    items = [make_item(f"s{k}", minutes=k) for k in range(6)]
    for k, item in enumerate(items[:4]):
        item.embedding = unit_vector(0, noise=0.03, seed=k)
    items[4].embedding, items[5].embedding = unit_vector(7), unit_vector(9)
    _assign(items)
    assert len({i.topic_id for i in items[:4]}) == 1
    assert len({i.topic_id for i in items}) == 3
    topic = Topic.objects.get(pk=items[0].topic_id)
    assert topic.item_count == 4 and topic.first_seen_at == items[0].published_at


@pytest.mark.django_db
def test_a_later_batch_joins_the_stored_topic_through_pgvector(make_item):
    first = make_item("a", minutes=0)
    first.embedding = unit_vector(4)
    _assign([first])
    later = make_item("b", minutes=30)
    later.embedding = unit_vector(4, noise=0.03, seed=9)
    _assign([later])
    assert later.topic_id == first.topic_id
    assert Topic.objects.get(pk=first.topic_id).item_count == 2


@pytest.mark.django_db
def test_a_duplicate_follows_its_original(make_item):
    original = make_item("o", minutes=0)
    original.embedding = unit_vector(2)
    duplicate = make_item("d", minutes=1)
    duplicate.embedding, duplicate.duplicate_of = unit_vector(11), original
    _assign([original, duplicate])
    assert duplicate.topic_id == original.topic_id


@pytest.mark.django_db
def test_converged_topics_merge_into_the_larger(make_item, source):
    big = Topic.objects.create(centroid=unit_vector(0, noise=0.02, seed=1), item_count=3, last_item_at=T0)
    small = Topic.objects.create(centroid=unit_vector(0, noise=0.02, seed=2), item_count=1, last_item_at=T0)
    apart = Topic.objects.create(centroid=unit_vector(8), item_count=5, last_item_at=T0)
    for k in range(3):
        make_item(f"b{k}", topic=big, embedding=unit_vector(0), processed_at=T0)
    moved = make_item("s", topic=small, embedding=unit_vector(0), processed_at=T0)
    trend = Trend.objects.create(topic=small, title="small")
    merges = topic_merge({small.pk}, StageContext(as_of=T0))
    assert merges == 1
    small.refresh_from_db()
    assert (small.is_active, small.merged_into_id) == (False, big.pk)
    assert Item.objects.get(pk=moved.pk).topic_id == big.pk
    assert Topic.objects.get(pk=big.pk).item_count == 4
    trend.refresh_from_db()
    assert trend.topic_id == big.pk
    assert Topic.objects.get(pk=apart.pk).is_active
