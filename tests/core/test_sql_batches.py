"""Batched SQL deletes apply every on_delete rule themselves (apps/core/sql_batches.py)."""

import pytest

from apps.core.sql_batches import rows_delete_batched
from apps.plugins.models import CollectionRun, PluginHealth, Source
from apps.trends.models import Item

pytestmark = pytest.mark.django_db(transaction=True)


def test_protected_rows_stay_and_cascades_follow_in_batches():
    used, unused = Source.objects.create(name="used", kind="rss"), Source.objects.create(name="unused", kind="rss")
    Item.objects.create(source=used, external_id="1", title="keeps its source")  # Item.source is PROTECT
    for source in (used, unused):
        PluginHealth.objects.get_or_create(source=source)
        CollectionRun.objects.create(source=source, started_at=source.created_at)
    batches = []
    deleted = rows_delete_batched(queryset=Source.objects.all(), batch_size=1, done=batches.append)
    assert deleted == 1 and batches == [1]
    assert list(Source.objects.values_list("name", flat=True)) == ["used"]
    assert list(CollectionRun.objects.values_list("source__name", flat=True)) == ["used"]
    assert list(PluginHealth.objects.values_list("source__name", flat=True)) == ["used"]


def test_many_batches_delete_everything_selected():
    source = Source.objects.create(name="s", kind="rss")
    Item.objects.bulk_create(Item(source=source, external_id=str(n), title="t") for n in range(25))
    batches = []
    assert rows_delete_batched(queryset=Item.objects.all(), batch_size=10, done=batches.append) == 25
    assert batches == [10, 10, 5] and not Item.objects.exists()


def test_deleting_topics_cascades_to_their_trends_and_snapshots_and_releases_merges():
    from django.utils import timezone

    from apps.trends.models import Topic, Trend, TrendSnapshot

    gone, kept = Topic.objects.create(), Topic.objects.create()
    Topic.objects.filter(pk=kept.pk).update(merged_into=gone)
    trend = Trend.objects.create(topic=gone, title="t")
    TrendSnapshot.objects.create(trend=trend, taken_at=timezone.now(), score=1, item_count=1, velocity=1)
    assert rows_delete_batched(queryset=Topic.objects.filter(pk=gone.pk), batch_size=10) == 1
    assert not Trend.objects.exists() and not TrendSnapshot.objects.exists()
    assert Topic.objects.get(pk=kept.pk).merged_into_id is None
