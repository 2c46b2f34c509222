"""items_ingest: upsert on (source, external_id), skips with reasons, plain text, truncation."""

from datetime import datetime

import pytest

from apps.trends.ingest import ItemDraft, items_ingest, text_plain
from apps.trends.models import Item
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db


def test_collect_twice_creates_no_duplicates_and_refreshes_metrics():
    source = SourceFactory()
    first = items_ingest(source_id=source.pk, drafts=[ItemDraft("1", "One", metrics={"points": 1})])
    before = Item.objects.get(source=source)

    second = items_ingest(source_id=source.pk, drafts=[ItemDraft("1", "One", metrics={"points": 9})])

    after = Item.objects.get(source=source)
    assert (first.new, first.updated, second.new, second.updated) == (1, 0, 0, 1)
    assert after.metrics == {"points": 9} and after.updated_at > before.updated_at
    assert after.collected_at == before.collected_at


def test_same_external_id_in_another_source_is_another_item():
    one, two = SourceFactory(), SourceFactory()
    items_ingest(source_id=one.pk, drafts=[ItemDraft("1", "One")])
    assert items_ingest(source_id=two.pk, drafts=[ItemDraft("1", "One")]).new == 1


def test_drafts_without_id_or_title_are_skipped_with_reasons():
    source = SourceFactory()
    result = items_ingest(
        source_id=source.pk,
        drafts=[
            ItemDraft("", "No id"),
            ItemDraft("2", "   "),
            ItemDraft("3", "<b></b>"),
            ItemDraft("4", "Fine"),
            ItemDraft("4", "Fine again"),
        ],
    )
    assert (result.new, result.skipped) == (1, 4)
    assert result.skip_reasons == {"no external id": 1, "no title": 2, "repeated in the same payload": 1}
    assert Item.objects.get(source=source).title == "Fine again"


def test_markup_is_stripped_and_entities_decoded():
    html = "<p>Caf&eacute; &amp; <b>bar</b></p><script>alert(1)</script><p>Second&nbsp;line</p>"
    assert text_plain(html) == "Café & bar\nSecond line"
    source = SourceFactory()
    items_ingest(source_id=source.pk, drafts=[ItemDraft("1", "<i>Big</i> &quot;news&quot;", text=html)])
    item = Item.objects.get(source=source)
    assert (item.title, item.text) == ('Big "news"', "Café & bar\nSecond line")


def test_long_titles_and_texts_are_truncated_not_rejected():
    source = SourceFactory()
    result = items_ingest(source_id=source.pk, drafts=[ItemDraft("1", "t" * 5000, text="é" * 200_000)])
    item = Item.objects.get(source=source)
    assert result.new == 1
    assert len(item.title) == 1000 and item.title.endswith("…")
    assert len(item.text.encode()) <= 100 * 1024


def test_naive_dates_are_taken_as_utc_and_bad_urls_dropped():
    source = SourceFactory()
    items_ingest(
        source_id=source.pk,
        drafts=[ItemDraft("1", "One", url="javascript:alert(1)", published_at=datetime(2024, 1, 2, 3, 4))],
    )
    item = Item.objects.get(source=source)
    assert item.url == "" and item.published_at.isoformat() == "2024-01-02T03:04:00+00:00"


def test_characters_postgresql_cannot_store_do_not_fail_the_batch():
    source = SourceFactory()
    undecodable = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    result = items_ingest(
        source_id=source.pk,
        drafts=[
            ItemDraft("1", "nul\x00in title", text=f"bell\x07 and {undecodable}"),
            ItemDraft("2", "A clean neighbour"),
        ],
    )
    assert result.new == 2
    item = Item.objects.get(source=source, external_id="1")
    assert item.title == "nulin title"
    assert "\x07" not in item.text and item.text.startswith("bell and caf")


def test_unclosed_angle_brackets_are_kept_as_text():
    assert text_plain("a < b and " + "<" * 100_000) == "a < b and " + "<" * 100_000
    assert text_plain("x <b>bold</b> < y") == "x bold < y"
