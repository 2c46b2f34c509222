import pytest
from django.test import override_settings
from django.utils import timezone

from apps.trends.models import Topic
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.topics import topic_assign, topic_stats_refresh

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
def test_an_item_is_judged_on_a_topics_closest_members_not_on_its_mean(make_item):
    """A topic whose members fan out around a theme has a mean close to everything of that theme: an item
    near the mean but near none of the members founds its own topic."""
    members = []
    for k, direction in enumerate((1, 2, 3, 4, 5)):
        member = make_item(f"m{k}", minutes=k)
        member.embedding = unit_vector(0) * 0.6 + unit_vector(direction) * 0.8  # cosine 0.36 to each other
        members.append(member)
    with override_settings(PIPELINE_TOPIC_JOIN_THRESHOLD=0.3, PIPELINE_TOPIC_LEXICAL_WEIGHT=0.0):
        _assign(members)
        assert len({m.topic_id for m in members}) == 1
        newcomer = make_item("n", minutes=10)
        newcomer.embedding = unit_vector(0)  # cosine 0.6 to each member, 0.87 to their mean
        stranger = make_item("s", minutes=11)
        stranger.embedding = unit_vector(0) * 0.1 + unit_vector(9) * 0.995
        with override_settings(PIPELINE_TOPIC_JOIN_THRESHOLD=0.7):
            _assign([newcomer, stranger])
    assert newcomer.topic_id != members[0].topic_id
    assert stranger.topic_id not in {members[0].topic_id, newcomer.topic_id}
    assert Topic.objects.get(pk=members[0].topic_id).item_count == 5
