"""The whole pipeline: real embeddings and database, run as the command, the task and the service."""

import csv
import io
import json
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from apps.core.advisory_lock import advisory_lock_ids
from apps.core.models import Event
from apps.plugins.models import Source
from apps.trends.models import Category, Item, PipelineRun, Topic, Trend, TrendSnapshot
from apps.trends.pipeline.lock import PIPELINE_LOCK
from apps.trends.pipeline.runner import PipelineAlreadyRunning, pipeline_run
from apps.trends.tasks import pipeline_run_task
from tests.clustering_metrics import bcubed

from .conftest import T0, uci_rows

LOCK_IDS = list(advisory_lock_ids(PIPELINE_LOCK))

F1_FLOOR = 0.80  # a regression guard on 500 rows; the target (0.90) is measured by the benchmark


def _state() -> dict:
    """Everything a re-run could change."""
    return {
        "items": list(
            Item.objects.order_by("pk").values_list(
                "pk", "topic_id", "duplicate_of_id", "category_id", "language", "processed_at"
            )
        ),
        "topics": list(
            Topic.objects.order_by("pk").values_list("pk", "item_count", "is_active", "merged_into_id", "keywords")
        ),
        "trends": list(
            Trend.objects.order_by("pk").values_list("pk", "state", "score", "title", "key_points", "state_changed_at")
        ),
        "snapshots": TrendSnapshot.objects.count(),
        "events": Event.objects.count(),
    }


@pytest.fixture
def uci_items(db):
    rows = uci_rows(500)
    source = Source.objects.create(name="uci", kind="file")
    step = timedelta(hours=48) / len(rows)
    Item.objects.bulk_create(
        [
            Item(source=source, external_id=r["ID"], title=r["TITLE"], url=r["URL"], published_at=T0 + k * step)
            for k, r in enumerate(rows)
        ]
    )
    return rows


@pytest.mark.django_db
def test_uci_sample_clusters_stories_above_the_floor_and_rerun_changes_nothing(uci_items):
    as_of = (T0 + timedelta(hours=48)).isoformat()
    out = io.StringIO()
    call_command("run_pipeline", "--as-of", as_of, stdout=out)
    assert out.getvalue().startswith("Done! full: 500 items")
    topics = dict(Item.objects.values_list("external_id", "topic_id"))
    precision, recall, f1 = bcubed([topics[r["ID"]] for r in uci_items], [r["STORY"] for r in uci_items])
    assert f1 >= F1_FLOOR, (precision, recall, f1)
    assert Trend.objects.exists() and Event.objects.filter(kind=Event.Kind.TREND_CREATED).exists()
    run = PipelineRun.objects.latest("started_at")
    assert run.status == PipelineRun.Status.SUCCESS and run.item_count == 500
    assert {"normalise", "embed", "topic_assign", "rank", "lifecycle", "describe"} <= set(run.stats["stages"])

    before = _state()
    call_command("run_pipeline", "--as-of", as_of, stdout=io.StringIO())
    assert _state() == before


