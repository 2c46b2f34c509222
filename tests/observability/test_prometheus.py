"""The shipped Prometheus rules and Grafana dashboard, checked by Prometheus' own tools and a real scrape.

Debian's ``prometheus`` package (``make observability``, part of ``make install``) provides both binaries; where
it is not installed these tests skip and say so.
"""

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client import Counter, Histogram

from apps.core.liveness import worker_heartbeat_record
from apps.trends.models import PipelineRun, Topic, Trend

OBSERVABILITY = Path(__file__).resolve().parents[2] / "docker" / "observability"
RULES = OBSERVABILITY / "trendsite.rules.yml"
DASHBOARD = OBSERVABILITY / "grafana-dashboard.json"
METRIC_NAME = re.compile(r"\b((?:trendsite|django)_[a-z_]+)\b")
SUFFIXES = ("_bucket", "_count", "_sum")

needs_promtool = pytest.mark.skipif(
    not shutil.which("promtool"), reason="promtool not installed (Debian package prometheus: make observability)"
)
needs_prometheus = pytest.mark.skipif(
    not shutil.which("prometheus"), reason="prometheus not installed (Debian package prometheus: make observability)"
)


@needs_promtool
def test_promtool_accepts_the_rules():
    result = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout


@needs_promtool
def test_rules_fire_on_the_series_they_watch():
    """promtool's unit tests (trendsite.rules.test.yml): a failing source, a silent worker, failed deliveries."""
    command = ["promtool", "test", "rules", "trendsite.rules.test.yml"]
    result = subprocess.run(command, cwd=OBSERVABILITY, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def _referenced_names() -> set[str]:
    exprs = [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]]
    exprs.append(RULES.read_text())
    names = {name for expr in exprs for name in METRIC_NAME.findall(expr)}
    return {next((name.removesuffix(s) for s in SUFFIXES if name.endswith(s)), name) for name in names}


@pytest.mark.django_db
def test_every_metric_the_rules_and_dashboard_name_is_on_the_page(staff_client, settings):
    from django.core.cache import cache

    settings.METRICS_STATE_CACHE_SECONDS = 0  # not the figures an earlier test's scrape left cached
    from apps.core import domain_metrics

    worker_heartbeat_record()
    now = timezone.now()
    PipelineRun.objects.create(
        workflow="full", status="success", started_at=now - timedelta(seconds=10), finished_at=now, item_count=5
    )
    cache.set("warm-the-cache-metrics", 1)
    cache.get("warm-the-cache-metrics")
    staff_client.get("/healthz")
    page = staff_client.get("/metrics").content.decode()

    present = set(re.findall(r"^# TYPE (\S+)", page, flags=re.M))
    # A labelled counter has no series before its first increment (tests/observability/test_domain_metrics.py
    # shows each one counting); what it is declared as is what Prometheus will see.
    declared = [m for m in vars(domain_metrics).values() if isinstance(m, Counter | Histogram)]
    present |= {family.name for metric in declared for family in metric.describe()}
    present |= {name.removesuffix("_total") for name in present}
    referenced = _referenced_names()
    assert {"trendsite_pipeline_lag_seconds", "trendsite_alerts_failed_total"} <= referenced
    missing = {name for name in referenced if name not in present and name.removesuffix("_total") not in present}
    assert not missing, f"named by rules or dashboard but not exported: {sorted(missing)}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _query(port: int, promql: str) -> list:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


@needs_prometheus
@pytest.mark.django_db(transaction=True)
def test_real_prometheus_scrapes_a_domain_metric(live_server, settings, tmp_path):
    settings.METRICS_TOKEN = "prometheus-test-token"
    for _ in range(3):
        Trend.objects.create(topic=Topic.objects.create(), title="viral", state="viral")
    target = urllib.parse.urlsplit(live_server.url).netloc
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: trendsite-web\n"
        "    metrics_path: /metrics\n"
        "    authorization: {type: Bearer, credentials: prometheus-test-token}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    port = _free_port()
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    try:
        deadline, result = time.monotonic() + 60, []
        while time.monotonic() < deadline and not result:
            time.sleep(1)
            try:
                result = _query(port, 'trendsite_trends{state="viral"}')
            except OSError:
                continue
        assert result, "no scrape within 60 s:\n" + (tmp_path / "prometheus.log").read_text()[-2000:]
        assert float(result[0]["value"][1]) == 3
        assert _query(port, 'up{job="trendsite-web"}')[0]["value"][1] == "1"
    finally:
        process.terminate()
        process.wait(timeout=30)
