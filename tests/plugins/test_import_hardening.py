"""import_items on hostile and unusual files: clear messages naming file, line and column; good lines kept;
a non-zero exit when nothing could be read; a CollectionRun for every import."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.plugins.models import CollectionRun, Source
from apps.trends.models import Item
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db
MAPPING = '{"external_id": "id", "title": "headline"}'


def _import(path, *extra, source="imp"):
    out, err = StringIO(), StringIO()
    call_command("import_items", str(path), "--source", source, *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_jsonl_with_broken_lines_keeps_the_good_ones_and_reports_each_bad_one(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"id": "1", "headline": "First"}\n'
        b'{"id": "2", "headline": \n'
        b"[1, 2]\n"
        b'{"id": "3", "headline": "caf\xe9 latte"}\n'
        b'{"id": "4", "headline": "Fourth"}\n'
    )
    out, err = _import(path, "--mapping", MAPPING)
    assert "imported 2, updated 0, skipped 3 (3 unreadable line)" in out
    assert "mixed.jsonl, line 2, column 25: malformed JSON (Expecting value)" in err
    assert "mixed.jsonl, line 3, column 1: not a JSON object (got list)" in err
    assert "mixed.jsonl, line 4, column 29: not valid utf-8 (byte 0xe9)" in err
    assert sorted(Item.objects.values_list("external_id", flat=True)) == ["1", "4"]
    run = CollectionRun.objects.get(source__name="imp")
    assert (run.trigger, run.status, run.fetched_count, run.new_count, run.skipped_count) == (
        "import",
        "success",
        2,
        2,
        3,
    )
    assert "line 2, column 25" in run.error
    assert run.details["files"]["mixed.jsonl"]["bad_lines"] == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty.csv is empty; expected CSV or JSONL"),
        ("blank.jsonl", b"\n\n  \n", "blank.jsonl is empty"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "image.csv looks binary"),
        ("other.csv", b"name,text\nx,y\n", "other.csv, line 1: the header has no column 'id' or 'headline'"),
        ("broken.jsonl", b"{nope\n[]\n", "Nothing was imported from"),
    ],
)
def test_unreadable_files_exit_1_with_a_message_and_a_failed_run(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match=re.escape(message)) as raised:
        _import(path, "--mapping", MAPPING)
    assert raised.value.returncode == 1
    run = CollectionRun.objects.get(source__name="imp")
    assert run.status == CollectionRun.Status.FAILED and run.trigger == "import" and run.error
    assert not Item.objects.exists()


def test_invalid_utf8_in_a_csv_names_line_and_column_and_keeps_the_rest(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"id,headline\n1,Plain\n2,Cr\xe8me br\xfbl\xe9e\n3,Also plain\n")
    out, err = _import(path, "--mapping", MAPPING)
    assert "imported 2" in out and "latin.csv, line 3, column 5: not valid utf-8 (byte 0xe8)" in err


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("[1, 2]", "--mapping must be a JSON object, got list"),
        ('{"external_id": "id", "title": ["headline"]}', "'mapping' of 'title' must be a column name"),
        ('{"external_id": "id", "titel": "headline"}', "unknown item field 'titel'"),
        ("[" * 5000, "--mapping is not valid JSON"),
    ],
)
def test_a_wrong_mapping_is_a_clear_error_and_creates_nothing(tmp_path, mapping, message):
    path = tmp_path / "ok.csv"
    path.write_text("id,headline\n1,One\n")
    with pytest.raises(CommandError, match=re.escape(message)):
        _import(path, "--mapping", mapping)
    assert not Source.objects.exists()


def test_import_into_a_source_of_another_kind_is_refused(tmp_path):
    feeds = SourceFactory(name="news", kind="rss")
    path = tmp_path / "ok.csv"
    path.write_text("id,headline\n1,One\n")
    with pytest.raises(CommandError, match="Source 'news' is a rss source; import into a file source"):
        _import(path, "--mapping", MAPPING, source="news")
    feeds.refresh_from_db()
    assert feeds.kind == "rss" and not Item.objects.exists() and not CollectionRun.objects.exists()


def test_a_file_source_reports_bad_lines_in_its_run(tmp_path, settings):
    settings.TRENDSITE_IMPORT_DIRS = [str(tmp_path)]
    path = tmp_path / "feed.jsonl"
    path.write_text('{"id": "1", "headline": "One"}\nnot json\n')
    from apps.plugins.services import source_collect

    source = SourceFactory(
        kind="file",
        config={"path": str(path), "format": "jsonl", "mapping": {"external_id": "id", "title": "headline"}},
    )
    run = source_collect(source=source)
    assert (run.status, run.new_count, run.skip_reasons) == ("success", 1, {"unreadable line": 1})
    assert "feed.jsonl, line 2, column 1: malformed JSON" in run.error
