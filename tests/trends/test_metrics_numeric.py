"""Counts in Item.metrics are stored as JSON numbers; what is not a number stays text and is reported."""

import pytest

from apps.plugins.services import source_collect
from apps.trends.ingest import ItemDraft, items_ingest
from apps.trends.metrics import count_parse
from apps.trends.models import Item
from tests.plugins.factories import SourceFactory


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1234", 1234),
        ("1,234", 1234),
        ("1,234,567", 1234567),
        ("1 234", 1234),
        ("12.5", 12.5),
        ("2.5K", 2500),
        ("3M+", 3_000_000),
        ("200,000+", 200_000),
        (" 7 ", 7),
        ("-4", -4),
        (42, 42),
        (1.5, 1.5),
    ],
)
def test_counts_parse(text, number):
    assert count_parse(text) == number


@pytest.mark.parametrize("text", ["1,5", "many", "", "1.2.3", "12abc", True, None, float("nan"), [1]])
def test_what_is_not_a_count_is_not_guessed(text):
    assert count_parse(text) is None


@pytest.mark.django_db
def test_ingest_stores_counts_as_numbers_and_keeps_the_rest_as_text():
    source = SourceFactory()
    drafts = [
        ItemDraft(external_id="a", title="A", metrics={"points": "1,234", "comments": "56", "views": "2.5K"}),
        ItemDraft(external_id="b", title="B", metrics={"views": "lots", "hostname": "e.example", "story": "123"}),
    ]
    result = items_ingest(source_id=source.pk, drafts=drafts)
    assert Item.objects.get(external_id="a").metrics == {"points": 1234, "comments": 56, "views": 2500}
    assert Item.objects.get(external_id="b").metrics == {"views": "lots", "hostname": "e.example", "story": "123"}
    assert result.unparsed_metrics == {"views": 1}
    assert Item.objects.filter(metrics__points__gt=1000).count() == 1  # a numeric comparison in the database


@pytest.mark.django_db
def test_a_run_reports_the_metrics_kept_as_text(tmp_path, settings):
    settings.TRENDSITE_IMPORT_DIRS = [str(tmp_path)]
    path = tmp_path / "m.csv"
    path.write_text('id,title,views\n1,One,"1,234"\n2,Two,n/a\n')
    config = {"path": str(path), "mapping": {"external_id": "id", "title": "title", "metrics": ["views"]}}
    run = source_collect(source=SourceFactory(kind="file", config=config))
    assert run.status == "success" and run.new_count == 2
    assert Item.objects.get(external_id="1").metrics == {"views": 1234}
    assert run.details["metrics_kept_as_text"] == {"views": 1}
    assert "metrics kept as text, not numbers: 'views' in 1 item(s)" in run.error
