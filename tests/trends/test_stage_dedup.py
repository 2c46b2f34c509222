import pytest
from django.utils import timezone

from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.dedup import dedup_exact
from apps.trends.pipeline.normalise import normalise

from .conftest import T0


def _run(items):
    ctx = StageContext(as_of=T0)
    normalise(items, ctx)
    return dedup_exact(items, ctx)


@pytest.mark.django_db
def test_same_title_in_one_batch_points_at_the_first(make_item):
    first = make_item("Sbarro files for Chapter 11", minutes=0, url="https://a.example/1")
    second = make_item("Sbarro files for chapter 11!", minutes=5, url="https://b.example/2")
    assert _run([first, second]) == 1
    assert second.duplicate_of == first and first.duplicate_of is None


@pytest.mark.django_db
def test_same_canonical_url_is_a_duplicate_even_with_another_title(make_item):
    first = make_item("Headline one", minutes=0, url="https://a.example/story?utm_source=x")
    second = make_item("Headline, updated", minutes=5, url="https://a.example/story")
    _run([first, second])
    assert second.duplicate_of == first


@pytest.mark.django_db
def test_an_already_processed_original_is_found(make_item):
    original = make_item("Pimco's Gross pledges less control", minutes=0)
    _run([original])
    original.processed_at = timezone.now()
    original.save()
    later = make_item("Pimco's Gross pledges less control", minutes=60)
    _run([later])
    assert later.duplicate_of == original


@pytest.mark.django_db
def test_outside_the_window_it_is_not_a_duplicate(make_item, settings):
    settings.PIPELINE_DEDUP_WINDOW_HOURS = 1
    first = make_item("Same words", minutes=0)
    second = make_item("Same words", minutes=120)
    assert _run([first, second]) == 0
