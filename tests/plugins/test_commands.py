"""collect, import_items, seed_demo_sources and bootstrap_local as an operator runs them."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.plugins.models import CollectionRun, Source
from apps.plugins.services import source_collect_lock
from apps.trends.models import Item
from tests.plugins.conftest import FIXTURES
from tests.plugins.factories import SourceFactory
from tests.shared_data import UCI_DEV, needs_shared_file

pytestmark = pytest.mark.django_db


def test_collect_named_sources_twice_creates_no_duplicates(serve):
    source = SourceFactory(name="bbc", config={"urls": [serve("/feed", "rss2_bbc.xml")]})
    out = StringIO()
    call_command("collect", "bbc", stdout=out)
    call_command("collect", "bbc", stdout=out)
    assert "bbc: success fetched=3 new=2 updated=0 skipped=1" in out.getvalue()
    assert "bbc: success fetched=3 new=0 updated=2 skipped=1" in out.getvalue()
    assert Item.objects.filter(source=source).count() == 2


def test_collect_dry_run_stores_nothing(serve):
    SourceFactory(name="bbc", config={"urls": [serve("/feed", "rss2_bbc.xml")]})
    out = StringIO()
    call_command("collect", "--all", "--dry-run", stdout=out)
    assert "bbc: would store fetched=3" in out.getvalue()
    assert not Item.objects.exists() and not CollectionRun.objects.exists()


def test_collect_needs_names_or_all():
    with pytest.raises(CommandError, match="Name one or more sources"):
        call_command("collect")
    with pytest.raises(CommandError, match="No source named nope"):
        call_command("collect", "nope")


def test_import_items_jsonl_with_summary():
    out, err = StringIO(), StringIO()
    call_command(
        "import_items",
        str(FIXTURES / "items.jsonl"),
        "--source",
        "imported",
        "--mapping",
        '{"external_id": "id", "title": "headline", "published_at": "when"}',
        stdout=out,
        stderr=err,
    )
    assert "imported 2, updated 0, skipped 1 (1 unreadable line)" in out.getvalue()
    assert "items.jsonl, line 2, column 41: malformed JSON (Expecting ',' delimiter)" in err.getvalue()
    assert "100%" in err.getvalue()
    source = Source.objects.get(name="imported")
    assert (source.kind, source.enabled) == ("file", False)


@needs_shared_file(UCI_DEV.name)
def test_import_items_uci_preset_twice_updates():
    out = StringIO()
    call_command("import_items", str(UCI_DEV), "--source", "uci", "--preset", "uci", stdout=out, stderr=StringIO())
    call_command("import_items", str(UCI_DEV), "--source", "uci", "--preset", "uci", stdout=out, stderr=StringIO())
    assert "imported 2,844, updated 0, skipped 0." in out.getvalue()
    assert "imported 0, updated 2,844, skipped 0." in out.getvalue()


def test_import_items_without_mapping_is_a_clear_error():
    with pytest.raises(CommandError, match="'mapping' must name the column for external_id and title"):
        call_command("import_items", str(FIXTURES / "custom.csv"), "--source", "x")


def test_bootstrap_local_seeds_offline_demo_sources_and_collects_them():
    out = StringIO()
    call_command("bootstrap_local", stdout=out)
    call_command("bootstrap_local", stdout=out)  # safe to run again
    demo = Source.objects.filter(kind="replay", name__startswith="demo-")
    assert demo.count() == 3 and all(source.enabled for source in demo)
    assert all(Item.objects.filter(source=source).exists() for source in demo)  # the replayed past, at once
    real = Source.objects.exclude(kind__in=["file", "replay"])
    assert real.count() == 6 and not real.filter(enabled=True).exists()
    assert all(source.periodic_task_id for source in Source.objects.all())


def test_collect_all_prints_a_line_per_source_and_a_summary_skipping_one_a_worker_holds(serve):
    SourceFactory(name="a-bbc", config={"urls": [serve("/bbc", "rss2_bbc.xml")]})
    SourceFactory(name="b-github", config={"urls": [serve("/github", "atom_github.xml")]})
    busy = SourceFactory(name="c-busy", config={"urls": [serve("/busy", "rss2_bbc.xml")]})
    SourceFactory(name="d-off", enabled=False)
    out = StringIO()

    with source_collect_lock(source_id=busy.pk):  # as a worker collecting it would
        call_command("collect", "--all", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["a-bbc", "b-github", "c-busy", "Done! 3 sources"]
    assert lines[2] == "c-busy: skipped (a worker is collecting it)"
    assert lines[-1] == "Done! 3 sources: 2 ok, 0 failed, 1 skipped."
    assert not CollectionRun.objects.filter(source=busy).exists()


def test_collect_exits_non_zero_when_a_named_source_fails(serve):
    SourceFactory(name="bad", config={"urls": [serve("/bad", b"<html>nope</html>", content_type="text/html")]})
    out = StringIO()
    with pytest.raises(CommandError, match="Failed: bad") as failed:
        call_command("collect", "bad", stdout=out)
    assert failed.value.returncode == 1 and "Done! 1 sources: 0 ok, 1 failed, 0 skipped." in out.getvalue()


def test_import_items_with_malformed_mapping_json_is_a_clear_error():
    with pytest.raises(CommandError, match="--mapping is not valid JSON"):
        call_command("import_items", str(FIXTURES / "custom.csv"), "--source", "x", "--mapping", "{id: 1")
    assert not Source.objects.filter(name="x").exists()


def test_import_items_in_chunks_adds_up_counts_and_skip_reasons(tmp_path, monkeypatch):
    from apps.plugins.management.commands import import_items

    monkeypatch.setattr(import_items, "CHUNK", 2)
    rows = ["ID,TITLE,URL,PUBLISHER,CATEGORY,STORY,HOSTNAME,TIMESTAMP"]
    rows += [f"{i},Title {i},https://e.example/{i},P,b,s,e.example,1394470371000" for i in range(1, 6)]
    rows += ["6,,https://e.example/6,P,b,s,e.example,1394470371000", ",No id,,P,b,s,e.example,1394470371000"]
    path = tmp_path / "chunks.csv"
    path.write_text("\n".join(rows) + "\n")
    out = StringIO()
    call_command("import_items", str(path), "--source", "chunks", "--preset", "uci", stdout=out, stderr=StringIO())
    assert "imported 5, updated 0, skipped 2 (1 no external id, 1 no title)." in out.getvalue()
