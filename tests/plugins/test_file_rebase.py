from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from apps.plugins.models import Source
from apps.plugins.services import source_collect

pytestmark = pytest.mark.django_db
DEMO = "apps/plugins/demo/news-history.csv"


def _spacing(items) -> list[timedelta]:
    stamps = sorted(item.published_at for item in items)
    return [b - a for a, b in pairwise(stamps)]


def test_rebase_to_now_moves_a_history_to_end_now_keeping_its_shape():
    plain = Source.objects.create(name="plain", kind=Source.Kind.FILE, config={"path": DEMO, "preset": "uci"})
    rebased = Source.objects.create(
        name="rebased", kind=Source.Kind.FILE, config={"path": DEMO, "preset": "uci", "rebase_to_now": True}
    )
    source_collect(source=plain, trigger="test")
    source_collect(source=rebased, trigger="test")
    newest = rebased.items.order_by("-published_at").first().published_at
    assert abs(timezone.now() - newest) < timedelta(minutes=1)
    assert plain.items.order_by("-published_at").first().published_at < newest - timedelta(days=365)
    assert _spacing(rebased.items.all()) == _spacing(plain.items.all())


def test_collecting_a_rebased_file_again_does_not_move_stored_items():
    source = Source.objects.create(
        name="rebased", kind=Source.Kind.FILE, config={"path": DEMO, "preset": "uci", "rebase_to_now": True}
    )
    source_collect(source=source, trigger="test")
    before = dict(source.items.values_list("external_id", "published_at"))
    source.refresh_from_db()
    source_collect(source=source, trigger="test", force=True)
    assert dict(source.items.values_list("external_id", "published_at")) == before
