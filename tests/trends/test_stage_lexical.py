import numpy as np
import pytest
from django.test import override_settings

from apps.trends.models import Item, Topic
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
@pytest.mark.parametrize(("weight", "joins"), [(0.0, True), (0.5, False)])
def test_word_overlap_keeps_look_alike_headlines_of_other_stories_apart(make_item, weight, joins):
    first = make_item("Apple unveils new iPhone in Cupertino", minutes=0, url="https://a.example/apple-iphone-launch")
    first.embedding = unit_vector(3)
    with override_settings(PIPELINE_TOPIC_JOIN_THRESHOLD=0.55, PIPELINE_TOPIC_LEXICAL_WEIGHT=weight):
        _assign([first])
        other = make_item("Samsung sues Nokia over patents", minutes=5, url="https://b.example/samsung-nokia-suit")
        other.embedding = unit_vector(3, noise=0.02, seed=4)  # reads alike to the encoder: cosine ≈ 0.93
        _assign([other])
    assert (other.topic_id == first.topic_id) is joins
    assert Topic.objects.get(pk=first.topic_id).lexical is not None


@pytest.mark.django_db
def test_the_run_learns_word_weights_once_from_stored_items(make_item):
    item = make_item("Glacier melts", minutes=0)
    item.embedding = unit_vector(1)
    ctx = StageContext(as_of=T0)
    from apps.trends.pipeline.topics import topic_assign

    topic_assign([item], ctx)
    assert ctx.idf is not None and ctx.idf.count == Item.objects.count()
