import numpy as np
import pytest
from django.test import override_settings

from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.lexical import Idf, item_words, lexical_vectors

from .conftest import T0, unit_vector
from .test_stage_topics import _assign


def test_words_come_from_the_title_and_the_url_slug_without_ids_or_numbers():
    words = item_words(
        "ECB unlikely to end sterilisation",
        "http://in.reuters.com/article/2014/03/10/us-ecb-refi-poll-idINBREA290VH20140310",
    )
    assert {"ecb", "unlikely", "end", "sterilisation", "refi", "poll", "us"} <= words
    assert not {w for w in words if any(c.isdigit() for c in w)}
    assert "article" not in words and "to" not in words
    assert item_words("Apple shares", "https://example.com/news/12345") == {"apple", "share"}


def test_rare_words_weigh_more_than_common_ones():
    idf = Idf(item_words(title, "") for title in ["Apple shares", "Nokia shares", "Bank shares"])
    assert idf.weight("apple") > idf.weight("share")
    shared_rare = lexical_vectors([Item(title="Apple shares", url=""), Item(title="Apple bank", url="")], idf)
    shared_common = lexical_vectors([Item(title="Apple shares", url=""), Item(title="Nokia shares", url="")], idf)
    assert float(shared_rare[0] @ shared_rare[1]) > float(shared_common[0] @ shared_common[1])
    assert np.allclose(np.linalg.norm(shared_rare, axis=1), 1.0, atol=1e-5)


@pytest.mark.django_db
@pytest.mark.parametrize(("weight", "same_story_joins"), [(0.0, False), (0.5, True)])
def test_shared_rare_words_lift_a_headline_of_the_same_story_over_the_bar(make_item, weight, same_story_joins):
    first = make_item("Apple unveils new iPhone in Cupertino", minutes=0, url="https://a.example/apple-iphone-launch")
    first.embedding = unit_vector(3)
    with override_settings(PIPELINE_TOPIC_JOIN_THRESHOLD=0.97, PIPELINE_TOPIC_LEXICAL_WEIGHT=weight):
        _assign([first])
        same = make_item("Crowds queue for new iPhone", minutes=5, url="https://b.example/apple-iphone-queues")
        same.embedding = unit_vector(3, noise=0.02, seed=4)  # cosine ≈ 0.93 to the first
        look_alike = make_item("Samsung sues Nokia over patents", minutes=6, url="https://c.example/samsung-nokia")
        look_alike.embedding = unit_vector(3, noise=0.02, seed=5)  # reads just as alike to the encoder
        _assign([same])
        _assign([look_alike])
    assert (same.topic_id == first.topic_id) is same_story_joins
    assert look_alike.topic_id not in {first.topic_id, same.topic_id}


@pytest.mark.django_db
def test_the_run_learns_word_weights_once_from_stored_items(make_item):
    item = make_item("Glacier melts", minutes=0)
    item.embedding = unit_vector(1)
    ctx = StageContext(as_of=T0)
    from apps.trends.pipeline.topics import topic_assign

    topic_assign([item], ctx)
    assert ctx.idf is not None and ctx.idf.count == Item.objects.count()
