"""Counters of several processes on one host add up on /metrics (gunicorn workers, Celery pool processes)."""

import os
import subprocess
import sys

import pytest

from tests.observability.scrape import value
from trendsite.prometheus_dir import multiproc_dir_clean

pytestmark = pytest.mark.django_db

INCREMENT = (
    "import sys; from apps.core.domain_metrics import ITEMS_COLLECTED; "
    "ITEMS_COLLECTED.labels(source=sys.argv[2], kind='rss').inc(int(sys.argv[1]))"
)


def _other_process(amount: int, source: str = "elsewhere") -> None:
    command = [sys.executable, "-c", INCREMENT, str(amount), source]
    subprocess.run(command, check=True, env=os.environ.copy(), timeout=60)


def test_counters_of_other_processes_add_up(metrics_text):
    from apps.core.domain_metrics import ITEMS_COLLECTED

    before = value(metrics_text(), "trendsite_items_collected_total", source="elsewhere", kind="rss")
    _other_process(3)
    _other_process(4)
    ITEMS_COLLECTED.labels(source="elsewhere", kind="rss").inc(5)

    assert value(metrics_text(), "trendsite_items_collected_total", source="elsewhere", kind="rss") - before == 12


def test_clean_at_start_drops_files_of_exited_processes_only(metrics_text):
    from apps.core.domain_metrics import ITEMS_COLLECTED

    ITEMS_COLLECTED.labels(source="stays", kind="rss").inc(1)
    _other_process(7, source="exited")
    assert value(metrics_text(), "trendsite_items_collected_total", source="exited", kind="rss") == 7

    assert multiproc_dir_clean() >= 1

    text = metrics_text()
    assert value(text, "trendsite_items_collected_total", source="exited", kind="rss") == 0
    assert value(text, "trendsite_items_collected_total", source="stays", kind="rss") >= 1
