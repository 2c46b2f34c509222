import pytest
from django.utils import timezone

from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.neardup import dedup_near

from .conftest import T0, unit_vector


@pytest.mark.django_db
def test_nearest_stored_item_above_threshold_is_the_original(make_item):
    stored = make_item("Stored", minutes=0, embedding=unit_vector(0), processed_at=timezone.now())
    make_item("Unrelated", minutes=0, embedding=unit_vector(5), processed_at=timezone.now())
    close = make_item("Close", minutes=10)
    close.embedding = unit_vector(0, noise=0.005, seed=1)
    far = make_item("Far", minutes=10)
    far.embedding = unit_vector(0, noise=0.1, seed=2)
    assert dedup_near([close, far], StageContext(as_of=T0)) == 1
    assert close.duplicate_of.pk == stored.pk and far.duplicate_of is None


@pytest.mark.django_db
def test_near_duplicates_inside_one_batch(make_item):
    first, second, other = (make_item(t, minutes=k) for k, t in enumerate(["a", "b", "c"]))
    first.embedding, second.embedding = unit_vector(1), unit_vector(1, noise=0.005, seed=3)
    other.embedding = unit_vector(2)
    assert dedup_near([first, second, other], StageContext(as_of=T0)) == 1
    assert second.duplicate_of is first


@pytest.mark.django_db
def test_a_duplicate_is_never_chosen_as_original(make_item):
    original = make_item("o", minutes=0, embedding=unit_vector(3), processed_at=timezone.now())
    make_item("d", minutes=1, embedding=unit_vector(3), processed_at=timezone.now(), duplicate_of=original)
    item = make_item("n", minutes=2)
    item.embedding = unit_vector(3)
    dedup_near([item], StageContext(as_of=T0))
    assert item.duplicate_of.pk == original.pk