@pytest.mark.django_db
def test_items_export_has_the_contract_columns_in_csv_and_jsonl(make_item):
    original = make_item("Chrysler recalls 37,000 vehicles", minutes=0, external_id="orig")
    make_item("Chrysler recalls 37,000 vehicles", minutes=1, external_id="dup")
    pipeline_run(workflow="process_only")
    out = io.StringIO()
    call_command("export_items", "--format", "csv", stdout=out, stderr=io.StringIO())
    rows = {r["external_id"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert list(rows["dup"]) == [
        "external_id",
        "source",
        "title",
        "topic_id",
        "trend_id",
        "category",
        "language",
        "duplicate_of",
        "url",
        "published_at",
    ]
    assert rows["dup"]["duplicate_of"] == "orig" and rows["orig"]["duplicate_of"] == ""
    assert rows["dup"]["topic_id"] == rows["orig"]["topic_id"] == str(Item.objects.get(pk=original.pk).topic_id)
    assert rows["orig"]["source"] == "wire" and rows["orig"]["language"] == "en"
    out = io.StringIO()
    call_command("export_items", "--format", "jsonl", "--source", "wire", stdout=out, stderr=io.StringIO())
    assert len(out.getvalue().splitlines()) == 2


@pytest.mark.django_db
def test_trends_export(make_item, tmp_path):
    for k in range(4):
        make_item(f"Apple unveils new iPhone with bigger screen, report {k}", minutes=k)
    pipeline_run(workflow="full", as_of=T0 + timedelta(hours=1))
    target = tmp_path / "trends.jsonl"
    call_command("export_trends", "--format", "jsonl", "--output", str(target), stderr=io.StringIO())
    (row,) = [json.loads(line) for line in target.read_text().splitlines()]
    assert row["item_count"] == 4 and row["state"] in Trend.State.values and row["category"]
    assert set(row) >= {"trend_id", "topic_id", "title", "score", "velocity", "source_count", "state_changed_at"}


@pytest.mark.django_db
def test_describe_gives_title_keywords_diverse_key_points_and_category(make_item):
    titles = [
        "Wall Street closes lower as tech stocks slide",
        "Stocks fall on Wall Street, Nasdaq drops 2%",
        "Wall Street ends lower; tech shares weigh",
        "US stocks retreat as investors sell technology shares",
        "Dow and S&P 500 close down on Wall Street",
        "Wall Street slides for a third day as tech sells off",
    ]
    for k, title in enumerate(titles):
        make_item(title, minutes=k)
    pipeline_run(workflow="process_only")
    trend = Trend.objects.get()
    assert trend.title in titles
    assert trend.summary == f"{trend.title}."  # a sentence, not the keyword list
    assert trend.topic.headlines[0] == trend.title and len(trend.topic.headlines) == 3
    assert 3 <= len(trend.key_points) <= 5 and len(set(trend.key_points)) == len(trend.key_points)
    assert "wall" in trend.topic.keywords and "street" in trend.topic.keywords
    assert trend.category == Category.objects.get(name="Business")
    assert set(Item.objects.values_list("category__name", flat=True)) == {"Business"}


@pytest.mark.django_db
def test_bad_input_is_processed(make_item):
    bad = [
        make_item("", text="A body without a title about the election", minutes=0),
        make_item("Huge", text="lorem ipsum dolor " * 300_000, minutes=1),  # ~5 MB
        make_item(b"Caf\xe9 \xff prices rise".decode("utf-8", "replace"), minutes=2),
        make_item("Rocket launch 🚀🔥 tonight", minutes=3),
        make_item("東京で大規模な地震が発生", minutes=4),
        make_item("זלזל: רעידת אדמה חזקה בצפון", minutes=5),
        make_item("Story without a time", minutes=None),
    ]
    pipeline_run(workflow="process_only")
    for item in Item.objects.filter(pk__in=[i.pk for i in bad]):
        assert item.processed_at and item.topic_id and item.embedding is not None, item.title
    assert Item.objects.get(pk=bad[0].pk).title.startswith("A body")
    assert len(Item.objects.get(pk=bad[1].pk).text) <= 20_000
    assert Item.objects.get(pk=bad[4].pk).language == "ja"
    assert Item.objects.get(pk=bad[5].pk).language == "he"


@pytest.mark.django_db
def test_replay_processes_only_items_published_up_to_as_of(make_item):
    early = make_item("Early headline about markets", minutes=0)
    late = make_item("Late headline about football", minutes=120)
    untimed = make_item("Headline without a time", minutes=None)
    run = pipeline_run(workflow="process_only", as_of=T0 + timedelta(minutes=60))
    assert run.item_count == 1 and run.as_of == T0 + timedelta(minutes=60)
    processed = set(Item.objects.filter(processed_at__isnull=False).values_list("pk", flat=True))
    assert processed == {early.pk}
    pipeline_run(workflow="process_only")
    assert Item.objects.filter(processed_at__isnull=True).count() == 0 and late.pk and untimed.pk


@pytest.mark.django_db(transaction=True)
def test_a_second_run_exits_already_running(make_item):
    make_item("Something happened", minutes=0)
    held, release = threading.Event(), threading.Event()

    def hold_lock():
        with connections["default"].cursor() as cursor:  # a separate connection in this thread
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", LOCK_IDS)
            held.set()
            release.wait(30)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", LOCK_IDS)
        connections["default"].close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert held.wait(30)
        with pytest.raises(PipelineAlreadyRunning):
            pipeline_run(workflow="process_only")
        with pytest.raises(CommandError, match="Already running"):
            call_command("run_pipeline", "--workflow", "process_only", stdout=io.StringIO())
        assert pipeline_run_task("process_only") == "process_only: already running"
        assert PipelineRun.objects.filter(status=PipelineRun.Status.SKIPPED).count() == 3
        assert Item.objects.filter(processed_at__isnull=True).count() == 1
    finally:
        release.set()
        holder.join()
    assert pipeline_run(workflow="process_only").item_count == 1
    with connection.cursor() as cursor:  # the run released its lock
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_IDS)
        assert cursor.fetchone()[0]
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", LOCK_IDS)


@pytest.mark.django_db
def test_collect_only_touches_no_items_and_the_task_reports(make_item):
    make_item("Waiting", minutes=0)
    assert pipeline_run(workflow="collect_only").status == PipelineRun.Status.SUCCESS
    assert Item.objects.filter(processed_at__isnull=True).count() == 1
    assert pipeline_run_task("process_only").startswith("process_only: 1 items")


@pytest.mark.django_db
def test_bad_arguments_say_what_to_do():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("run_pipeline", "--as-of", "yesterday")
    with pytest.raises(ValueError, match="choose one of"):
        pipeline_run(workflow="everything")


@pytest.mark.django_db
def test_describe_cleans_the_central_headline_into_the_summary(make_item):
    titles = [
        "UPDATE 1-Glaxo agrees to buy Novartis vaccines unit for $7 billion - Reuters",
        "Glaxo to buy Novartis vaccines business in $7 billion deal - Reuters",
        "GlaxoSmithKline buys Novartis vaccines unit for $7bn | BBC News",
        "Novartis sells vaccines arm to Glaxo for $7 billion",
    ]
    for k, title in enumerate(titles):
        make_item(title, minutes=k)
    pipeline_run(workflow="process_only")
    trend = Trend.objects.get()
    assert "Reuters" not in trend.summary and "UPDATE" not in trend.summary and "BBC" not in trend.summary
    assert trend.summary.endswith(".") and "," not in trend.summary
    assert not any("Reuters" in point or "UPDATE" in point for point in trend.key_points)
    assert "Reuters" not in " ".join(trend.topic.headlines)
