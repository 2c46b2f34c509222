import io

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from apps.trends.embeddings import DIMENSIONS, embedding_model_name, texts_embed
from apps.trends.models import Category, Item, Topic
from apps.trends.pipeline.runner import pipeline_run
from apps.trends.reembed import embedding_columns_resize, embedding_dimensions_stored, items_reembed

from .conftest import T0, unit_vector


class _Interrupted(Exception):
    pass


def _stale_items(make_item, count: int) -> tuple[Topic, list[Item]]:
    """Processed items embedded by a model we no longer use (one without any vector), all in one topic."""
    topic = Topic.objects.create(centroid=unit_vector(5), item_count=count, last_item_at=T0)
    items = [
        make_item(
            f"Central bank raises rates, part {k}",
            minutes=k,
            topic=topic,
            processed_at=T0,
            embedding=unit_vector(k) if k else None,
            embedding_model="old-model" if k else "",
        )
        for k in range(count)
    ]
    return topic, items


@pytest.mark.django_db
def test_reembed_after_a_model_change_leaves_no_item_without_a_vector(make_item):
    topic, items = _stale_items(make_item, 5)
    unprocessed = make_item("Not processed yet", minutes=9)
    Category.objects.update(embedding=unit_vector(1))
    out = io.StringIO()
    call_command("reembed", batch_size=2, stdout=out)
    assert "Re-embedded 5 items" in out.getvalue()
    rebuilt = list(Item.objects.filter(pk__in=[i.pk for i in items]).order_by("pk"))
    assert all(i.embedding is not None and i.embedding_model == embedding_model_name() for i in rebuilt)
    expected = texts_embed([i.title for i in rebuilt])
    assert np.allclose(np.stack([np.asarray(i.embedding) for i in rebuilt]), expected, atol=1e-5)
    centroid = np.asarray(Topic.objects.get(pk=topic.pk).centroid)
    assert np.allclose(centroid, expected.mean(axis=0), atol=1e-5)
    assert not Category.objects.filter(embedding__isnull=False).exists()  # prototypes follow on next use
    assert Item.objects.get(pk=unprocessed.pk).embedding is None  # the pipeline embeds it when it comes
    call_command("reembed", stdout=(again := io.StringIO()))
    assert "Re-embedded 0 items" in again.getvalue()


@pytest.mark.django_db
def test_an_interrupted_reembed_continues_where_it_stopped(make_item):
    _stale_items(make_item, 5)

    def stop_after_first_batch(done: int, total: int) -> None:
        raise _Interrupted

    with pytest.raises(_Interrupted):
        items_reembed(batch_size=2, progress=stop_after_first_batch)
    current = embedding_model_name()
    assert Item.objects.filter(embedding_model=current).count() == 2  # the first batch is committed
    seen: list[tuple[int, int]] = []
    assert items_reembed(batch_size=2, progress=lambda done, total: seen.append((done, total))) == 3
    assert seen[-1] == (3, 3)
    assert Item.objects.filter(embedding_model=current).count() == 5


@pytest.mark.django_db
def test_resizing_the_vector_columns_empties_them_for_the_new_model(make_item):
    _, items = _stale_items(make_item, 2)
    assert embedding_dimensions_stored() == DIMENSIONS
    embedding_columns_resize(dimensions=8)
    assert embedding_dimensions_stored() == 8
    item = Item.objects.get(pk=items[1].pk)
    assert (item.embedding, item.embedding_model) == (None, "")
    item.embedding = np.ones(8) / np.sqrt(8)
    item.save(update_fields=["embedding"])  # the column now takes the new model's vectors
    assert len(Item.objects.get(pk=item.pk).embedding) == 8


@pytest.mark.django_db
def test_the_pipeline_refuses_vectors_the_columns_cannot_hold(make_item):
    make_item("Anything")
    embedding_columns_resize(dimensions=8)
    with pytest.raises(ImproperlyConfigured, match=r"run `manage\.py reembed`"):
        pipeline_run(workflow="process_only")


def test_an_unknown_model_is_a_configuration_error_naming_the_choices():
    from apps.trends.embeddings import model_spec

    with override_settings(EMBEDDING_MODEL="bert-huge"), pytest.raises(ImproperlyConfigured, match="all-mpnet-base-v2"):
        model_spec()
