"""Under real gunicorn with two worker processes, /metrics counts every request, whichever worker answered it."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.observability.scrape import samples

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@pytest.fixture
def gunicorn_url(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "1",
        "SEARCH_EMBEDDING_WARM": "0",
        "METRICS_TOKEN": "gunicorn-token",
        "DJANGO_SETTINGS_MODULE": "trendsite.settings.test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    command = [sys.executable, "-m", "gunicorn", "trendsite.wsgi", "--config", "python:trendsite.gunicorn_conf"]
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _get(f"{url}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("gunicorn did not answer:\n" + (tmp_path / "gunicorn.log").read_text()[-2000:])
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_requests_of_both_gunicorn_workers_add_up(gunicorn_url):
    assert _get(f"{gunicorn_url}/metrics")[0] == 401
    for _ in range(20):
        assert _get(f"{gunicorn_url}/healthz")[0] == 200
    status, text = _get(f"{gunicorn_url}/metrics", token="gunicorn-token")
    assert status == 200
    healthz = [
        v
        for (name, labels), v in samples(text).items()
        if name == "django_http_requests_total_by_view_transport_method_total" and ("view", "healthz") in labels
    ]
    assert sum(healthz) >= 21  # the readiness poll's and these 20, whichever worker answered
    assert "trendsite_pipeline_lag_seconds" in text
