"""Every response carries a request id, the log lines about it too, and gunicorn's access log is JSON with
the same id (static files left out)."""

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import Client, override_settings

from apps.core.logging import JsonFormatter, RequestIdFilter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def request_log():
    """The JSON lines django.request writes, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_404_and_its_log_line_carry_the_same_request_id(client, request_log):
    response = client.get("/no-such-page", HTTP_X_REQUEST_ID="req-404")
    assert response.status_code == 404 and response["X-Request-ID"] == "req-404"
    (line,) = [entry for entry in request_log() if entry["message"].startswith("Not Found")]
    assert line["request_id"] == "req-404"


def test_early_answers_carry_a_request_id():
    with override_settings(SECURE_SSL_REDIRECT=True):
        redirect = Client().get("/healthz")
    assert redirect.status_code == 301 and len(redirect["X-Request-ID"]) == 32
    bad_host = Client().get("/healthz", HTTP_HOST="evil.example", HTTP_X_REQUEST_ID="req-host")
    assert bad_host.status_code == 400 and bad_host["X-Request-ID"] == "req-host"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, **headers: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_gunicorn_access_log_is_json_with_the_request_id_and_no_static_files(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "DJANGO_SETTINGS_MODULE": "trendsite.settings.test",
    }
    out = (tmp_path / "out.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "trendsite.wsgi", "--config", "python:trendsite.gunicorn_conf"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if _get(f"{base}/healthz") == 200:
                    break
            except OSError:
                time.sleep(0.1)
        assert _get(f"{base}/healthz", **{"X-Request-ID": "req-ok"}) == 200
        assert _get(f"{base}/static/favicon.svg") in (200, 404)
        assert _get(f"{base}/missing?x=1", **{"X-Request-ID": "req-missing"}) == 404
    finally:
        server.terminate()
        server.wait(timeout=10)
    out.seek(0)
    lines = [json.loads(line) for line in out.read().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    by_id = {line["request_id"]: line for line in access}
    assert by_id["req-ok"]["status"] == 200 and by_id["req-ok"]["path"] == "/healthz"
    assert by_id["req-missing"]["status"] == 404 and by_id["req-missing"]["query"] == "x=1"
    assert not [line for line in access if line["path"].startswith("/static/")]
    assert all(len(line["request_id"]) >= 6 for line in access)
