"""The data model the apps share: constraints and indexes that every later feature relies on."""

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import IntegrityError, connection

from apps.plugins.models import Source
from apps.trends.models import Item

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return Source.objects.create(name="demo", kind=Source.Kind.RSS)


def test_item_is_unique_per_source_and_external_id(source):
    Item.objects.create(source=source, external_id="a", title="First")
    with pytest.raises(IntegrityError):
        Item.objects.create(source=source, external_id="a", title="Again")


def test_item_full_text_vector_is_generated_from_title_and_text(source):
    Item.objects.create(source=source, external_id="1", title="Volcano erupts in Iceland", text="Flights cancelled")
    Item.objects.create(source=source, external_id="2", title="Markets rally", text="Stocks climb")
    found = Item.objects.filter(search_vector=SearchQuery("flight", config="english"))
    assert [i.external_id for i in found] == ["1"]


def test_vector_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%%hnsw'")
        indexes = dict(cursor.fetchall())
    assert "vector_cosine_ops" in indexes["item_embedding_hnsw"]
    assert "vector_cosine_ops" in indexes["topic_centroid_hnsw"]
