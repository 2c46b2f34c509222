"""A hung Redis (SIGSTOPped: connections are accepted, nothing answers) must not take the site down: every
readiness check ends within READYZ_TIMEOUT, probes share one check, and liveness answers meanwhile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from apps.core.health import system_check_readiness
from trendsite.embedded import _free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def everything_on_hung_redis(settings, hung_redis):
    settings.READYZ_TIMEOUT = 0.5
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": hung_redis}}
    settings.CELERY_BROKER_URL = hung_redis
    return hung_redis


def _readyz_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("readyz"))


def test_checks_on_a_hung_redis_end_within_the_timeout_and_share_one_run(everything_on_hung_redis):
    def probe() -> tuple[float, dict]:
        started = time.monotonic()
        results = system_check_readiness()
        return time.monotonic() - started, {r.name: r for r in results}

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: probe(), range(8)))
    for elapsed, results in answers:
        assert elapsed < 1.0, elapsed
        assert not results["cache"].ok and not results["broker"].ok
    errors = sorted(results["cache"].error for _, results in answers)
    assert errors.count("timed out: no answer within 0.5s") >= 1  # one probe at a time waited for the run ...
    assert errors.count("still running; another probe is waiting for it") >= 5  # ... the others did not
    assert _readyz_threads() <= 3  # eight probes, one thread per check: single-flight

    elapsed, results = probe()  # a later probe: the earlier run has ended on its socket timeout, or is joined
    assert elapsed < 1.0 and not results["cache"].ok


def _get(url: str, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.monotonic() - started


@pytest.fixture
def gunicorn_on_hung_redis(hung_redis):
    """The web process as the Procfile runs it (one worker), its cache and broker on the hung Redis."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trendsite.settings.test",
        "REDIS_URL": hung_redis,
        "CELERY_BROKER_URL": hung_redis,
        "READYZ_TIMEOUT": "1",
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "SEARCH_EMBEDDING_WARM": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "trendsite.wsgi", "--config", "python:trendsite.gunicorn_conf"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _get(f"{base}/healthz", 1)[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("gunicorn did not start within 60 s")
    yield base
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_liveness_answers_while_probes_wait_on_a_hung_redis(gunicorn_on_hung_redis):
    base = gunicorn_on_hung_redis
    with ThreadPoolExecutor(max_workers=6) as pool:
        probes = [pool.submit(_get, f"{base}/readyz", 10) for _ in range(4)]
        time.sleep(0.2)  # the probes are in: with sync workers they would hold the only process
        liveness = _get(f"{base}/healthz", 10)
        readiness = [probe.result() for probe in probes]
    assert liveness[0] == 200 and liveness[1] < 0.5, liveness
    for status, elapsed in readiness:
        assert status == 503 and elapsed < 2.5, (status, elapsed)
