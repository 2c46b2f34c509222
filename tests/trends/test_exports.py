"""Exports: a missing source or output directory is a message, rows carry url and published_at, and cells a
spreadsheet would evaluate are neutralised."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from apps.trends.exports import cell_safe
from apps.trends.pipeline.runner import pipeline_run
from tests.trends.conftest import T0

pytestmark = pytest.mark.django_db


def test_export_items_of_an_unknown_source_exits_1():
    with pytest.raises(CommandError, match="No source named 'NOSUCH'") as raised:
        call_command("export_items", "--source", "NOSUCH", stdout=io.StringIO(), stderr=io.StringIO())
    assert raised.value.returncode == 1


@pytest.mark.parametrize("command", ["export_items", "export_trends"])
def test_export_into_a_missing_directory_is_a_message(tmp_path, command):
    target = tmp_path / "no" / "such" / "dir" / "out.csv"
    with pytest.raises(CommandError, match=r"cannot write .*out\.csv: No such file or directory \(the directory"):
        call_command(command, "--output", str(target), stdout=io.StringIO(), stderr=io.StringIO())


def test_items_export_carries_url_and_published_at_and_neutralises_formulas(make_item):
    make_item('=HYPERLINK("http://evil.example","click")', minutes=0, external_id="f1", url="https://a.example/1")
    make_item("+1 stocks rally", minutes=1, external_id="f2")
    make_item("@SUM(A1:A9)", minutes=2, external_id="f3")
    make_item("\tTabbed", minutes=3, external_id="f4")
    make_item("-2 degrees in Oslo", minutes=4, external_id="f5")
    make_item("Plain title", minutes=5, external_id="f6")
    out = io.StringIO()
    call_command("export_items", "--format", "csv", stdout=out, stderr=io.StringIO())
    rows = {row["external_id"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows["f1"]["title"].startswith("'=HYPERLINK")
    assert [rows[k]["title"][:2] for k in ("f2", "f3", "f4", "f5")] == ["'+", "'@", "'\t", "'-"]
    assert rows["f6"]["title"] == "Plain title"
    assert rows["f1"]["url"] == "https://a.example/1" and rows["f1"]["published_at"] == T0.isoformat()

    out = io.StringIO()
    call_command("export_items", "--format", "jsonl", stdout=out, stderr=io.StringIO())
    first = json.loads(out.getvalue().splitlines()[0])
    assert first["title"].startswith("=HYPERLINK") and first["published_at"] == T0.isoformat()  # JSON is data


def test_trends_export_carries_the_representative_url_and_time(make_item):
    for k in range(4):
        make_item(f"Apple unveils new iPhone with bigger screen, report {k}", minutes=k, url=f"https://n.example/{k}")
    pipeline_run(workflow="full", as_of=T0 + timedelta(hours=1))
    out = io.StringIO()
    call_command("export_trends", "--format", "jsonl", stdout=out, stderr=io.StringIO())
    (row,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert row["url"].startswith("https://n.example/") and row["published_at"].startswith("2")


@pytest.mark.parametrize(
    ("value", "safe"), [("=1+1", "'=1+1"), ("\rX", "'\rX"), (-3.5, -3.5), (None, ""), ("a=b", "a=b"), (7, 7)]
)
def test_cell_safe(value, safe):
    assert cell_safe(value) == safe
